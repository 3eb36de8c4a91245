"""Programs per second through the code verifier with isolation on, side by side with a bare subprocess.

Every row runs the same harness on the same jobs (HumanEval's 164 canonical solutions, each with its `check`), with
the same number of worker slots; rows differ in isolation, `bwrap` (bubblewrap namespaces, read-only file system,
private tmpfs, a uid per slot when root) or `none` (the harness as a plain subprocess of this process, no
namespaces, no uid switch), and in whether a sandbox process is started per program (`fresh`, jobs_per_sandbox=1)
or serves many programs (`reused`, darl's default; every test still runs in a fresh forked process).
Rounds alternate between the rows so that load from other processes on the machine hits all alike; the table
reports each row's median round. Ratios: isolation cost like for like (bwrap/none, fresh and reused), and darl's
default (bwrap, reused) against a bare subprocess per program. Target: isolation costs at most 1.3x.

    .venv/bin/python bench/bench_sandbox.py --workers 2 --rounds 3
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from darl.data.loaders import load_problems  # noqa: E402
from darl.verifiers.code import CodeVerifier  # noqa: E402

HUMANEVAL = ROOT / "darl/benchmarks/data/humaneval/HumanEval.jsonl.gz"


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
    console = Console()
    iso = args.isolation
    verifiers = {f"none, fresh": CodeVerifier(args.workers, isolation="none", jobs_per_sandbox=1),
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


if __name__ == "__main__":
    main()
