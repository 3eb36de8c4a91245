"""A compact rich progress line per stage in place of transformers' tqdm bar (which prints every log dict)."""

from __future__ import annotations

from typing import Any

from darl.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from transformers import TrainerCallback


class RichStageProgress(TrainerCallback):
    def __init__(self, stage_label: str) -> None:
        self.label = stage_label
        self.progress: Progress | None = None
        self.task: Any = None

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001 (transformers callback signature)
        if state.is_world_process_zero:
            self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("{task.fields[info]}"))
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=state.max_steps, completed=state.global_step,
                                               info="")

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
        if self.progress is None or not logs:
            return
        parts = []
        for key, short in (("train/reward", "reward"), ("stage/val_accuracy", "val"),
                           ("train/completions/clipped_ratio", "trunc"), ("train/zero_variance_share", "zero-var")):
            if isinstance(logs.get(key), (int, float)):
                parts.append(f"{short} {logs[key]:.3f}")
        self.progress.update(self.task, completed=state.global_step, info="  ".join(parts))

    def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step)
            self.progress.stop()
            self.progress = None
