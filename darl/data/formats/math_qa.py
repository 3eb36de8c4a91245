"""Question-and-answer math files: MATH-500, MATH train, AIME and AMC (Qwen2.5-Math eval copies and DeepScaleR's
JSON lists), and any user file with a `problem` (or `question`) and an `answer` (or `gt_answer`).

Every other column goes to metadata unchanged (solution, subject, level, url, year, difficulty, ...), plus:
- `subject` from DeepScaleR's `type` and `level` from its `difficulty` in the MATH train file (there the
  difficulty is the MATH level; in DeepScaleR's AIME and AMC files it is an LLM rating and stays `difficulty`);
- `contest` and `problem_number` parsed from an AoPS wiki url ('2024 AIME I', 'AMC 12A 2023', problem 1);
- `original_answer` when the answer was rewritten (27.0 -> 27, '025' -> 25).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from darl.data.formats.base import RowContext, RowError, RowFormat, answer_text, optional, stable_id, text_field
from darl.records import Problem

PROMPT_FIELDS = ("problem", "question")
ANSWER_FIELDS = ("answer", "gt_answer", "final_answer")
ID_FIELDS = ("unique_id", "id", "idx", "problem_id")

_AOPS = re.compile(r"/(\d{4})_([A-Za-z0-9_]+?)_Problems/Problem_(\d+)")


def matches(columns: frozenset[str], sample: Mapping[str, Any], filename: str) -> bool:
    return bool(columns & set(PROMPT_FIELDS)) and bool(columns & set(ANSWER_FIELDS))


def contest_from_url(url: str) -> tuple[str, int] | None:
    """('2024 AIME I', 1) from an AoPS wiki problem url, or None for any other url."""
    found = _AOPS.search(url)
    if found is None:
        return None
    year, contest, number = found.groups()
    return f"{year} {contest.replace('_', ' ')}", int(number)


def to_problem(row: Mapping[str, Any], ctx: RowContext) -> Problem:
    prompt_field = next((f for f in PROMPT_FIELDS if isinstance(row.get(f), str) and row[f].strip()), PROMPT_FIELDS[0])
    prompt = text_field(row, *PROMPT_FIELDS)
    if not any(f in row for f in ANSWER_FIELDS):
        raise RowError("answer", f"missing (also looked for {', '.join(ANSWER_FIELDS[1:])})")
    answer_field = next((f for f in ANSWER_FIELDS if row.get(f) is not None), ANSWER_FIELDS[0])
    answer, changed = answer_text(row.get(answer_field), answer_field)

    metadata: dict[str, Any] = {}
    for key, value in row.items():
        if key in (prompt_field, answer_field) or (key in PROMPT_FIELDS and value == prompt):
            continue
        if optional(row, key) is not None:
            metadata[key] = value
    if changed:
        metadata["original_answer"] = row.get(answer_field)
    if "type" in metadata and "subject" not in metadata:
        metadata["subject"] = metadata.pop("type")
        if isinstance(metadata.get("difficulty"), (int, float)) and "level" not in metadata:
            metadata["level"] = int(metadata.pop("difficulty"))
    url = metadata.get("url")
    if isinstance(url, str) and (parsed := contest_from_url(url)) is not None:
        metadata.setdefault("contest", parsed[0])
        metadata.setdefault("problem_number", parsed[1])
    if {"year", "aime_number", "problem_number"} <= set(row):
        original_id: Any = f"{row['year']}-{row['aime_number']}-{row['problem_number']}"
    else:
        original_id = next((optional(row, f) for f in ID_FIELDS if optional(row, f) is not None), None)
    return Problem(id=stable_id(ctx, original_id), domain="math", prompt=prompt, answer=answer,
                   source=ctx.source, metadata=metadata)


FORMAT = RowFormat(
    name="math",
    description="problem/question + answer rows (MATH-500, MATH train, AIME, AMC, DeepScaleR, your own files)",
    matches=matches,
    to_problem=to_problem,
)
