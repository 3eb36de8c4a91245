"""The scoring job's shards as tasks on a local Ray instance (ray is an optional extra), merged and checked."""

from __future__ import annotations

import pytest

from darl.data.io import write_problems
from darl.generation.tiny_random import save_tiny_model
from darl.records import Problem
from darl.scoring import ModelSpec, ScoreJob, read_scores
from darl.scoring.job import Shard

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_shards_run_as_ray_tasks_and_merge(tmp_path):
    from darl.scoring.ray_runner import run_on_ray

    problems = write_problems([Problem(id=f"m{i}", domain="math", prompt=f"Q{i}", answer="1",
                                       metadata={"raw_prompt": True}) for i in range(9)], tmp_path / "p.parquet")
    model = save_tiny_model(tmp_path / "tiny", seed=4)
    job = ScoreJob(str(problems), (ModelSpec("tiny", str(model), batch_size=8),), k=2, max_new_tokens=8)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    try:
        done = []
        merged = run_on_ray(job, tmp_path / "out", shards=3, on_shard_done=done.append)
    finally:
        ray.shutdown()
    assert sorted(r.dir.name for r in done) == [Shard(i, 3).label for i in range(3)]
    assert all(r.complete for r in done)
    rows = read_scores(merged)
    assert [r["problem_id"] for r in rows] == [f"m{i}" for i in range(9)]
    assert all(r["k"] == 2 and r["max_tokens"] <= 8 for r in rows)
