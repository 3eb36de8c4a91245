"""The training recipe: one YAML file is the whole experiment (model, GRPO defaults, stages, when each ends).

Every field is documented once, here, in its `Field(description=...)`; `darl train --help` and docs/training.md point
to this file. Unknown keys are errors (pydantic `extra='forbid'`), and a bad value is reported with the YAML line it
came from. The resolved recipe (defaults merged into every stage) is written next to the run as `recipe.resolved.yaml`
so a run can be read back without the defaults it was started with.

How this differs from the paper: the paper gives its hyper-parameters in prose and moves from stage 1 to stage 2 at a
hand-picked step (1600); here a stage ends at `end.max_steps` or earlier when `end.plateau` detects that the periodic
validation score stopped improving (see `darl.training.plateau`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from darl.atomic import atomic_write_text
from darl.defaults import ROLLOUT_TEMPERATURE, ROLLOUT_TOP_P
from darl.errors import InputError
from darl.yaml_input import read_yaml_mapping, validation_input_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GRPOSettings(_Strict):
    """GRPO settings of one stage; `defaults:` sets them for all stages and each stage's `grpo:` overrides a few."""

    learning_rate: float = Field(1e-6, gt=0, description="AdamW learning rate (paper: 1e-6).")
    lr_scheduler_type: str = Field("constant", description="transformers scheduler name ('constant', 'cosine', ...).")
    warmup_steps: int = Field(0, ge=0, description="Linear warm-up steps of the scheduler.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, ge=0, description="Gradient clipping norm (0 disables).")
    num_generations: int = Field(16, ge=2, description="G: rollouts per prompt (paper: 16).")
    prompts_per_step: int = Field(128, ge=1, description="Distinct prompts per optimizer step (paper: 128).")
    gradient_accumulation_steps: int = Field(
        1, ge=1, description="Micro-batches per optimizer step; prompts_per_step*num_generations must divide by it "
        "(times the number of processes).")
    kl_coef: float = Field(0.001, ge=0, description="KL coefficient to the reference policy (TRL `beta`; paper 0.001).")
    entropy_coef: float = Field(0.0, ge=0, description="Entropy bonus coefficient (TRL `entropy_coef`; paper 0.001 in "
                                "stage 1, 0 in stage 2).")
    clip_epsilon: float = Field(0.2, gt=0, description="PPO clip range (TRL `epsilon`).")
    clip_epsilon_high: float | None = Field(None, gt=0, description="Upper clip range (DAPO clip-higher); None = "
                                            "symmetric.")
    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo"] = Field(
        "dapo", description="TRL loss aggregation; 'dapo' is token-mean over the batch (verl's default token-mean).")
    scale_rewards: Literal["group", "batch", "none"] = Field("group", description="Advantage scaling (paper: group std).")
    temperature: float = Field(ROLLOUT_TEMPERATURE, gt=0,
                               description=f"Rollout sampling temperature (paper/verl: {ROLLOUT_TEMPERATURE}).")
    top_p: float = Field(ROLLOUT_TOP_P, gt=0, le=1, description="Rollout nucleus sampling.")
    max_completion_length: int = Field(16384, ge=1, description="Max response tokens per rollout (paper: 16k then 24k).")
    max_prompt_length: int | None = Field(None, ge=1, description="Prompts longer than this are an error (None = no check).")
    mask_truncated_completions: bool = Field(
        False, description="Give truncated responses no loss (masked, not penalised; paper: stage 2).")

    @model_validator(mode="after")
    def _batch_divides(self) -> GRPOSettings:
        rollouts = self.prompts_per_step * self.num_generations
        if rollouts % self.gradient_accumulation_steps:
            raise ValueError(f"prompts_per_step*num_generations ({rollouts}) must be divisible by "
                             f"gradient_accumulation_steps ({self.gradient_accumulation_steps})")
        return self


