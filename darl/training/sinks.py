"""The metric sinks besides metrics.jsonl (a recipe's `report_to`): TensorBoard and W&B, one run across all stages.

Each stage is its own TRL trainer, and transformers' own callbacks log at that trainer's `state.global_step`, which
starts again at 0 in every stage; they also put TensorBoard files under each stage's output folder (one TensorBoard
run per stage) and prefix every key with "train/" (darl's "train/reward" became "train/train/reward"). darl's sinks
subclass them and change only that:
- the step they log at is the run's global step, `step_offset` (the steps of the stages before) + the stage's step:
  the same number as metrics.jsonl's `train/global_step`, so stage 2's first step follows stage 1's last;
- keys go out as darl names them (docs/metrics.md), identical in every sink;
- TensorBoard writes to `run/tensorboard/` for all stages; a session that resumes a stage purges the events logged
  after the checkpoint it resumes from (SummaryWriter `purge_step`), as the resume drops those lines from
  metrics.jsonl;
- W&B: one W&B run for the whole darl run. Its id is kept in `run/wandb.json` (or taken from `WANDB_RUN_ID`), and
  every stage and every resumed session logs into it (`resume="allow"`), with `train/global_step` as the x-axis.
  The project is the recipe's `project`, else `WANDB_PROJECT` (default "darl"); offline and other settings come
  from W&B's own environment.
Only the main process writes to either sink.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from darl.atomic import atomic_write_text

TENSORBOARD_DIR = "tensorboard"
WANDB_RUN_FILE = "wandb.json"


def global_step(step_offset: int, state: Any) -> int:
    return step_offset + state.global_step


def _scalars(logs: dict[str, Any], stage_index: int) -> dict[str, float]:
    """The numeric logs, plus `stage/index` (as metrics.jsonl has it) so that a chart shows where stages change."""
    out = {k: v for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return {**out, "stage/index": stage_index}


def run_sinks(report_to: list[str], run_dir: Path, run_name: str, step_offset: int,
              project: str | None = None, *, stage_index: int) -> list[TrainerCallback]:
    """One callback per sink named in `report_to` (recipe field; "tensorboard" and/or "wandb") for stage
    `stage_index` (1-based), whose first step follows `step_offset` steps of the stages before; `project` is the
    recipe's W&B project (None: `WANDB_PROJECT`, else "darl")."""
    sinks: list[TrainerCallback] = []
    for name in report_to:
        if name == "tensorboard":
            sinks.append(_tensorboard_sink(run_dir, stage_index, step_offset))
        elif name == "wandb":
            sinks.append(_wandb_sink(run_dir, run_name, stage_index, step_offset, project))
        else:  # the recipe's Literal type already refuses anything else
            raise ValueError(f"unknown metric sink {name!r}")
    return sinks


def _tensorboard_sink(run_dir: Path, stage_index: int, step_offset: int) -> TrainerCallback:
    from transformers.integrations import TensorBoardCallback

    class RunTensorBoard(TensorBoardCallback):
        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001 (transformers callback signature)
            if not state.is_world_process_zero:
                return
            # Every event at or after purge_step that an earlier (killed) session wrote is hidden by TensorBoard.
            self.tb_writer = self._SummaryWriter(log_dir=str(run_dir / TENSORBOARD_DIR),
                                                 purge_step=global_step(step_offset, state) + 1)

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if not state.is_world_process_zero or self.tb_writer is None or not logs:
                return
            step = global_step(step_offset, state)
            for key, value in _scalars(logs, stage_index).items():
                self.tb_writer.add_scalar(key, value, step)
            self.tb_writer.flush()

    return RunTensorBoard()


def wandb_run_id(run_dir: Path) -> str:
    """The W&B run id of this darl run: `WANDB_RUN_ID` if set, else the one kept in run/wandb.json, else a new one
    (kept there by the caller, the main process)."""
    if os.environ.get("WANDB_RUN_ID"):
        return os.environ["WANDB_RUN_ID"]
    path = run_dir / WANDB_RUN_FILE
    if path.is_file():
        return json.loads(path.read_text())["id"]
    import secrets

    return secrets.token_hex(4)  # W&B's own ids are 8 characters of [a-z0-9]


def _wandb_sink(run_dir: Path, run_name: str, stage_index: int, step_offset: int,
                project: str | None = None) -> TrainerCallback:
    from transformers.integrations import WandbCallback

    class RunWandb(WandbCallback):
        def setup(self, args, state, model, **kwargs):  # noqa: ANN001 (transformers callback signature)
            if state.is_world_process_zero and self._wandb.run is None:
                run_id = wandb_run_id(run_dir)
                self._wandb.init(project=project or os.environ.get("WANDB_PROJECT", "darl"), name=run_name, id=run_id,
                                 resume="allow", dir=str(run_dir))
                atomic_write_text(run_dir / WANDB_RUN_FILE,
                                  json.dumps({"id": run_id, "project": self._wandb.run.project}))
            super().setup(args, state, model, **kwargs)  # config, x-axis train/global_step, optional model watch

        def on_log(self, args, state, control, model=None, logs=None, **kwargs):  # noqa: ANN001
            if not self._initialized:
                self.setup(args, state, model)
            if state.is_world_process_zero and logs:
                step = global_step(step_offset, state)
                self._wandb.log({**_scalars(logs, stage_index), "train/global_step": step})

    return RunWandb()
