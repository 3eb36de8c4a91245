"""`darl verify` grades a file mixing math (right, wrong, malformed) and code rows (stdin, functional, assert-style)
with the real verifiers: input order and every other field kept, score/passed/error added, malformed rows get an
error naming their line and never stop the file, and an interrupted run resumes where its output ends."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from darl.benchmarks import load_benchmark
from darl.cli.main import app
from darl.data.formats.base import RowError
from darl.data.verify_rows import assert_program, problem_from_verify_row


def code_block(source: str) -> str:
    return f"Here it is.\n```python\n{source}\n```"


def mixed_rows() -> list[object]:
    humaneval = load_benchmark("humaneval")[0]
    raw_test = humaneval.tests.asserts[0].rsplit("check(", 1)[0]  # HumanEval's own `test`, without the call
    mbpp = next(p for p in load_benchmark("mbpp") if p.tests.prelude)
    return [
        {"id": "m-right", "domain": "math", "answer": "\\frac{1}{2}", "response": "<think>hm</think> \\boxed{0.5}",
         "model": "any-tool", "extra": {"nested": [1, 2]}},
        {"id": "m-wrong", "domain": "math", "answer": 42, "response": "The answer is \\boxed{41}."},
        {"id": "m-no-answer", "domain": "math", "response": "\\boxed{3}"},
        "this line is not JSON",
        {"id": "c-stdin", "domain": "code", "response": code_block("a, b = map(int, input().split())\nprint(a + b)"),
         "tests": [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"},
                   {"input": "5 5\n", "output": "10\n", "testtype": "stdin"}]},
        {"id": "c-functional-half", "domain": "code", "func_name": "add",
         "response": code_block("class Solution:\n    def add(self, a, b):\n        return a + b"),
         "tests": json.dumps([{"input": "1\n2", "output": "3", "testtype": "functional"},
                              {"input": "2\n2", "output": "5", "testtype": "functional"}])},
        {"id": "c-humaneval", "domain": "code", "test": raw_test, "entry_point": humaneval.tests.entry_point,
         "prelude": humaneval.tests.prelude, "response": code_block(humaneval.metadata["reference_solution"])},
        {"id": "c-mbpp", "domain": "code", "tests": list(mbpp.tests.asserts), "prelude": mbpp.tests.prelude,
         "response": code_block(mbpp.metadata["reference_solution"])},
        {"id": "c-no-func-name", "domain": "code", "response": "x",
         "tests": [{"input": "1", "output": "1", "testtype": "functional"}]},
        {"id": "bad-domain", "domain": "physics", "response": "x"},
    ]


def write_input(path, rows):
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    lines.insert(2, "")  # a blank line is not a row, but it counts for line numbers
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verify")
    rows = mixed_rows()
    write_input(folder / "in.jsonl", rows)
    result = CliRunner().invoke(app, ["verify", str(folder / "in.jsonl"), "-o", str(folder / "out.jsonl"),
                                      "--workers", "2", "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (folder / "out.jsonl").read_text().splitlines()]
    return folder, rows, out, result.output


def test_rows_keep_order_and_fields(graded):
    _, rows, out, _ = graded
    assert len(out) == len(rows)
    for given, got in zip(rows, out):
        if isinstance(given, dict):
            assert {k: got[k] for k in given} == given  # every input field passed through unchanged
        assert set(got) >= {"score", "passed", "error"}


def test_scores(graded):
    _, _, out, output = graded
    by_id = {row.get("id", "not-json"): row for row in out}
    expect = {"m-right": (1.0, True), "m-wrong": (0.0, False), "c-stdin": (1.0, True),
              "c-functional-half": (0.5, False), "c-humaneval": (1.0, True), "c-mbpp": (1.0, True)}
    for row_id, (score, passed) in expect.items():
        assert (by_id[row_id]["score"], by_id[row_id]["passed"]) == (score, passed), by_id[row_id]
    assert by_id["m-right"]["error"] is None and by_id["c-humaneval"]["error"] is None
    assert "passed" in output and "malformed" in output


def test_malformed_rows_name_line_and_field(graded):
    _, _, out, _ = graded
    by_id = {row.get("id", "not-json"): row for row in out}
    assert by_id["m-no-answer"]["error"].startswith("line 4: field 'answer'")  # line 3 is blank
    assert by_id["not-json"] == {"line": 5, "input": "this line is not JSON", "score": 0.0, "passed": False,
                                 "error": "line 5: not valid JSON (Expecting value at column 1)"}
    assert by_id["c-no-func-name"]["error"].startswith("line 10: field 'func_name'")
    assert by_id["bad-domain"]["error"].startswith("line 11: field 'domain'")
    assert all(by_id[k]["score"] == 0.0 and by_id[k]["passed"] is False
               for k in ("m-no-answer", "not-json", "c-no-func-name", "bad-domain"))


def test_resume_after_interruption(graded):
    folder, _, out, _ = graded
    full = (folder / "out.jsonl").read_text()
    cut = "".join(full.splitlines(keepends=True)[:3]) + '{"id": "half a li'
    (folder / "resumed.jsonl").write_text(cut)
    result = CliRunner().invoke(app, ["verify", str(folder / "in.jsonl"), "-o", str(folder / "resumed.jsonl"),
                                      "--workers", "2", "--resume"])
    assert result.exit_code == 0, result.output
    assert (folder / "resumed.jsonl").read_text() == full
    assert "3 kept from the earlier run" in result.output


def test_verify_row_conversion():
    problem, response = problem_from_verify_row({"domain": "math", "answer": 27.0, "response": "r"}, 7)
    assert problem.id == "line-7" and problem.answer == "27" and response == "r"
    assert assert_program("def check(c):\n    assert c(1) == 1\n", "f").rstrip().endswith("check(f)")
    already = "def check(c):\n    assert c(1) == 1\n\ncheck(Solution().f)\n"
    assert assert_program(already, "g") == already
    lcb_style = {"domain": "code", "response": "", "metadata": json.dumps({"func_name": "f"}),
                 "tests": json.dumps([{"input": "1", "output": "1", "testtype": "functional"}])}
    assert problem_from_verify_row(lcb_style, 1)[0].tests.func_name == "f"
    problem, _ = problem_from_verify_row({"domain": "code", "response": "", "tests": ["assert f(1) == 2"]}, 1)
    assert problem.tests.asserts == ("assert f(1) == 2",)
    with pytest.raises(RowError, match="needs `tests`"):
        problem_from_verify_row({"domain": "code", "response": ""}, 1)
    with pytest.raises(RowError) as error:
        problem_from_verify_row({"domain": "code", "response": "", "tests": "[{'input': 1}]"}, 1)
    assert error.value.field == "tests[0]"
    with pytest.raises(RowError) as error:
        problem_from_verify_row({"domain": "math", "answer": "1", "response": None}, 1)
    assert error.value.field == "response"


def test_a_failing_verifier_call_is_reported_on_its_row():
    from darl.data.verify_file import grade_chunk as _grade

    class Flaky:
        def verify_batch(self, problems, responses, thinking=False):
            raise RuntimeError("batch broke")

        def verify(self, problem, response, thinking=False):
            if response == "boom":
                raise RuntimeError("row broke")
            return "ok"

    problems = [problem_from_verify_row({"domain": "math", "answer": "1", "response": r}, i)[0]
                for i, r in enumerate(["fine", "boom"], start=1)]
    assert _grade(Flaky(), problems, ["fine", "boom"]) == ["ok", "verifier failed (RuntimeError: row broke)"]
