"""The plateau test: improving scores keep a stage going, a flat or noisy-flat window ends it (with a reason),
min_steps and patience are honoured, and the decision depends only on the history."""

from __future__ import annotations

import numpy as np

from darl.training.plateau import decide, improvement_test
from darl.training.recipe import PlateauSettings


def _hist(scores, every=10):
    return [((i + 1) * every, s) for i, s in enumerate(scores)]


def test_steadily_improving_does_not_stop():
    s = PlateauSettings(window=3, patience=1, alpha=0.1)
    d = decide(_hist([0.1, 0.12, 0.15, 0.2, 0.24, 0.3]), s)
    assert not d.stop and d.p_value is not None and d.p_value < 0.1 and "still improving" in d.reason


def test_flat_scores_stop_with_reason():
    s = PlateauSettings(window=3, patience=1, alpha=0.1)
    d = decide(_hist([0.3, 0.31, 0.29, 0.3, 0.3, 0.3]), s)
    assert d.stop and d.step == 60 and "plateau at step 60" in d.reason and "Welch" in d.reason


def test_too_few_validations_and_min_steps_and_patience():
    s = PlateauSettings(window=3, patience=1)
    assert not decide(_hist([0.3] * 5), s).stop
    assert not decide(_hist([0.3] * 6), PlateauSettings(window=3, min_steps=100)).stop
    assert decide(_hist([0.3] * 10), PlateauSettings(window=3, min_steps=100)).stop
    patient = PlateauSettings(window=3, patience=3)
    assert not decide(_hist([0.3] * 7), patient).stop  # 2 non-improving so far
    assert decide(_hist([0.3] * 8), patient).non_improving == 3


def test_noisy_plateau_is_detected_and_noisy_trend_is_not():
    rng = np.random.default_rng(0)
    flat = list(0.5 + rng.normal(0, 0.02, size=8))
    assert decide(_hist(flat), PlateauSettings(window=4, alpha=0.05)).stop
    trend = list(np.linspace(0.1, 0.6, 8) + rng.normal(0, 0.01, size=8))
    assert not decide(_hist(trend), PlateauSettings(window=4, alpha=0.05)).stop


def test_exact_test_when_both_windows_are_constant():
    diff, p = improvement_test([0.2, 0.2], [0.3, 0.3], 0.0)
    assert abs(diff - 0.1) < 1e-9 and p == 0.0
    assert improvement_test([0.2, 0.2], [0.2, 0.2], 0.0)[1] == 1.0
    assert improvement_test([0.2, 0.2], [0.25, 0.25], 0.1)[1] == 1.0  # below min_improvement


def _welch_one_sided(previous, recent, min_improvement):
    """The one-sided Welch test written out from its textbook definition (not scipy's ttest_ind)."""
    from scipy import stats

    prev, rec = np.asarray(previous, float), np.asarray(recent, float)
    vp, vr = prev.var(ddof=1) / len(prev), rec.var(ddof=1) / len(rec)
    t = (rec.mean() - min_improvement - prev.mean()) / np.sqrt(vp + vr)
    df = (vp + vr) ** 2 / (vp ** 2 / (len(prev) - 1) + vr ** 2 / (len(rec) - 1))
    return float(stats.t.sf(t, df))


def test_improvement_test_is_the_one_sided_welch_test_with_the_margin():
    """Unequal spreads and sizes, so Student's pooled test, a two-sided test or a dropped/flipped margin each give
    another p-value."""
    previous, recent = [0.30, 0.31, 0.29, 0.33], [0.36, 0.45, 0.30]
    for margin in (0.0, 0.02, 0.05):
        diff, p = improvement_test(previous, recent, margin)
        assert diff == np.mean(recent) - np.mean(previous)
        assert p == np.float64(p) and abs(p - _welch_one_sided(previous, recent, margin)) < 1e-12, margin
    # integer scores are scores too
    assert abs(improvement_test([0, 1, 0], [1, 1, 0], 0.0)[1] - _welch_one_sided([0, 1, 0], [1, 1, 0], 0.0)) < 1e-12


def test_one_constant_window_still_uses_the_test():
    """Only both windows constant make the test exact; a constant previous window and a noisy recent one go
    through Welch (p strictly between 0 and 1)."""
    diff, p = improvement_test([0.2, 0.2, 0.2], [0.3, 0.2, 0.25], 0.0)
    assert 0.0 < p < 1.0 and abs(p - _welch_one_sided([0.2, 0.2, 0.2], [0.3, 0.2, 0.25], 0.0)) < 1e-12
    diff, p = improvement_test([0.3, 0.2, 0.25], [0.2, 0.2, 0.2], 0.0)
    assert 0.0 < p < 1.0 and diff < 0


