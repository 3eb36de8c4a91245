"""The loaders' code tests are runnable as loaded: reference solutions pass in the real sandbox and a mutated one
fails (a sample of each format; the full runs are in docs/data.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from darl.benchmarks import load_benchmark
from darl.data.loaders import load_problems

FIXTURES = Path(__file__).parent / "fixtures" / "shared"


@pytest.fixture(scope="module")
def verifier():
    from darl.verifiers.code import CodeVerifier

    with CodeVerifier(workers=2) as code_verifier:
        yield code_verifier


def as_response(source: str) -> str:
    return f"```python\n{source}\n```"


def test_reference_solutions_pass(verifier):
    full_mbpp = {p.id: p for p in load_problems(FIXTURES / "mbpp" / "mbpp.jsonl")}
    problems = (load_benchmark("humaneval")[:6] + load_benchmark("mbpp")[:6] + [full_mbpp["mbpp/367"]]
                + load_problems(FIXTURES / "leetcode" / "leetcode_test_200.json")[:6]
                + [p for p in load_benchmark("humaneval") if p.tests.entry_point == "decode_cyclic"])
    verdicts = verifier.verify_batch(problems, [as_response(p.metadata["reference_solution"]) for p in problems])
    assert [(p.id, v.passed, v.error) for p, v in zip(problems, verdicts) if not v.passed] == []


def test_humaneval_target_function_alone_uses_prelude(verifier):
    decode = next(p for p in load_benchmark("humaneval") if p.tests.entry_point == "decode_cyclic")
    only_target = decode.metadata["reference_solution"].split("def decode_cyclic")[1]
    verdict = verifier.verify(decode, as_response("def decode_cyclic" + only_target))
    assert verdict.passed  # encode_cyclic comes from the prelude


def test_mutated_solution_fails(verifier):
    problem = load_benchmark("humaneval")[2]  # truncate_number: return number % 1.0
    wrong = problem.metadata["reference_solution"].replace("number % 1.0", "number % 2.0")
    assert wrong != problem.metadata["reference_solution"]
    assert not verifier.verify(problem, as_response(wrong)).passed
