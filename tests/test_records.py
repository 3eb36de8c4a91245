"""The one problem schema: validation names the field, and rows round-trip through Parquet's flat form."""

import pytest

from darl.records import CodeTests, IOTest, Problem, RecordError


def test_math_problem_round_trips_through_a_row():
    p = Problem(id="m1", domain="math", prompt="1+1?", answer="2", source="t", metadata={"level": 1})
    assert Problem.from_row(p.to_row()) == p


def test_code_problem_round_trips_through_a_row():
    tests = CodeTests(io=(IOTest("[1, 2]\n3", "4", "functional"),), func_name="add")
    p = Problem(id="c1", domain="code", prompt="add", tests=tests, metadata={"platform": "leetcode"})
    row = p.to_row()
    assert isinstance(row["tests"], str)
    assert Problem.from_row(row) == p


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(id="x", domain="math", prompt="q"), "answer"),
        (dict(id="x", domain="code", prompt="q"), "tests"),
        (dict(id="x", domain="chemistry", prompt="q", answer="1"), "domain"),
        (dict(id="x", domain="math", prompt="  ", answer="1"), "prompt"),
    ],
)
def test_invalid_problems_name_the_field(kwargs, field):
    with pytest.raises(RecordError, match=field):
        Problem(**kwargs)


def test_functional_tests_need_a_function_name():
    with pytest.raises(RecordError, match="func_name"):
        CodeTests(io=(IOTest("1", "1", "functional"),)).validate()


def test_unknown_test_keys_and_bad_json_are_reported_with_the_row():
    with pytest.raises(RecordError, match="row 7.*unknown key"):
        Problem.from_row({"id": "c", "domain": "code", "prompt": "p", "tests": {"cases": []}}, where="row 7")
    with pytest.raises(RecordError, match="row 3.tests: not valid JSON"):
        Problem.from_row({"id": "c", "domain": "code", "prompt": "p", "tests": "{oops"}, where="row 3")
