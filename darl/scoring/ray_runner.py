"""Run the shards of a scoring job as Ray tasks (optional extra `darl[ray]`), then merge them.

Each task is `run_shard` for one shard, so a Ray run has the same resume and checking behaviour as N separate
`darl score --shard i/N` runs: a task that dies is simply run again and resumes from its committed batches.
Every worker must see the output folder and the problems file at the same path (a shared file system), and the
model paths. `ray` is imported only here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from darl.scoring.job import ScoreJob, Shard
from darl.scoring.merge import merge_shards
from darl.scoring.runner import ShardResult, run_shard


def _run_one(job: ScoreJob, out_dir: str) -> ShardResult:
    return run_shard(job, out_dir)


def run_on_ray(job: ScoreJob, out_dir: str | Path, shards: int, *, address: str | None = None,
               cpus_per_shard: float = 1.0, gpus_per_shard: float = 0.0, max_retries: int = 2,
               on_shard_done: Callable[[ShardResult], None] | None = None,
               shard_task: Callable[[ScoreJob, str], ShardResult] = _run_one) -> Path:
    """Score `shards` shards on the Ray cluster at `address` (None: the one this process is connected to, or a
    new local one) and return the merged scores file. Shards that already finished are skipped by `run_shard`
    itself (it finds every row committed). A worker that dies is replaced and its task run again (`max_retries`
    times), resuming from the shard's committed batches. `shard_task` is what runs on a worker (`run_shard`; a
    test passes one that kills its worker part-way)."""
    try:
        import ray
    except ImportError:
        from darl.errors import InputError

        raise InputError("--ray needs the 'ray' package", hint="pip install 'darl[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=address)
    task = ray.remote(num_cpus=cpus_per_shard, num_gpus=gpus_per_shard, max_retries=max_retries)(shard_task)
    out = str(Path(out_dir).resolve())
    pending = {task.remote(replace(job, shard=Shard(i, shards)), out): i for i in range(shards)}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            pending.pop(ref)
            result = ray.get(ref)
            if on_shard_done is not None:
                on_shard_done(result)
    return merge_shards(out)
