"""Properties of the evaluation statistics checked with hypothesis against their definitions, plus the error
messages and serialised forms a user reads (the mutation run showed those were never asserted).

- pass@k: 1 - C(n-c, k) / C(n, k) computed exactly with integers;
- Pass@1 with its two standard errors: the textbook sample standard deviation (`statistics.stdev`) over problems,
  and the within-problem variance of each sample mean;
- the paired difference: mean, standard error and normal interval written out, and the bootstrap's percentile
  interval reproduced from the same seeded resamples.
"""

from __future__ import annotations

import json
import math
import statistics
from fractions import Fraction
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from darl.errors import InputError
from darl.evaluation.compare import compare_benchmark, compare_evals, paired_difference, read_eval
from darl.evaluation.passk import mean_correctness, mean_pass_at_k, pass_at_k


@st.composite
def n_c_k(draw):
    n = draw(st.integers(1, 60))
    return n, draw(st.integers(0, n)), draw(st.integers(1, n))


@settings(deadline=None)
@given(n_c_k())
def test_pass_at_k_is_its_exact_definition(nck):
    n, c, k = nck
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-12)


@settings(deadline=None)
@given(st.lists(n_c_k(), min_size=1, max_size=8), st.integers(1, 60))
def test_mean_pass_at_k_is_the_mean_over_problems_or_refuses(problems, k):
    counts = [(n, c) for n, c, _ in problems]
    if any(n < k for n, _ in counts):
        with pytest.raises(ValueError, match=rf"mean_pass_at_k: {sum(n < k for n, _ in counts)} problem\(s\) have "
                                             rf"fewer than k={k} samples"):
            mean_pass_at_k(counts, k)
    else:
        assert mean_pass_at_k(counts, k) == pytest.approx(sum(pass_at_k(n, c, k) for n, c in counts) / len(counts))


def test_pass_at_k_error_messages():
    with pytest.raises(ValueError, match=r"pass_at_k: n must be >= 1, got 0"):
        pass_at_k(0, 0, 1)
    with pytest.raises(ValueError, match=r"pass_at_k: c must be in \[0, n=4\], got 5"):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError, match=r"pass_at_k: k must be in \[1, n=4\], got 5"):
        pass_at_k(4, 2, 5)
    assert mean_pass_at_k([(4, 1), (4, 3)], 4) == 1.0  # n == k is enough samples


samples = st.lists(st.lists(st.sampled_from([0.0, 1.0, 0.5]), min_size=1, max_size=6), min_size=1, max_size=12)


@settings(deadline=None)
@given(samples)
def test_mean_correctness_is_the_mean_of_problem_means_with_textbook_errors(per_problem):
    stats = mean_correctness(per_problem)
    rates = [statistics.fmean(v) for v in per_problem]
    assert stats.problems == len(per_problem)
    assert stats.mean == pytest.approx(statistics.fmean(rates))
    if len(rates) > 1:
        assert stats.stderr == pytest.approx(statistics.stdev(rates) / math.sqrt(len(rates)))
    else:
        assert stats.stderr is None
    if all(len(v) > 1 for v in per_problem):
        within = sum(statistics.variance(v) / len(v) for v in per_problem)
        assert stats.sampling_stderr == pytest.approx(math.sqrt(within) / len(per_problem))
    else:
        assert stats.sampling_stderr is None
    assert stats.to_dict() == {"mean": stats.mean, "stderr": stats.stderr, "sampling_stderr": stats.sampling_stderr,
                               "problems": len(per_problem)}


def test_mean_correctness_refuses_a_problem_without_samples():
    with pytest.raises(ValueError, match="^mean_correctness: a problem has no samples$"):
        mean_correctness([[1.0], []])


rates = st.floats(0, 1, allow_nan=False)


