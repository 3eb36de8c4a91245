"""The plateau test's minimum detectable effect: shrinks as 1/sqrt(problems), grows with a stricter alpha, and matches a
simulation of the test itself."""

from __future__ import annotations

import numpy as np
import pytest

from darl.training.plateau import improvement_test
from darl.training.plateau_power import min_detectable_effect, plateau_power
from darl.training.recipe import PlateauSettings


def test_mde_scales_as_expected():
    base = min_detectable_effect(24, 0.36, 3, 0.1)
    assert 0.15 < base < 0.25  # the demo's 24 validation problems: about 20 points
    assert min_detectable_effect(96, 0.36, 3, 0.1) == pytest.approx(base / 2, rel=1e-6)
    assert min_detectable_effect(24, 0.36, 3, 0.05) > base
    assert min_detectable_effect(24, 0.0, 3, 0.1) > 0  # a zero start still has noise to come


def test_mde_is_the_gain_the_test_detects_about_80_percent_of_the_time():
    rng = np.random.default_rng(0)
    n, p, w, alpha = 50, 0.4, 3, 0.1
    gain = min_detectable_effect(n, p, w, alpha)
    hits = 0
    for _ in range(2000):
        prev = rng.binomial(n, p, w) / n
        recent = rng.binomial(n, p + gain, w) / n
        hits += improvement_test(prev, recent, 0.0)[1] < alpha
    assert 0.7 < hits / 2000 < 0.9


def test_manifest_entry():
    entry = plateau_power(PlateauSettings(window=3, alpha=0.1), 24, 0.36)
    assert entry["validation_problems"] == 24 and entry["min_detectable_effect"] == pytest.approx(0.198, abs=0.002)
    assert plateau_power(None, 24, 0.36) is None and plateau_power(PlateauSettings(), 0, 0.3) is None
