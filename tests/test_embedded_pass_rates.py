"""The embedded families behave like the paper's proxies on their held-out suites, sampled through the
transformers back end and graded by the real verifiers (Math-Verify, the code sandbox), K = 8 at temperature 1.0.

- quick family (every test run): the small model solves some problems and fails others in both domains, the
  chain is ordered at its ends (small < filter), and every level of method.md section 4 is populated.
- default family (opt-in, DARL_EMBEDDED_FULL=1, as it takes minutes to build): the bar of issue 3, i.e. the small
  model's pass rates strictly inside (0, 1) on at least 30% of problems in both domains and small < medium < large.
"""

from __future__ import annotations

import os

import pytest

from darl.embedded.calibrate import family_report, paper_levels


def test_paper_levels_rules():
    import random

    rng = random.Random(0)
    assert paper_levels(0.5, 0.5, 1.0, "code", rng) >= {1, 2}
    assert 1 not in paper_levels(0.0, 1.0, 1.0, "math", rng) and 2 in paper_levels(0.0, 1.0, 1.0, "math", rng)
    assert paper_levels(1.0, 1.0, 0.0, "math", rng) == {3}
    assert 2 not in paper_levels(0.0, 0.0, 0.0, "math", rng)


@pytest.mark.slow
def test_quick_family_spreads_orders_and_fills_levels(embedded_family):
    problems = embedded_family.problems("heldout")
    reports = {r.domain: r for r in family_report(embedded_family, problems, k=8, temperature=1.0)}
    assert set(reports) == {"math", "code"}
    for domain, r in reports.items():
        print(domain, r)
        assert 0 < r.mean_pass["small"] < r.mean_pass["filter"] < 1, (domain, r.mean_pass)
        assert r.small_strictly_between > 0, domain
    for level in (1, 2, 3):
        assert sum(r.level_counts[level] for r in reports.values()) > 0, level


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DARL_EMBEDDED_FULL") != "1", reason="set DARL_EMBEDDED_FULL=1 to build and "
                    "check the default family (minutes on 2 cores)")
def test_default_family_meets_the_issue_bar():
    from darl.embedded.bootstrap import bootstrap

    family = bootstrap("default", show_progress=False)
    reports = family_report(family, family.problems("heldout"), k=8, temperature=1.0)
    for r in reports:
        print(r)
        assert r.small_strictly_between >= 0.30, (r.domain, r.small_strictly_between)
        assert r.mean_pass["small"] < r.mean_pass["medium"] < r.mean_pass["large"], (r.domain, r.mean_pass)
        assert all(r.level_counts[level] > 0 for level in (1, 2, 3)), (r.domain, r.level_counts)
