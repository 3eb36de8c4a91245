"""The numbers of a comparison, from the files its runs and evaluations wrote.

Per run (arm x seed): held-out Pass@1 and pass@k of the final policy, the per-problem pass rates (for pairing), the
learning curve (held-out Pass@1 against rollouts spent, proxy-scoring rollouts included for arms that use levels),
gradient yield (share of rollout groups with non-zero reward variance, from `train/zero_variance_share`), the
rollouts actually spent, why each stage ended, and training-health warnings.

Per arm: mean over seeds with a 95% t-interval across seeds (the seed-to-seed spread is what "reliably" is about;
with 3 seeds the t quantile is 4.3, so the interval is wide unless seeds agree).

Against the starting policy and the baseline arm, paired by seed and problem: for seed s, d_s = mean over problems of (rate of the arm at s -
rate of the baseline at s). Reported: mean of d_s with its t-interval across seeds, and the problem-level interval
of the per-problem differences averaged over seeds (pairing by problem removes problem difficulty from the error; it
does not include the seed spread, so the seed interval is the one the verdict uses when there are >= 2 seeds).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from darl.artifacts.evaluations import SAMPLES_FILE
from darl.comparison.arms import ArmPlan
from darl.comparison.runner import BENCHMARK, HELDOUT_FILE, curve_points, eval_dir, run_dir
from darl.comparison.spec import ComparisonSpec
from darl.records import Problem


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float | None, float | None]:
    """(mean, low, high) of the mean of `values` with Student's t; low/high None for fewer than 2 values."""
    from scipy.stats import t

    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def normal_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float | None, float | None]:
    from statistics import NormalDist

    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None, None
    se = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return mean, mean - z * se, mean + z * se


@dataclass
class RunResult:
    arm: str
    seed: int
    trained: bool
    final: dict[str, float] | None = None  # pass@1, pass@<k>
    rates: dict[str, float] | None = None  # problem id -> pass rate of the final policy
    curve: list[dict[str, float]] = field(default_factory=list)  # step, rollouts, pass@1, pass@<k>
    gradient_yield: float | None = None
    zero_variance_share: float | None = None
    zero_variance_max: float | None = None
    rollouts_spent: int | None = None
    budget: int = 0
    scoring_rollouts: int = 0
    stages: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    reward_start: float | None = None
    reward_end: float | None = None


