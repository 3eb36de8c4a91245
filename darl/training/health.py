"""Training health: the ways a GRPO run goes wrong while its reward still looks fine, each named with the step where
it began.

Read from a run's metrics.jsonl (docs/metrics.md) and, where given, a held-out accuracy series:
- `entropy_collapse`: the policy's mean token entropy (`train/entropy`) fell below `collapse_fraction` of its
  starting level: the policy stopped exploring, groups turn all-equal and the gradient goes with them.
- `length_collapse`: the mean response length (`train/completions/mean_length`) fell below `collapse_fraction` of
  its starting level: typically the policy learned to answer before it reasons (or to stop early on hard prompts).
- `kl_blowup`: the KL to the reference (`train/kl`) rose above `kl_limit` nats per token: the policy moved far from
  where it started, faster than the KL penalty was meant to allow.
- `reward_without_heldout_gain`: the training reward rose by at least `reward_gain` while held-out accuracy did not
  rise at all: the policy fits its training prompts (or narrows onto them) rather than learning.

A level is a rolling mean over `window` logged steps (single steps are noisy at a few hundred rollouts), the starting
level the mean of the first `window` steps. A warning fires when the rolling mean crosses the line; its step is
the first step of that window whose own value was already beyond it (where the trouble began).
Thresholds are choices of this project (the paper reports none); each is an argument.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

ENTROPY = "train/entropy"
LENGTH = "train/completions/mean_length"
KL = "train/kl"
REWARD = "train/reward"
STEP = "train/global_step"


@dataclass(frozen=True)
class HealthWarning:
    name: str  # entropy_collapse, length_collapse, kl_blowup, reward_without_heldout_gain
    step: int  # global step where it began
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _series(records: Sequence[dict[str, Any]], key: str) -> list[tuple[int, float]]:
    out = []
    for r in records:
        value, step = r.get(key), r.get(STEP)
        if isinstance(value, (int, float)) and isinstance(step, (int, float)):
            out.append((int(step), float(value)))
    return out


def _rolling(points: Sequence[tuple[int, float]], window: int) -> list[tuple[int, float]]:
    return [(points[i][0], sum(v for _, v in points[i - window + 1:i + 1]) / window)
            for i in range(window - 1, len(points))]


def _began(points: Sequence[tuple[int, float]], crossed_at: int, window: int, beyond) -> int:
    """The first step, inside the window whose mean crossed the line, whose own value is beyond it."""
    index = next(i for i, (s, _) in enumerate(points) if s == crossed_at)
    return next((s for s, v in points[max(0, index - window + 1):index + 1] if beyond(v)), crossed_at)


def _first_below(points: Sequence[tuple[int, float]], fraction: float, window: int) -> tuple[int, float, float] | None:
    if len(points) < 2 * window:
        return None
    start = sum(v for _, v in points[:window]) / window
    if start <= 0:
        return None
    for step, level in _rolling(points, window)[window:]:
        if level < fraction * start:
            return _began(points, step, window, lambda v: v < fraction * start), start, level
    return None


def check_health(records: Sequence[dict[str, Any]], heldout: Sequence[tuple[int, float]] | None = None,
                 window: int = 3, collapse_fraction: float = 0.5, kl_limit: float = 0.1,
                 reward_gain: float = 0.05) -> list[HealthWarning]:
    """Warnings for one run. `records`: metrics.jsonl rows (train/global_step plus the keys above; rows without a
    key are skipped). `heldout`: (global step, accuracy) points, the first one at or before training starts."""
    warnings: list[HealthWarning] = []
    for name, key, what in (("entropy_collapse", ENTROPY, "token entropy"),
                            ("length_collapse", LENGTH, "mean response length")):
        hit = _first_below(_series(records, key), collapse_fraction, window)
        if hit is not None:
            step, start, level = hit
            warnings.append(HealthWarning(name, step, f"{what} fell to {level:.3g} by step {step} "
                                          f"(start {start:.3g}; below {collapse_fraction:.0%} of it)"))
    kl = _series(records, KL)
    for step, level in _rolling(kl, window):
        if level > kl_limit:
            began = _began(kl, step, window, lambda v: v > kl_limit)
            warnings.append(HealthWarning("kl_blowup", began, f"KL to the reference passed {kl_limit} at step "
                                          f"{began} (rolling mean over {window} steps {level:.3g} at step {step})"))
            break
    reward = _series(records, REWARD)
    if heldout and len(heldout) >= 2 and len(reward) >= 2 * window:
        start = sum(v for _, v in reward[:window]) / window
        rise = next(((_began(reward, s, window, lambda x: x >= start + reward_gain), v)
                     for s, v in _rolling(reward, window)[window:] if v >= start + reward_gain), None)
        gained = max(v for _, v in heldout[1:]) - heldout[0][1]
        final_gain = heldout[-1][1] - heldout[0][1]
        if rise is not None and final_gain <= 0:
            warnings.append(HealthWarning(
                "reward_without_heldout_gain", rise[0],
                f"training reward rose {start:.3f} -> {rise[1]:.3f} by step {rise[0]} while held-out accuracy went "
                f"{heldout[0][1]:.3f} -> {heldout[-1][1]:.3f} (best {heldout[0][1] + gained:.3f})"))
    return sorted(warnings, key=lambda w: w.step)


def heldout_from_metrics(records: Sequence[dict[str, Any]], before: float | None = None) -> list[tuple[int, float]]:
    """The in-run validation accuracy (`stage/val_accuracy`) as a held-out series, led by the starting accuracy."""
    points = _series(records, "stage/val_accuracy")
    return ([(0, before)] if before is not None else []) + points