class MixComponent(_Strict):
    """One source of prompts in a stage and its share of every batch."""

    domain: Literal["math", "code"] = Field(description="Problem domain.")
    level: int | None = Field(None, ge=1, description="Difficulty level from the levels file (the paper's 1-3, or k "
                              "of a custom level config); None = every problem of the domain.")
    weight: float = Field(1.0, gt=0, description="Relative share of each batch (math L1 2.1 : code L3 1 in the paper).")

    @property
    def stream(self) -> str:
        return f"{self.domain}/L{self.level}" if self.level is not None else f"{self.domain}/all"


class PlateauSettings(_Strict):
    """When the periodic validation score stops improving (see darl.training.plateau for the test)."""

    every_steps: int = Field(10, ge=1, description="Validate every this many optimizer steps.")
    window: int = Field(3, ge=2, description="Validation points in each of the two compared windows.")
    min_steps: int = Field(0, ge=0, description="Never end the stage before this step.")
    patience: int = Field(1, ge=1, description="Consecutive non-improving validations before the stage ends.")
    alpha: float = Field(0.1, gt=0, lt=1, description="Significance level of the one-sided improvement test.")
    min_improvement: float = Field(0.0, ge=0, description="Improvement (score units) the test must exceed.")


class EndSettings(_Strict):
    max_steps: int = Field(ge=1, description="Hard cap on optimizer steps in this stage.")
    plateau: PlateauSettings | None = Field(None, description="End earlier on a validation plateau (None: never).")


class StageSpec(_Strict):
    """One stage: its data, its GRPO overrides and when it ends."""

    name: str = Field(description="Stage name; the stage directory is run/stage-<index>-<name>.")
    mix: list[MixComponent] = Field(min_length=1, description="Prompt sources and their shares of every batch.")
    grpo: dict[str, Any] = Field(default_factory=dict, description="Overrides of `defaults` for this stage "
                                 "(any GRPOSettings field).")
    end: EndSettings = Field(description="When the stage ends.")
    carry_optimizer: bool = Field(True, description="Start from the previous stage's AdamW moments (ignored in stage 1).")
    carry_scheduler: bool = Field(False, description="Continue the previous stage's LR schedule position.")
    trl: dict[str, Any] = Field(default_factory=dict, description="This stage's pass-through to trl.GRPOConfig "
                                "(over the recipe's `trl:`); see darl.training.trl_args.")

    @model_validator(mode="after")
    def _streams_unique(self) -> StageSpec:
        streams = [c.stream for c in self.mix]
        if len(set(streams)) != len(streams):
            raise ValueError(f"each (domain, level) may appear once in a stage's mix, got {streams}")
        return self


class OnlineDifficultySettings(_Strict):
    """Per-prompt pass-rate tracking from the rollouts training already makes (no extra generation)."""

    prior_alpha: float = Field(1.0, gt=0, description="Beta prior pseudo-passes.")
    prior_beta: float = Field(1.0, gt=0, description="Beta prior pseudo-failures.")
    retire_solved: bool = Field(False, description="Stop drawing prompts that passed every rollout so far.")
    retire_min_rollouts: int = Field(16, ge=1, description="Rollouts seen before a prompt may be retired.")
    defer_unsolved: bool = Field(False, description="Move never-solved prompts to the end of the next pass.")
    defer_min_rollouts: int = Field(16, ge=1, description="Rollouts seen before a prompt may be deferred.")


class ValidationSettings(_Strict):
    per_component: int = Field(32, ge=1, description="Problems held out of training from each mix component of each "
                               "stage; the stage's plateau test and the before/after accuracy use them (at least 1: "
                               "a stage cannot end on a plateau it cannot measure).")
    max_new_tokens: int | None = Field(None, ge=1, description="Greedy validation length (None = the stage's "
                                       "max_completion_length; the before/after held-out accuracy: the longest "
                                       "stage's).")
    batch_size: int = Field(32, ge=1, description="Prompts per validation generation batch.")


