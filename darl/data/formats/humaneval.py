"""HumanEval rows: `task_id`, `prompt` (signature + docstring), `canonical_solution`, `test` (a `check(candidate)`
function) and `entry_point`.

The problem asks for the whole function (models answer with a code block, not a raw continuation as in the
original completion-style evaluation). The one test is HumanEval's own `check` followed by its call,
`check(<entry_point>)`, so a response scores 0 or 1 as in the paper's pass@1. The prompt's code before the target
function (imports, helpers such as `encode_cyclic`) is the prelude, so a response that writes only the target
function still runs. metadata['reference_solution'] is prompt + canonical solution, a complete program.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from darl.data.formats.base import RowContext, RowError, RowFormat, stable_id, text_field
from darl.records import CodeTests, Problem

INSTRUCTION = "Complete the following Python function. Write the whole function, with its signature and imports."


def matches(columns: frozenset[str], sample: Mapping[str, Any], filename: str) -> bool:
    return {"task_id", "prompt", "entry_point", "test"} <= columns


def prelude_of(prompt: str, entry_point: str) -> str | None:
    """The code before `def <entry_point>(` in a HumanEval prompt, or None when there is none."""
    found = re.search(rf"^def\s+{re.escape(entry_point)}\s*\(", prompt, re.M)
    head = prompt[: found.start()] if found else ""
    return head.strip() + "\n" if head.strip() else None


def to_problem(row: Mapping[str, Any], ctx: RowContext) -> Problem:
    task_id = text_field(row, "task_id")
    prompt = text_field(row, "prompt")
    entry_point = text_field(row, "entry_point").strip()
    test = text_field(row, "test")
    if "def check(" not in test:
        raise RowError("test", "expected a `def check(candidate)` test function")
    if not re.search(rf"^def\s+{re.escape(entry_point)}\s*\(", prompt, re.M):
        raise RowError("entry_point", f"the prompt defines no function {entry_point!r}")
    metadata: dict[str, Any] = {"task_id": task_id}
    if isinstance(row.get("canonical_solution"), str):
        metadata["canonical_solution"] = row["canonical_solution"]
        metadata["reference_solution"] = prompt + row["canonical_solution"]
    tests = CodeTests(asserts=(f"{test}\ncheck({entry_point})\n",), entry_point=entry_point,
                      prelude=prelude_of(prompt, entry_point))
    return Problem(id=stable_id(ctx, task_id.split("/")[-1]), domain="code",
                   prompt=f"{INSTRUCTION}\n\n```python\n{prompt.rstrip()}\n```", tests=tests,
                   source=ctx.source, metadata=metadata)


FORMAT = RowFormat(
    name="humaneval",
    description="HumanEval: task_id, prompt, canonical_solution, test (check), entry_point",
    matches=matches,
    to_problem=to_problem,
)
