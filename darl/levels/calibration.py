"""Numbers for the calibration report: how many problems each level got, how the proxies agree, and (when the
policy was scored too) how well each proxy predicts the policy's own pass rate, the paper's open question.

Every number has a namespaced key (`levels/...`, documented in docs/metrics.md) in `Calibration.metrics`.
Correlations are Spearman rank correlations over all scored problems (dropped ones included: the drop rule is
itself a difficulty judgement); None where a model's pass rates are constant (undefined correlation).

Given the scores rows, it also records each model's truncation rate and a warning for every model cut off at its
token limit in at least `darl.artifacts.scores.HIGH_TRUNCATION_RATE` of its responses (pass rates of cut-off responses
are too low, so levels built on them are wrong); the report shows those warnings first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from darl.levels.assign import LevelAssignment
from darl.artifacts.scores import truncation_rates, truncation_warnings
from darl.stats import pearson, spearman  # noqa: F401 (shared with the run report)

BINS = ("never", "sometimes", "always")


@dataclass
class Calibration:
    level_names: list[str]
    domains: list[str]
    counts: dict[str, dict[str, int]]            # level name (or 'any level', 'no level', 'dropped') -> domain -> n
    overlap: list[list[int]]                     # level x level: problems in both
    models: list[str]
    rates: dict[str, list[float]]                # model -> pass rates over all problems (same order for every model)
    spearman: dict[tuple[str, str], float | None]
    bin_confusion: dict[tuple[str, str], list[list[int]]]   # (role a, role b) -> 3x3 never/sometimes/always
    policy: str | None
    policy_fit: dict[str, dict[str, float | None]] = field(default_factory=dict)   # proxy -> stats
    policy_by_level: dict[str, dict[str, float | None]] = field(default_factory=dict)  # level -> domain -> mean
    metrics: dict[str, float | int | None] = field(default_factory=dict)
    truncation: dict[str, float] = field(default_factory=dict)  # model -> share of responses cut at the limit
    warnings: list[str] = field(default_factory=list)  # shown first in the report


def _bin(p: float, never: float, always: float) -> int:
    return 0 if p <= never else 2 if p >= always else 1


def auroc(scores: list[float], labels: list[bool]) -> float | None:
    """Probability that a random problem the policy solves (label True) has a higher proxy pass rate than one it
    does not (ties count half); None when either class is empty."""
    from scipy.stats import rankdata

    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return None
    ranks = rankdata(scores)
    rank_sum = sum(r for r, y in zip(ranks, labels) if y)
    return float((rank_sum - pos * (pos + 1) / 2) / (pos * neg))


def calibrate(assignment: LevelAssignment, score_rows: Sequence[dict[str, Any]] = ()) -> Calibration:
    """The report's numbers for `assignment`; `score_rows` (the scores table it came from) adds truncation rates
    and warnings."""
    config = assignment.config
    names = list(assignment.level_names)
    everything = [(k.problem_id, k.domain, k.pass_rates) for k in assignment.kept] + [
        (d.problem_id, d.domain, d.pass_rates) for d in assignment.dropped]
    domains = sorted({d for _, d, _ in everything})
    counts: dict[str, dict[str, int]] = {}
    for number, name in enumerate(names, start=1):
        counts[name] = {d: sum(1 for k in assignment.kept if k.domain == d and number in k.levels) for d in domains}
    counts["any level"] = {d: sum(1 for k in assignment.kept if k.domain == d and k.levels) for d in domains}
    counts["no level"] = {d: sum(1 for k in assignment.kept if k.domain == d and not k.levels) for d in domains}
    counts["dropped"] = {d: sum(1 for x in assignment.dropped if x.domain == d) for d in domains}
    overlap = [[sum(1 for k in assignment.kept if i in k.levels and j in k.levels) for j in range(1, len(names) + 1)]
               for i in range(1, len(names) + 1)]
    models = list(assignment.models)
    rates = {m: [r[m] for _, _, r in everything] for m in models}
    corr = {(a, b): spearman(rates[a], rates[b]) for a in models for b in models}
    never, always = config.constants.get("never", 0.0), config.constants.get("always", 1.0)
    role_models = [(role, model) for role, model in config.roles.items()]
    confusion = {}
    for i, (ra, ma) in enumerate(role_models):
        for rb, mb in role_models[i + 1:]:
            grid = [[0] * 3 for _ in range(3)]
            for x, y in zip(rates[ma], rates[mb]):
                grid[_bin(x, never, always)][_bin(y, never, always)] += 1
            confusion[(ra, rb)] = grid
    cal = Calibration(names, domains, counts, overlap, models, rates, corr, confusion, config.policy)
    cal.truncation = {m: r for m, r in truncation_rates(score_rows).items() if m in models}
    cal.warnings = truncation_warnings([r for r in score_rows if r["model"] in models])
    if config.policy is not None:
        target = rates[config.policy]
        solved = [t > 0 for t in target]
        for m in models:
            if m == config.policy:
                continue
            cal.policy_fit[m] = {
                "spearman": spearman(rates[m], target), "pearson": pearson(rates[m], target),
                "mae": sum(abs(x - y) for x, y in zip(rates[m], target)) / len(target),
                "auroc_solved": auroc(rates[m], solved),
            }
        for number, name in enumerate(names, start=1):
            cal.policy_by_level[name] = {}
            for d in domains + ["all"]:
                values = [k.pass_rates[config.policy] for k in assignment.kept
                          if number in k.levels and (d == "all" or k.domain == d)]
                cal.policy_by_level[name][d] = sum(values) / len(values) if values else None
    cal.metrics = _metrics(cal, config.roles)
    return cal


def _metrics(cal: Calibration, roles: dict[str, str]) -> dict[str, float | int | None]:
    out: dict[str, float | int | None] = {}
    for name, by_domain in cal.counts.items():
        key = name.replace(" ", "_")
        for d, n in by_domain.items():
            out[f"levels/count/{key}/{d}"] = n
        out[f"levels/count/{key}/all"] = sum(by_domain.values())
    for (a, b), value in cal.spearman.items():
        if a < b:
            out[f"levels/agreement/spearman/{a}/{b}"] = value
    for m in cal.models:
        values = cal.rates[m]
        out[f"levels/model/{m}/mean_pass_rate"] = sum(values) / len(values) if values else None
        if m in cal.truncation:
            out[f"levels/model/{m}/truncation_rate"] = cal.truncation[m]
    for m, stats in cal.policy_fit.items():
        for stat, value in stats.items():
            out[f"levels/policy_fit/{m}/{stat}"] = value
    for name, by_domain in cal.policy_by_level.items():
        for d, value in by_domain.items():
            out[f"levels/policy_pass_rate/{name}/{d}"] = value
    return out
