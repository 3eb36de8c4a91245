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
