"""Checks per second of darl's MathVerifier against plain Math-Verify, side by side in one run.

Responses are realistic long ones: a MATH-500 solution after a few thousand characters of reasoning (LaTeX-rich
text taken from other MATH-500 solutions, boxes removed) and a `</think>`; half of them end with the right
answer, half with a wrong one of the same shape (a digit of the right answer changed; another problem's answer
where the answer has no digit); several responses per problem, as sampling produces. Both sides get the same number of worker processes:

- plain Math-Verify: `verify(parse("\\boxed{gold}"), parse(response))` on the whole response, in a
  `concurrent.futures.ProcessPoolExecutor` (its own signal timeouts work there: each task runs on a worker's
  main thread);
- darl: `MathVerifier(workers=N).verify_answers(golds, responses)`.

Both pools are warmed up (workers started, modules imported, the same warm-up expressions parsed) before timing. Prints a table and the ratio, and
how often the two agree.

    .venv/bin/python bench/bench_math_verify.py --n 400 --workers 2
"""

from __future__ import annotations

import argparse
import json
import random
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from darl.verifiers.math import MathVerifier
from darl.verifiers.math_answer import last_boxed

DATA = Path(__file__).resolve().parents[1] / "darl" / "benchmarks" / "data" / "math500" / "test.jsonl"


def plain_math_verify(item: tuple[str, str]) -> bool:
    from math_verify import parse, verify

    gold, response = item
    return bool(verify(parse("\\boxed{" + gold + "}"), parse(response)))


def _warm_plain() -> None:
    """The same warm-up darl's workers run, so that both sides are timed with warm parser caches."""
    from darl.verifiers.math_compare import _WARM_UP_PAIRS

    for gold, pred in _WARM_UP_PAIRS:
        plain_math_verify((gold, "\\boxed{" + pred + "}"))


def _ready(_: int) -> bool:
    return True


def near_miss(answer: str, salt: int) -> str | None:
    """A wrong answer of the same shape, as models get wrong: one digit of the right answer changed (which
    digit depends on `salt`); None when the answer has no digit."""
    digits = [i for i, c in enumerate(answer) if c.isdigit()]
    if not digits:
        return None
    i = digits[salt % len(digits)]
    return answer[:i] + str((int(answer[i]) + 1 + salt % 8) % 10) + answer[i + 1:]


def build_responses(n: int, pad_chars: int, seed: int, per_problem: int) -> tuple[list[str], list[str], list[bool]]:
    """(golds, responses, is_right): n responses, `per_problem` consecutive ones per problem (as sampling K
    responses per problem produces), alternating right and wrong final answers."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    golds, responses, right = [], [], []
    for i in range(n):
        row = rows[(i // per_problem) % len(rows)]
        pad = []
        while sum(map(len, pad)) < pad_chars:
            other = rows[rng.randrange(len(rows))]["solution"].replace("\\boxed", "")
            pad.append(other)
        reasoning = "<think>\n" + "\n\nWait, let me reconsider.\n\n".join(pad)[:pad_chars] + "\n</think>\n\n"
        solution = row["solution"]
        is_right = i % 2 == 0
        if not is_right:
            boxed = last_boxed(solution)
            wrong = near_miss(row["answer"], i) or rows[(i * 7 + 3) % len(rows)]["answer"]
            if boxed is not None and wrong.strip() != row["answer"].strip():
                cut = solution.rfind("\\boxed")
                solution = solution[:cut] + "\\boxed{" + wrong + "}" + solution[cut + len("\\boxed{") + len(boxed) + 1:]
            else:
                is_right = True
        golds.append(row["answer"])
        responses.append(reasoning + solution)
        right.append(is_right)
    return golds, responses, right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="responses to check")
    parser.add_argument("--workers", type=int, default=2, help="worker processes on each side")
    parser.add_argument("--pad-chars", type=int, default=4000, help="reasoning characters before </think>")
    parser.add_argument("--per-problem", type=int, default=4, help="responses sampled per problem")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    golds, responses, right = build_responses(args.n, args.pad_chars, args.seed, args.per_problem)
    mean_len = sum(map(len, responses)) / len(responses)

    with ProcessPoolExecutor(max_workers=args.workers, initializer=_warm_plain) as pool:
        list(pool.map(_ready, range(args.workers * 4)))
        start = time.perf_counter()
        plain = list(pool.map(plain_math_verify, zip(golds, responses), chunksize=4))
        plain_s = time.perf_counter() - start

    with MathVerifier(workers=args.workers) as verifier:
        verifier.start()
        start = time.perf_counter()
        ours = verifier.verify_answers(golds, responses)
        ours_s = time.perf_counter() - start

    ours_passed = [v.passed for v in ours]
    table = Table(title=f"Math verification: {args.n} responses ({args.per_problem} per MATH-500 problem, "
                        f"mean {mean_len:,.0f} chars), {args.workers} workers each")
    for col in ("verifier", "seconds", "checks/s", "passed", "agrees with intended"):
        table.add_column(col, justify="right")
    for name, seconds, passed in (("plain Math-Verify", plain_s, plain), ("darl MathVerifier", ours_s, ours_passed)):
        table.add_row(name, f"{seconds:.2f}", f"{args.n / seconds:.1f}", f"{sum(passed)}",
                      f"{sum(p == r for p, r in zip(passed, right))}/{args.n}")
    console = Console()
    console.print(table)
    agree = sum(a == b for a, b in zip(plain, ours_passed))
    console.print(f"speed-up: {plain_s / ours_s:.1f}x   (darl and plain Math-Verify agree on {agree}/{args.n})")


if __name__ == "__main__":
    main()
