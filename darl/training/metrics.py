"""Training metrics: namespacing, per-level/domain statistics of each step's rollouts, and the metrics.jsonl sink.

Every key darl writes is namespaced (docs/metrics.md, sections train/, stage/, levels/): TRL's own keys ('reward',
'kl', 'entropy', 'clip_ratio/region_mean', 'completions/clipped_ratio', 'learning_rate', ...) become 'train/<key>';
darl adds 'levels/<domain>/<level>/<metric>' and 'stage/<metric>'. The renaming happens before TRL hands the logs to
the Trainer, so TensorBoard and W&B (report_to) see the same names as metrics.jsonl.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from transformers import TrainerCallback

from darl.atomic import atomic_write_text
from darl.jsonl import read_json_lines
from darl.training.online_difficulty import zero_variance_groups

NAMESPACES = ("train/", "levels/", "stage/", "eval/", "score/")


def namespaced(key: str) -> str:
    return key if key.startswith(NAMESPACES) else f"train/{key}"


def stream_metrics(streams: Sequence[str], rewards: np.ndarray, passed: np.ndarray, truncated: np.ndarray,
                   lengths: np.ndarray) -> dict[str, float]:
    """Per-stream statistics of one step's rollout groups.

    streams: (N,) stream name of each group, e.g. 'math/L2'. rewards: (N, G) float, NaN where no reward applied.
    passed: (N, G) bool. truncated: (N, G) bool (hit max_completion_length). lengths: (N, G) completion tokens.
    Returns 'levels/<stream>/{reward_mean, pass_rate, zero_variance_share, truncation_rate, response_length}' for each
    stream, plus 'train/zero_variance_share' over all groups.
    """
    zero_var = zero_variance_groups(rewards)
    out: dict[str, float] = {"train/zero_variance_share": float(zero_var.mean())}
    names = np.asarray(streams)
    for name in sorted(set(streams)):
        sel = names == name
        out[f"levels/{name}/reward_mean"] = float(np.nanmean(rewards[sel])) if np.isfinite(rewards[sel]).any() \
            else float("nan")
        out[f"levels/{name}/pass_rate"] = float(passed[sel].mean())
        out[f"levels/{name}/zero_variance_share"] = float(zero_var[sel].mean())
        out[f"levels/{name}/truncation_rate"] = float(truncated[sel].mean())
        out[f"levels/{name}/response_length"] = float(lengths[sel].mean())
        out[f"levels/{name}/groups"] = float(sel.sum())
    return out


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The records of metrics.jsonl or consumed.jsonl ([] when the file does not exist yet). A torn last line,
    left by a run killed while writing it, is left out; a bad line elsewhere is an InputError (darl.jsonl)."""
    path = Path(path)
    return read_json_lines(path).values if path.exists() else []


def truncate_jsonl(path: str | Path, keep: Any) -> None:
    """Keep only the lines for which keep(record) is true (used on resume to drop what the checkpoint undoes);
    a torn last line goes too, so appending continues from a clean end."""
    path = Path(path)
    if path.exists():
        kept = [r for r in read_jsonl(path) if keep(r)]
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in kept))


class MetricsJsonlCallback(TrainerCallback):
    """Appends every log of one stage to run/metrics.jsonl with the stage's index, name and step."""

    def __init__(self, path: Path, stage_index: int, stage_name: str, step_offset: int) -> None:
        self.path = path
        self.stage_index = stage_index
        self.stage_name = stage_name
        self.step_offset = step_offset

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001 (transformers callback signature)
        if not state.is_world_process_zero or not logs:
            return
        record: dict[str, Any] = {
            "stage/index": self.stage_index,
            "stage/name": self.stage_name,
            "stage/step": state.global_step,
            "train/global_step": self.step_offset + state.global_step,
        }
        for key, value in logs.items():
            if isinstance(value, float) and not np.isfinite(value):
                value = None
            record[namespaced(key)] = value
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
