"""Compare an evaluation against a baseline (typically the starting policy): per benchmark, the difference in Pass@1
with a confidence interval.

Where both evaluations graded the same problems the comparison is paired: d_i = p_i(new) - p_i(base) per shared
problem, the difference is mean(d) and its standard error std(d) / sqrt(m). Pairing removes the spread of problem
difficulty from the error, which is most of it, so a real gain shows up with far fewer problems than two
independent error bars suggest. The interval is the normal approximation mean(d) +- z * se (or scipy's paired
bootstrap over problems; darl.stats); with fewer than ~30 shared problems (AIME-24 has exactly 30) read it as approximate.
Problems present in only one evaluation are counted and reported, never silently mixed in: when no problem is shared
the comparison falls back to the unpaired difference of the two means with sqrt(se1^2 + se2^2).

The paper compares single numbers without intervals.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Mapping, Sequence

from darl.artifacts.evaluations import read_eval  # noqa: F401 (the one reader of eval.json; imported from here too)
from darl.errors import InputError
from darl.stats import Method, paired_difference  # noqa: F401 (one implementation, on scipy)



@dataclass(frozen=True)
class BenchmarkComparison:
    """One benchmark's comparison. `delta` is new minus baseline Pass@1 over the problems compared (the shared
    ones when `paired`); `ci_low`/`ci_high` is None when the data cannot give an interval (one problem)."""

    benchmark: str
    paired: bool
    problems_compared: int
    only_in_new: int
    only_in_baseline: int
    new_pass1: float
    baseline_pass1: float
    delta: float
    stderr: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    method: str

    @property
    def significant(self) -> bool | None:
        """Whether the interval excludes 0; None without an interval."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return self.ci_low > 0 or self.ci_high < 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "significant": self.significant}


def _rates(bench: Mapping[str, Any], where: str) -> dict[str, float]:
    per_problem = bench.get("per_problem")
    if not isinstance(per_problem, dict):
        raise InputError("has no per-problem counts", field=f"{where}.per_problem",
                         hint="re-run darl eval to regenerate eval.json")
    return {pid: c["passes"] / c["n"] for pid, c in per_problem.items() if c.get("n")}


def compare_benchmark(name: str, new: Mapping[str, Any], baseline: Mapping[str, Any], confidence: float = 0.95,
                      method: Method = "normal") -> BenchmarkComparison:
    """Compare one benchmark's entries of two eval.json files."""
    new_rates = _rates(new, f"benchmarks.{name}")
    base_rates = _rates(baseline, f"baseline benchmarks.{name}")
    shared = sorted(set(new_rates) & set(base_rates))
    only_new = len(set(new_rates) - set(base_rates))
    only_base = len(set(base_rates) - set(new_rates))
    if shared:
        a = [new_rates[p] for p in shared]
        b = [base_rates[p] for p in shared]
        delta, se, low, high = paired_difference(a, b, confidence, method)
        return BenchmarkComparison(name, True, len(shared), only_new, only_base, sum(a) / len(a), sum(b) / len(b),
                                   delta, se, low, high, confidence, method)
    a, b = list(new_rates.values()), list(base_rates.values())
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    se = None
    low = high = None
    if len(a) > 1 and len(b) > 1:
        var_a = sum((x - mean_a) ** 2 for x in a) / (len(a) - 1) / len(a)
        var_b = sum((x - mean_b) ** 2 for x in b) / (len(b) - 1) / len(b)
        se = math.sqrt(var_a + var_b)
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        low, high = mean_a - mean_b - z * se, mean_a - mean_b + z * se
    return BenchmarkComparison(name, False, 0, only_new, only_base, mean_a, mean_b, mean_a - mean_b, se, low, high,
                               confidence, "normal (unpaired)")


def compare_evals(new: Mapping[str, Any], baseline: Mapping[str, Any], confidence: float = 0.95,
                  method: Method = "normal") -> list[BenchmarkComparison]:
    """Every benchmark present in both evaluations, in the new evaluation's order."""
    base_benches = baseline.get("benchmarks", {})
    return [compare_benchmark(name, bench, base_benches[name], confidence, method)
            for name, bench in new.get("benchmarks", {}).items() if name in base_benches]