def read_eval(path: Path, heldout: Sequence[Problem] = ()) -> tuple[dict[str, float], dict[str, float]] | None:
    """(pass@1, pass@k and maj@n, per-problem pass rates) of a complete held-out evaluation; None when absent. An
    evaluation written before darl eval reported maj@n gets it from its samples.jsonl (needs the `heldout`
    problems)."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if not data.get("complete"):
        return None
    bench = data["benchmarks"][BENCHMARK]
    numbers = {"pass@1": bench["pass@1"]["mean"], **{f"pass@{k}": v for k, v in bench["pass@k"].items() if k != "1"}}
    numbers.update({k: v for k, v in bench.items() if k.startswith("maj@") and v is not None})
    samples = path.parent / SAMPLES_FILE
    if heldout and not any(k.startswith("maj@") for k in bench) and samples.exists():
        from darl.artifacts.evaluations import load_samples
        from darl.evaluation.evaluate import majority_at_n

        done = load_samples(samples)
        graded = {p.id: [s for s in done.get((BENCHMARK, p.id), []) if s.get("score") is not None] for p in heldout}
        majority = majority_at_n(heldout, graded, bool(data.get("settings", {}).get("thinking")))
        if majority is not None:
            numbers[f"maj@{bench['n']}"] = majority
    rates = {pid: c["passes"] / c["n"] for pid, c in bench["per_problem"].items()}
    return numbers, rates


def collect_run(spec: ComparisonSpec, out: Path, plan: ArmPlan, start: dict[str, float] | None,
                heldout: Sequence[Problem] = ()) -> RunResult:
    from darl.comparison.runner import is_trained
    from darl.training.health import check_health
    from darl.training.metrics import read_jsonl

    folder = run_dir(out, plan.arm, plan.seed)
    result = RunResult(plan.arm, plan.seed, is_trained(folder, plan), budget=plan.training_budget,
                       scoring_rollouts=plan.scoring_rollouts)
    if not result.trained:
        return result
    records = [r for r in read_jsonl(folder / "metrics.jsonl") if "train/zero_variance_share" in r]
    if records:
        zv = [float(r["train/zero_variance_share"]) for r in records]
        result.zero_variance_share = sum(zv) / len(zv)
        result.zero_variance_max = max(zv)
        result.gradient_yield = 1 - result.zero_variance_share
        rewards = [float(r["train/reward"]) for r in records if isinstance(r.get("train/reward"), (int, float))]
        if rewards:
            head = rewards[:3]
            tail = rewards[-3:]
            result.reward_start, result.reward_end = sum(head) / len(head), sum(tail) / len(tail)
    spent = 0
    for i, (stage, per_step) in enumerate(zip(plan.recipe.stages, plan.rollouts_per_step)):
        from darl.training.stages import stage_dir

        manifest = json.loads((stage_dir(folder, i + 1, stage.name) / "manifest.json").read_text())
        spent += manifest["end_step"] * per_step
        result.stages.append({"name": stage.name, "steps": manifest["end_step"], "max_steps": plan.steps[i],
                              "ended_because": manifest["ended_because"]})
    result.rollouts_spent = spent
    base_x = plan.scoring_rollouts
    if start is not None:
        result.curve.append({"step": 0, "rollouts": base_x, **start})
    for point in curve_points(out, plan, spec.eval.curve_every_steps):
        got = read_eval(eval_dir(out, plan.arm, plan.seed, point.step) / "eval.json", heldout)
        if got is not None:
            result.curve.append({"step": point.step, "rollouts": base_x + point.rollouts, **got[0]})
            result.final, result.rates = got  # points are in step order: the last one is the final policy
    heldout = [(int(c["step"]), c["pass@1"]) for c in result.curve]
    result.health = [w.to_dict() for w in check_health(read_jsonl(folder / "metrics.jsonl"), heldout or None)]
    return result


def summarize(spec: ComparisonSpec, out: Path, all_plans: Sequence[ArmPlan]) -> dict[str, Any]:
    """Everything the report shows, as one JSON-ready mapping."""
    out = Path(out)
    heldout = _heldout(out / HELDOUT_FILE)
    start_eval = read_eval(out / "eval" / "start" / "eval.json", heldout)
    start = start_eval[0] if start_eval else None
    runs = [collect_run(spec, out, p, start, heldout) for p in all_plans]
    metric_names = ["pass@1"] + [f"pass@{k}" for k in spec.eval.ks if k != 1]
    if start is not None and f"maj@{spec.eval.samples}" in start:
        metric_names.append(f"maj@{spec.eval.samples}")
    arms: dict[str, Any] = {}
    for arm in spec.arms:
        mine = [r for r in runs if r.arm == arm.name and r.final is not None]
        entry: dict[str, Any] = {"seeds_done": [r.seed for r in mine], "seeds_planned": list(spec.seeds)}
        for metric in metric_names:
            values = [r.final[metric] for r in mine if metric in r.final]
            if values:
                mean, lo, hi = t_interval(values)
                entry[metric] = {"mean": mean, "low": lo, "high": hi, "per_seed": values}
        for key in ("gradient_yield", "zero_variance_share", "zero_variance_max", "rollouts_spent"):
            values = [getattr(r, key) for r in mine if getattr(r, key) is not None]
            entry[key] = sum(values) / len(values) if values else None
        if start is not None and mine:
            gains = [r.final["pass@1"] - start["pass@1"] for r in mine]
            mean, lo, hi = t_interval(gains)
            problems = sorted(start_eval[1])
            per_problem = [sum(r.rates[p] for r in mine) / len(mine) - start_eval[1][p] for p in problems]
            _, plo, phi = normal_interval(per_problem)
            entry["gain_vs_start"] = {"mean": mean, "low": lo, "high": hi, "per_seed": gains, "problem_low": plo,
                                      "problem_high": phi}
        arms[arm.name] = entry
    base = {r.seed: r for r in runs if r.arm == spec.baseline and r.rates is not None}
    paired: dict[str, Any] = {}
    for arm in spec.arms:
        if arm.name == spec.baseline:
            continue
        mine = {r.seed: r for r in runs if r.arm == arm.name and r.rates is not None}
        seeds = sorted(set(mine) & set(base))
        if not seeds:
            continue
        problems = sorted(set.intersection(*(set(mine[s].rates) & set(base[s].rates) for s in seeds)))
        per_seed = [sum(mine[s].rates[p] - base[s].rates[p] for p in problems) / len(problems) for s in seeds]
        per_problem = [sum(mine[s].rates[p] - base[s].rates[p] for s in seeds) / len(seeds) for p in problems]
        mean, lo, hi = t_interval(per_seed)
        _, plo, phi = normal_interval(per_problem)
        paired[arm.name] = {"seeds": seeds, "problems": len(problems), "mean": mean, "low": lo, "high": hi,
                            "per_seed": per_seed, "problem_low": plo, "problem_high": phi,
                            "verdict": verdict(lo, hi) if len(seeds) >= 2 else verdict(plo, phi)}
    return {"name": spec.name, "baseline": spec.baseline, "start": start, "metrics": metric_names,
            "heldout_problems": _count_rows(out / HELDOUT_FILE),
            "breakdown": breakdown(heldout_groups(heldout), runs, start_eval[1] if start_eval else None,
                                   [a.name for a in spec.arms]),
            "budget": spec.budget.model_dump(), "eval": spec.eval.model_dump(), "arms": arms, "paired": paired,
            "runs": [r.__dict__ for r in runs]}


def _heldout(path: Path) -> list[Problem]:
    from darl.artifacts.problems import read_problems

    return read_problems(path) if path.exists() else []


def heldout_groups(problems: Sequence[Problem]) -> dict[str, dict[str, str]]:
    """How the held-out set splits: {"domain": {problem id: domain}} when it holds more than one domain, and
    {"level": {problem id: level}} when every problem carries a generator level (`metadata.level`, as the embedded
    suite's do) and there is more than one. An average over a whole held-out set can hide a domain or a level that
    got worse (a mixed recipe that trades code for math; a stage that forgets the easiest problems)."""
    groups: dict[str, dict[str, str]] = {}
    domains = {p.id: p.domain for p in problems}
    if len(set(domains.values())) > 1:
        groups["domain"] = domains
    levels = {p.id: p.metadata.get("level") for p in problems}
    if all(v is not None for v in levels.values()) and len(set(levels.values())) > 1:
        groups["level"] = {pid: f"{domains[pid]} L{v}" if "domain" in groups else f"L{v}" for pid, v in levels.items()}
    return groups


def breakdown(groups: dict[str, dict[str, str]], runs: Sequence[RunResult], start_rates: dict[str, float] | None,
              arm_names: Sequence[str]) -> dict[str, Any]:
    """Per grouping (domain, level) and group: its problem count, the start's Pass@1, and per arm the final Pass@1
    with its t-interval across seeds and the gain over the start (per seed: group mean of the seed's rates minus the
    start's; t-interval across seeds)."""
    result: dict[str, Any] = {}
    for kind, of in groups.items():
        result[kind] = {}
        for group in sorted(set(of.values())):
            ids = [pid for pid, g in of.items() if g == group]
            entry: dict[str, Any] = {"problems": len(ids), "arms": {}}
            start = None
            if start_rates is not None and all(pid in start_rates for pid in ids):
                start = sum(start_rates[pid] for pid in ids) / len(ids)
            entry["start"] = start
            for arm in arm_names:
                finals = [sum(r.rates[pid] for pid in ids) / len(ids) for r in runs
                          if r.arm == arm and r.rates is not None and all(pid in r.rates for pid in ids)]
                if not finals:
                    continue
                mean, low, high = t_interval(finals)
                arm_entry: dict[str, Any] = {"mean": mean, "low": low, "high": high, "per_seed": finals,
                                             "seeds": len(finals)}
                if start is not None:
                    gain, glow, ghigh = t_interval([f - start for f in finals])
                    arm_entry["gain"] = {"mean": gain, "low": glow, "high": ghigh, "seeds": len(finals)}
                entry["arms"][arm] = arm_entry
            result[kind][group] = entry
    return result


def _count_rows(path: Path) -> int | None:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows if path.exists() else None


def verdict(low: float | None, high: float | None) -> str:
    """'better' / 'worse' when the interval excludes 0, else 'within noise' (None bounds: 'no interval')."""
    if low is None or high is None:
        return "no interval"
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "within noise"