class ScaleSettings(_Strict):
    """Passed through to TRL/accelerate; nothing here runs on CPU (see docs/training.md)."""

    use_vllm: bool = Field(False, description="Generate rollouts with vLLM (TRL `use_vllm`).")
    vllm_mode: Literal["colocate", "server"] = Field("colocate", description="TRL `vllm_mode`.")
    vllm_server_base_url: str | None = Field(None, description="TRL `vllm_server_base_url` (server mode).")
    vllm_gpu_memory_utilization: float = Field(0.3, gt=0, le=1, description="TRL `vllm_gpu_memory_utilization`.")
    vllm_tensor_parallel_size: int = Field(1, ge=1, description="TRL `vllm_tensor_parallel_size`.")
    deepspeed: str | None = Field(None, description="DeepSpeed JSON config path (transformers `deepspeed`); "
                                  "or set zero_stage and darl writes one.")
    zero_stage: Literal[0, 1, 2, 3] | None = Field(
        None, description="DeepSpeed ZeRO stage: darl builds the DeepSpeed config (darl.training.deepspeed_config); "
        "1 shards the optimizer state over the devices, 2 also the gradients, 3 also the weights. None = no DeepSpeed.")
    bf16: bool = Field(False, description="bfloat16 training.")
    gradient_checkpointing: bool = Field(False, description="Recompute activations to save memory.")
    per_device_train_batch_size: int | None = Field(
        None, ge=1, description="Rollouts per device per micro-step; None = all of a step's rollouts / "
        "(gradient_accumulation_steps * processes).")

    @model_validator(mode="after")
    def _one_deepspeed_source(self) -> ScaleSettings:
        if self.deepspeed is not None and self.zero_stage is not None:
            raise ValueError("set either deepspeed (your own config file) or zero_stage (darl builds it), not both")
        return self