@settings(deadline=None)
@given(st.lists(st.tuples(rates, rates), min_size=2, max_size=40), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_paired_difference_normal_interval_written_out(pairs, confidence):
    new, base = [a for a, _ in pairs], [b for _, b in pairs]
    d = [a - b for a, b in pairs]
    mean, se, low, high = paired_difference(new, base, confidence)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    assert mean == pytest.approx(statistics.fmean(d), abs=1e-12)
    assert se == pytest.approx(statistics.stdev(d) / math.sqrt(len(d)), abs=1e-12)
    assert low == pytest.approx(mean - z * se, abs=1e-12) and high == pytest.approx(mean + z * se, abs=1e-12)


@settings(deadline=None)
@given(st.lists(st.tuples(rates, rates), min_size=2, max_size=15), st.integers(0, 1000))
def test_paired_bootstrap_is_a_seeded_percentile_interval_inside_the_data(pairs, seed):
    """scipy's percentile bootstrap (darl.stats): the same seed gives the same interval, the interval lies within
    the smallest and largest paired difference and is ordered; bench/bench_stats.py measured its coverage."""
    new, base = [a for a, _ in pairs], [b for _, b in pairs]
    d = [a - b for a, b in pairs]
    resamples = 200
    mean, se, low, high = paired_difference(new, base, 0.95, "bootstrap", resamples=resamples, seed=seed)
    assert (low, high) == paired_difference(new, base, 0.95, "bootstrap", resamples=resamples, seed=seed)[2:]
    assert min(d) - 1e-12 <= low <= high <= max(d) + 1e-12
    assert mean == pytest.approx(sum(d) / len(d), abs=1e-12)
    assert se == pytest.approx(statistics.stdev(d) / math.sqrt(len(d)), abs=1e-12)


def test_paired_difference_refuses_bad_input():
    with pytest.raises(ValueError, match=r"paired_difference: need two equally long non-empty lists, got 2 and 1"):
        paired_difference([0.1, 0.2], [0.3])
    with pytest.raises(ValueError, match="got 0 and 0"):
        paired_difference([], [])
    with pytest.raises(ValueError, match=r"method must be 'normal' or 'bootstrap', got 'exact'"):
        paired_difference([0.1, 0.2], [0.3, 0.1], method="exact")  # type: ignore[arg-type]


def _bench(counts: dict[str, tuple[int, int]]) -> dict:
    return {"per_problem": {pid: {"n": n, "passes": c} for pid, (n, c) in counts.items()}}


def test_compare_benchmark_every_field_paired_and_unpaired():
    new = _bench({"a": (4, 4), "b": (4, 2), "c": (4, 1), "only_new": (4, 4), "empty": (0, 0)})
    base = _bench({"a": (4, 2), "b": (4, 2), "c": (4, 0), "only_base": (2, 0), "only_base2": (2, 2)})
    cmp = compare_benchmark("m", new, base, confidence=0.9)
    d = [0.5, 0.0, 0.25]
    se = statistics.stdev(d) / math.sqrt(3)
    z = NormalDist().inv_cdf(0.95)
    assert (cmp.benchmark, cmp.paired, cmp.problems_compared, cmp.only_in_new, cmp.only_in_baseline) == (
        "m", True, 3, 1, 2)
    assert cmp.new_pass1 == pytest.approx((1 + 0.5 + 0.25) / 3) and cmp.baseline_pass1 == pytest.approx(1 / 3)
    assert cmp.delta == pytest.approx(0.25) and cmp.stderr == pytest.approx(se)
    assert cmp.ci_low == pytest.approx(0.25 - z * se) and cmp.ci_high == pytest.approx(0.25 + z * se)
    assert (cmp.confidence, cmp.method) == (0.9, "normal")
    assert cmp.to_dict()["significant"] is cmp.significant is (cmp.ci_low > 0)
    # no shared problem: the unpaired difference with sqrt(se1^2 + se2^2)
    un = compare_benchmark("u", _bench({"x": (2, 2), "y": (2, 1), "z": (4, 1)}),
                           _bench({"u": (4, 0), "v": (4, 1), "w": (4, 4)}))
    a, b = [1.0, 0.5, 0.25], [0.0, 0.25, 1.0]  # three each: a variance's n - 1 and n differ from 2 / 2
    se_u = math.sqrt(statistics.variance(a) / 3 + statistics.variance(b) / 3)
    z = NormalDist().inv_cdf(0.975)
    assert (un.benchmark, un.paired, un.problems_compared, un.only_in_new, un.only_in_baseline) == (
        "u", False, 0, 3, 3)
    assert un.new_pass1 == pytest.approx(1.75 / 3) and un.baseline_pass1 == pytest.approx(1.25 / 3)
    assert un.delta == pytest.approx(0.5 / 3) and un.stderr == pytest.approx(se_u)
    assert un.ci_low == pytest.approx(un.delta - z * se_u) and un.ci_high == pytest.approx(un.delta + z * se_u)
    assert un.method == "normal (unpaired)" and un.confidence == 0.95
    # one problem on either side: no unpaired interval (a variance needs two)
    for new_side, base_side in (({"x": (2, 2)}, {"u": (4, 0), "v": (4, 1)}), ({"x": (2, 2), "y": (2, 0)}, {"u": (4, 0)})):
        lone = compare_benchmark("m", _bench(new_side), _bench(base_side))
        assert (lone.stderr, lone.ci_low, lone.ci_high) == (None, None, None)
    # the paired comparison uses the method it is given
    pairs_new, pairs_base = {p: (4, i % 5) for i, p in enumerate("abcdefgh")}, {p: (4, 1) for p in "abcdefgh"}
    boot = compare_benchmark("m", _bench(pairs_new), _bench(pairs_base), method="bootstrap")
    expected = paired_difference([(i % 5) / 4 for i in range(8)], [0.25] * 8, 0.95, "bootstrap")
    assert (boot.delta, boot.stderr, boot.ci_low, boot.ci_high) == pytest.approx(expected)
    # one problem each side: no interval, so significance is unknown (None), not False
    one = compare_benchmark("m", _bench({"x": (2, 2)}), _bench({"u": (2, 0)}))
    assert (one.stderr, one.ci_low, one.ci_high, one.significant) == (None, None, None, None)
    assert compare_benchmark("m", _bench({"a": (2, 1)}), _bench({"a": (2, 0)})).significant is None
    # a clearly negative interval is significant too
    worse = compare_benchmark("m", _bench({p: (4, 0) for p in "abcdef"}),
                              _bench({p: (4, 4 - (i % 2)) for i, p in enumerate("abcdef")}))
    assert worse.ci_high < 0 and worse.significant is True


def test_compare_evals_keeps_the_new_evaluations_order_and_method():
    new = {"benchmarks": {"b2": _bench({"a": (2, 2), "b": (2, 0)}), "b1": _bench({"a": (2, 1), "b": (2, 1)}),
                          "new_only": _bench({"a": (1, 1)})}}
    base = {"benchmarks": {"b1": _bench({"a": (2, 0), "b": (2, 0)}), "b2": _bench({"a": (2, 0), "b": (2, 0)})}}
    got = compare_evals(new, base, confidence=0.8, method="bootstrap")
    assert [c.benchmark for c in got] == ["b2", "b1"]
    assert all(c.confidence == 0.8 and c.method == "bootstrap" for c in got)
    assert compare_evals({}, base) == [] and compare_evals(new, {}) == []


def test_a_benchmark_without_per_problem_counts_is_an_input_error():
    with pytest.raises(InputError, match=r"field 'baseline benchmarks.m.per_problem': has no per-problem counts "
                                         r"\(re-run darl eval to regenerate eval.json\)"):
        compare_benchmark("m", _bench({"a": (1, 1)}), {"per_problem": None})
    with pytest.raises(InputError, match=r"field 'benchmarks.m.per_problem'"):
        compare_benchmark("m", {}, _bench({"a": (1, 1)}))


def test_read_eval_reads_files_and_folders_and_names_what_is_wrong(tmp_path):
    data = {"format": "darl-eval/1", "benchmarks": {}}
    (tmp_path / "eval.json").write_text(json.dumps(data))
    assert read_eval(tmp_path) == data and read_eval(tmp_path / "eval.json") == data
    assert read_eval(str(tmp_path / "eval.json")) == data
    with pytest.raises(InputError, match=r"missing.json: no such evaluation file \(give the eval.json that darl eval "
                                         r"wrote\)"):
        read_eval(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match=r"bad.json: not valid JSON \(Expecting property name"):
        read_eval(tmp_path / "bad.json")
    for wrong in ([1, 2], {"format": "darl-scores/1"}, {"benchmarks": {}}):
        (tmp_path / "wrong.json").write_text(json.dumps(wrong))
        with pytest.raises(InputError, match=r"wrong.json, field 'format': is not an eval.json written by darl eval"):
            read_eval(tmp_path / "wrong.json")
