"""Plateau detection on a periodic validation score: when has a stage stopped paying off?

The paper moves from stage 1 to stage 2 at step 1600 "when the validation score plateaus" and gives no criterion.
Here the criterion is a one-sided Welch t-test between the last `window` validation scores and the `window` before
them: H1 "the recent mean exceeds the previous mean by more than `min_improvement`". If the test does not reject H0
at level `alpha`, that validation counts as non-improving; after `patience` consecutive non-improving validations, and
not before `min_steps`, the stage ends. When both windows have zero variance (a deterministic score that did not
move, common with greedy decoding on a small set) the test is exact: improving iff the mean difference exceeds
`min_improvement`.

Pure: `decide(history, settings)` looks only at its arguments and returns a `PlateauDecision` whose `reason` is
written to the stage manifest.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
from scipy import stats

from darl.training.recipe import PlateauSettings


@dataclass(frozen=True)
class PlateauDecision:
    stop: bool
    reason: str
    step: int | None
    improvement: float | None  # mean(recent window) - mean(previous window)
    p_value: float | None  # one-sided p of "improvement > min_improvement"; None when not tested
    non_improving: int  # consecutive non-improving validations, this one included

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def improvement_test(previous: Sequence[float], recent: Sequence[float], min_improvement: float) -> tuple[float, float]:
    """(mean(recent) - mean(previous), one-sided p-value of H1: recent - previous > min_improvement)."""
    prev = np.asarray(previous, dtype=float)
    rec = np.asarray(recent, dtype=float)
    diff = float(rec.mean() - prev.mean())
    if np.allclose(prev, prev[0]) and np.allclose(rec, rec[0]):
        return diff, 0.0 if diff > min_improvement else 1.0
    with warnings.catch_warnings():  # near-constant windows: scipy warns about precision, the p-value is still usable
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(rec - min_improvement, prev, equal_var=False, alternative="greater")
    p = float(result.pvalue)
    return diff, 1.0 if math.isnan(p) else p


def decide(history: Sequence[tuple[int, float]], settings: PlateauSettings) -> PlateauDecision:
    """history: (step, score) pairs of every validation so far in the stage, oldest first (higher score = better).

    Replays the test at every validation point so that `non_improving` (the patience counter) is a function of the
    history alone: the same history always gives the same decision, before or after a resume.
    """
    w = settings.window
    non_improving = 0
    last: PlateauDecision | None = None
    for end in range(1, len(history) + 1):
        step = history[end - 1][0]
        if end < 2 * w:
            last = PlateauDecision(False, f"collecting validations ({end} of {2 * w} needed)", step, None, None, 0)
            continue
        scores = [s for _, s in history[:end]]
        diff, p = improvement_test(scores[end - 2 * w:end - w], scores[end - w:end], settings.min_improvement)
        non_improving = 0 if p < settings.alpha else non_improving + 1
        stats_text = (f"mean of last {w} validations {np.mean(scores[end - w:end]):.4f} vs previous {w} "
                      f"{np.mean(scores[end - 2 * w:end - w]):.4f} (diff {diff:+.4f}, one-sided Welch p={p:.3g}, "
                      f"alpha={settings.alpha})")
        if p < settings.alpha:
            last = PlateauDecision(False, f"still improving: {stats_text}", step, diff, p, 0)
        elif non_improving < settings.patience:
            last = PlateauDecision(False, f"not improving ({non_improving}/{settings.patience}): {stats_text}",
                                   step, diff, p, non_improving)
        elif step < settings.min_steps:
            last = PlateauDecision(False, f"plateau but step {step} < min_steps {settings.min_steps}: {stats_text}",
                                   step, diff, p, non_improving)
        else:
            last = PlateauDecision(True, f"plateau at step {step}: no significant improvement in "
                                   f"{non_improving} consecutive validation(s); {stats_text}", step, diff, p,
                                   non_improving)
    if last is None:
        return PlateauDecision(False, "no validation yet", None, None, None, 0)
    return last