class PeftSettings(_Strict):
    """LoRA adapters instead of full fine-tuning (needs `pip install 'darl[peft]'`); passed to TRL as `peft_config`.
    Each stage trains a fresh adapter on the previous stage's weights with its adapter merged in."""

    r: int = Field(16, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(32, ge=1, description="LoRA scaling numerator (scale = lora_alpha / r).")
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the LoRA input.")
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear", description="Module names to adapt (e.g. [q_proj, v_proj]) or 'all-linear'.")
    bias: Literal["none", "all", "lora_only"] = Field("none", description="Which biases train.")


@dataclass(frozen=True)
class Stage:
    """One stage with everything resolved: the recipe's `defaults` merged with the stage's `grpo:` overrides, its TRL
    pass-through and its validation length. Made once per recipe (`Recipe.resolved_stages`) and handed to every step
    of the stage (GRPOConfig, data, trainer, manifest), so no step merges the settings again."""

    index: int  # 0-based position in `Recipe.stages`; the stage directory and manifest count from 1 (`number`)
    spec: StageSpec  # the stage as written: name, mix, end, carry_optimizer, carry_scheduler
    grpo: GRPOSettings  # the defaults with this stage's overrides (validated like any GRPOSettings)
    trl: dict[str, Any]  # the recipe's `trl:` with the stage's on top (checked against the installed TRL)
    validation_max_new_tokens: int  # greedy validation length: validation.max_new_tokens or the stage's own max

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def where(self) -> str:
        """The recipe path of this stage, for error messages (`stages.<index>`)."""
        return f"stages.{self.index}"

    @property
    def rollouts_per_step(self) -> int:
        return self.grpo.prompts_per_step * self.grpo.num_generations


class Recipe(_Strict):
    name: str = Field(description="Recipe name, recorded in the run.")
    model: str = Field(description="Starting policy: a local Hugging Face checkpoint directory, a hub id, or a "
                       ".gguf file (converted once to a checkpoint).")
    seed: int = Field(0, description="Seed of the sampler, the held-out split and TRL.")
    defaults: GRPOSettings = Field(default_factory=GRPOSettings, description="GRPO settings of every stage.")
    stages: list[StageSpec] = Field(min_length=1, description="Stages, run in order.")
    online_difficulty: OnlineDifficultySettings = Field(default_factory=OnlineDifficultySettings,
                                                        description="Online pass-rate tracking and its policy.")
    validation: ValidationSettings = Field(default_factory=ValidationSettings, description="Held-out validation.")
    save_every_steps: int = Field(50, ge=1, description="Checkpoint interval in optimizer steps.")
    save_total_limit: int | None = Field(2, ge=1, description="Checkpoints kept per stage (None = all).")
    logging_steps: int = Field(1, ge=1, description="Log metrics every this many steps.")
    report_to: list[Literal["tensorboard", "wandb"]] = Field(default_factory=list,
                                                            description="Extra metric sinks besides metrics.jsonl.")
    scale: ScaleSettings = Field(default_factory=ScaleSettings, description="GPU scale pass-through to TRL.")
    system_prompt: str | None = Field(None, description="A system message before every prompt (training, "
                                      "validation); None = none, as in the paper.")
    reward_weights: dict[Literal["math", "code"], float] = Field(
        default_factory=dict, description="Weight of each domain's reward (TRL `reward_weights`); a domain left out "
        "weighs 1.0.")
    run_name: str | None = Field(None, description="Run name in TensorBoard/W&B (None = the recipe's name).")
    project: str | None = Field(None, description="W&B project (None = $WANDB_PROJECT, else 'darl').")
    peft: PeftSettings | None = Field(None, description="Train LoRA adapters (None = every weight).")
    trl: dict[str, Any] = Field(default_factory=dict, description="Any other trl.GRPOConfig/TrainingArguments field, "
                                "for every stage (checked against the installed TRL; see darl.training.trl_args).")

    @model_validator(mode="after")
    def _stages_resolve(self) -> Recipe:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        self.resolved_stages  # noqa: B018 (resolve every stage now: a bad override is a validation error)
        if self.trl or any(stage.trl for stage in self.stages):
            from darl.training.trl_args import check_pass_through

            check_pass_through(self.trl, "trl")
            for i, stage in enumerate(self.stages):
                check_pass_through(stage.trl, f"stages.{i}.trl")
        return self

    def trl_args(self, index: int) -> dict[str, Any]:
        """The pass-through GRPOConfig fields of stage `index`: the recipe's `trl:` with the stage's on top."""
        return {**self.trl, **self.stages[index].trl}

    def reward_weight(self, domain: str) -> float:
        return float(self.reward_weights.get(domain, 1.0))  # type: ignore[call-overload]

    @cached_property
    def resolved_stages(self) -> tuple[Stage, ...]:
        """Every stage resolved (`Stage`), once: the recipe is frozen, so this never goes stale."""
        return tuple(Stage(index=i, spec=spec, grpo=(grpo := self._merged_grpo(i)), trl=self.trl_args(i),
                           validation_max_new_tokens=self.validation.max_new_tokens or grpo.max_completion_length)
                     for i, spec in enumerate(self.stages))

    def stage(self, index: int) -> Stage:
        return self.resolved_stages[index]

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Recipe:
        """pydantic's copy, without the resolved stages of the original (an update may change what they hold)."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("resolved_stages", None)
        return copied

    def stage_settings(self, index: int) -> GRPOSettings:
        """The GRPO settings of stage `index` (`stage(index).grpo`)."""
        return self.resolved_stages[index].grpo

    @property
    def heldout_max_new_tokens(self) -> int:
        """Greedy length of the before/after held-out accuracy: the held-out set spans every stage, so the longest
        of the stages' validation lengths (the same rule: validation.max_new_tokens when set)."""
        return max(stage.validation_max_new_tokens for stage in self.resolved_stages)

    def _merged_grpo(self, index: int) -> GRPOSettings:
        stage = self.stages[index]
        unknown = set(stage.grpo) - set(GRPOSettings.model_fields)
        if unknown:
            raise ValueError(f"stages.{index}.grpo: unknown key(s) {sorted(unknown)}; "
                             f"expected GRPOSettings fields such as {sorted(GRPOSettings.model_fields)[:6]}...")
        try:
            return GRPOSettings(**{**self.defaults.model_dump(), **stage.grpo})
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"stages.{index}.grpo.{loc}: {first['msg']}") from None

    def resolved(self) -> dict[str, Any]:
        """The recipe with every stage's GRPO settings spelled out (what `recipe.resolved.yaml` holds)."""
        data = self.model_dump(mode="json")
        for stage, resolved in zip(data["stages"], self.resolved_stages):
            stage["grpo"] = resolved.grpo.model_dump(mode="json")
            stage["trl"] = dict(resolved.trl)
        return data


