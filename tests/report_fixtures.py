"""A hand-made run directory for the report tests: the files darl train, score, levels and eval write."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path


def _eval(model: str, rates: dict[str, list[int]], n: int, role: str | None = None) -> dict:
    benchmarks = {}
    for name, passes in rates.items():
        per = [c / n for c in passes]
        mean = sum(per) / len(per)
        se = math.sqrt(sum((r - mean) ** 2 for r in per) / (len(per) - 1) / len(per))
        benchmarks[name] = {
            "problems": len(passes), "n": n, "samples": n * len(passes),
            "pass@1": {"mean": mean, "stderr": se, "sampling_stderr": None, "problems": len(passes)},
            "pass@k": {"1": mean}, "mean_score": mean, "truncation_rate": 0.05, "mean_response_tokens": 80.0,
            "breakdowns": {"level": {"1": {"mean": mean, "stderr": se, "sampling_stderr": None, "problems": 10},
                                     "2": {"mean": mean / 2, "stderr": se, "sampling_stderr": None, "problems": 10}}},
            "per_problem": {f"{name}/{i}": {"n": n, "passes": c} for i, c in enumerate(passes)},
        }
    return {"format": "darl-eval/1", "model": model, "complete": True, "extra": {"role": role} if role else {},
            "settings": {"temperature": 0.6, "top_p": 0.95, "max_new_tokens": 256, "seed": 0,
                         "samples": {k: n for k in rates}}, "benchmarks": benchmarks}


def make_run(root: Path, *, metrics: bool = True, manifests: bool = True, levels: bool = True, evals: bool = True,
             online: bool = True, heldout: bool = True) -> Path:
    """A two-stage run with per-stage step counters restarting at 1, as darl train logs them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(0)
    root.mkdir(parents=True, exist_ok=True)
    stages = (("level2", 30, 0.45, "plateau: no improvement over the last 3 validations (p=0.41 > alpha=0.1)"),
              ("level3", 20, 0.25, "reached end.max_steps = 20"))
    if metrics:
        lines = []
        offset = 0
        for stage_index, (name, steps, base, _) in enumerate(stages, start=1):
            for step in range(1, steps + 1):
                reward = base + 0.006 * step + rng.gauss(0, 0.02)
                row = {"stage/index": stage_index, "stage/name": name, "stage/step": step,
                       "train/global_step": offset + step, "train/reward": reward,
                       "train/zero_variance_share": max(0.0, 0.6 - 0.01 * step + rng.gauss(0, 0.03)),
                       f"levels/math/L{stage_index + 1}/pass_rate": reward,
                       f"levels/math/L{stage_index + 1}/zero_variance_share": 0.5,
                       "train/kl": 0.001 * step, "train/entropy": 1.2 - 0.01 * step,
                       "train/completions/mean_length": 60 + step, "train/learning_rate": 1e-6,
                       "stage/online_pass_rate_mean": reward + 0.05}
                if step % 10 == 0:
                    row["stage/val_accuracy"] = base + 0.005 * step
                lines.append(json.dumps(row))
            offset += steps
        (root / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    offset = 0
    for stage_index, (name, steps, _, reason) in enumerate(stages, start=1):
        folder = root / f"stage-{stage_index}-{name}"
        folder.mkdir(exist_ok=True)
        if manifests:
            (folder / "manifest.json").write_text(json.dumps({
                "stage": stage_index, "name": name, "status": "completed", "start_step": 0, "end_step": steps,
                "global_start_step": offset, "global_end_step": offset + steps, "ended_because": reason,
                "validation_history": [{"step": 0, "accuracy": 0.3}]}))
        if online:
            (folder / "online_difficulty.jsonl").write_text("".join(
                json.dumps({"id": f"p{i}", "passes": p, "rollouts": 16, "posterior_mean": (p + 1) / 18}) + "\n"
                for i, p in ((i, min(16, max(0, int(16 * (i % 10) / 10 + rng.randint(-2, 2))))) for i in
                             range(stage_index * 10, stage_index * 10 + 40))))
        offset += steps
    if levels:
        rows, scores = [], []
        for i in range(120):
            domain = "math" if i < 80 else "code"
            small, medium, large = rng.random() ** 2, rng.random() ** 1.2, rng.random() ** 0.6
            lv = [level for level, ok in ((1, 0 < small < 1 and i % 3), (2, i % 2), (3, i % 5 == 0)) if ok]
            rows.append({"id": f"p{i}", "domain": domain, "levels": lv})
            for model, rate in (("small", (i % 10) / 10 if i < 60 else small), ("medium", medium),
                                ("large", large)):
                scores.append({"problem_id": f"p{i}", "model": model, "domain": domain,
                               "pass_rate": round(rate * 8) / 8, "k": 8})
        pq.write_table(pa.Table.from_pylist(rows), root / "levels.parquet")
        pq.write_table(pa.Table.from_pylist(scores), root / "scores.parquet")
        (root / "calibration.json").write_text(json.dumps({"spearman": {"small~medium": 0.71, "medium~large": 0.8},
                                                           "problems": 120}))
    if heldout:
        (root / "heldout.json").write_text(json.dumps({
            "before": {"model": "tiny-small", "accuracy": 0.31, "mean_score": 0.31, "count": 96,
                       "by_domain": {"math": 0.31}},
            "after": {"model": "stage-2-level3/checkpoint-20", "accuracy": 0.42, "mean_score": 0.42, "count": 96,
                      "by_domain": {"math": 0.42}}}))
    if evals:
        for folder, model, shift, role in (("eval/before", "tiny-small", 0, "baseline"), ("eval/after", "run", 1, None)):
            path = root / folder
            path.mkdir(parents=True, exist_ok=True)
            rates = {"embedded-math": [min(4, (i % 5) + shift) for i in range(20)],
                     "embedded-code": [min(4, (i % 3) + shift * (i % 2)) for i in range(12)]}
            (path / "eval.json").write_text(json.dumps(_eval(model, rates, 4, role)))
    return root
