"""A recipe's pass-through to TRL: any `GRPOConfig`/`TrainingArguments` field, checked against the installed TRL.

Why: darl's recipe names the settings the paper and the staged method need (`defaults`/`grpo`, `scale`), but a user
coming from a plain TRL or open-r1 script has dozens of others they rely on (`lr_scheduler_kwargs`,
`gradient_checkpointing_kwargs`, `vllm_enable_sleep_mode`, `torch_compile`, `log_completions`, ...). The recipe's
`trl:` block (every stage) and each stage's `trl:` (that stage) hand those to `GRPOConfig` unchanged.

Two checks, both before anything runs:
- the name must be a field of the installed `trl.GRPOConfig` (an unknown one is named, with the closest fields);
- a field darl sets from its own recipe fields (`learning_rate` from `defaults.learning_rate`, `beta` from
  `kl_coef`, `max_steps` from `end.max_steps`, ...) is refused with the recipe field to use instead, so a setting
  has one place and the resolved recipe shows what ran. `DARL_OWNED` is that table; a test keeps it equal to the
  keys `darl.training.stages.grpo_config` sets.
Values are checked by building the actual `GRPOConfig` (`build_grpo_config`), which `darl train --print-resolved`
and every stage do: TRL's own `__post_init__` decides, and its error is reported with the field named.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import Any

from darl.errors import InputError

# TRL field -> the recipe field darl sets it from (or why it is fixed).
DARL_OWNED: dict[str, str] = {
    "output_dir": "darl train --out (darl writes run/stage-<i>-<name>/)",
    "seed": "seed", "data_seed": "seed",
    "learning_rate": "defaults.learning_rate / stages.N.grpo.learning_rate",
    "lr_scheduler_type": "defaults.lr_scheduler_type", "warmup_steps": "defaults.warmup_steps",
    "weight_decay": "defaults.weight_decay", "max_grad_norm": "defaults.max_grad_norm",
    "num_generations": "defaults.num_generations",
    "per_device_train_batch_size": "defaults.prompts_per_step (and scale.per_device_train_batch_size)",
    "gradient_accumulation_steps": "defaults.gradient_accumulation_steps",
    "num_iterations": "fixed at 1 (darl's trainer is on-policy: one generation per optimizer step)",
    "dataloader_pin_memory": "on when torch sees an accelerator, off otherwise (pinning without one only warns)",
    "beta": "defaults.kl_coef", "entropy_coef": "defaults.entropy_coef", "epsilon": "defaults.clip_epsilon",
    "epsilon_high": "defaults.clip_epsilon_high", "loss_type": "defaults.loss_type",
    "scale_rewards": "defaults.scale_rewards", "temperature": "defaults.temperature", "top_p": "defaults.top_p",
    "max_completion_length": "defaults.max_completion_length",
    "mask_truncated_completions": "defaults.mask_truncated_completions",
    "max_steps": "stages.N.end.max_steps", "save_strategy": "fixed at 'steps' (save_every_steps)",
    "save_steps": "save_every_steps", "save_total_limit": "save_total_limit", "logging_steps": "logging_steps",
    "report_to": "report_to (darl's own sinks keep one global step across stages)",
    "ignore_data_skip": "fixed (darl's sampler restores its own position on resume)",
    "remove_unused_columns": "fixed (the reward functions read problem_id)",
    "use_vllm": "scale.use_vllm", "vllm_mode": "scale.vllm_mode",
    "vllm_gpu_memory_utilization": "scale.vllm_gpu_memory_utilization",
    "vllm_tensor_parallel_size": "scale.vllm_tensor_parallel_size", "vllm_server_base_url": "scale.vllm_server_base_url",
    "bf16": "scale.bf16", "use_cpu": "set by darl from the machine (no accelerator -> CPU)",
    "gradient_checkpointing": "scale.gradient_checkpointing", "deepspeed": "scale.deepspeed / scale.zero_stage",
    "reward_weights": "reward_weights (by domain: {math: ..., code: ...})", "run_name": "run_name",
    "project": "project",
}


@lru_cache(maxsize=1)
def grpo_config_fields() -> frozenset[str]:
    """Every field of the installed `trl.GRPOConfig` (TrainingArguments' included)."""
    import dataclasses

    from trl import GRPOConfig

    return frozenset(f.name for f in dataclasses.fields(GRPOConfig) if f.init)


def check_pass_through(fields: dict[str, Any], where: str) -> None:
    """ValueError naming the first field of `fields` that TRL does not have or that darl sets itself."""
    known = grpo_config_fields()
    for name in fields:
        if name in DARL_OWNED:
            raise ValueError(f"{where}.{name}: darl sets this TRL field itself; use {DARL_OWNED[name]}")
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=3)
            import trl

            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"{where}.{name}: not a field of trl.GRPOConfig (trl {trl.__version__}){hint}")


def build_grpo_config(kwargs: dict[str, Any], where: str) -> Any:
    """`trl.GRPOConfig(**kwargs)`; TRL's own refusal of a value becomes an InputError that names `where`."""
    from trl import GRPOConfig

    from darl.training.trl_support import quiet_upstream_renames

    quiet_upstream_renames()
    try:
        return GRPOConfig(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InputError(f"TRL refuses this stage's settings: {exc}", field=where,
                         hint="`darl recipe show RECIPE` prints every field passed to GRPOConfig") from None


def lora_config(settings: Any) -> Any:
    """peft's LoraConfig from a recipe's `peft:` block (None when the recipe trains every weight)."""
    if settings is None:
        return None
    try:
        from peft import LoraConfig
    except ImportError:
        raise InputError("the recipe's peft: block needs the peft package", field="peft",
                         hint="pip install 'darl[peft]'") from None
    return LoraConfig(task_type="CAUSAL_LM", r=settings.r, lora_alpha=settings.lora_alpha,
                      lora_dropout=settings.lora_dropout, target_modules=settings.target_modules, bias=settings.bias)


def is_adapter(path: str) -> bool:
    """A checkpoint of a LoRA stage holds only the adapter (adapter_config.json) on top of its base model."""
    from darl.generation.adapters import is_adapter as _is_adapter

    return _is_adapter(path)


def load_merged(path: str) -> Any:
    """The base model with the adapter at `path` merged in: the next stage (or the held-out check) starts from it
    (`darl.generation.adapters.load_merged`, the one adapter loader, which `darl eval` and scoring use too)."""
    from darl.generation.adapters import load_merged as _load_merged

    return _load_merged(path)
