"""A real `darl score` process killed with SIGKILL mid-run and started again: every (problem, model) row exactly
once, nothing lost, the second run does only what the first had not committed, and every score and response is
what an uninterrupted run gives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from darl.data.io import write_problems
from darl.generation.tiny_random import save_tiny_model
from darl.records import Problem
from darl.scoring.table import read_scores


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("shard-*/scores-*.parquet"))


@pytest.mark.slow
def test_sigkill_mid_run_then_resume(tmp_path):
    problems = write_problems([Problem(id=f"m{i}", domain="math", prompt=f"Q{i} " + "x" * (i % 7), answer=str(i),
                                       metadata={"raw_prompt": True}) for i in range(16)], tmp_path / "p.parquet")
    a = save_tiny_model(tmp_path / "a", seed=1)
    b = save_tiny_model(tmp_path / "b", seed=2)
    out = tmp_path / "scores"
    cmd = [sys.executable, "-m", "darl", "score", str(problems), "-m", f"small={a}", "-m", f"large={b}",
           "-k", "2", "--max-new-tokens", "32", "--batch-problems", "1", "--keep-responses", "-o", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while len(_parts(out)) < 4 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, "the run finished before it could be killed: " + first.stdout.read().decode()[-2000:]
    first.send_signal(signal.SIGKILL)
    first.wait()
    committed = sum(pq.read_metadata(p).num_rows for p in _parts(out))
    assert 4 <= committed < 32
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert f"resuming: {committed} of 32" in second.stderr
    rows = read_scores(out / "scores.parquet")
    assert sorted((r["problem_id"], r["model"]) for r in rows) == sorted(
        (f"m{i}", m) for i in range(16) for m in ("small", "large"))
    # the committed parts together hold each row once: nothing was scored twice
    assert sum(pq.read_metadata(p).num_rows for p in _parts(out)) == 32
    samples = pq.read_table(out / "samples.parquet").to_pylist()
    assert len(samples) == 64 and len({(s["problem_id"], s["model"], s["sample"]) for s in samples}) == 64
    manifest = json.loads(next(out.glob("shard-*/manifest.json")).read_text())
    assert manifest["problems_in_shard"] == 16
    assert not list(out.glob("shard-*/.*.tmp"))
    # the same values as an uninterrupted run: every score column and every response (seeds are per problem, so
    # which batch or which run produced a sample changes nothing)
    ref = tmp_path / "reference"
    uninterrupted = subprocess.run(cmd[:-1] + [str(ref)], env=env, capture_output=True, text=True, timeout=400)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]
    assert rows == read_scores(ref / "scores.parquet")
    key = lambda s: (s["problem_id"], s["model"], s["sample"])  # noqa: E731
    assert sorted(samples, key=key) == sorted(pq.read_table(ref / "samples.parquet").to_pylist(), key=key)
