"""Reward functions on the project's real verifiers: routed by domain per sample, None where a reward does not
apply, code with partial credit, and the pass flags the online tracker reads."""

from __future__ import annotations

import pytest

from darl.records import CodeTests, IOTest, Problem
from darl.training.rewards import DomainReward, reward_functions
from darl.verifiers import Verifier

MATH = Problem(id="m1", domain="math", prompt="What is 2+2?", answer="4")
CODE = Problem(id="c1", domain="code", prompt="Read n and print 2n.",
               tests=CodeTests(io=(IOTest("2\n", "4\n"), IOTest("5\n", "10\n"), IOTest("0\n", "0\n"))))
PROBLEMS = {p.id: p for p in (MATH, CODE)}


def _msg(text):
    return [{"role": "assistant", "content": text}]


def test_math_reward_scores_math_and_skips_code():
    with Verifier() as verifier:
        math = DomainReward("math", PROBLEMS, verifier)
        out = math(prompts=[None] * 3, completions=[_msg("so \\boxed{4}"), _msg("\\boxed{5}"), _msg("x")],
                   problem_id=["m1", "m1", "c1"])
    assert out == [1.0, 0.0, None]
    assert math.last_passed == [True, False, None]
    assert math.__name__ == "math_reward"


def test_code_reward_partial_credit():
    pytest.importorskip("darl.verifiers.code")
    with Verifier() as verifier:
        code = DomainReward("code", PROBLEMS, verifier)
        good = "```python\nn = int(input())\nprint(2 * n)\n```"
        partial = "```python\nn = int(input())\nprint(4 if n == 2 else 0)\n```"  # passes 2 of 3 tests
        out = code(prompts=[None] * 3, completions=[_msg(good), _msg(partial), _msg("\\boxed{4}")],
                   problem_id=["c1", "c1", "m1"])
    assert out[0] == 1.0 and abs(out[1] - 2 / 3) < 1e-9 and out[2] is None
    assert code.last_passed == [True, False, None]


def test_reward_functions_one_per_domain_in_fixed_order():
    names = [f.__name__ for f in reward_functions(PROBLEMS, Verifier(), ["code", "math", "code"])]
    assert names == ["math_reward", "code_reward"]
