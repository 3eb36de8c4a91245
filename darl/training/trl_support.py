"""The parts of TRL darl relies on beyond its public API, and the release range they were checked in.

darl's trainer (`darl.training.trainer.DarlGRPOTrainer`) overrides or reads members of `trl.GRPOTrainer` that TRL
may rename in any release. They were read in TRL's source history: all exist from 1.8.0 (`entropy_coef` arrived in
1.8.0; `vllm_generation`, `log_extra` and the four-argument `_calculate_rewards` earlier) through 1.16.0, the newest
release tested; pyproject.toml pins that range and CI runs the training tests at both ends
(scripts/test_trl_lower.sh). `check_trl()` fails at once with this list instead of deep inside a training step
when someone installs a TRL outside the range anyway.
"""

from __future__ import annotations

import inspect
import warnings

TESTED_TRL = ("1.8.0", "1.17")  # >= first, < second (pyproject.toml says the same)

# GRPOTrainer methods darl overrides or calls, with the parameters darl passes.
TRAINER_METHODS: dict[str, tuple[str, ...]] = {
    "_get_train_sampler": ("dataset",),
    "_generate_and_score_completions": ("inputs",),
    "_calculate_rewards": ("inputs", "prompts", "completions", "completion_ids_list"),
    "_save_checkpoint": ("model", "trial"),
    "_get_output_dir": ("trial",),
    "_load_rng_state": ("checkpoint",),
    "create_scheduler": ("num_training_steps", "optimizer"),
    "log": ("logs", "start_time"),
}
# GRPOTrainer attributes darl reads (set in __init__, so checked in the source of __init__).
# (`eos_token_ids`, from 1.15, is read with a fallback to the tokenizer's EOS, which is what older TRL used.)
TRAINER_ATTRIBUTES = ("self._metrics", "self._tokenizer", "self.num_generations", "self.num_iterations",
                      "self.vllm_generation", "self._last_loaded_step")
# GRPOConfig fields darl sets.
CONFIG_FIELDS = ("entropy_coef", "mask_truncated_completions", "epsilon_high", "loss_type", "scale_rewards",
                 "steps_per_generation", "use_vllm", "vllm_mode", "vllm_gpu_memory_utilization",
                 "vllm_tensor_parallel_size", "vllm_server_base_url", "vllm_enable_sleep_mode", "top_p", "beta")


def missing_trl_members() -> list[str]:
    """What the installed TRL lacks of the above (empty when it has everything)."""
    import dataclasses

    from trl import GRPOConfig, GRPOTrainer

    missing = []
    for name, params in TRAINER_METHODS.items():
        method = getattr(GRPOTrainer, name, None)
        if method is None:
            missing.append(f"GRPOTrainer.{name}")
            continue
        have = inspect.signature(method).parameters
        missing += [f"GRPOTrainer.{name}({p})" for p in params if p not in have]
    source = inspect.getsource(GRPOTrainer.__init__) + inspect.getsource(GRPOTrainer)
    missing += [f"GRPOTrainer {a}" for a in TRAINER_ATTRIBUTES if f"{a} =" not in source]
    fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    missing += [f"GRPOConfig.{f}" for f in CONFIG_FIELDS if f not in fields]
    if "log_extra" not in inspect.getsource(GRPOTrainer._calculate_rewards):
        missing.append("reward functions' log_extra keyword")
    return missing


def check_trl() -> None:
    """Raise ImportError naming the installed TRL, the tested range and what is missing."""
    import trl

    missing = missing_trl_members()
    if missing:
        raise ImportError(f"trl {trl.__version__} lacks what darl's trainer uses: {', '.join(missing)}. darl is "
                          f"tested with trl>={TESTED_TRL[0]},<{TESTED_TRL[1]}: pip install "
                          f"'trl>={TESTED_TRL[0]},<{TESTED_TRL[1]}'")


def quiet_upstream_renames() -> None:
    """Silence transformers 5's FutureWarnings about `gradient_checkpointing` being renamed `activation_checkpointing`.
    TRL's own GRPOConfig defaults and trainer raise them on every run (darl passes the field only when a recipe sets
    `scale.gradient_checkpointing`), so a user sees several warnings about code they did not write and cannot
    change. Only those messages are filtered; every other warning still shows (once, darl.cli's logging)."""
    warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.* is deprecated", category=FutureWarning)
