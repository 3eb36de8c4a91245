"""An open-r1 GRPO config (their `recipes/<model>/grpo/config_*.yaml`) as a darl recipe.

Why: open-r1 users have a working config; they should get the same run in darl without rewriting it by hand. Every
key of the config is accounted for: mapped to a recipe field, passed to TRL through the recipe's `trl:` block, or
listed in `Conversion.notes` with the reason it was not carried over (nothing is dropped silently).

The shape darl adds: one stage, `open-r1`, whose mix is every problem of each domain open-r1's `reward_funcs` grade
(`accuracy` -> math, `code` -> code), ending at the config's `max_steps`. The data comes from darl's own pipeline
(`darl data <dataset_name>` -> `darl score` -> `darl levels`), so `dataset_name` becomes a note saying so. Split that
stage into level stages afterwards to get the paper's staged curriculum.

Batch sizes: open-r1 states them per device (`per_device_train_batch_size` completions per micro-step times
`gradient_accumulation_steps`), darl per optimizer step in prompts (`prompts_per_step` x `num_generations`
completions over all processes), so the conversion needs the number of processes (`processes`, default 1, as
`accelerate launch --num_processes`). Differences: open-r1's `format`/`tag_count`/... rewards have no darl
counterpart (darl grades correctness only, as the paper) and are listed in the notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from darl.errors import InputError

# open-r1 key -> darl recipe path (dotted)
DIRECT: dict[str, str] = {
    "model_name_or_path": "model", "seed": "seed", "system_prompt": "system_prompt",
    "learning_rate": "defaults.learning_rate", "lr_scheduler_type": "defaults.lr_scheduler_type",
    "warmup_steps": "defaults.warmup_steps", "weight_decay": "defaults.weight_decay",
    "max_grad_norm": "defaults.max_grad_norm", "num_generations": "defaults.num_generations",
    "gradient_accumulation_steps": "defaults.gradient_accumulation_steps", "beta": "defaults.kl_coef",
    "entropy_coef": "defaults.entropy_coef", "epsilon": "defaults.clip_epsilon",
    "epsilon_high": "defaults.clip_epsilon_high", "loss_type": "defaults.loss_type",
    "temperature": "defaults.temperature", "top_p": "defaults.top_p",
    "max_completion_length": "defaults.max_completion_length", "max_prompt_length": "defaults.max_prompt_length",
    "mask_truncated_completions": "defaults.mask_truncated_completions",
    "save_steps": "save_every_steps", "save_total_limit": "save_total_limit", "logging_steps": "logging_steps",
    "run_name": "run_name", "wandb_project": "project",
    "use_vllm": "scale.use_vllm", "vllm_mode": "scale.vllm_mode",
    "vllm_gpu_memory_utilization": "scale.vllm_gpu_memory_utilization",
    "vllm_tensor_parallel_size": "scale.vllm_tensor_parallel_size", "vllm_server_base_url": "scale.vllm_server_base_url",
    "bf16": "scale.bf16", "gradient_checkpointing": "scale.gradient_checkpointing", "deepspeed": "scale.deepspeed",
    "per_device_train_batch_size": "scale.per_device_train_batch_size",
}
# open-r1 reward function name -> the darl domain whose reward replaces it
REWARD_DOMAINS = {"accuracy": "math", "code": "code", "binary_code": "code"}
# keys with a reason they are not carried over (darl decides these itself, or they are open-r1 script options)
NOT_CARRIED: dict[str, str] = {
    "output_dir": "darl writes the run to `darl train --out`",
    "overwrite_output_dir": "darl refuses a non-empty --out unless --resume",
    "save_strategy": "darl saves every save_every_steps steps", "logging_strategy": "darl logs every logging_steps",
    "max_steps": "became stages[0].end.max_steps", "num_train_epochs": "a darl stage ends at end.max_steps",
    "reward_funcs": "became the stage's mix and reward_weights", "reward_weights": "became reward_weights by domain",
    "report_to": "became report_to (tensorboard/wandb)", "scale_rewards": "became defaults.scale_rewards",
    "do_eval": "darl validates on held-out problems every plateau.every_steps",
    "per_device_eval_batch_size": "darl's validation uses validation.batch_size",
    "model_revision": "darl loads `model` as given (pin a revision by a local checkpoint folder)",
    "torch_dtype": "darl keeps fp32 master weights; bf16 compute comes from scale.bf16",
    "attn_implementation": "darl loads the model with transformers' default attention",
    "chat_template": "darl uses the tokenizer's own chat template",
    "dataset_name": "build problems with `darl data <dataset_name>`, then score and level them",
    "dataset_config": "pass it to `darl data`", "dataset_mixture": "use one mix component per source in a stage",
    "dataset_prompt_column": "darl data reads each known source's own columns (docs/data.md)",
    "dataset_train_split": "pass it to `darl data`", "dataset_test_split": "darl holds out validation problems",
    "benchmarks": "run `darl eval` after training", "callbacks": "open-r1 callbacks are not part of darl",
    "hub_model_revision": "open-r1 script option", "push_to_hub_revision": "open-r1 script option",
    "overwrite_hub_revision": "open-r1 script option", "wandb_entity": "set WANDB_ENTITY",
    "wandb_run_group": "set WANDB_RUN_GROUP", "wandb_log_unique_prompts": "open-r1 script option",
    "num_completions_to_print": "open-r1 script option",
    "warmup_ratio": "became defaults.warmup_steps",
}


@dataclass
class Conversion:
    recipe: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # "key: why it was not carried over"


def trl_defaults() -> dict[str, Any]:
    """The installed trl.GRPOConfig's default of every field that has a plain one."""
    import dataclasses

    from trl import GRPOConfig

    return {f.name: f.default for f in dataclasses.fields(GRPOConfig)
            if f.init and f.default is not dataclasses.MISSING}


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        tree = tree.setdefault(p, {})
    tree[last] = value


