"""GRPO reward functions on the project's one verifier, routed by domain per sample.

There is one reward function per domain (`math_reward`, `code_reward`), each returning the verifier's score for the
samples of its domain and None for the others; TRL sums the non-None values and logs each function's mean over the
samples it applies to, so a mixed batch reports math and code rewards separately and never averages in a silent 0.
Code gets partial credit (passed tests / all tests), as in the paper; math is 0/1 (no separate format reward).

Each function also keeps the `Verdict.passed` flags of its last call (`last_passed`) for the online pass-rate
tracker: a sample *passes* only when fully correct (every test passed), as in method.md section 2.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from darl.records import Domain, Problem
from darl.verifiers import Verifier


def completion_text(completion: Any) -> str:
    """TRL hands conversational completions as [{'role': 'assistant', 'content': ...}] and plain ones as str."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content", "") for m in completion if m.get("role") == "assistant")


class DomainReward:
    """Reward of one domain; `problems` maps the dataset's `problem_id` column to the problem."""

    def __init__(self, domain: Domain, problems: Mapping[str, Problem], verifier: Verifier) -> None:
        self.domain = domain
        self.problems = problems
        self.verifier = verifier
        self.__name__ = f"{domain}_reward"
        self.last_passed: list[bool | None] = []

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], problem_id: Sequence[str],
                 **_: Any) -> list[float | None]:
        problems = [self.problems[pid] for pid in problem_id]
        mine = [i for i, p in enumerate(problems) if p.domain == self.domain]
        rewards: list[float | None] = [None] * len(problems)
        self.last_passed = [None] * len(problems)
        if mine:
            verdicts = self.verifier.verify_batch([problems[i] for i in mine],
                                                  [completion_text(completions[i]) for i in mine])
            for i, verdict in zip(mine, verdicts):
                rewards[i] = float(verdict.score)
                self.last_passed[i] = bool(verdict.passed)
        return rewards


def reward_functions(problems: Mapping[str, Problem], verifier: Verifier,
                     domains: Sequence[Domain]) -> list[DomainReward]:
    """One reward function per domain present in the run, in a fixed order (math before code)."""
    return [DomainReward(d, problems, verifier) for d in ("math", "code") if d in set(domains)]
