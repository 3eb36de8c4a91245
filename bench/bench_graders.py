"""darl's grader against plain Math-Verify as open-r1 calls it (`darl eval --grader math-verify`), on the reference
solutions themselves: every benchmark's own worked solution (MATH-500) or boxed reference answer (AIME-24) as the
response, so a perfect grader scores 100% and every miss is the grader's. Also the time per benchmark.

    .venv/bin/python bench/bench_graders.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    from test_evaluation import gold_generator  # MATH-500: the worked solution; AIME-24: the answer in a box

    from darl.benchmarks.registry import load_benchmark
    from darl.evaluation.evaluate import EvalSettings, evaluate
    from darl.verifiers import Verifier
    from darl.verifiers.plain_math_verify import PlainMathVerifyGrader

    table = Table(title="the benchmarks' own reference solutions graded (a perfect grader: 100%)")
    for col in ("benchmark", "grader", "Pass@1 %", "ungraded (reference unparseable)", "seconds"):
        table.add_column(col, justify="right")
    for name in ("math500", "aime24"):
        benchmarks = {name: load_benchmark(name)}
        for grader_name, grader in (("darl", Verifier()), ("math-verify", PlainMathVerifyGrader())):
            with grader, tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                evaluate(gold_generator(benchmarks), benchmarks, folder, EvalSettings(samples=1), verifier=grader)
                bench = json.loads((Path(folder) / "eval.json").read_text())["benchmarks"][name]
                table.add_row(name, grader_name, f"{100 * bench['pass@1']['mean']:.1f}",
                              str(bench["ungraded_samples"]), f"{time.perf_counter() - start:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
