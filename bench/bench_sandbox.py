"""Programs per second through the code verifier with isolation on, side by side with a bare subprocess.

Both rows run the same harness on the same jobs (HumanEval's 164 canonical solutions, each with its `check`), with
the same number of worker slots; only the isolation differs: `bwrap` (bubblewrap namespaces, read-only file system,
private tmpfs, a uid per slot when root) against `none` (the harness as a plain subprocess of this process, no
namespaces, no uid switch). Rounds alternate between the two so that load from other processes on the machine
hits both alike; the table reports the median round of each and the ratio. Target: isolation costs at most 1.3x.

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
    verifiers = {"none": CodeVerifier(args.workers, isolation="none"),
                 args.isolation: CodeVerifier(args.workers, isolation=args.isolation)}
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
    for column in ("isolation", "passed", "median s/round", "programs/s", "slowdown"):
        table.add_column(column, justify="right")
    base = statistics.median(seconds["none"])
    for name, values in seconds.items():
        median = statistics.median(values)
        table.add_row(name, f"{passed[name]}/{len(problems)}", f"{median:.2f}", f"{len(problems) / median:.1f}",
                      f"{median / base:.2f}x")
    console.print(table)
    ratio = statistics.median(seconds[args.isolation]) / base
    console.print(f"isolation cost ({args.isolation} / none): {ratio:.2f}x (target <= 1.30x)")


if __name__ == "__main__":
    main()
