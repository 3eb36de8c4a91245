"""Online difficulty: each prompt's pass rate under the *current* policy, from the rollouts GRPO already makes.

Every rollout group of G completions is G Bernoulli trials of its prompt's pass rate, so the tracker keeps a Beta
posterior per prompt, Beta(prior_alpha + passes, prior_beta + failures), updated after every step with no extra
generation. (DAPO's dynamic sampling instead over-samples and discards zero-variance groups, paying for extra
rollouts.) The paper levels problems once, offline, with proxy models; this tracker measures what the trained policy
finds hard, which the report compares with the proxy levels.

Policy (both off unless the recipe turns them on), applied by the sampler when a stream starts a new pass:
- retire: a prompt that passed every one of at least `retire_min_rollouts` rollouts gives zero-variance groups (no
  gradient) and is left out of later passes;
- defer: a prompt that failed every one of at least `defer_min_rollouts` rollouts goes to the end of later passes.

Observations are stamped with the batch (optimizer step) that made them, so a question "as of batch b" has the same
answer before and after a kill-and-resume (see `LevelDomainSampler`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from darl.training.recipe import OnlineDifficultySettings
from darl.training.sampler import Status


def zero_variance_groups(rewards: np.ndarray) -> np.ndarray:
    """rewards: (N_groups, G) float, NaN where no reward applied. Returns (N_groups,) bool: every scored reward in
    the group is equal (GRPO's advantage is zero for the whole group, so it carries no gradient)."""
    lo = np.nanmin(np.where(np.isnan(rewards), np.inf, rewards), axis=1)
    hi = np.nanmax(np.where(np.isnan(rewards), -np.inf, rewards), axis=1)
    return np.isclose(lo, hi) | ~np.isfinite(hi - lo)


def beta_posterior(passes: int, rollouts: int, prior_alpha: float, prior_beta: float) -> tuple[float, float]:
    """Beta(alpha, beta) posterior of a pass rate after `passes` successes in `rollouts` trials."""
    return prior_alpha + passes, prior_beta + rollouts - passes


@dataclass(frozen=True)
class GroupOutcome:
    """One rollout group: its prompt key, the stream it was drawn from, and how many of its rollouts passed."""

    key: str
    stream: str
    passes: int
    rollouts: int


class OnlineDifficulty:
    def __init__(self, settings: OnlineDifficultySettings) -> None:
        self.settings = settings
        # key -> list of [batch, passes, rollouts]
        self._obs: dict[str, list[list[int]]] = {}

    def observe(self, batch: int, groups: Sequence[GroupOutcome]) -> None:
        for g in groups:
            history = self._obs.setdefault(g.key, [])
            if history and history[-1][0] > batch:
                raise ValueError(f"observation for {g.key!r} at batch {batch} after batch {history[-1][0]}")
            history.append([batch, g.passes, g.rollouts])

    def counts(self, key: str, upto_batch: int | None = None) -> tuple[int, int]:
        """(passes, rollouts) of `key` from observations made at batches <= upto_batch (None: all)."""
        passes = rollouts = 0
        for batch, p, n in self._obs.get(key, ()):
            if upto_batch is None or batch <= upto_batch:
                passes, rollouts = passes + p, rollouts + n
        return passes, rollouts

    def posterior_mean(self, key: str, upto_batch: int | None = None) -> float:
        a, b = beta_posterior(*self.counts(key, upto_batch), self.settings.prior_alpha, self.settings.prior_beta)
        return a / (a + b)

    def status(self, keys: Sequence[str], upto_batch: int) -> list[Status]:
        """What the sampler should do with each prompt when it starts a new pass (see module docstring)."""
        s = self.settings
        out: list[Status] = []
        for key in keys:
            passes, rollouts = self.counts(key, upto_batch)
            if s.retire_solved and rollouts >= s.retire_min_rollouts and passes == rollouts:
                out.append("retired")
            elif s.defer_unsolved and rollouts >= s.defer_min_rollouts and passes == 0:
                out.append("deferred")
            else:
                out.append("active")
        return out

    def summary(self, keys: Sequence[str]) -> dict[str, float]:
        """stage/ metrics over the prompts `keys` seen so far (mean posterior pass rate, share solved/unsolved)."""
        seen = [k for k in keys if k in self._obs]
        if not seen:
            return {}
        counts = [self.counts(k) for k in seen]
        means = [self.posterior_mean(k) for k in seen]
        return {
            "stage/prompts_seen": float(len(seen)),
            "stage/online_pass_rate_mean": float(np.mean(means)),
            "stage/prompts_always_solved": float(np.mean([p == n for p, n in counts])),
            "stage/prompts_never_solved": float(np.mean([p == 0 for p, _ in counts])),
        }

    def table(self) -> list[dict[str, Any]]:
        """One row per prompt (key, passes, rollouts, posterior mean), for online_difficulty.jsonl."""
        rows = []
        for key in sorted(self._obs):
            passes, rollouts = self.counts(key)
            rows.append({"id": key, "passes": passes, "rollouts": rollouts,
                         "posterior_mean": round(self.posterior_mean(key), 6)})
        return rows

    def state_dict(self, upto_batch: int | None = None) -> dict[str, Any]:
        """Observations made at batches < upto_batch (a checkpoint after `upto_batch` steps); None: all."""
        return {k: [o for o in v if upto_batch is None or o[0] < upto_batch] for k, v in self._obs.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._obs = {k: [list(map(int, o)) for o in v] for k, v in state.items() if v}
