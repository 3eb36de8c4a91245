"""Rows of a `darl verify` input file -> (Problem, response), so any tool's outputs can be graded by darl.

A row is one JSON object with `domain` ("math" or "code") and `response`, and
- math: `answer`, the reference (LaTeX or plain text, or a number);
- code: either `tests`, a list of {"input", "output", "testtype"} (testtype "stdin" or "functional",
  LiveCodeBench style; a JSON string holding that list is accepted too) with `func_name` for functional tests
  (or inside a `metadata` object / JSON text, as in LiveCodeBench's hub rows),
  or `test`, assert-style test source (HumanEval's `check(candidate)`, MBPP asserts, a LeetCode check program)
  with an optional `entry_point` (HumanEval: `check(<entry_point>)` is appended when the source defines `check`
  but never calls it) and an optional `prelude` run before the response's code.
`prompt` and `time_limit_s` are used when present. Every other field is ignored here and passed through by the
command. The row's 1-based line number becomes the problem id (`line-7`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from darl.data.formats.base import RowError, answer_text
from darl.data.formats.livecodebench import io_tests, parse_test_cases
from darl.records import CodeTests, Problem, RecordError

_CALLS_CHECK = re.compile(r"^\s*check\s*\(", re.M)


def assert_program(test: str, entry_point: str | None) -> str:
    """The test source, with `check(entry_point)` appended when it defines `check` and never calls it."""
    if entry_point and "def check(" in test and not _CALLS_CHECK.search(test):
        return f"{test.rstrip()}\n\ncheck({entry_point})\n"
    return test


def _func_name_from_metadata(metadata: Any) -> str | None:
    """LiveCodeBench's hub rows keep `func_name` inside a `metadata` object or JSON text."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError:
            return None
    name = metadata.get("func_name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def _code_tests(row: Mapping[str, Any]) -> CodeTests:
    time_limit = row.get("time_limit_s")
    if time_limit is not None and (not isinstance(time_limit, (int, float)) or time_limit <= 0):
        raise RowError("time_limit_s", "expected a positive number of seconds")
    entry_point = row.get("entry_point")
    prelude = row.get("prelude")
    for name, value in (("entry_point", entry_point), ("prelude", prelude)):
        if value is not None and not isinstance(value, str):
            raise RowError(name, "expected text")
    if row.get("tests") is not None:
        cases = parse_test_cases(row["tests"], "tests")
        if not cases:
            raise RowError("tests", "empty list: nothing to run")
        if all(isinstance(c, str) for c in cases):
            return CodeTests(asserts=tuple(assert_program(c, entry_point) for c in cases), entry_point=entry_point,
                             prelude=prelude, time_limit_s=time_limit)
        io = io_tests(cases, "stdin", "tests")
        func_name = row.get("func_name")
        if func_name is None:
            func_name = _func_name_from_metadata(row.get("metadata"))
        if any(t.testtype == "functional" for t in io) and not (isinstance(func_name, str) and func_name.strip()):
            raise RowError("func_name", "functional tests need the name of the function or method to call")
        return CodeTests(io=io, func_name=func_name if isinstance(func_name, str) else None, prelude=prelude,
                         time_limit_s=time_limit)
    test = row.get("test")
    if test is None:
        raise RowError("tests", "a code row needs `tests` (input/output list) or `test` (assert-style source)")
    if not isinstance(test, str) or not test.strip():
        raise RowError("test", "expected non-empty test source")
    return CodeTests(asserts=(assert_program(test, entry_point),), entry_point=entry_point, prelude=prelude,
                     time_limit_s=time_limit)


def problem_from_verify_row(row: Any, line: int) -> tuple[Problem, str]:
    """The Problem and response of one input row; RowError naming the field when the row cannot be graded."""
    if not isinstance(row, dict):
        raise RowError(None, f"expected a JSON object, got {type(row).__name__}")
    domain = row.get("domain")
    if domain not in ("math", "code"):
        raise RowError("domain", f"expected 'math' or 'code', got {json.dumps(domain)}")
    response = row.get("response")
    if not isinstance(response, str):
        raise RowError("response", "missing" if response is None else f"expected text, got {type(response).__name__}")
    prompt = row.get("prompt") if isinstance(row.get("prompt"), str) and row["prompt"].strip() else \
        f"(darl verify row at line {line})"
    try:
        if domain == "math":
            if row.get("answer") is None:
                raise RowError("answer", "missing: a math row needs the reference answer")
            answer, _ = answer_text(row["answer"], "answer")
            problem = Problem(id=f"line-{line}", domain="math", prompt=prompt, answer=answer, source="verify")
        else:
            problem = Problem(id=f"line-{line}", domain="code", prompt=prompt, tests=_code_tests(row),
                              source="verify")
    except RecordError as exc:
        raise RowError(None, str(exc)) from None
    return problem, response
