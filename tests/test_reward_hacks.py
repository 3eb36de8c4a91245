"""Reward hacks score 0, honest answers keep scoring 1: the catalogue of bench/bench_reward_hacks.py (one source for
the table and these tests) through darl's real verifiers (bubblewrap sandbox, Math-Verify).

Each hack is written so that it would be rewarded if the trick worked; the honest controls sit beside them on the
same problems. Partial credit counts only the tests the prompt does not show (`jobs.hidden_score`), so a program
that memorised the prompt's examples scores 0 (docs/sandbox.md)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from darl.records import CodeTests, IOTest, Problem
from darl.verifiers.code import CodeVerifier
from darl.verifiers.code.jobs import hidden_score, prompt_example_tests
from darl.verifiers.math import MathVerifier

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_reward_hacks", ROOT / "bench/bench_reward_hacks.py")
hacks = importlib.util.module_from_spec(_spec)
sys.modules["bench_reward_hacks"] = hacks  # dataclasses look their module up there
_spec.loader.exec_module(hacks)  # type: ignore[union-attr]

MEMORISING = "prompt examples"


@pytest.fixture(scope="module")
def code_verifier():
    with CodeVerifier(workers=2) as verifier:
        yield verifier


@pytest.fixture(scope="module")
def math_verifier():
    with MathVerifier(workers=1) as verifier:
        yield verifier


def _rewarded(cases, verdicts):
    return [(c.name, c.style, v.score, v.error) for c, v in zip(cases, verdicts)
            if (v.score != 1.0 if c.honest else v.score != 0.0)]


def test_the_catalogue_covers_every_family_in_every_style():
    cases = hacks.all_cases()
    styles = {(c.family, c.style) for c in cases}
    for family in ("equal to anything", "early exit"):
        assert {s for f, s in styles if f == family} >= {"functional", "assert", "assert-mbpp", "assert-leetcode"}
    assert {s for f, s in styles if f == "early exit"} >= {"stdin"}
    assert {s for f, s in styles if f == "harness tampering"} >= {"stdin", "functional", "assert", "assert-mbpp",
                                                                  "assert-leetcode"}
    assert {s for f, s in styles if f == "reading the expected output"} >= {"stdin", "functional", "assert"}
    assert {f for f, s in styles if s == "boxed"} >= {"several answers", "intervals", "alternatives in a box",
                                                      "thinking only", "question echoed", "pathological"}
    assert sum(c.honest for c in cases) >= 8


def test_the_issues_example_and_in_process_attacks_score_zero(code_verifier):
    """The issue's own example (an int subclass whose __eq__ says yes, against HumanEval-style and MBPP asserts),
    a forged result line, the caller's bytecode and the harness's memory: each passed before the solver split."""
    wanted = {("eq_int_subclass", "assert-mbpp"), ("forge_result_on_pipe", "assert"),
              ("read_caller_frame_constant", "assert"), ("read_harness_memory_gc", "assert-mbpp"),
              ("patch_result_writer_json", "assert-leetcode"), ("honest_assert", "assert"),
              ("honest_assert-leetcode", "assert-leetcode")}
    cases = [c for c in hacks.code_cases() if (c.name, c.style) in wanted]
    assert len(cases) == len(wanted)
    verdicts = code_verifier.verify_batch([c.problem for c in cases], [c.response for c in cases])
    assert _rewarded(cases, verdicts) == []


@pytest.mark.slow
def test_every_code_hack_scores_zero_and_honest_code_passes(code_verifier):
    cases = hacks.code_cases()
    verdicts = code_verifier.verify_batch([c.problem for c in cases], [c.response for c in cases])
    assert _rewarded(cases, verdicts) == []


def test_memorised_prompt_examples_earn_nothing_on_the_hidden_tests(code_verifier):
    cases = [c for c in hacks.code_cases() if c.family == MEMORISING]
    assert {c.style for c in cases} == {"stdin", "functional", "assert-mbpp"}
    for case in cases:
        assert prompt_example_tests(case.problem.prompt, case.problem.tests) == [0]
        outcomes = code_verifier.test_outcomes(case.problem, case.response)
        assert [o.passed for o in outcomes] == [True, False, False, False]  # right on the example only
        assert hidden_score(case.problem, outcomes) == 0.0
        assert code_verifier.verify(case.problem, case.response).score == 0.0  # the reward itself
    honest = next(c for c in hacks.code_cases() if c.name == "honest_stdin")
    assert hidden_score(honest.problem, code_verifier.test_outcomes(honest.problem, honest.response)) == 1.0


def test_prompt_examples_are_found_in_every_test_style():
    prompt = "Example:\nInput\n3 4\nOutput\n7\n\nadd([1, 2], 3) returns [4, 5]\n>>> assert f(1) == 2"
    stdin = CodeTests(io=(IOTest("3 4\n", "7\n"), IOTest("1 1\n", "2\n")))
    functional = CodeTests(io=(IOTest("[1,2]\n3", "[4,5]", "functional"), IOTest("[1]\n1", "[2]", "functional")),
                           func_name="add")
    asserts = CodeTests(asserts=("assert f(1) == 2", "assert f(2) == 3"))
    assert prompt_example_tests(prompt, stdin) == [0]
    assert prompt_example_tests(prompt, functional) == [0]
    assert prompt_example_tests(prompt, asserts) == [0]
    everything = Problem(id="p", domain="code", prompt=prompt, tests=CodeTests(io=stdin.io[:1]))
    with pytest.raises(ValueError):
        hidden_score(Problem(id="m", domain="math", prompt="x", answer="1"), [])
    assert hidden_score(everything, []) is None


def test_every_math_hack_scores_zero_and_honest_answers_pass(math_verifier):
    cases = hacks.math_cases()
    verdicts = math_verifier.verify_batch([c.problem for c in cases], [c.response for c in cases])
    assert _rewarded(cases, verdicts) == []


def test_answers_only_in_the_thinking_part_score_zero(math_verifier, code_verifier):
    """`extract.final_answer_part` is what both verifiers grade: the box or program of the thought is not the
    answer, whether the response opened the thought itself or the prompt did (`thinking=True`)."""
    math_problem = Problem(id="m", domain="math", prompt="Compute 6 times 7.", answer="42")
    for response, thinking in (("<think>\\boxed{42}</think> not sure", False), ("\\boxed{42}", True),
                               ("<think>so \\boxed{42}", False), ("I think \\boxed{42}</think>", True)):
        verdict = math_verifier.verify(math_problem, response, thinking=thinking)
        assert verdict.score == 0.0, (response, verdict)
    assert math_verifier.verify(math_problem, "<think>hm</think> \\boxed{42}").score == 1.0
    code = hacks._stdin_problem()
    program = "```python\n" + hacks.HONEST["stdin"] + "```"
    assert code_verifier.verify(code, f"<think>{program}</think>I could not do it.").score == 0.0
    assert code_verifier.verify(code, program, thinking=True).score == 0.0
    assert code_verifier.verify(code, f"<think>try</think>{program}").score == 1.0


def test_pathological_math_answers_are_bounded_in_time(math_verifier):
    import time

    cases = [c for c in hacks.math_cases() if c.family == "pathological"]
    started = time.perf_counter()
    verdicts = math_verifier.verify_batch([c.problem for c in cases], [c.response for c in cases])
    assert all(v.score == 0.0 for v in verdicts)
    assert time.perf_counter() - started < 5 * math_verifier.deadline_s  # generous: a loaded 2-core machine


@pytest.mark.skipif(os.geteuid() != 0, reason="kill -9 -1 reaches the zygote only under the slot's own uid")
def test_a_program_that_kills_the_zygote_does_not_harm_the_next_response(code_verifier):
    """`kill -9 -1` from a stdin test also kills the sandbox's zygote (same uid); the sandbox retires after that
    job and the next response's assert tests run in a fresh one."""
    killer = Problem(id="k", domain="code", prompt="p",
                     tests=CodeTests(io=(IOTest("", "x\n"),), time_limit_s=3.0))
    honest = next(c for c in hacks.code_cases() if c.name == "honest_assert-mbpp")
    for _ in range(2):
        verdicts = code_verifier.verify_batch(
            [killer, honest.problem, honest.problem],
            ["```python\nimport os, signal\nos.kill(-1, signal.SIGKILL)\n```", honest.response, honest.response])
        assert [v.score for v in verdicts] == [0.0, 1.0, 1.0]


