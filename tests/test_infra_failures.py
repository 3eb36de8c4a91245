"""A checker that fails to run (the code sandbox cannot start: infrastructure, not the program) gives an ungraded
verdict (score None), which scoring leaves out of K and counts, GRPO leaves out of its group, and evaluation leaves
out of Pass@1: never a silent 0.

A sandbox that breaks on demand cannot be produced here, so the failure is injected where it happens
(`Sandbox.run` raising `SandboxUnavailable`, or a verifier that answers 'sandbox unavailable' for marked texts);
everything around it is the real code.
"""

from __future__ import annotations

import inspect
import json

import pytest

from darl.data.io import write_problems
from darl.generation.fake import FakeGenerator
from darl.records import CodeTests, IOTest, Problem, Verdict
from darl.verifiers import Verifier

BROKEN = "BROKEN-SANDBOX"  # a response text the stand-in verifier cannot grade
MATH = [Problem(id=f"m{i}", domain="math", prompt=f"Q{i}", answer="4", metadata={"raw_prompt": True})
        for i in range(2)]


class SometimesBroken(Verifier):
    """The real verifier, except that a response containing BROKEN meets a sandbox that failed to start."""

    def verify_batch(self, problems, responses, thinking=False):
        real = super().verify_batch(problems, responses, thinking=thinking)
        return [Verdict(None, False, "sandbox unavailable") if BROKEN in r else v for r, v in zip(responses, real)]


def test_an_ungraded_verdict_cannot_pass():
    assert not Verdict(None, False, "sandbox unavailable").graded
    with pytest.raises(ValueError, match="cannot have passed"):
        Verdict(None, True)


def test_code_verifier_turns_a_sandbox_failure_into_an_ungraded_verdict(monkeypatch):
    from darl.verifiers.code import CodeVerifier
    from darl.verifiers.code.sandbox import Sandbox, SandboxUnavailable

    problem = Problem(id="c", domain="code", prompt="Print 2n.", tests=CodeTests(io=(IOTest("2\n", "4\n"),)))
    program = "```python\nprint(int(input()) * 2)\n```"
    with CodeVerifier(workers=1) as verifier:
        assert verifier.verify(problem, program) == Verdict(1.0, True, None, 1, 1)

        def cannot_start(self, slot, job):
            raise SandboxUnavailable("the sandbox did not start: injected")

        monkeypatch.setattr(Sandbox, "run", cannot_start)
        verdict = verifier.verify(problem, program)
    assert (verdict.score, verdict.passed, verdict.error) == (None, False, "sandbox unavailable")


def test_scoring_leaves_ungraded_samples_out_of_k_and_retries_rows_without_any(tmp_path):
    from darl.scoring import ModelSpec, ScoreJob, merge_shards, read_scores, run_shard
    from darl.scoring.table import score_metrics

    problems = write_problems(MATH, tmp_path / "p.parquet")
    replies = {"Q0": ["\\boxed{4}", BROKEN, "\\boxed{5}", BROKEN], "Q1": [BROKEN]}
    job = ScoreJob(str(problems), (ModelSpec("m", "x"),), k=4, max_new_tokens=50)
    with SometimesBroken() as broken:
        result = run_shard(job, tmp_path / "out", make_generator=lambda s: FakeGenerator(replies, name="m"),
                           verifier=broken)
    assert (result.complete, result.units_new, result.ungraded_units) == (False, 1, 1)
    with Verifier() as healthy:  # the sandbox works again: the same command scores what was left
        again = run_shard(job, tmp_path / "out", verifier=healthy,
                          make_generator=lambda s: FakeGenerator({"Q1": "\\boxed{4}"}, name="m"))
    assert again.complete and again.units_new == 1
    rows = {r["problem_id"]: r for r in read_scores(merge_shards(tmp_path / "out"))}
    m0 = rows["m0"]
    assert (m0["k"], m0["passes"], m0["pass_rate"], m0["infra_failures"]) == (2, 1, 0.5, 2)
    assert json.loads(m0["errors"]) == {"sandbox unavailable": 2}
    assert (rows["m1"]["k"], rows["m1"]["infra_failures"], rows["m1"]["pass_rate"]) == (4, 0, 1.0)
    metrics = score_metrics(list(rows.values()))
    assert metrics["score/m/math/infra_failures"] == 2
    assert metrics["score/m/math/mean_pass_rate"] == 0.75


def test_reward_is_none_and_the_rate_is_logged():
    from darl.training.rewards import DomainReward

    logged = []
    with SometimesBroken() as verifier:
        reward = DomainReward("math", {p.id: p for p in MATH}, verifier)
        out = reward(prompts=[None] * 4, completions=["\\boxed{4}", BROKEN, "\\boxed{3}", BROKEN],
                     problem_id=["m0"] * 4, log_metric=lambda name, value: logged.append((name, value)))
    assert out == [1.0, None, 0.0, None]
    assert reward.last_passed == [True, None, False, None]
    assert logged == [("rewards/math_reward/ungraded_rate", 0.5)]


def test_trl_leaves_all_none_completions_out_of_the_group():
    """What the reward contract relies on, read from the installed TRL: a completion whose every reward is None is
    NaN, left out of the group mean and std (nanmean, nanstd) and gets advantage 0 (TRL >= 1.x's `unscorable_mask`).
    If a TRL release lacks it, nansum would turn the None into a reward of 0: this test then fails."""
    from trl import GRPOTrainer

    source = inspect.getsource(GRPOTrainer._generate_and_score_completions)
    assert "unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)" in source
    assert "rewards[unscorable_mask] = torch.nan" in source
    assert "torch.nanmean(rewards.view(-1, num_generations), dim=1)" in source
    assert "advantages = torch.nan_to_num(advantages, nan=0.0)" in source
    rewards_source = inspect.getsource(GRPOTrainer._calculate_rewards)
    assert "reward if reward is not None else torch.nan" in rewards_source


def test_evaluation_leaves_ungraded_samples_out_of_pass_at_1():
    from darl.evaluation.evaluate import flat_metrics, summarize_benchmark

    def sample(passed, score):
        return {"passed": passed, "score": score, "num_tokens": 5, "truncated": False}

    samples = {"m0": [sample(True, 1.0), sample(False, None)],
               "m1": [sample(False, None), sample(False, None)],
               "m2": [sample(False, 0.0), sample(True, 1.0)]}
    summary = summarize_benchmark(MATH + [Problem(id="m2", domain="math", prompt="Q2", answer="4")], samples, 2,
                                  [1, 2])
    assert summary["pass@1"]["mean"] == pytest.approx(0.75)  # m0: 1/1, m2: 1/2; m1 has no graded sample
    assert summary["ungraded_samples"] == 3
    assert summary["pass@k"]["2"] is None  # not every problem kept 2 graded samples
    assert flat_metrics({"toy": summary})["eval/toy/ungraded_samples"] == 3.0
