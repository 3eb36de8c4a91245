"""darl's hand-written deadline pool (darl.verifiers.deadline.DeadlinePool) against the library pools, side by side.

Every pool runs the same tasks (bench/pool_tasks.py) with the same number of workers, each worker warmed up the same
way (Math-Verify's parser cache filled before it takes tasks), and the same per-task deadline:

- `DeadlinePool`: darl's pool (fresh interpreters, SIGKILL and replace a worker past its deadline).
- `pebble.ProcessPool`: `schedule(..., timeout=deadline)`; pebble also kills and replaces a worker past it.
- `concurrent.futures.ProcessPoolExecutor`: `future.result(timeout=deadline)`; the standard library cannot stop a
  running task, so a stuck one keeps its worker busy after the caller has given up on it.

Scenarios, each a batch handed to the pool at once:
- `clean`: real Math-Verify checks (`darl.verifiers.math_compare.check`, distinct expressions, new ones each round
  so no worker's parser or sympy cache has seen them). Rounds alternate between the pools, each pool leading one,
  so load from other processes hits all alike. The table reports each pool's median round and, as the ratio, the
  median over rounds of its time divided by darl's in the same round (paired: the load moves between rounds).
- `no-op`: 1,000 empty tasks, the pool's own cost per task (pipes, pickling, scheduling).
- `hang`: real checks with a few tasks that spin for 10x the deadline (sympy in a power tower never returns).
  Reported: when the batch's outcomes were known, when the pool was free for the next batch, outcomes right.
- `crash`: real checks with a few tasks that end their worker (segfault, out-of-memory kill); then 8 more checks
  to see whether the pool still works.
An outcome is right when a check returns its value, a spinning task is reported as a timeout and a crashing one
as crashed (not as a timeout, and without taking other tasks with it).

    .venv/bin/python bench/bench_deadline_pool.py --workers 2 --rounds 3
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, TimeoutError as FutureTimeout, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for folder in (str(ROOT), str(HERE)):
    if folder not in sys.path:
        sys.path.insert(0, folder)
# every pool's workers import `pool_tasks` by name: DeadlinePool's fresh interpreters find it through PYTHONPATH
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)

from darl.verifiers.deadline import DeadlinePool  # noqa: E402
from pool_tasks import task, warm_up  # noqa: E402

Status = tuple[str, Any]  # ("ok", value) | ("timeout", None) | ("crashed", None) | ("error", detail)


class Darl:
    name = "darl DeadlinePool"
    snippet = ("from darl.verifiers.deadline import DeadlinePool\n"
               "pool = DeadlinePool('pool_tasks', 'task', workers=1, deadline_s=5)\n"
               "print(pool.run([('spin', 0.0)])[0].value)\npool.close()\n")

    def __init__(self, workers: int, deadline: float) -> None:
        self.pool = DeadlinePool("pool_tasks", "task", warm_up="warm_up", workers=workers, deadline_s=deadline)
        self.pool.start()

    def run(self, payloads: list) -> list[Status]:
        return [(o.status, o.value if o.status == "ok" else o.detail) for o in self.pool.run(payloads)]

    def idle(self) -> None:
        pass  # run() returns with every worker free (a stuck one was killed and replaced)

    def close(self) -> None:
        self.pool.close()


class Pebble:
    name = "pebble.ProcessPool"
    snippet = ("import multiprocessing\nfrom pebble import ProcessPool\nfrom pool_tasks import task\n"
               "pool = ProcessPool(max_workers=1, context=multiprocessing.get_context('spawn'))\n"
               "print(pool.schedule(task, args=(('spin', 0.0),), timeout=5).result())\npool.stop()\n")

    def __init__(self, workers: int, deadline: float) -> None:
        from pebble import ProcessPool

        self.deadline = deadline
        self.pool = ProcessPool(max_workers=workers, initializer=warm_up, context=multiprocessing.get_context("spawn"))
        self.futures: list = []
        # pebble starts its workers lazily: one trivial task per worker so start-up is paid here, as for the others
        self._wait([self.pool.schedule(task, args=(("spin", 0.2),)) for _ in range(workers)])

    @staticmethod
    def _wait(futures: list) -> None:
        wait(futures)

    def run(self, payloads: list) -> list[Status]:
        from pebble.common import ProcessExpired

        self.futures = [self.pool.schedule(task, args=(p,), timeout=self.deadline) for p in payloads]
        out: list[Status] = []
        for future in self.futures:
            try:
                out.append(("ok", future.result()))
            except FutureTimeout:
                out.append(("timeout", None))
            except ProcessExpired as exc:
                out.append(("crashed", str(exc)))
            except Exception as exc:  # the task raised
                out.append(("error", f"{type(exc).__name__}: {exc}"))
        return out

    def idle(self) -> None:
        pass  # pebble killed the stuck workers when their timeout passed

    def close(self) -> None:
        self.pool.stop()
        self.pool.join()


class Executor:
    name = "ProcessPoolExecutor"
    snippet = ("import multiprocessing\nfrom concurrent.futures import ProcessPoolExecutor\n"
               "from pool_tasks import task\n"
               "pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn'))\n"
               "print(pool.submit(task, ('spin', 0.0)).result(timeout=5))\npool.shutdown()\n")

    def __init__(self, workers: int, deadline: float) -> None:
        self.workers, self.deadline = workers, deadline
        self._start()

    def _start(self) -> None:
        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=warm_up)
        wait([self.pool.submit(task, ("spin", 0.2)) for _ in range(self.workers)])
        self.futures: list = []

    def run(self, payloads: list) -> list[Status]:
        try:
            self.futures = [self.pool.submit(task, p) for p in payloads]
        except BrokenProcessPool:  # a worker died in an earlier batch: the executor is unusable, start a new one
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._start()
            self.futures = [self.pool.submit(task, p) for p in payloads]
        out: list[Status] = []
        for future in self.futures:
            try:
                out.append(("ok", future.result(timeout=self.deadline)))
            except FutureTimeout:
                out.append(("timeout", None))  # the task goes on running in its worker
            except BrokenProcessPool as exc:
                out.append(("crashed", str(exc)))
            except Exception as exc:
                out.append(("error", f"{type(exc).__name__}: {exc}"))
        return out

    def idle(self) -> None:
        wait(self.futures)  # the workers are busy until every abandoned task has finished on its own

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


POOLS: tuple[Callable[[int, float], Any], ...] = (Darl, Pebble, Executor)


def checks(count: int, offset: int = 0) -> list[tuple[str, Any]]:
    """Distinct sympy checks (no parser cache hit between them), half of them equal, half not."""
    out = []
    for i in range(offset, offset + count):
        gold = f"x^2 + {i + 2}x + {i + 1}"
        pred = f"(x+1)(x+{i + 1})" if i % 2 == 0 else f"(x+1)(x+{i + 2})"
        out.append(("check", (gold, (pred,), None, False)))
    return out


def expected(payload: tuple[str, Any]) -> str:
    return {"check": "ok", "spin": "timeout", "crash": "crashed"}[payload[0]]


def right(payloads: list, results: list[Status], reference: dict) -> int:
    """Outcomes that are what they should be (and, for checks, the same verdict as a direct call)."""
    count = 0
    for payload, (status, value) in zip(payloads, results):
        if status == expected(payload) and (payload[0] != "check" or value == reference[payload[1]]):
            count += 1
    return count


def interleave(base: list, extra: list) -> list:
    step = max(1, len(base) // (len(extra) + 1))
    out = list(base)
    for k, item in enumerate(extra):
        out.insert((k + 1) * step + k, item)
    return out


def unguarded(snippet: str) -> str:
    """Whether the pool works in a user's script written without `if __name__ == "__main__":` (a plain TRL script
    that builds its reward function at top level): 'yes', or the error's last line."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "user_script.py"
        script.write_text(snippet)
        try:
            done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return "hangs"
    if done.returncode == 0 and done.stdout.strip().endswith("spun"):
        return "yes"
    lines = (done.stderr or done.stdout).strip().splitlines()
    return "no: " + (lines[-1][:60] if lines else f"exit {done.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checks", type=int, default=300, help="real checks per clean round")
    parser.add_argument("--deadline", type=float, default=1.0, help="seconds per task")
    parser.add_argument("--stuck", type=int, default=4, help="spinning tasks in the hang scenario")
    args = parser.parse_args()
    console = Console(width=200)

    rounds = [checks(args.checks, offset=100_000 * (r + 1)) for r in range(args.rounds)]
    clean = rounds[0]
    noop = [("spin", 0.0)] * 1000
    hang = interleave(checks(args.checks // 4, offset=10_000), [("spin", 10 * args.deadline)] * args.stuck)
    crash = interleave(checks(args.checks // 4, offset=20_000), [("crash", 139)] * 2)
    after = checks(8, offset=30_000)
    warm_up()
    reference = {p[1]: task(p) for p in sum(rounds, []) + hang + crash + after if p[0] == "check"}

    pools, start_s = {}, {}
    for make in POOLS:
        started = time.perf_counter()
        pool = make(args.workers, args.deadline)
        start_s[pool.name] = time.perf_counter() - started
        pools[pool.name] = pool
    seconds: dict[str, list[float]] = {name: [] for name in pools}
    clean_right: dict[str, int] = {}
    rows: dict[str, dict[str, str]] = {name: {} for name in pools}
    try:
        for name, pool in pools.items():  # warm-up round: first tasks through each worker
            pool.run(checks(2 * args.workers, offset=40_000))
        for number in range(args.rounds):
            names = list(pools)
            for name in names[number % len(names):] + names[:number % len(names)]:  # each pool leads one round
                pool = pools[name]
                started = time.perf_counter()
                results = pool.run(rounds[number])
                seconds[name].append(time.perf_counter() - started)
                clean_right[name] = clean_right.get(name, 0) + right(rounds[number], results, reference)
            console.print(f"clean round {number + 1}: " + ", ".join(f"{n} {seconds[n][-1]:.2f} s" for n in pools))
        for name, pool in pools.items():
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                pool.run(noop)
                best = min(best, time.perf_counter() - started)
            rows[name]["noop"] = f"{len(noop) / best:,.0f}"
            console.print(f"no-op: {name} {rows[name]['noop']} tasks/s")
        for name, pool in pools.items():
            started = time.perf_counter()
            results = pool.run(hang)
            known = time.perf_counter() - started
            pool.idle()
            free = time.perf_counter() - started
            rows[name]["hang"] = f"{known:.1f} / {free:.1f}"
            rows[name]["hang right"] = f"{right(hang, results, reference)}/{len(hang)}"
            console.print(f"hang: {name} outcomes after {known:.1f} s, pool free after {free:.1f} s")
        for name, pool in pools.items():
            results = pool.run(crash)
            rows[name]["crash right"] = f"{right(crash, results, reference)}/{len(crash)}"
            try:
                later = pool.run(after)
                rows[name]["after crash"] = f"{right(after, later, reference)}/{len(after)}"
            except Exception as exc:
                rows[name]["after crash"] = f"{type(exc).__name__}"
            console.print(f"crash: {name} {rows[name]['crash right']} right, then {rows[name]['after crash']}")
    finally:
        for pool in pools.values():
            pool.close()

    for make in POOLS:
        rows[make.name]["unguarded"] = unguarded(make.snippet)
        console.print(f"script without a main guard: {make.name}: {rows[make.name]['unguarded']}")
    median = {name: statistics.median(values) for name, values in seconds.items()}
    darl = seconds["darl DeadlinePool"]
    paired = {name: statistics.median(t / d for t, d in zip(values, darl)) for name, values in seconds.items()}
    table = Table(title=f"{args.checks} Math-Verify checks x {args.rounds} rounds, {args.workers} workers, deadline "
                        f"{args.deadline:g} s; hang: {len(hang)} tasks ({args.stuck} stuck for "
                        f"{10 * args.deadline:g} s); crash: {len(crash)} tasks (2 crash)")
    for column in ("pool", "start s", "clean right", "median s/round", "checks/s", "time vs darl (paired)",
                   "no-op tasks/s",
                   "hang: outcomes / pool free s", "hang right", "crash right", "8 checks after crash",
                   "script without main guard"):
        table.add_column(column, justify="right")
    for name in pools:
        table.add_row(name, f"{start_s[name]:.1f}", f"{clean_right[name]}/{len(clean) * args.rounds}",
                      f"{median[name]:.2f}", f"{len(clean) / median[name]:.0f}", f"{paired[name]:.2f}x",
                      rows[name]["noop"], rows[name]["hang"], rows[name]["hang right"], rows[name]["crash right"],
                      rows[name]["after crash"], rows[name]["unguarded"])
    console.print(table)


if __name__ == "__main__":
    main()
