"""`--grader math-verify`: plain Math-Verify as open-r1's accuracy_reward calls it, next to darl's own math verifier
on the cases where they differ (measured with the installed Math-Verify), and in a real `evaluate` run."""

from __future__ import annotations

import json

import pytest

from darl.errors import InputError
from darl.records import Problem
from darl.verifiers import Verifier
from darl.verifiers.plain_math_verify import PlainMathVerifyGrader, open_grader

# (reference, response, plain Math-Verify score, darl score)
CASES = [
    ("4", "<think>maybe \\boxed{5}</think> so \\boxed{4}", 1.0, 1.0),
    ("025", "\\boxed{25}", 1.0, 1.0),
    ("$\\frac{1}{2}$", "\\boxed{\\frac12}", 0.0, 1.0),   # darl tidies \frac12; plain Math-Verify misreads it
    ("4", "The answer is 4", 0.0, 0.0),                   # no box: neither open-r1's config nor darl (the paper's rule)
    ("4", "\\boxed{4} wait no \\boxed{5}", 0.0, 0.0),
]


@pytest.fixture(scope="module")
def graders():
    with PlainMathVerifyGrader() as plain, Verifier() as darl:
        yield plain, darl


@pytest.mark.parametrize("answer,response,plain_score,darl_score", CASES)
def test_plain_math_verify_and_darl_on_known_cases(graders, answer, response, plain_score, darl_score):
    plain, darl = graders
    p = Problem(id="x", domain="math", prompt="q", answer=answer)
    assert plain.verify(p, response).score == plain_score
    assert darl.verify(p, response).score == darl_score


def test_unparseable_reference_is_ungraded_not_zero(graders):
    plain, _ = graders
    verdict = plain.verify(Problem(id="x", domain="math", prompt="q", answer="see the figure"), "\\boxed{3}")
    assert verdict.score is None and not verdict.passed and "unparseable reference" in verdict.error


def test_code_problems_go_to_darls_sandbox(graders):
    from darl.records import CodeTests, IOTest

    plain, _ = graders
    p = Problem(id="c", domain="code", prompt="print 2n", tests=CodeTests(io=(IOTest("2\n", "4\n"),)))
    assert plain.verify(p, "```python\nprint(2 * int(input()))\n```").score == 1.0


def test_open_grader_names_an_unknown_grader():
    with pytest.raises(InputError, match="unknown grader 'mathverify'"):
        open_grader("mathverify")


def test_evaluate_with_the_plain_grader(tmp_path):
    from darl.benchmarks.registry import load_benchmark
    from darl.evaluation.evaluate import EvalSettings, evaluate
    from darl.generation.fake import FakeGenerator
    from darl.prompting import user_message

    problems = load_benchmark("aime24")[:4]
    table = {user_message(p): f"The answer is \\boxed{{{int(p.answer)}}}." for p in problems}
    with PlainMathVerifyGrader() as grader:
        evaluate(FakeGenerator(table), {"aime24": problems}, tmp_path, EvalSettings(samples=1), verifier=grader)
    assert json.loads((tmp_path / "eval.json").read_text())["benchmarks"]["aime24"]["pass@1"]["mean"] == 1.0
