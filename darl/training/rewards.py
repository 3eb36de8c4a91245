"""GRPO reward functions on the project's one verifier, routed by domain per sample.

There is one reward function per domain (`math_reward`, `code_reward`), each returning the verifier's score for the
samples of its domain and None for the others; TRL sums the non-None values and logs each function's mean over the
samples it applies to, so a mixed batch reports math and code rewards separately and never averages in a silent 0.
Code gets partial credit (passed tests / all tests), as in the paper; math is 0/1 (no separate format reward).

Each function also keeps the `Verdict.passed` flags of its last call (`last_passed`) for the online pass-rate
tracker: a sample *passes* only when fully correct (every test passed), as in method.md section 2.

`thinking=True` (decided by the trainer from the policy's tokenizer, `darl.prompting.prompt_opens_thinking`): the
prompt opened a `<think>` block, so a completion without `</think>` has no answer and gets 0.

A sample the verifier could not grade (an infrastructure failure such as a code sandbox that cannot start, Verdict
score None) gets reward None, like a sample of the other domain, never a silent 0: TRL 1.16 (`GRPOTrainer.
_generate_and_score_completions`) turns None into NaN, marks a completion whose every reward is NaN unscorable,
leaves it out of its group's mean and std (nanmean / nanstd) and sets its advantage to 0. Its `last_passed` is None.
Each call logs the share of its domain's samples left ungraded as `rewards/<domain>_reward/ungraded_rate` through
TRL's `log_metric` (docs/metrics.md: `train/rewards/<domain>_reward/ungraded_rate`).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from darl.records import Domain, Problem
from darl.verifiers import Verifier


def completion_text(completion: Any) -> str:
    """TRL hands conversational completions as [{'role': 'assistant', 'content': ...}] and plain ones as str."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content", "") for m in completion if m.get("role") == "assistant")


class DomainReward:
    """Reward of one domain; `problems` maps the dataset's `problem_id` column to the problem."""

    def __init__(self, domain: Domain, problems: Mapping[str, Problem], verifier: Verifier,
                 thinking: bool = False) -> None:
        self.domain = domain
        self.problems = problems
        self.verifier = verifier
        self.thinking = thinking
        self.__name__ = f"{domain}_reward"
        self.last_passed: list[bool | None] = []
        self.last_ungraded = 0

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], problem_id: Sequence[str],
                 log_metric: Callable[[str, float], None] | None = None, **_: Any) -> list[float | None]:
        problems = [self.problems[pid] for pid in problem_id]
        mine = [i for i, p in enumerate(problems) if p.domain == self.domain]
        rewards: list[float | None] = [None] * len(problems)
        self.last_passed = [None] * len(problems)
        self.last_ungraded = 0
        if mine:
            verdicts = self.verifier.verify_batch([problems[i] for i in mine],
                                                  [completion_text(completions[i]) for i in mine],
                                                  thinking=self.thinking)
            for i, verdict in zip(mine, verdicts):
                if verdict.score is None:  # the verifier could not run: no reward, not a 0
                    self.last_ungraded += 1
                    continue
                rewards[i] = float(verdict.score)
                self.last_passed[i] = bool(verdict.passed)
            if log_metric is not None:
                log_metric(f"rewards/{self.__name__}/ungraded_rate", self.last_ungraded / len(mine))
        return rewards


def reward_functions(problems: Mapping[str, Problem], verifier: Verifier, domains: Sequence[Domain],
                     thinking: bool = False) -> list[DomainReward]:
    """One reward function per domain present in the run, in a fixed order (math before code). `thinking`: the
    policy's prompt opens a `<think>` block (see the module docstring)."""
    return [DomainReward(d, problems, verifier, thinking) for d in ("math", "code") if d in set(domains)]