def resolved_differences(saved: Any, current: Any, where: str = "") -> list[str]:
    """Dotted paths where a saved `recipe.resolved.yaml` and the current recipe's `resolved()` differ, for the
    refusal of a resume with another recipe. A field missing from the saved file counts as equal when its current
    value is empty (None, {} or []): a run written before darl added that field resumes as long as the field is
    unused, while a field that changes what the run does is always a difference."""
    if isinstance(saved, dict) and isinstance(current, dict):
        out: list[str] = []
        for key in sorted(set(saved) | set(current), key=str):
            path = f"{where}.{key}" if where else str(key)
            if key not in saved and current[key] in (None, {}, []):
                continue
            if key not in saved or key not in current:
                out.append(path)
            else:
                out.extend(resolved_differences(saved[key], current[key], path))
        return out
    if isinstance(saved, list) and isinstance(current, list) and len(saved) == len(current):
        return [d for i, (a, b) in enumerate(zip(saved, current))
                for d in resolved_differences(a, b, f"{where}[{i}]")]
    return [] if saved == current else [where or "(whole recipe)"]


def load_recipe(path: str | Path) -> Recipe:
    """Read a recipe YAML file; errors name the file, the YAML line and the field."""
    path = Path(path)
    if not path.is_file():
        raise InputError("recipe file not found", path=path,
                         hint="pass a YAML file, or a shipped recipe name such as 'embedded_two_stage'")
    text = path.read_text()
    return parse_recipe(text, path)


def parse_recipe(text: str, path: str | Path = "<recipe>") -> Recipe:
    data = read_yaml_mapping(text, path, "a recipe: a YAML mapping with 'name', 'model' and 'stages'")
    if "model_name_or_path" in data and "stages" not in data:  # an open-r1 GRPO config, read directly
        import logging
        import os

        from darl.training.open_r1 import from_open_r1

        conversion = from_open_r1(data, name=Path(str(path)).stem, source=str(path),
                                  processes=int(os.environ.get("WORLD_SIZE", "1")))
        for note in conversion.notes:
            logging.getLogger("darl.recipe").warning("%s: open-r1 config: %s", path, note)
        data = conversion.recipe
        text = yaml.safe_dump(data, sort_keys=False)  # error lines then point into the converted recipe
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        loc = None
        # A stage-override error raised inside the validator names its own path in the message.
        message = exc.errors()[0]["msg"]
        if not exc.errors()[0]["loc"] and message.startswith(("Value error, stages.", "Value error, trl.")):
            dotted = message.removeprefix("Value error, ").split(":")[0]
            loc = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
        raise validation_input_error(exc, text, path, "unknown key (not a recipe field; see darl/training/recipe.py "
                                     "for the fields)", loc) from None


def shipped_recipes() -> dict[str, Path]:
    """Recipes that ship with darl (package data under darl/recipes/), by name."""
    folder = Path(__file__).resolve().parent.parent / "recipes"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def resolve_recipe_path(name_or_path: str | Path) -> Path:
    """A path as given, or the shipped recipe of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_recipes()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise InputError("no such recipe file or shipped recipe", path=path,
                     hint=f"shipped recipes: {', '.join(shipped) or 'none'}")


def save_resolved(recipe: Recipe, path: str | Path) -> None:
    atomic_write_text(path, yaml.safe_dump(recipe.resolved(), sort_keys=False))
