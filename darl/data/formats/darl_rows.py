"""darl's own problems schema (`Problem.to_row`): id, domain, prompt, answer, tests, source, metadata, in
JSON Lines, JSON or Parquet. `tests` and `metadata` may be objects or JSON text. Ids are kept as written:
they were made stable and unique when the file was built."""

from __future__ import annotations

from typing import Any, Mapping

from darl.data.formats.base import RowContext, RowError, RowFormat
from darl.records import Problem, RecordError


def matches(columns: frozenset[str], sample: Mapping[str, Any], filename: str) -> bool:
    return {"id", "domain", "prompt"} <= columns


def to_problem(row: Mapping[str, Any], ctx: RowContext) -> Problem:
    for field in ("id", "domain", "prompt"):
        if row.get(field) in (None, ""):
            raise RowError(field, "missing")
    if row["domain"] not in ("math", "code"):
        raise RowError("domain", f"{row['domain']!r} is not 'math' or 'code'")
    if row["domain"] == "math" and (row.get("answer") is None or not str(row["answer"]).strip()):
        raise RowError("answer", "a math problem needs a reference answer")
    if row["domain"] == "code" and not row.get("tests"):
        raise RowError("tests", "a code problem needs tests")
    try:
        problem = Problem.from_row(dict(row), where="row")
    except RecordError as exc:
        raise RowError(None, str(exc)) from None
    if not problem.source:
        problem = Problem(id=problem.id, domain=problem.domain, prompt=problem.prompt, answer=problem.answer,
                          tests=problem.tests, source=ctx.source, metadata=problem.metadata)
    return problem


FORMAT = RowFormat(
    name="darl",
    description="darl's problems schema (what `darl data` writes)",
    matches=matches,
    to_problem=to_problem,
)
