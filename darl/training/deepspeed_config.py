"""The DeepSpeed config a recipe's `scale.zero_stage` asks for, as the dict transformers' `deepspeed=` argument takes.

Why darl writes it: the paper-sized recipes need ZeRO to fit 8 x 80 GB (see `darl.training.preflight`), and a
hand-written JSON file per recipe drifts from the recipe's batch sizes. Here every size DeepSpeed checks against the
trainer (micro-batch, accumulation, clipping, bf16) is "auto", which transformers' `HfTrainerDeepSpeedConfig` fills
from the GRPOConfig, so the recipe stays the one source of those numbers. The file written beside the run
(`deepspeed.json`) is the same dict, for `accelerate launch --use_deepspeed --deepspeed_config_file` users.

Not run here (no GPU): `tests/test_training_gpu_config.py` checks the dict with DeepSpeed's own config class
where `deepspeed` imports, and its shape otherwise.
"""

from __future__ import annotations

from typing import Any


def deepspeed_config(zero_stage: int, bf16: bool) -> dict[str, Any]:
    """ZeRO stage 0-3 with bf16 or fp32; optimizer and scheduler stay the trainer's (AdamW, the recipe's schedule)."""
    if zero_stage not in (0, 1, 2, 3):
        raise ValueError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}")
    zero: dict[str, Any] = {"stage": zero_stage}
    if zero_stage >= 1:
        # Overlap the gradient reduction with the backward pass; contiguous buckets avoid fragmentation at 16k+.
        zero.update(overlap_comm=True, contiguous_gradients=True, reduce_scatter=True)
    if zero_stage == 3:
        # Gather the full weights when saving, so checkpoints are plain Hugging Face folders that vLLM and `darl
        # eval` can load; TRL gathers them for generation itself.
        zero.update(stage3_gather_16bit_weights_on_model_save=True)
    return {
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "bf16": {"enabled": bool(bf16)},
        "zero_optimization": zero,
        "steps_per_print": 10 ** 9,  # darl logs its own metrics; DeepSpeed's periodic prints are noise
    }
