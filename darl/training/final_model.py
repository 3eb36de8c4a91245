"""run/final: the trained policy a user evaluates (`darl eval run/final`), apart from the training checkpoints.

It is the last stage's final checkpoint without what only training needs (optimizer and scheduler state, RNG
states, trainer state, darl's sampler state): the weights, the model config, the tokenizer and its chat template,
i.e. a plain Hugging Face model folder. Files are hard-linked where the file system allows (no copy of the weights;
the link survives the checkpoint's later removal) and copied otherwise.

Atomic (`darl.atomic.atomic_folder`): the folder is built beside the run as `.final.PID.tmp` and renamed to
`final` in one step, so `run/final` is either absent or complete; `darl_final.json` inside it says which
checkpoint it came from.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from darl.atomic import atomic_folder

FINAL_DIR = "final"
PROVENANCE = "darl_final.json"
# What a checkpoint holds for training only (transformers' Trainer, DeepSpeed, darl), left out of run/final.
TRAINING_ONLY = ("optimizer.pt", "scheduler.pt", "rng_state*.pth", "trainer_state.json", "training_args.bin",
                 "darl_state.json", "scaler.pt", "global_step*", "latest", "zero_to_fp32.py")


def _training_only(path: Path) -> bool:
    return any(path.match(pattern) for pattern in TRAINING_ONLY)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(source, target)


def publish_final(checkpoint: Path, run_dir: Path, provenance: dict[str, Any]) -> Path:
    """Make run_dir/final the model of `checkpoint` (see the module docstring); returns its path. A final folder
    that already comes from this checkpoint is kept as it is (a resumed run that had finished)."""
    final = run_dir / FINAL_DIR
    record = {"checkpoint": str(checkpoint.resolve()), **provenance}
    marker = final / PROVENANCE
    if marker.is_file() and json.loads(marker.read_text()).get("checkpoint") == record["checkpoint"]:
        return final
    with atomic_folder(final) as tmp:  # an existing final is from another checkpoint (a run dir reused by hand)
        for source in sorted(checkpoint.iterdir()):
            if source.is_file() and not _training_only(source):
                _link_or_copy(source, tmp / source.name)
        if not any(tmp.glob("*.safetensors")) and not any(tmp.glob("pytorch_model*.bin")):
            raise RuntimeError(f"{checkpoint} holds no model weights to publish as {final}")
        (tmp / PROVENANCE).write_text(json.dumps(record, indent=2))
    return final
