"""Scoring in several local processes (darl.scoring.local_pool, what `darl demo` uses on a multi-core machine) gives
the merged scores one process gives, reports progress as one job, and a folder begun with another split keeps it."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from darl.data.io import write_problems
from darl.scoring import ModelSpec, ScoreJob
from darl.scoring.job import Shard
from darl.scoring.local_pool import run_local_shards, shard_count_for
from darl.scoring.runner import run_shard

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def _rows(path) -> list[tuple]:
    return sorted((r["problem_id"], r["model"], r["passes"], r["k"], r["mean_tokens"])
                  for r in pq.read_table(path).to_pylist())


def test_two_processes_score_what_one_does(tmp_path, embedded_family):
    problems = embedded_family.problems("train")[::40][:12]  # spread over the levels: some pass, some fail
    path = write_problems(problems, tmp_path / "p.parquet")
    models = tuple(ModelSpec(role, str(embedded_family.path(role)), batch_size=32) for role in ("small", "filter"))
    job = ScoreJob(str(path), models, k=4, max_new_tokens=64, batch_problems=4)
    one = run_local_shards(job, tmp_path / "one", 1)
    starts, units = [], []
    two = run_local_shards(job, tmp_path / "two", 2, on_start=lambda total, done: starts.append((total, done)),
                           on_progress=lambda event: units.append(event.units))
    assert sorted(p.name for p in (tmp_path / "two").glob("shard-*")) == ["shard-0000-of-0002", "shard-0001-of-0002"]
    assert _rows(one) == _rows(two) and len(_rows(one)) == 24
    assert 0 < sum(r[2] for r in _rows(one)) < 24 * 4  # a real mix of passes and failures, not a degenerate case
    assert starts == [(24, 0)] and sum(units) == 24  # one start with the totals of both shards, every unit counted


def test_a_folder_keeps_the_split_it_was_begun_with(tmp_path, embedded_family):
    problems = embedded_family.problems("train")[:4]
    path = write_problems(problems, tmp_path / "p.parquet")
    job = ScoreJob(str(path), (ModelSpec("small", str(embedded_family.path("small"))),), k=2, max_new_tokens=32,
                   shard=Shard(0, 1))
    assert shard_count_for(tmp_path / "s", 2) == 2  # nothing there yet
    run_shard(job, tmp_path / "s")
    assert shard_count_for(tmp_path / "s", 2) == 1
    merged = run_local_shards(job, tmp_path / "s", 2)  # resumes the single shard (already complete) and merges
    assert len(_rows(merged)) == 4
