"""The staged run, top to bottom: for each stage of the recipe, train with TRL's GRPOTrainer until the stage ends
(max steps or a validation plateau), then start the next stage from this stage's final weights.

Run directory (every file is one a person can open):
    run/recipe.resolved.yaml        the recipe with defaults merged into every stage
    run/metrics.jsonl               one line per logged step (train/, levels/, stage/ keys; docs/metrics.md)
    run/heldout.json                held-out greedy accuracy of the starting and the final policy
    run/final/                      the final policy: last stage's final weights + tokenizer (what `darl eval` takes)
    run/tensorboard/, run/wandb/    the `report_to` sinks, one run across stages (darl.training.sinks)
    run/stage-<i>-<name>/manifest.json   start/end step, why the stage ended, data used, validation history
    run/stage-<i>-<name>/consumed.jsonl  prompt ids of every step, in order (the resume check reads it)
    run/stage-<i>-<name>/online_difficulty.jsonl   per-prompt pass counts and Beta posterior mean at stage end
    run/stage-<i>-<name>/checkpoint-<step>/        HF checkpoints + darl_state.json (sampler, tracker, validation)

Resume (`resume=True`): finished stages (manifest status 'completed') are skipped; the current stage restarts from
its newest complete checkpoint (one that holds darl_state.json), at the same step and data position; lines that the
checkpoint undoes are dropped from metrics.jsonl and consumed.jsonl.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml
from datasets import Dataset

from darl.atomic import atomic_write_text
from darl.errors import InputError
from darl.training.data import LeveledProblem, Split, heldout_split, load_levels, stage_data
from darl.training.final_model import FINAL_DIR, publish_final
from darl.training.metrics import MetricsJsonlCallback, read_jsonl, truncate_jsonl
from darl.training.online_difficulty import OnlineDifficulty
from darl.training.plateau import decide
from darl.training.plateau_power import plateau_power
from darl.training.processes import has_accelerator, process_state, use_cpu
from darl.training.progress import RichStageProgress
from darl.training.recipe import Recipe, Stage, resolved_differences, save_resolved
from darl.prompting import prompt_opens_thinking
from darl.training.rewards import reward_functions
from darl.training.sampler import LevelDomainSampler
from darl.training.sinks import run_sinks
from darl.training.trl_args import build_grpo_config, is_adapter, load_merged, lora_config
from darl.training.trainer import DARL_STATE, DarlGRPOTrainer, PeriodicValidation
from darl.training.deepspeed_config import deepspeed_config
from darl.training.validation import ValidationResult, distributed_greedy_accuracy, trainer_validation
from darl.verifiers import Verifier


@dataclass
class StageResult:
    index: int
    name: str
    manifest: dict[str, Any]


@dataclass
class RunResult:
    out_dir: Path
    stages: list[StageResult] = field(default_factory=list)
    heldout: dict[str, Any] = field(default_factory=dict)
    final: Path | None = None  # run/final: the last stage's final weights and tokenizer (darl.training.final_model)


def stage_dir(out: Path, index: int, name: str) -> Path:
    return out / f"stage-{index}-{name}"


def latest_checkpoint(directory: Path) -> Path | None:
    """The newest checkpoint-<step> that is whole (`checkpoint_check`: darl_state.json, which is written last, and
    every file a resume reads). A torn newer one is skipped with a warning, so the resume falls back to the previous
    whole checkpoint and redoes the steps after it (the data position comes from that checkpoint too)."""
    import warnings

    from darl.training.checkpoint_check import checkpoint_problem

    started = [p for p in directory.glob("checkpoint-*") if p.name.split("-")[1:2] and p.name.split("-")[1].isdigit()]
    for path in sorted(started, key=lambda p: int(p.name.split("-")[1]), reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        if (path / DARL_STATE).is_file():  # a folder without it is the ordinary debris of a kill during the write
            warnings.warn(f"{path}: not resuming from this checkpoint: {problem}; falling back to an earlier one",
                          stacklevel=2)
    return None


def load_policy(name: str) -> tuple[Any, Any]:
    """The policy to train and its tokenizer, through darl's one model loader (`darl.generation`): `name` is any
    model name (`darl.generation.models`: folder, hub id, `.gguf` file, `embedded:` name), in fp32 on the CPU (the
    trainer moves it), the tokenizer with darl's pad-token rule and its own padding side. A LoRA stage's checkpoint
    is an adapter: training starts from its base with the adapter merged in."""
    from darl.generation.loading import load_model_and_tokenizer, load_tokenizer
    from darl.generation.models import trainable_model

    path = trainable_model(name)
    if not is_adapter(path):
        return load_model_and_tokenizer(path, device="cpu", dtype="float32", padding_side=None)
    tokenizer = load_tokenizer(path, padding_side=None)
    try:
        return load_merged(path), tokenizer
    except OSError as exc:
        raise InputError(f"cannot load the policy ({exc})", field="model",
                         hint="give a local Hugging Face checkpoint directory or a reachable hub id") from None


def grpo_config(recipe: Recipe, stage: Stage, output_dir: Path, world_size: int) -> Any:
    """TRL's GRPOConfig for `stage`: its resolved GRPO settings, scale pass-through and darl's fixed choices
    (on-policy, ignore_data_skip because darl's sampler restores its own position), then the recipe's reward
    weights, run name, project and the stage's `trl:` pass-through (darl.training.trl_args)."""
    g = stage.grpo
    scale = recipe.scale
    rollouts = stage.rollouts_per_step
    per_device = scale.per_device_train_batch_size or rollouts // (g.gradient_accumulation_steps * world_size)
    if per_device * g.gradient_accumulation_steps * world_size != rollouts:
        raise InputError(f"prompts_per_step*num_generations = {rollouts} rollouts do not split into "
                         f"{g.gradient_accumulation_steps} micro-steps x {world_size} processes x {per_device}",
                         field=f"{stage.where}.grpo.gradient_accumulation_steps")
    kwargs: dict[str, Any] = dict(
        output_dir=str(output_dir), seed=recipe.seed, data_seed=recipe.seed,
        learning_rate=g.learning_rate, lr_scheduler_type=g.lr_scheduler_type, warmup_steps=g.warmup_steps,
        weight_decay=g.weight_decay, max_grad_norm=g.max_grad_norm,
        num_generations=g.num_generations, per_device_train_batch_size=per_device,
        gradient_accumulation_steps=g.gradient_accumulation_steps, num_iterations=1,
        beta=g.kl_coef, entropy_coef=g.entropy_coef, epsilon=g.clip_epsilon, epsilon_high=g.clip_epsilon_high,
        loss_type=g.loss_type, scale_rewards=g.scale_rewards, temperature=g.temperature, top_p=g.top_p,
        max_completion_length=g.max_completion_length, mask_truncated_completions=g.mask_truncated_completions,
        max_steps=stage.spec.end.max_steps, save_strategy="steps", save_steps=recipe.save_every_steps,
        save_total_limit=recipe.save_total_limit, logging_steps=recipe.logging_steps,
        report_to="none",  # darl adds its own sinks (darl.training.sinks): one global step across stages
        ignore_data_skip=True, remove_unused_columns=False,
        use_vllm=scale.use_vllm, vllm_mode=scale.vllm_mode, vllm_gpu_memory_utilization=scale.vllm_gpu_memory_utilization,
        vllm_tensor_parallel_size=scale.vllm_tensor_parallel_size, bf16=scale.bf16, use_cpu=use_cpu(),
        dataloader_pin_memory=has_accelerator(),  # on a CPU-only machine torch warns that pinning does nothing
    )
    if scale.gradient_checkpointing:
        kwargs["gradient_checkpointing"] = True
    if scale.vllm_server_base_url:
        kwargs["vllm_server_base_url"] = scale.vllm_server_base_url
    if scale.deepspeed:
        kwargs["deepspeed"] = scale.deepspeed
    if scale.zero_stage is not None:  # darl's DeepSpeed config; its sizes are "auto", filled from these kwargs
        kwargs["deepspeed"] = deepspeed_config(scale.zero_stage, scale.bf16)
    domains = {c.domain for c in stage.spec.mix}  # one reward function per domain, math before code (rewards.py)
    kwargs["reward_weights"] = [recipe.reward_weight(d) for d in ("math", "code") if d in domains]
    kwargs["run_name"] = recipe.run_name or recipe.name
    if recipe.project is not None:
        kwargs["project"] = recipe.project
    kwargs.update(stage.trl)  # the recipe's pass-through (checked: no field darl sets above)
    return build_grpo_config(kwargs, stage.where)


def _validate_fn(trainer: DarlGRPOTrainer, tokenizer: Any, problems: list, verifier: Verifier,
                 max_new_tokens: int, batch_size: int, system_prompt: str | None = None) -> Callable[[], float]:
    def validate() -> float:  # on every process: sharded over them, on the trainer's vLLM engine when it has one
        return trainer_validation(trainer, tokenizer, problems, verifier, max_new_tokens, batch_size,
                                  system_prompt).accuracy
    return validate


@dataclass(frozen=True)
class RunInputs:
    """What every stage of one run shares, gathered once by `run_recipe`."""

    recipe: Recipe
    items: list[LeveledProblem]
    split: Split
    levels_path: Path
    out: Path
    resume: bool
    verifier: Verifier


@dataclass(frozen=True)
class StageStart:
    """Where a stage starts: the previous stage's final checkpoint (the recipe's model for the first stage), whose
    optimizer and scheduler state a later stage may carry, and the global step count of the stages before it."""

    model_path: str
    carry_from: Path | None = None
    step_offset: int = 0


@dataclass
class BuiltStage:
    """A stage's trainer with everything it was built from that the manifest reports."""

    trainer: DarlGRPOTrainer
    data: Any  # darl.training.data.StageData
    tracker: OnlineDifficulty
    validation: PeriodicValidation
    validate: Callable[[], float]
    val_problems: list
    thinking: bool


def build_stage(run: RunInputs, stage: Stage, start: StageStart, sdir: Path) -> BuiltStage:
    """The GRPO trainer of `stage` with darl's sampler, rewards, validation, metrics and sinks attached."""
    from transformers.trainer_callback import ProgressCallback

    recipe, index, settings = run.recipe, stage.index, stage.grpo
    data = stage_data(recipe, index, run.items, run.split, run.levels_path)
    config = grpo_config(recipe, stage, sdir, process_state().num_processes)
    model, tokenizer = load_policy(start.model_path)
    if settings.max_prompt_length is not None:
        for row in data.rows:
            # return_dict=False: transformers 5 returns a BatchEncoding by default, whose len() is its 2 keys
            n = len(tokenizer.apply_chat_template(row["prompt"], tokenize=True, add_generation_prompt=True,
                                                  return_dict=False))
            if n > settings.max_prompt_length:
                raise InputError(f"problem {row['problem_id']!r} has a {n}-token prompt", path=run.levels_path,
                                 field=f"{stage.where}.grpo.max_prompt_length", hint="raise the limit or drop it")
    thinking = prompt_opens_thinking(tokenizer)  # an R1-style template opens <think>: unclosed = no answer
    tracker = OnlineDifficulty(recipe.online_difficulty)
    od = recipe.online_difficulty
    policy = tracker.status if (od.retire_solved or od.defer_unsolved) else None
    end = stage.spec.end
    sampler = LevelDomainSampler(data.streams, settings.prompts_per_step, settings.num_generations,
                                 repeat_count=settings.gradient_accumulation_steps, total_batches=end.max_steps,
                                 seed=recipe.seed + index, policy=policy)
    trainer = DarlGRPOTrainer(
        model=model, processing_class=tokenizer, args=config,
        reward_funcs=reward_functions(data.problems, run.verifier, [c.domain for c in stage.spec.mix],
                                      thinking=thinking),
        train_dataset=Dataset.from_list(data.rows),
        darl_sampler=sampler, tracker=tracker, stage_keys=sorted(data.problems),
        consumed_path=sdir / "consumed.jsonl", carry_from=start.carry_from if index > 0 else None,
        carry_optimizer=stage.spec.carry_optimizer, carry_scheduler=stage.spec.carry_scheduler,
        peft_config=lora_config(recipe.peft),
    )
    val_problems = run.split.validation[index]
    validate = _validate_fn(trainer, tokenizer, val_problems, run.verifier, stage.validation_max_new_tokens,
                            recipe.validation.batch_size, recipe.system_prompt)
    plateau = end.plateau
    every = plateau.every_steps if plateau else max(1, end.max_steps // 4)
    validation = PeriodicValidation(trainer, every, validate,
                                    (lambda h: decide(h, plateau)) if plateau else None)
    trainer.add_callback(validation)
    trainer.add_callback(MetricsJsonlCallback(run.out / "metrics.jsonl", stage.number, stage.name, start.step_offset))
    for sink in run_sinks(list(recipe.report_to), run.out, recipe.run_name or recipe.name, start.step_offset,
                          project=recipe.project, stage_index=stage.number):
        trainer.add_callback(sink)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(RichStageProgress(f"stage {stage.number}/{len(recipe.stages)} {stage.name}"))
    return BuiltStage(trainer, data, tracker, validation, validate, val_problems, thinking)


def train_stage(built: BuiltStage, run: RunInputs, stage: Stage, sdir: Path, checkpoint: Path | None
                ) -> tuple[int, str]:
    """Train `stage` from its start or from `checkpoint` (resume) until it ends; returns the end step and why it
    ended. A fresh start validates the starting weights first (step 0 of the plateau test)."""
    trainer, validation = built.trainer, built.validation
    main = trainer.accelerator.is_main_process
    if checkpoint is not None:
        trainer.load_darl_state(checkpoint)
        step = int(checkpoint.name.split("-")[1])
        if main:  # drop what the checkpoint undoes
            truncate_jsonl(run.out / "metrics.jsonl",
                           lambda r: r.get("stage/index") != stage.number or r.get("stage/step", 0) <= step)
            truncate_jsonl(sdir / "consumed.jsonl", lambda r: r["batch"] < step)
    else:
        if main:
            (sdir / "consumed.jsonl").unlink(missing_ok=True)
            truncate_jsonl(run.out / "metrics.jsonl", lambda r: r.get("stage/index") != stage.number)
        trainer.validation_history = [(0, built.validate())]
    trainer.accelerator.wait_for_everyone()
    ended_earlier = trainer.extra_state.get("plateau_decision")
    if ended_earlier is None:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint is not None else None)
        end_step = trainer.state.global_step
    else:  # killed after the plateau checkpoint, before the manifest: the stage is over
        end_step = int(checkpoint.name.split("-")[1])

    final = sdir / f"checkpoint-{end_step}"
    if not (final / DARL_STATE).is_file():
        trainer._save_checkpoint(trainer.model, trial=None)
    decision = validation.last_decision
    if decision is not None and decision.stop:
        reason = decision.reason
    elif ended_earlier is not None:
        reason = ended_earlier["reason"]
    else:
        reason = f"reached end.max_steps = {stage.spec.end.max_steps}" + (
            f" (last plateau check: {decision.reason})" if decision is not None else "")
    return end_step, reason


def stage_manifest(built: BuiltStage, run: RunInputs, stage: Stage, start: StageStart, sdir: Path, end_step: int,
                   reason: str, started: float) -> dict[str, Any]:
    """What `run/stage-<i>-<name>/manifest.json` holds (see the module docstring)."""
    spec, carry_from = stage.spec, start.carry_from
    history = built.trainer.validation_history
    return {
        "stage": stage.number, "index": stage.number, "name": stage.name, "status": "completed",
        "start_step": 0, "end_step": end_step,
        "global_start_step": start.step_offset, "global_end_step": start.step_offset + end_step,
        "ended_because": reason, "plateau": spec.end.plateau.model_dump() if spec.end.plateau else None,
        "started_from": start.model_path, "carried_optimizer_from": str(carry_from) if carry_from and stage.index > 0
        and spec.carry_optimizer else None,
        "carried_scheduler_from": str(carry_from) if carry_from and stage.index > 0 and spec.carry_scheduler else None,
        "final_checkpoint": str(sdir / f"checkpoint-{end_step}"),
        "data": {"levels_file": str(run.levels_path.resolve()),
                 "streams": [{"name": s.name, "weight": s.weight, "prompts": len(s.rows)} for s in built.data.streams],
                 "validation_ids": [p.id for p in built.val_problems],
                 "prompts_drawn": sum(len(r["ids"]) for r in read_jsonl(sdir / "consumed.jsonl"))},
        "grpo": stage.grpo.model_dump(),
        "thinking": built.thinking,
        "validation_history": [{"step": s, "accuracy": a} for s, a in history],
        "plateau_power": plateau_power(spec.end.plateau, len(built.val_problems), history[0][1] if history else None),
        "wall_seconds_this_session": round(time.time() - started, 1),
    }


def run_stage(run: RunInputs, stage: Stage, start: StageStart) -> dict[str, Any]:
    """Train one stage, top to bottom: build its trainer, train (or resume) it, write its manifest. Returns the
    manifest (also written to the stage directory)."""
    sdir = stage_dir(run.out, stage.number, stage.name)
    sdir.mkdir(parents=True, exist_ok=True)
    checkpoint = latest_checkpoint(sdir) if run.resume else None
    if checkpoint is None and not run.resume and any(sdir.glob("checkpoint-*")):
        raise InputError("stage directory already holds checkpoints", path=sdir, hint="pass --resume or a new --out")
    built = build_stage(run, stage, start, sdir)
    started = time.time()
    end_step, reason = train_stage(built, run, stage, sdir, checkpoint)
    manifest = stage_manifest(built, run, stage, start, sdir, end_step, reason, started)
    trainer = built.trainer
    if trainer.accelerator.is_main_process:
        atomic_write_text(sdir / "online_difficulty.jsonl",
                          "".join(json.dumps(r) + "\n" for r in built.tracker.table()))
        atomic_write_text(sdir / "manifest.json", json.dumps(manifest, indent=2))
    trainer.accelerator.wait_for_everyone()
    return manifest


def heldout_accuracy(model_path: str, problems: list, verifier: Verifier, max_new_tokens: int,
                     batch_size: int, system_prompt: str | None = None) -> ValidationResult:
    model, tokenizer = load_policy(model_path)
    model.to(process_state().device)
    return distributed_greedy_accuracy(model, tokenizer, problems, verifier, max_new_tokens, batch_size,
                                       system_prompt)


def run_recipe(recipe: Recipe, levels_path: str | Path, out_dir: str | Path, resume: bool = False,
               verifier: Verifier | None = None) -> RunResult:
    """Run every stage of `recipe` on the levels file; see the module docstring for the run directory."""
    state = process_state()  # several processes under `accelerate launch`: only the main one writes run files
    levels_path, out = Path(levels_path), Path(out_dir)
    resolved_path = out / "recipe.resolved.yaml"
    items = load_levels(levels_path)  # bad input fails before anything is written
    split = heldout_split(recipe, items, levels_path)
    if not state.is_main_process:
        state.wait_for_everyone()  # the main process checks and creates the run directory first
    elif resume:
        if not resolved_path.is_file():
            raise InputError("nothing to resume: no recipe.resolved.yaml", path=out, hint="run without --resume")
        differences = resolved_differences(yaml.safe_load(resolved_path.read_text()), recipe.resolved())
        if differences:
            shown = ", ".join(differences[:8]) + (f" and {len(differences) - 8} more" if len(differences) > 8 else "")
            raise InputError(f"the recipe differs from the one this run started with ({shown})", path=resolved_path,
                             hint="resume with the same recipe, or start a new --out")
    elif out.exists() and any(out.iterdir()):
        raise InputError("output directory is not empty", path=out, hint="pass --resume to continue it, or a new --out")
    if state.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        save_resolved(recipe, resolved_path)
        state.wait_for_everyone()

    own_verifier = verifier is None
    verifier = verifier or Verifier()
    heldout = split.all_validation()
    max_new = recipe.heldout_max_new_tokens
    result = RunResult(out)
    try:
        heldout_path = out / "heldout.json"
        record = json.loads(heldout_path.read_text()) if heldout_path.exists() else {}
        if "before" not in record:
            record["before"] = {"model": recipe.model, **heldout_accuracy(
                recipe.model, heldout, verifier, max_new, recipe.validation.batch_size,
                recipe.system_prompt).to_dict()}
            if state.is_main_process:
                atomic_write_text(heldout_path, json.dumps(record, indent=2))

        run = RunInputs(recipe, items, split, levels_path, out, resume, verifier)
        start = StageStart(recipe.model)
        for stage in recipe.resolved_stages:
            manifest_path = stage_dir(out, stage.number, stage.name) / "manifest.json"
            if manifest_path.exists():
                manifest = json.loads(manifest_path.read_text())
            else:
                manifest = run_stage(run, stage, start)
            result.stages.append(StageResult(stage.number, stage.name, manifest))
            start = StageStart(manifest["final_checkpoint"], Path(manifest["final_checkpoint"]),
                               manifest["global_end_step"])

        final = out / FINAL_DIR
        if state.is_main_process:
            last = result.stages[-1]
            publish_final(Path(start.model_path), out, {"recipe": recipe.name, "stage": f"{last.index}-{last.name}",
                                                        "global_step": start.step_offset})
        state.wait_for_everyone()
        result.final = final
        record["after"] = {"model": str(final), **heldout_accuracy(
            str(final), heldout, verifier, max_new, recipe.validation.batch_size, recipe.system_prompt).to_dict()}
        record["heldout_ids"] = [p.id for p in heldout]
        if state.is_main_process:
            atomic_write_text(heldout_path, json.dumps(record, indent=2))
        result.heldout = record
    finally:
        if own_verifier:
            verifier.close()
    return result
