"""The settings darl takes from the paper and shares between steps, each spelled once.

Why one module: the same number written in five places drifts (a CLI default changed, a dataclass default not), and a
reader cannot tell a deliberate difference from a stale copy. Everything that means "the paper's evaluation sampling"
or "the proxy roles" reads it from here; a setting that belongs to one step alone (the demo's small budgets, the
embedded family's calibration length) stays with that step.
"""

from __future__ import annotations

# The paper evaluates (and darl scores the proxy models) by sampling at temperature 0.6 with nucleus mass 0.95
# (DeepSeek-R1's evaluation setting): `darl score`, `darl eval`, SamplingParams and comparison specs default to it.
PAPER_TEMPERATURE = 0.6
PAPER_TOP_P = 0.95

# The paper evaluates with responses of up to 32k tokens; R1-style models think for thousands of tokens, so a smaller
# budget cuts most of their responses off (a cut response counts as a failure). The one default of `darl score` and
# `darl eval`; the embedded default and the demo pass their own, smaller budgets.
PAPER_MAX_NEW_TOKENS = 32768

# Rollout sampling during training (the paper / verl: temperature 1.0, no nucleus cut): the recipe's defaults.
ROLLOUT_TEMPERATURE = 1.0
ROLLOUT_TOP_P = 1.0

# The proxy roles the paper's level rules read (DeepSeek-R1-Distill 1.5B / 7B / 32B and R1 as the filter), in order of
# strength; the embedded family builds one model per role, and a levels config maps each role to a scored model.
ROLES = ("small", "medium", "large", "filter")
