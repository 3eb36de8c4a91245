"""darl's metric sinks (darl.training.sinks) driven through the transformers callback events a staged run sends:
one TensorBoard / W&B run whose step continues across stages, darl's key names, and a resumed session's purge.
(The two-process training test checks the same on real training runs.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import TrainerControl, TrainerState, TrainingArguments

from darl.training.sinks import run_sinks


def _session(kind: str, run: Path, stage: int, offset: int, start: int, values: dict[int, float]) -> None:
    """One stage's trainer in one process: train begins at step `start` (a checkpoint's, or 0), then logs."""
    args = TrainingArguments(output_dir=str(run / f"stage-{stage}"), report_to="none")
    state, control = TrainerState(), TrainerControl()
    state.global_step, state.max_steps = start, 10
    (sink,) = run_sinks([kind], run, "test-run", offset, stage_index=stage)
    sink.on_train_begin(args, state, control)
    for step, value in values.items():
        state.global_step = step
        sink.on_log(args, state, control, logs={"train/reward": value, "levels/math/L2/pass_rate": value / 2})
    sink.on_train_end(args, state, control)


def _scalars(run: Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    return [(e.step, round(e.value, 6)) for e in acc.Scalars(tag)]


def test_tensorboard_one_run_global_step_darl_names_and_resume_purge(tmp_path):
    run = tmp_path / "run"
    _session("tensorboard", run, 1, 0, 0, {1: 0.1, 2: 0.2, 3: 0.3})
    _session("tensorboard", run, 2, 3, 0, {1: 0.4, 2: 0.5, 3: 0.6})  # killed after step 3, checkpoint at step 2
    _session("tensorboard", run, 2, 3, 2, {3: 0.7, 4: 0.8})  # resumed from the step-2 checkpoint
    assert _scalars(run, "train/reward") == [(1, 0.1), (2, 0.2), (3, 0.3), (4, 0.4), (5, 0.5), (6, 0.7), (7, 0.8)]
    assert _scalars(run, "levels/math/L2/pass_rate")[-1] == (7, 0.4)
    assert [s for s, _ in _scalars(run, "stage/index")] == [1, 2, 3, 4, 5, 6, 7]
    assert [v for _, v in _scalars(run, "stage/index")] == [1, 1, 1, 2, 2, 2, 2]
    assert [p.name for p in run.iterdir()] == ["tensorboard"]  # nothing under the stage folders


def test_wandb_offline_one_run_across_stages_and_sessions(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    import wandb

    from wandb_records import history_rows, wait_finished

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_RUN_ID", raising=False)
    run = tmp_path / "run"
    _session("wandb", run, 1, 0, 0, {1: 0.1, 2: 0.2})
    _session("wandb", run, 2, 2, 0, {1: 0.3})  # same process: the open W&B run goes on
    run_id = json.loads((run / "wandb.json").read_text())["id"]
    wandb.finish()  # the process ends
    _session("wandb", run, 2, 2, 1, {2: 0.4})  # a resumed session: same W&B run id
    wandb.finish()
    files = sorted((run / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 2 and {f.name for f in files} == {f"run-{run_id}.wandb"}
    for f in files:
        wait_finished(f)
    rows = [r for f in files for r in history_rows(f)]
    assert [(r["train/global_step"], r["train/reward"], r["stage/index"]) for r in rows] == \
        [(1, 0.1, 1), (2, 0.2, 1), (3, 0.3, 2), (4, 0.4, 2)]
    assert not any(k.startswith("train/train/") for r in rows for k in r)
