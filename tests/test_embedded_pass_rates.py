"""The embedded family behaves like the paper's proxies on its held-out suite, sampled through the transformers
back end and graded by the real verifiers (Math-Verify, the code sandbox), K = 8 at temperature 1.0: the bar of
issue 3, checked on every test run (the tests use the same family as `darl demo`): the small model's pass rates are
strictly inside (0, 1) on at least 30% of problems in both domains, the roles are ordered small < medium < large in
mean pass rate on math and small <= medium < large on code (since 2026-12-01 the policy warm-starts 1,200 steps and
the medium role's 200 more add nothing measurable on code: 0.680 vs 0.680 at K = 8), and every level of method.md
section 4 is populated.
"""

from __future__ import annotations

import pytest

from darl.embedded.calibrate import family_report, level_counts
from darl.records import CodeTests, IOTest, Problem


def _paper_grid() -> tuple[list[Problem], dict[str, list[float]]]:
    """Every combination of pass rates 0, 0.25, 1 for small/medium/large and 0, 0.5 for filter, in both domains,
    plus one math problem the large model solves (19 solved math problems survive the filter: 19 x 0.5 = 9.5)."""
    import itertools

    problems, rates = [], {"small": [], "medium": [], "large": [], "filter": []}
    combos = list(itertools.product((0.0, 0.25, 1.0), (0.0, 0.25, 1.0), (0.0, 0.25, 1.0), (0.0, 0.5)))
    for domain in ("math", "code"):
        for i, combo in enumerate(combos + ([(1.0, 1.0, 1.0, 1.0)] if domain == "math" else [])):
            extra = {"answer": "1"} if domain == "math" else {"tests": CodeTests(io=(IOTest("", "1"),))}
            problems.append(Problem(id=f"{domain}-{i}", domain=domain, prompt="p", **extra))
            for role, value in zip(("small", "medium", "large", "filter"), combo):
                rates[role].append(value)
    return problems, rates


def test_level_counts_are_the_levels_package_on_the_paper_rules():
    """calibrate's level counts against a direct reading of method.md section 4 (levels overlap; Level 3 = every
    problem the large model never solves plus round(share x count) of those it solves: math 0.5, code 0.1)."""
    problems, rates = _paper_grid()
    got = level_counts(problems, rates, seed=0)
    for domain, share in (("math", 0.5), ("code", 0.1)):
        alive = [i for i, p in enumerate(problems) if p.domain == domain and rates["filter"][i] > 0]
        s = {i: rates["small"][i] for i in alive}
        m = {i: rates["medium"][i] for i in alive}
        level1 = sum(0 < s[i] < 1 for i in alive)
        level2 = sum((s[i] == 0 and m[i] == 1) or (s[i] == 0 and 0 < m[i] < 1) or (0 < s[i] < 1 and 0 < m[i] < 1)
                     for i in alive)
        unsolved = sum(rates["large"][i] == 0 for i in alive)
        solved = len(alive) - unsolved
        counts, dropped = got[domain]
        assert dropped == sum(p.domain == domain for p in problems) - len(alive)
        assert counts == {1: level1, 2: level2, 3: unsolved + round(share * solved)}, domain
    assert got["math"][0][3] == 9 + 10 and got["code"][0][3] == 9 + 2  # 19 x 0.5 -> 10, 18 x 0.1 -> 2
    # the same pass rates give the same levels (the keep share is seeded), and without a filter role nothing drops
    assert level_counts(problems, rates, seed=0) == got
    no_filter = level_counts(problems, {r: v for r, v in rates.items() if r != "filter"})
    assert no_filter["math"][1] == 0 and no_filter["math"][0][1] == 2 * got["math"][0][1]


@pytest.mark.slow
def test_family_spreads_orders_and_fills_levels(embedded_family):
    reports = {r.domain: r for r in family_report(embedded_family, embedded_family.problems("heldout"), k=8,
                                                  temperature=1.0)}
    assert set(reports) == {"math", "code"}
    for domain, r in reports.items():
        print(domain, r)
        assert r.small_strictly_between >= 0.30, (domain, r.small_strictly_between)
        if domain == "math":
            assert r.mean_pass["small"] < r.mean_pass["medium"] < r.mean_pass["large"], (domain, r.mean_pass)
        else:  # the policy's 1,200 warm-start steps saturate code levels 1-4; medium ties it (docs/embedded.md)
            assert r.mean_pass["small"] <= r.mean_pass["medium"] < r.mean_pass["large"], (domain, r.mean_pass)
        assert all(r.level_counts[level] > 0 for level in (1, 2, 3)), (domain, r.level_counts)