def from_open_r1(config: dict[str, Any], *, name: str = "open_r1", processes: int = 1,
                 max_steps: int | None = None, source: str = "<config>") -> Conversion:
    """The darl recipe (a plain mapping, as YAML would give) for an open-r1 GRPO config mapping."""
    from darl.training.trl_args import DARL_OWNED, grpo_config_fields

    if "model_name_or_path" not in config:
        raise InputError("not an open-r1 GRPO config (no model_name_or_path)", path=source)
    recipe: dict[str, Any] = {"name": name}
    notes: list[str] = []
    trl_known = grpo_config_fields()
    for key, value in config.items():
        if key in DIRECT:
            _set(recipe, DIRECT[key], value)
        elif key in NOT_CARRIED:
            continue  # handled below or explained in the notes
        elif key in trl_known and key not in DARL_OWNED:
            recipe.setdefault("trl", {})[key] = value
        elif key in DARL_OWNED:
            notes.append(f"{key}: darl sets it itself ({DARL_OWNED[key]})")
        else:
            notes.append(f"{key}: not a field of darl's recipe or of the installed trl.GRPOConfig")
    # A key the config leaves out keeps TRL's default there, not darl's (e.g. TRL's beta 0.0, not the paper's
    # 0.001), so the converted run is the open-r1 run.
    for key, default in trl_defaults().items():
        if key not in config and DIRECT.get(key, "").startswith("defaults.") and default is not None:
            _set(recipe, DIRECT[key], default)
    for key in config:
        if key in NOT_CARRIED and key not in ("max_steps", "reward_funcs", "reward_weights", "report_to",
                                              "scale_rewards", "warmup_ratio"):
            notes.append(f"{key}: {NOT_CARRIED[key]}")

    if "scale_rewards" in config:
        sr = config["scale_rewards"]
        _set(recipe, "defaults.scale_rewards", {True: "group", False: "none"}.get(sr, sr))
    if "report_to" in config:
        sinks = config["report_to"] if isinstance(config["report_to"], list) else [config["report_to"]]
        kept = [s for s in sinks if s in ("tensorboard", "wandb")]
        recipe["report_to"] = kept
        notes += [f"report_to: {s}: darl's sinks are tensorboard and wandb" for s in sinks if s not in kept
                  and s != "none"]

    funcs = list(config.get("reward_funcs") or ["accuracy"])
    weights = list(config.get("reward_weights") or [1.0] * len(funcs))
    if len(weights) != len(funcs):
        raise InputError(f"{len(funcs)} reward_funcs but {len(weights)} reward_weights", path=source,
                         field="reward_weights")
    domains: list[str] = []
    for func, weight in zip(funcs, weights):
        domain = REWARD_DOMAINS.get(func)
        if domain is None:
            notes.append(f"reward_funcs: {func!r} has no darl counterpart (darl rewards correctness only, "
                         "as the paper); left out")
            continue
        if domain not in domains:
            domains.append(domain)
            if float(weight) != 1.0:
                recipe.setdefault("reward_weights", {})[domain] = float(weight)
    if not domains:
        raise InputError(f"none of the reward_funcs {funcs} grades correctness (accuracy or code)", path=source,
                         field="reward_funcs", hint="darl trains on math (accuracy) and code rewards")

    steps = max_steps if max_steps is not None else config.get("max_steps", -1)
    if steps is None or int(steps) <= 0:
        raise InputError("the config trains by epochs (max_steps -1); a darl stage needs a step count",
                         path=source, field="max_steps", hint="pass --max-steps N")
    defaults = trl_defaults()
    generations = int(config.get("num_generations", defaults["num_generations"]))
    per_device = int(config.get("per_device_train_batch_size", defaults["per_device_train_batch_size"]))
    accumulation = int(config.get("gradient_accumulation_steps", defaults["gradient_accumulation_steps"]))
    completions = per_device * accumulation * processes
    if completions % generations:
        raise InputError(f"{completions} completions a step ({per_device} per device x {accumulation} accumulation "
                         f"x {processes} processes) are not whole groups of num_generations={generations}",
                         path=source, field="per_device_train_batch_size")
    _set(recipe, "defaults.prompts_per_step", completions // generations)
    if config.get("warmup_ratio") and "warmup_steps" not in config:  # transformers 5 has warm-up steps only
        warmup = math.ceil(float(config["warmup_ratio"]) * int(steps))
        _set(recipe, "defaults.warmup_steps", warmup)
        notes.append(f"warmup_ratio: became defaults.warmup_steps = {warmup} ({config['warmup_ratio']} x {steps} steps)")
    recipe["stages"] = [{"name": "open-r1", "mix": [{"domain": d} for d in domains],
                         "end": {"max_steps": int(steps)}}]
    return Conversion(recipe, notes)


def conversion_yaml(conversion: Conversion, source: str) -> str:
    """The recipe as YAML with the notes on top as comments."""
    import yaml

    head = [f"# darl recipe converted from the open-r1 config {source} (darl recipe from-open-r1)."]
    if conversion.notes:
        head.append("# Conversion notes (keys not carried over as they were):")
        head += [f"#   {n}" for n in conversion.notes]
    return "\n".join(head) + "\n" + yaml.safe_dump(conversion.recipe, sort_keys=False, allow_unicode=True)
