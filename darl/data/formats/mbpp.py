"""MBPP rows in its three common shapes: the original file (`text`, `code`, `test_list`, `test_setup_code`,
`challenge_test_list`), the sanitized split (`prompt`, `test_list`, `test_imports`) and DeepSeek-Coder's test
split (`prompt`, `test` as a list).

Each assert in `test_list` is one test (partial credit, as the paper scores code). The prompt is the task text
followed by the asserts, as in the MBPP paper, because the function name is only given there.
`test_imports` become the prelude; `test_setup_code` is put in front of each assert instead, because MBPP runs it
after the solution (it builds objects of the solution's own classes). `challenge_test_list` is kept in metadata,
not graded.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from darl.data.formats.base import RowContext, RowError, RowFormat, optional, stable_id, text_field
from darl.records import CodeTests, Problem

_CALLED = re.compile(r"assert\s+(?:not\s+)?\(?\s*(?:math\.isclose\(\s*|set\(\s*)?([A-Za-z_]\w*)\s*\(")


def matches(columns: frozenset[str], sample: Mapping[str, Any], filename: str) -> bool:
    if "test_list" in columns and ({"text", "prompt"} & columns):
        return True
    return {"prompt", "test", "code", "task_id"} <= columns and isinstance(sample.get("test"), list)


def _string_list(row: Mapping[str, Any], field: str) -> list[str]:
    value = row.get(field)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise RowError(field, "expected a non-empty list of assert statements")
    return [v.strip() for v in value]


def to_problem(row: Mapping[str, Any], ctx: RowContext) -> Problem:
    text = text_field(row, "text", "prompt")
    tests_field = "test_list" if "test_list" in row else "test"
    asserts = _string_list(row, tests_field)
    for i, line in enumerate(asserts):
        if not line.startswith("assert"):
            raise RowError(f"{tests_field}[{i}]", f"not an assert statement: {line[:60]!r}")
    row_asserts = list(asserts)
    imports = row.get("test_imports")
    prelude = "\n".join(str(i) for i in imports) + "\n" if isinstance(imports, list) and imports else None
    setup = optional(row, "test_setup_code")
    if isinstance(setup, str) and setup.strip():
        # MBPP runs its setup code after the solution (it builds objects of the solution's classes, e.g. Node).
        asserts = [f"{setup.strip()}\n{line}" for line in asserts]
    metadata: dict[str, Any] = {}
    if optional(row, "task_id") is not None:
        metadata["task_id"] = row["task_id"]
    if isinstance(row.get("code"), str):
        metadata["reference_solution"] = row["code"]
    called = _CALLED.match(row_asserts[0])
    if called:
        metadata["function_name"] = called.group(1)
    if row.get("challenge_test_list"):
        metadata["challenge_test_list"] = list(row["challenge_test_list"])
    prompt = f"{text.strip()}\nYour code should pass these tests:\n\n" + "\n".join(row_asserts)
    return Problem(id=stable_id(ctx, optional(row, "task_id")), domain="code", prompt=prompt,
                   tests=CodeTests(asserts=tuple(asserts), prelude=prelude), source=ctx.source, metadata=metadata)


FORMAT = RowFormat(
    name="mbpp",
    description="MBPP: task text + assert list (original, sanitized, DeepSeek-Coder test split)",
    matches=matches,
    to_problem=to_problem,
)
