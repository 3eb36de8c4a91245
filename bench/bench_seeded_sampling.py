"""Per-conversation seeded sampling (`SamplingParams.seeds`, what `darl score` uses) against the global-RNG sampling
of one `generate` call, side by side in one run, on the embedded family's small model.

Why: with `seeds`, each row draws its tokens from its own generator (`darl.generation.transformers_backend.
RowSampler`), so a problem's samples do not depend on the batch it lands in. This prints what that costs in
throughput, next to the other way to the same guarantee (generating each problem alone, K rows per call), and
checks that two batchings give the same texts (whole call at batch_size 64 vs. each problem alone at batch_size 7).
Modes alternate to cancel drift on a shared machine.

    .venv/bin/python bench/bench_seeded_sampling.py [--problems 16] [--k 4] [--max-new-tokens 128] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from rich.console import Console
from rich.table import Table

from darl.embedded.bootstrap import bootstrap
from darl.generation.base import SamplingParams
from darl.generation.transformers_backend import TransformersGenerator
from darl.prompting import chat_messages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    family = bootstrap("default", show_progress=False)
    problems = family.problems("train")[: args.problems]
    conversations = [chat_messages(p) for p in problems]
    seeds = tuple(1000 + i for i in range(len(problems)))
    common = dict(n=args.k, temperature=0.6, top_p=0.95, max_new_tokens=args.max_new_tokens)
    wide = TransformersGenerator(str(family.path("small")), batch_size=64)
    narrow = TransformersGenerator(str(family.path("small")), batch_size=7)
    wide.generate(conversations[:2], SamplingParams(**common, seed=0))  # warm-up

    def timed(fn):
        start = time.monotonic()
        out = fn()
        return out, time.monotonic() - start

    times: dict[str, list[float]] = {"global RNG (seed)": [], "per-row seeds": [], "each problem alone": []}
    tokens: dict[str, int] = {}
    per_row = None
    for _ in range(args.reps):
        out, t = timed(lambda: wide.generate(conversations, SamplingParams(**common, seed=1)))
        times["global RNG (seed)"].append(t)
        tokens["global RNG (seed)"] = sum(c.num_tokens for cs in out for c in cs)
        per_row, t = timed(lambda: wide.generate(conversations, SamplingParams(**common, seeds=seeds)))
        times["per-row seeds"].append(t)
        tokens["per-row seeds"] = sum(c.num_tokens for cs in per_row for c in cs)
        out, t = timed(lambda: [wide.generate([c], SamplingParams(**common, seeds=(s,)))[0]
                                for c, s in zip(conversations, seeds)])
        times["each problem alone"].append(t)
        tokens["each problem alone"] = sum(c.num_tokens for cs in out for c in cs)
    alone = [narrow.generate([c], SamplingParams(**common, seeds=(s,)))[0] for c, s in zip(conversations, seeds)]
    same = sum(a.text == b.text for xs, ys in zip(per_row, alone) for a, b in zip(xs, ys))
    table = Table(title=f"{len(problems)} problems x {args.k} samples, <= {args.max_new_tokens} new tokens, "
                        f"batch_size 64, {args.threads} thread(s), median of {args.reps}")
    for column in ("mode", "seconds", "tokens/s", "ratio to global RNG"):
        table.add_column(column)
    base = statistics.median(times["global RNG (seed)"])
    for mode, values in times.items():
        median = statistics.median(values)
        table.add_row(mode, f"{median:.2f}", f"{tokens[mode] / median:,.0f}", f"{median / base:.2f}")
    console = Console()
    console.print(table)
    console.print(f"per-row seeds, whole call at batch_size 64 vs each problem alone at batch_size 7: "
                  f"{same}/{len(problems) * args.k} samples identical")


if __name__ == "__main__":
    main()