def test_single_point_windows_compare_exactly():
    assert improvement_test([0.2], [0.3], 0.0) == (improvement_test([0.2], [0.3], 0.0)[0], 0.0)
    assert improvement_test([0.3], [0.2], 0.0)[1] == 1.0


def test_falling_scores_are_a_plateau_not_a_change():
    """The test is one-sided: a clearly falling validation score is not an improvement (a two-sided test would
    call the fall 'significant' and keep the stage going)."""
    s = PlateauSettings(window=3, patience=1, alpha=0.1)
    falling = [0.6, 0.58, 0.61, 0.3, 0.31, 0.29]
    d = decide(_hist(falling), s)
    assert d.stop and d.improvement < -0.25 and d.p_value > 0.99


def test_min_improvement_is_the_bar_for_noisy_gains():
    """A steady but small gain (about +0.03 a window, noise 0.005) improves at min_improvement 0 and is a plateau
    at min_improvement 0.1."""
    rising = [0.300, 0.305, 0.298, 0.331, 0.335, 0.327]
    assert not decide(_hist(rising), PlateauSettings(window=3, alpha=0.05)).stop
    bar = decide(_hist(rising), PlateauSettings(window=3, alpha=0.05, min_improvement=0.1))
    assert bar.stop and bar.p_value > 0.9


def test_every_decision_field_along_a_history():
    """The whole decision, field by field, at each point of one history (window 2, patience 2, min_steps 80)."""
    s = PlateauSettings(window=2, patience=2, min_steps=80, alpha=0.1)
    assert decide([], s).to_dict() == {"stop": False, "reason": "no validation yet", "step": None,
                                       "improvement": None, "p_value": None, "non_improving": 0}
    scores = [0.1, 0.2, 0.4, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    got = [decide(_hist(scores[:end]), s) for end in range(1, len(scores) + 1)]
    assert [d.reason for d in got[:3]] == [f"collecting validations ({n} of 4 needed)" for n in (1, 2, 3)]
    assert [(d.stop, d.step, d.improvement, d.p_value, d.non_improving) for d in got[:3]] == [
        (False, 10, None, None, 0), (False, 20, None, None, 0), (False, 30, None, None, 0)]
    # end 4: [0.1, 0.2] -> [0.4, 0.5]: Welch p = 0.026 < 0.1, improving
    assert got[3].reason.startswith("still improving: mean of last 2 validations 0.4500 vs previous 2 0.1500 "
                                    "(diff +0.3000, one-sided Welch p=0.0257, alpha=0.1)")
    assert (got[3].stop, got[3].step, got[3].non_improving) == (False, 40, 0)
    assert abs(got[3].improvement - 0.3) < 1e-12
    assert abs(got[3].p_value - _welch_one_sided([0.1, 0.2], [0.4, 0.5], 0)) < 1e-12
    # end 5: [0.2, 0.4] -> [0.5, 0.5]: p = 0.148, first non-improving validation
    assert got[4].reason.startswith("not improving (1/2): mean of last 2 validations 0.5000 vs previous 2 0.3000")
    assert (got[4].stop, got[4].step, got[4].non_improving) == (False, 50, 1)
    assert abs(got[4].improvement - 0.2) < 1e-12
    assert abs(got[4].p_value - _welch_one_sided([0.2, 0.4], [0.5, 0.5], 0)) < 1e-12
    # end 6, 7: patience reached but before min_steps
    assert got[5].reason.startswith("plateau but step 60 < min_steps 80: ")
    assert (got[5].stop, got[5].step, got[5].non_improving) == (False, 60, 2)
    assert abs(got[5].improvement - 0.05) < 1e-12 and abs(got[5].p_value - 0.25) < 1e-12
    assert (got[6].stop, got[6].step, got[6].improvement, got[6].p_value, got[6].non_improving) == (
        False, 70, 0.0, 1.0, 3)
    # end 8: the stage ends; the counter keeps counting after it
    assert got[7].reason.startswith("plateau at step 80: no significant improvement in 4 consecutive validation(s); "
                                    "mean of last 2 validations 0.5000 vs previous 2 0.5000")
    assert (got[7].stop, got[7].step, got[7].improvement, got[7].p_value, got[7].non_improving) == (
        True, 80, 0.0, 1.0, 4)
    assert (got[8].stop, got[8].step, got[8].non_improving) == (True, 90, 5)


def test_alpha_is_a_strict_threshold():
    """p exactly alpha is not significant."""
    history = _hist([0.30, 0.31, 0.29, 0.36, 0.45, 0.30])
    p = improvement_test([0.30, 0.31, 0.29], [0.36, 0.45, 0.30], 0.0)[1]
    at = decide(history, PlateauSettings(window=3, alpha=p))
    assert at.non_improving == 1 and at.stop
    above = decide(history, PlateauSettings(window=3, alpha=min(p * 1.0001, 0.999)))
    assert above.non_improving == 0 and not above.stop
