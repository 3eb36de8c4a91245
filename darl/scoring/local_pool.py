"""Run the shards of a scoring job in several processes on this machine, then merge them.

Why: with small models one generating process keeps one core busy (the demo runs torch on one thread, see
darl/demo.py), so on a 2-core laptop half the machine idled through scoring. Each process is `run_shard` for one
shard, exactly as N separate `darl score --shard i/N` runs: resumable, and since every problem's samples are seeded
from (seed, model, problem id) alone, the merged scores are the same whatever the number of processes
(darl/scoring/runner.py, `problem_seed`). The processes are spawned (not forked: torch and the verifier's threads do
not survive a fork), each on `threads` torch threads, and report progress through a queue that the caller's
`on_start` / `on_progress` see as if one shard ran.
"""

from __future__ import annotations

import multiprocessing
import queue
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from darl.scoring.job import ScoreJob, Shard
from darl.scoring.merge import merge_shards, shard_dirs
from darl.scoring.runner import ProgressEvent, run_shard


def shard_count_for(out_dir: str | Path, wanted: int) -> int:
    """`wanted`, unless the folder already holds shards of another split (a run begun with another count): then
    that count, so a resumed run continues its own shards instead of mixing two splits."""
    found = shard_dirs(Path(out_dir)) if Path(out_dir).is_dir() else {}
    counts = {count for count, _ in found.values()}
    return counts.pop() if len(counts) == 1 else wanted


def _run_shard_in_child(job: ScoreJob, out_dir: str, threads: int | None, events: Any) -> None:
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    run_shard(job, out_dir, on_start=lambda total, done: events.put(("start", total, done)),
              on_progress=lambda event: events.put(("progress", event)))


def run_local_shards(job: ScoreJob, out_dir: str | Path, processes: int, *, threads: int | None = 1,
                     output: str | Path | None = None, on_start: Callable[[int, int], None] | None = None,
                     on_progress: Callable[[ProgressEvent], None] | None = None) -> Path:
    """Score `job` as `processes` shards in as many processes (1: in this process) and return the merged file
    (`output`, default `out_dir/scores.parquet`). `on_start(total, done)` is called once, when every shard has
    started, with the sums over shards; `on_progress` with every shard's events. A shard that fails raises here
    after the others finish; a rerun resumes every shard from its committed batches."""
    count = shard_count_for(out_dir, max(1, processes))
    if count == 1:
        run_shard(replace(job, shard=Shard(0, 1)), out_dir, on_start=on_start, on_progress=on_progress)
        return merge_shards(out_dir, output)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(count, mp_context=context) as pool:
        events = manager.Queue()
        futures = [pool.submit(_run_shard_in_child, replace(job, shard=Shard(index, count)), str(out_dir), threads,
                               events) for index in range(count)]
        starts: list[tuple[int, int]] = []
        early: list[ProgressEvent] = []  # progress of the first shards, held until every shard has said its total
        while not all(f.done() for f in futures) or not events.empty():
            try:
                kind, payload, *rest = events.get(timeout=0.5)
            except queue.Empty:
                continue
            if kind == "start":
                starts.append((payload, rest[0]))
                if len(starts) == count:
                    if on_start is not None:
                        on_start(sum(t for t, _ in starts), sum(d for _, d in starts))
                    for event in early if on_progress is not None else ():
                        on_progress(event)
                    early.clear()
            elif len(starts) < count:
                early.append(payload)
            elif on_progress is not None:
                on_progress(payload)
        for future in futures:
            future.result()  # re-raises a shard's error
    return merge_shards(out_dir, output)
