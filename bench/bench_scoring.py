"""Scoring throughput against raw generation of the same responses, side by side in one run.

`darl score` overlaps verification with generation (a verifier thread checks batch i while batch i+1 generates),
so its throughput should be close to generation alone; the target is >= 0.85 of raw.

Three timings of the same responses: raw generation, scoring, and verification alone (to show which side
bounds the run: with overlap, scoring runs at the slower of the two). Both generating modes use the same loaded model, the same problems, batches and seeds (so the same responses):
- raw: `generator.generate(batch)` for every batch, nothing else;
- scoring: `run_shard` (generation + Math-Verify / sandbox verification + Parquet commits with fsync) into a
  fresh folder.
The verifier's worker pools are started and warmed before timing (a scoring run pays that once; it is printed
separately). Modes alternate (raw, scoring, scoring, raw, ...) to cancel drift on a shared machine.

    .venv/bin/python bench/bench_scoring.py --model ~/.cache/darl/embedded/<key>/roles/small --suite quick
    .venv/bin/python bench/bench_scoring.py --embedded      # the embedded family's small model (builds it once)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from darl.data.io import write_problems
from darl.generation.transformers_backend import TransformersGenerator
from darl.prompting import chat_messages
from darl.scoring import ModelSpec, ScoreJob, run_shard
from darl.scoring.runner import problem_seed, verify_unique
from darl.scoring.verify_process import ProcessVerifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (default: --embedded, else a tiny random Qwen2)")
    parser.add_argument("--embedded", action="store_true", help="use the embedded family's small model")
    parser.add_argument("--suite", default="quick", help="embedded suite whose train split is scored")
    parser.add_argument("--problems", type=int, default=48, help="how many problems (math and code alternate)")
    parser.add_argument("-k", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--batch-problems", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from darl.embedded.suite import embedded_suite

    suite = embedded_suite(args.suite, "train")
    math = [p for p in suite if p.domain == "math"]
    code = [p for p in suite if p.domain == "code"]
    problems = [p for pair in zip(math, code) for p in pair][: args.problems]
    work = Path(tempfile.mkdtemp(prefix="darl-bench-scoring-"))
    problems_path = write_problems(problems, work / "problems.parquet")
    model_path = args.model
    if model_path is None and args.embedded:
        from darl.embedded.bootstrap import bootstrap

        model_path = str(bootstrap("default").path("small"))
    if model_path is None:
        from darl.generation.tiny_random import save_tiny_model

        model_path = str(save_tiny_model(work / "tiny"))
        print("note: tiny random model; its responses have no answers, so verification is nearly free")
    generator = TransformersGenerator(model_path, batch_size=args.batch_size, name="bench")
    job = ScoreJob(str(problems_path), (ModelSpec("bench", model_path),), k=args.k,
                   max_new_tokens=args.max_new_tokens, batch_problems=args.batch_problems)

    warm_seconds: list[float] = []

    def fresh_verifier() -> ProcessVerifier:
        """A new verifier per timed run (the math verifier caches verdicts, which would favour later runs),
        its pools started and warmed on unrelated inputs before the clock starts."""
        v = ProcessVerifier()  # what `darl score` uses
        start = time.monotonic()
        v.verify_batch(problems[:2], ["\\boxed{1}", "```python\nprint(1)\n```"])
        warm_seconds.append(time.monotonic() - start)
        return v

    batches = [problems[i:i + job.batch_problems] for i in range(0, len(problems), job.batch_problems)]
    responses: list = []

    def raw() -> tuple[int, float]:
        start = time.monotonic()
        responses.clear()
        for batch in batches:
            seeds = tuple(problem_seed(job.seed, "bench", p.id) for p in batch)  # as the runner seeds them
            out = generator.generate([chat_messages(p) for p in batch], job.sampling(seeds))
            responses.append(out)
        return sum(len(c) for out in responses for c in out), time.monotonic() - start

    def verify_alone() -> tuple[int, float]:
        with fresh_verifier() as verifier:
            start = time.monotonic()
            n = 0
            for batch, out in zip(batches, responses):
                n += len(verify_unique(verifier, batch, out))
            return n, time.monotonic() - start

    def scoring(run: int) -> tuple[int, float]:
        with fresh_verifier() as verifier:
            start = time.monotonic()
            result = run_shard(job, work / f"scores-{run}", make_generator=lambda spec: generator, verifier=verifier)
            assert result.complete
            return result.samples_new, time.monotonic() - start

    raw()  # warm-up: first-call allocations and kernel choices
    timings: dict[str, list[tuple[int, float]]] = {"raw generation": [], "scoring (generate + verify)": [],
                                                   "verification alone": []}
    for r in range(args.repeats):
        order = ("raw", "score") if r % 2 == 0 else ("score", "raw")
        for mode in order:
            if mode == "raw":
                timings["raw generation"].append(raw())
                timings["verification alone"].append(verify_alone())
            else:
                timings["scoring (generate + verify)"].append(scoring(r))

    from darl.scoring.table import read_scores
    from darl.scoring.merge import merge_shards

    rows = read_scores(merge_shards(work / "scores-0"))
    table = Table(title=f"{len(problems)} problems x k={args.k}, max_new_tokens={args.max_new_tokens}, "
                        f"model {model_path}")
    for column in ("mode", "responses", "median seconds", "responses/s", "ratio to raw generation"):
        table.add_column(column, justify="right" if column != "mode" else "left")
    rates = {}
    for mode, runs in timings.items():
        n = runs[0][0]
        seconds = statistics.median(s for _, s in runs)
        rates[mode] = n / seconds
    for mode, runs in timings.items():
        seconds = statistics.median(s for _, s in runs)
        table.add_row(mode, str(runs[0][0]), f"{seconds:.2f}", f"{rates[mode]:.2f}",
                      f"{rates[mode] / rates['raw generation']:.3f}")
    console = Console()
    console.print(table)
    bound = min(rates["raw generation"], rates["verification alone"])
    console.print(f"scoring / min(generation, verification) = {rates['scoring (generate + verify)'] / bound:.3f} "
                  f"(1.0 = perfect overlap; {'generation' if bound == rates['raw generation'] else 'verification'}"
                  f" is the slower side here)")
    passed = sum(r["passes"] for r in rows)
    console.print(f"verifier start + warm-up (once per run, not timed above): {statistics.median(warm_seconds):.2f} s; "
                  f"{passed} of {sum(r['k'] for r in rows)} responses passed; "
                  f"all runs: { {m: [round(s, 2) for _, s in v] for m, v in timings.items()} }")


if __name__ == "__main__":
    main()
