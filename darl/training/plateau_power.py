"""How large a gain the plateau test can see: its minimum detectable effect (MDE), written into each stage manifest.

The plateau test (darl.training.plateau) compares the mean of the last `window` validation scores with the `window`
before them, one-sided at level `alpha`. Each score is an accuracy on the same `n` held-out problems, so its noise is
about the binomial sd sqrt(p (1 - p) / n) at accuracy p (greedy decoding on a fixed set: the noise is which problems
flip as the policy moves, which this approximates). The difference of two window means then has sd
sigma * sqrt(2 / window), and the gain the test detects with probability `power` is

    MDE = (t_{1 - alpha, 2 window - 2} + t_{power, 2 window - 2}) * sigma * sqrt(2 / window).

A stage whose real gain is below its MDE usually ends "on a plateau" although it was still improving: e.g. 24
problems at p = 0.36 with window 3 and alpha 0.1 give an MDE of about 20 points, far above what a few dozen steps of
GRPO add on the embedded default. The paper gives no criterion, so it gives no power either.
"""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import t

from darl.training.recipe import PlateauSettings


def min_detectable_effect(problems: int, accuracy: float, window: int, alpha: float, power: float = 0.8) -> float:
    """The accuracy gain (0-1 scale) the plateau test detects with probability `power` (see the module docstring)."""
    if problems < 1 or window < 2:
        raise ValueError(f"need problems >= 1 and window >= 2, got {problems} and {window}")
    p = min(max(accuracy, 1.0 / problems), 1 - 1.0 / problems)  # a 0 or 1 start still has noise to come
    sigma = math.sqrt(p * (1 - p) / problems)
    df = 2 * window - 2
    return float((t.ppf(1 - alpha, df) + t.ppf(power, df)) * sigma * math.sqrt(2 / window))


def plateau_power(settings: PlateauSettings | None, problems: int, accuracy: float | None) -> dict[str, Any] | None:
    """The manifest's `plateau_power` entry: validation size, the starting accuracy it assumes, and the MDE at 80%
    power; None for a stage without a plateau test or without validation."""
    if settings is None or problems < 1 or accuracy is None:
        return None
    mde = min_detectable_effect(problems, accuracy, settings.window, settings.alpha)
    return {"validation_problems": problems, "start_accuracy": accuracy, "power": 0.8,
            "min_detectable_effect": round(mde, 4),
            "note": f"the plateau test sees a gain of {100 * mde:.1f} points in validation accuracy 80% of the time; "
                    f"smaller real gains usually end the stage as a plateau"}
