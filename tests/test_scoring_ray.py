"""The scoring job's shards as tasks on a local Ray instance (ray is an optional extra), merged and checked.

Kept small on purpose (2 shards of 2 problems, one Ray worker): what costs time is starting Ray and the worker
importing torch, loading the model and starting the verifier process per shard, not the problems.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from darl.data.io import write_problems
from darl.generation.tiny_random import save_tiny_model
from darl.records import Problem
from darl.scoring import ModelSpec, ScoreJob, read_scores
from darl.scoring.job import Shard, shard_of

ray = pytest.importorskip("ray")

SHARDS = 2


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One small local Ray instance for the module: one CPU, so one worker process runs the shard tasks one after
    another (Ray sets OMP_NUM_THREADS=1 in it), no dashboard, worker logs not forwarded."""
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def interleaved_ids(per_shard: int) -> list[str]:
    """Problem ids whose shards alternate in file order (0, 1, 0, 1, ...), so the merge must restore file order
    rather than append shard after shard."""
    by_shard: dict[int, list[str]] = {i: [] for i in range(SHARDS)}
    i = 0
    while min(len(ids) for ids in by_shard.values()) < per_shard:
        by_shard[shard_of(f"m{i}", SHARDS)].append(f"m{i}")
        i += 1
    return [by_shard[s][j] for j in range(per_shard) for s in range(SHARDS)]


@pytest.mark.slow
def test_shards_run_as_ray_tasks_and_merge(tmp_path, local_ray):
    from darl.scoring.ray_runner import run_on_ray

    ids = interleaved_ids(per_shard=2)
    problems = write_problems([Problem(id=pid, domain="math", prompt=f"Q{pid}", answer="1",
                                       metadata={"raw_prompt": True}) for pid in ids], tmp_path / "p.parquet")
    model = save_tiny_model(tmp_path / "tiny", seed=4)
    job = ScoreJob(str(problems), (ModelSpec("tiny", str(model), batch_size=8),), k=2, max_new_tokens=4)
    done = []
    merged = run_on_ray(job, tmp_path / "out", shards=SHARDS, on_shard_done=done.append)
    assert sorted(r.dir.name for r in done) == [Shard(i, SHARDS).label for i in range(SHARDS)]
    assert all(r.complete and r.units_total == 2 and r.units_new == 2 for r in done)
    rows = read_scores(merged)
    assert [r["problem_id"] for r in rows] == ids
    assert all(r["k"] == 2 and r["max_tokens"] <= 4 for r in rows)


@pytest.mark.slow
def test_a_worker_killed_after_some_commits_is_retried_and_every_row_is_there_once(tmp_path, local_ray):
    """The shard task SIGKILLs its own Ray worker right after its second committed batch (first attempt only).
    Ray runs the task again on a new worker; it resumes from the committed batches, so every (problem, model)
    row is present exactly once and the committed parts hold no row twice."""
    import os
    import signal

    import pyarrow.parquet as pq

    from darl.scoring.ray_runner import run_on_ray
    from darl.scoring.runner import run_shard

    ids = interleaved_ids(per_shard=3)
    problems = write_problems([Problem(id=pid, domain="math", prompt=f"Q{pid}", answer="1",
                                       metadata={"raw_prompt": True}) for pid in ids], tmp_path / "p.parquet")
    model = save_tiny_model(tmp_path / "tiny", seed=4)
    job = ScoreJob(str(problems), (ModelSpec("tiny", str(model), batch_size=8),), k=2, max_new_tokens=4,
                   batch_problems=1)
    deaths = tmp_path / "deaths"
    deaths.mkdir()

    def dies_after_two_commits(shard_job, out):  # defined here: Ray ships it to the worker by value
        marker = deaths / shard_job.shard.label
        committed = []

        def on_progress(event):
            committed.append(event)
            if len(committed) == 2 and not marker.exists():
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)

        return run_shard(shard_job, out, on_progress=on_progress)

    done = []
    merged = run_on_ray(job, tmp_path / "out", shards=SHARDS, on_shard_done=done.append, max_retries=2,
                        shard_task=dies_after_two_commits)
    assert sorted(p.name for p in deaths.iterdir()) == [Shard(i, SHARDS).label for i in range(SHARDS)]
    assert sorted((r.units_done_before, r.units_new) for r in done) == [(2, 1), (2, 1)]
    rows = read_scores(merged)
    assert [r["problem_id"] for r in rows] == ids
    parts = sorted((tmp_path / "out").glob("shard-*/scores-*.parquet"))
    assert sum(pq.read_metadata(p).num_rows for p in parts) == len(ids)
