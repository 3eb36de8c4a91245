"""Online difficulty: Beta posterior per prompt from rollout groups, retire/defer policy as of a batch,
state round trip that drops observations a checkpoint undoes, zero-variance groups."""

from __future__ import annotations

import numpy as np

from darl.training.online_difficulty import GroupOutcome, OnlineDifficulty, beta_posterior, zero_variance_groups
from darl.training.recipe import OnlineDifficultySettings


def test_beta_posterior():
    assert beta_posterior(3, 8, 1.0, 1.0) == (4.0, 6.0)


def test_status_as_of_a_batch():
    od = OnlineDifficulty(OnlineDifficultySettings(retire_solved=True, retire_min_rollouts=8,
                                                   defer_unsolved=True, defer_min_rollouts=8))
    od.observe(0, [GroupOutcome("a", "math/L1", 4, 4), GroupOutcome("b", "math/L1", 0, 4),
                   GroupOutcome("c", "math/L1", 2, 4)])
    od.observe(1, [GroupOutcome("a", "math/L1", 4, 4), GroupOutcome("b", "math/L1", 0, 4)])
    assert od.status(["a", "b", "c", "d"], upto_batch=1) == ["retired", "deferred", "active", "active"]
    assert od.status(["a", "b"], upto_batch=0) == ["active", "active"]  # only 4 rollouts seen by then
    assert abs(od.posterior_mean("c") - 3 / 6) < 1e-9
    summary = od.summary(["a", "b", "c", "d"])
    assert summary["stage/prompts_seen"] == 3 and abs(summary["stage/prompts_always_solved"] - 1 / 3) < 1e-9


def test_state_dict_drops_observations_after_the_checkpoint():
    od = OnlineDifficulty(OnlineDifficultySettings())
    od.observe(0, [GroupOutcome("a", "s", 1, 4)])
    od.observe(1, [GroupOutcome("a", "s", 2, 4)])
    restored = OnlineDifficulty(OnlineDifficultySettings())
    restored.load_state_dict(od.state_dict(upto_batch=1))
    assert restored.counts("a") == (1, 4)


def test_zero_variance_groups_ignore_missing_rewards():
    r = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [0.5, np.nan, 0.5], [np.nan, np.nan, np.nan]])
    assert zero_variance_groups(r).tolist() == [True, False, True, True]
