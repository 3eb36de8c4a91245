"""Does a short GRPO run through TRL raise the embedded small model's held-out accuracy on moderate problems?

Trains the policy with darl's trainer (one stage, no validation-driven end) on `--per-level` fresh math problems of
each suite generator level in `--levels` (1 and 2 by default: problems the small model half-solves), then samples
the held-out math problems of suite levels 1-4 before and after (K = 4, T = 0.6, top_p 1.0 as the family check
samples) and prints Pass@1 per level. The generator levels stand in for the paper's levels so the run needs no
scoring.

    python bench/short_grpo.py --out /tmp/short-grpo --steps 40 --prompts 32 --lr 3e-4 --warmup 10
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--model", default=None, help="policy checkpoint (default: the embedded family's small role)")
    parser.add_argument("--levels", default="1,2")
    parser.add_argument("--per-level", type=int, default=150)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import pyarrow as pa
    import pyarrow.parquet as pq
    import torch

    from darl.embedded.bootstrap import bootstrap
    from darl.embedded.calibrate import pass_rates
    from darl.embedded.suite import embedded_suite, make_problem
    from darl.training.recipe import Recipe
    from darl.training.stages import run_recipe
    from darl.verifiers import Verifier

    torch.set_num_threads(args.threads)
    model = args.model or str(bootstrap("default").path("small"))
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for level in (int(x) for x in args.levels.split(",")):
        for i in range(args.per_level):  # seeds 500,000+: disjoint from the suite splits and the warm start
            problem, _ = make_problem("math", level, 500_000 + 1000 * level + i, f"grpo-L{level}-{i}", "bench")
            rows.append({**problem.to_row(), "levels": [2]})
    levels_path = os.path.join(args.out, "levels.parquet")
    pq.write_table(pa.Table.from_pylist(rows), levels_path)
    recipe = Recipe.model_validate({
        "name": "short-grpo", "model": model, "seed": 0,
        "defaults": {"learning_rate": args.lr, "lr_scheduler_type": "constant_with_warmup",
                     "warmup_steps": args.warmup, "num_generations": args.generations,
                     "prompts_per_step": args.prompts, "kl_coef": 0.001, "entropy_coef": 0.0, "loss_type": "dapo",
                     "temperature": 1.0, "max_completion_length": 64},
        "validation": {"per_component": 4, "batch_size": 8},
        "save_every_steps": args.steps,
        "stages": [{"name": "moderate", "mix": [{"domain": "math", "level": 2}], "end": {"max_steps": args.steps}}],
    })
    start = time.perf_counter()
    result = run_recipe(recipe, levels_path, os.path.join(args.out, "run"))
    print(f"trained {args.steps} steps in {time.perf_counter() - start:.0f} s")
    final = result.stages[-1].manifest["final_checkpoint"]
    heldout = [p for p in embedded_suite("default", "heldout", domains=("math",)) if p.metadata["level"] <= 4]
    with Verifier() as verifier:
        for label, path in (("before", model), ("after", final)):
            rates = pass_rates(path, heldout, verifier, k=4, temperature=0.6, max_new_tokens=96)
            by_level: dict[int, list[float]] = {}
            for problem, rate in zip(heldout, rates):
                by_level.setdefault(problem.metadata["level"], []).append(rate)
            per_level = "  ".join(f"L{lv} {sum(v) / len(v):.3f}" for lv, v in sorted(by_level.items()))
            print(f"{label:6s} Pass@1 {sum(rates) / len(rates):.3f} over {len(rates)} held-out problems   {per_level}")


if __name__ == "__main__":
    main()
