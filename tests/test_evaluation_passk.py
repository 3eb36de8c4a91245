"""Properties of the evaluation statistics (pure functions, no model)."""

from __future__ import annotations

import math
import random
from itertools import combinations

import pytest

from darl.evaluation.compare import compare_evals, paired_difference
from darl.evaluation.passk import mean_correctness, mean_pass_at_k, pass_at_k


def brute_force_pass_at_k(n: int, c: int, k: int) -> float:
    """The definition: the share of k-subsets of the n samples that contain at least one pass."""
    outcomes = [1] * c + [0] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(1 for s in subsets if any(outcomes[i] for i in s)) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_matches_its_definition(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_force_pass_at_k(n, c, k), abs=1e-12)


def test_pass_at_k_closed_forms_and_large_n() -> None:
    assert pass_at_k(16, 4, 1) == pytest.approx(4 / 16)
    assert pass_at_k(16, 0, 16) == 0.0
    assert pass_at_k(16, 1, 16) == 1.0
    # C(200, 100) overflows floats; the product form does not
    expected = 1 - math.comb(150, 100) / math.comb(200, 100)
    assert pass_at_k(200, 50, 100) == pytest.approx(expected, rel=1e-12)


def test_pass_at_k_rejects_impossible_inputs() -> None:
    for n, c, k in [(0, 0, 1), (4, 5, 1), (4, -1, 1), (4, 2, 5), (4, 2, 0)]:
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


def test_pass_at_k_is_unbiased_under_sampling() -> None:
    """Averaged over many draws of n samples from a problem with true rate q, pass@k estimates 1 - (1 - q)^k."""
    rng = random.Random(1)
    q, n, k, draws = 0.2, 8, 4, 20000
    total = 0.0
    for _ in range(draws):
        c = sum(rng.random() < q for _ in range(n))
        total += pass_at_k(n, c, k)
    assert total / draws == pytest.approx(1 - (1 - q) ** k, abs=0.01)


def test_mean_pass_at_k() -> None:
    assert mean_pass_at_k([(4, 4), (4, 0)], 1) == pytest.approx(0.5)
    assert mean_pass_at_k([], 1) is None
    with pytest.raises(ValueError):
        mean_pass_at_k([(4, 1), (2, 1)], 4)


def test_mean_correctness_weighs_problems_equally_with_both_errors() -> None:
    stats = mean_correctness([[1, 1, 1, 1], [0, 0], [1, 0, 1, 0]])
    assert stats is not None
    rates = [1.0, 0.0, 0.5]
    assert stats.mean == pytest.approx(0.5)
    sd = math.sqrt(sum((r - 0.5) ** 2 for r in rates) / 2)
    assert stats.stderr == pytest.approx(sd / math.sqrt(3))
    # only the third problem has sampling noise: p(1-p)/(n-1) = 0.25 / 3
    assert stats.sampling_stderr == pytest.approx(math.sqrt(0.25 / 3) / 3)
    single = mean_correctness([[1, 0]])
    assert single is not None and single.stderr is None and single.mean == 0.5
    assert mean_correctness([[1], [0]]).sampling_stderr is None  # type: ignore[union-attr]
    assert mean_correctness([]) is None


def test_paired_difference_normal_and_bootstrap_agree_roughly() -> None:
    rng = random.Random(0)
    base = [rng.random() for _ in range(200)]
    new = [min(1.0, b + 0.1 + rng.gauss(0, 0.05)) for b in base]
    mean, se, low, high = paired_difference(new, base)
    assert low < mean < high and low > 0  # a clear, consistent gain is significant
    assert high - low == pytest.approx(2 * 1.959964 * se, rel=1e-5)
    _, _, b_low, b_high = paired_difference(new, base, method="bootstrap", resamples=2000)
    assert b_low == pytest.approx(low, abs=0.01) and b_high == pytest.approx(high, abs=0.01)
    assert paired_difference([0.5], [0.25]) == (0.25, None, None, None)


def _eval(rates: dict[str, tuple[int, int]], name: str = "math500") -> dict:
    return {"format": "darl-eval/1", "benchmarks": {name: {"per_problem": {
        pid: {"n": n, "passes": c} for pid, (n, c) in rates.items()}}}}


def test_compare_pairs_by_problem_and_reports_unshared() -> None:
    base = _eval({"a": (4, 0), "b": (4, 2), "c": (4, 4), "z": (4, 4)})
    new = _eval({"a": (4, 2), "b": (4, 4), "c": (4, 4), "y": (4, 0)})
    [cmp] = compare_evals(new, base)
    assert cmp.paired and cmp.problems_compared == 3 and cmp.only_in_new == 1 and cmp.only_in_baseline == 1
    assert cmp.delta == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert cmp.new_pass1 == pytest.approx(2.5 / 3) and cmp.baseline_pass1 == pytest.approx(1.5 / 3)
    assert cmp.ci_low < cmp.delta < cmp.ci_high


def test_compare_falls_back_to_unpaired_without_shared_problems() -> None:
    [cmp] = compare_evals(_eval({"a": (2, 2), "b": (2, 1)}), _eval({"c": (2, 0), "d": (2, 1)}))
    assert not cmp.paired and cmp.delta == pytest.approx(0.75 - 0.25)
    assert cmp.stderr == pytest.approx(math.sqrt(0.125 / 2 + 0.125 / 2))
    assert compare_evals(_eval({"a": (1, 1)}), _eval({"a": (1, 1)}, name="aime24")) == []
