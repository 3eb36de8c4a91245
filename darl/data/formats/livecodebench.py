"""LiveCodeBench code-generation rows: `question_id`, `question_content`, `starter_code`, `platform`,
`contest_date`, `difficulty`, `func_name`, and `public_test_cases` (a list of {input, output, testtype}, stored
either as a list, as JSON text, or as a Python literal as in the packaged copy).

Only the public example tests are used: the packaged copy has no others, and the hub copy stores its hidden tests
as pickled data, which darl does not unpickle (loading a pickle runs code). A program graded here can pass and
still be wrong: see the benchmark's MANIFEST. Functional problems (LeetCode
`class Solution`) show their starter code in the prompt; stdin problems are the statement alone.
"""

from __future__ import annotations

import ast
import json
from typing import Any, Mapping

from darl.data.formats.base import RowContext, RowError, RowFormat, optional, stable_id, text_field
from darl.records import CodeTests, IOTest, Problem

METADATA_FIELDS = ("question_id", "question_title", "platform", "contest_id", "contest_date", "difficulty",
                   "starter_code", "deepcoder_split")


def matches(columns: frozenset[str], sample: Mapping[str, Any], filename: str) -> bool:
    return {"question_content", "public_test_cases"} <= columns


def parse_test_cases(value: Any, field: str = "public_test_cases") -> list[dict[str, Any]]:
    """The test list from a list, JSON text, or a Python literal; RowError when it is none of these."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise RowError(field, "neither JSON nor a Python literal list of tests") from None
    if not isinstance(value, list):
        raise RowError(field, f"expected a list of tests, got {type(value).__name__}")
    return value


def io_tests(cases: list[Any], default_type: str, field: str = "public_test_cases") -> tuple[IOTest, ...]:
    tests = []
    for i, case in enumerate(cases):
        if not isinstance(case, dict) or "input" not in case or "output" not in case:
            raise RowError(f"{field}[{i}]", "expected an object with 'input' and 'output'")
        testtype = case.get("testtype") or default_type
        if testtype not in ("stdin", "functional"):
            raise RowError(f"{field}[{i}].testtype", f"{testtype!r} is not 'stdin' or 'functional'")
        tests.append(IOTest(input=str(case["input"]), output=str(case["output"]), testtype=testtype))
    return tuple(tests)


def to_problem(row: Mapping[str, Any], ctx: RowContext) -> Problem:
    statement = text_field(row, "question_content").strip()
    default_type = optional(row, "testtype") or "stdin"
    tests = io_tests(parse_test_cases(row.get("public_test_cases")), default_type)
    if not tests:
        raise RowError("public_test_cases", "no public test: the problem cannot be graded")
    func_name = optional(row, "func_name")
    if func_name is None and isinstance(row.get("metadata"), str):
        # The hub copy (livecodebench/code_generation_lite) keeps it in a JSON `metadata` column.
        try:
            extra = json.loads(row["metadata"])
        except json.JSONDecodeError:
            raise RowError("metadata", "not valid JSON") from None
        func_name = extra.get("func_name") if isinstance(extra, dict) else None
    if any(t.testtype == "functional" for t in tests) and not func_name:
        raise RowError("func_name", "functional tests need the method name")
    starter = optional(row, "starter_code")
    prompt = statement
    if isinstance(starter, str) and starter.strip():
        prompt += f"\n\nUse this starter code:\n```python\n{starter.rstrip()}\n```"
    metadata = {k: row[k] for k in METADATA_FIELDS if optional(row, k) is not None}
    return Problem(id=stable_id(ctx, optional(row, "question_id")), domain="code", prompt=prompt,
                   tests=CodeTests(io=tests, func_name=func_name), source=ctx.source, metadata=metadata)


FORMAT = RowFormat(
    name="livecodebench",
    description="LiveCodeBench: question_content, public_test_cases (stdin / functional), contest metadata",
    matches=matches,
    to_problem=to_problem,
)