def test_honest_assert_tests_keep_working_across_the_process_split(code_verifier):
    """What assert tests do with the program besides comparing return values: pass the test's own functions,
    check arguments changed in place (lists and LeetCode's linked lists), build and mutate the program's objects,
    catch the program's exceptions, and get Counters and nested containers back."""
    from darl.data.formats.leetcode import LEETCODE_PRELUDE

    asserts = (
        "assert apply_all(lambda x: x * 2, [1, 2]) == [2, 4]",
        "class K:\n    def key(self, x):\n        return -x\nassert sort_by(K().key, [1, 3, 2]) == [3, 2, 1]",
        "def bad(x):\n    raise KeyError(x)\ntry:\n    apply_all(bad, [1])\nexcept KeyError:\n    pass\nelse:\n    assert False",
        "xs = [3, 1, 2]\nassert sort_in_place(xs) is None\nassert xs == [1, 2, 3]",
        "root = Node(1)\nroot.left = Node(2)\nroot.left.left = Node(3)\nassert depth(root) == 3\nassert root.left.value == 2",
        "assert count([1, 1, 2]) == {1: 2, 2: 1} and isinstance(count([]), dict)",
        "assert nested() == {'a': [(1, 2), {3}], 'b': None}",
        "try:\n    depth(None, strict=True)\nexcept ValueError:\n    pass\nelse:\n    assert False",
    )
    program = ("from collections import Counter\n"
               "def apply_all(f, xs):\n    return [f(x) for x in xs]\n"
               "def sort_by(key, xs):\n    return sorted(xs, key=key)\n"
               "def sort_in_place(xs):\n    xs.sort()\n"
               "class Node:\n    def __init__(self, value):\n        self.value, self.left, self.right = value, None, None\n"
               "def depth(node, strict=False):\n    if node is None:\n        if strict:\n            raise ValueError('empty')\n"
               "        return 0\n    return 1 + max(depth(node.left), depth(node.right))\n"
               "def count(xs):\n    return Counter(xs)\n"
               "def nested():\n    return {'a': [(1, 2), {3}], 'b': None}\n")
    problem = Problem(id="split", domain="code", prompt="p", tests=CodeTests(asserts=asserts, time_limit_s=5.0))
    outcomes = code_verifier.test_outcomes(problem, hacks.fenced(program))
    assert [o.passed for o in outcomes] == [True] * len(asserts), outcomes

    reorder = ("def check(candidate):\n    head = list_node([1, 2, 3, 4])\n    assert candidate(head) is None\n"
               "    assert is_same_list(head, list_node([1, 4, 2, 3]))\n\ncheck(Solution().reorderList)")
    solution = ("class Solution:\n    def reorderList(self, head):\n        nodes = []\n        while head:\n"
                "            nodes.append(head)\n            head = head.next\n        i, j = 0, len(nodes) - 1\n"
                "        order = []\n        while i <= j:\n            order.append(nodes[i])\n            if i != j:\n"
                "                order.append(nodes[j])\n            i, j = i + 1, j - 1\n"
                "        for a, b in zip(order, order[1:] + [None]):\n            a.next = b\n")
    leetcode = Problem(id="reorder", domain="code", prompt="p",
                       tests=CodeTests(asserts=(reorder,), prelude=LEETCODE_PRELUDE, time_limit_s=5.0))
    assert code_verifier.verify(leetcode, hacks.fenced(solution)).passed
