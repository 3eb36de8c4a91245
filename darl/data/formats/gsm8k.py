"""GSM8K rows: `question` and the full worked `answer` ending in `#### <number>`.

The reference answer is the number after the last `####`, without thousands separators ('2,125' -> '2125');
the worked solution stays in metadata['solution'] (with its `<<calc>>` annotations).
"""

from __future__ import annotations

from typing import Any, Mapping

from darl.data.formats.base import RowContext, RowError, RowFormat, optional, stable_id, text_field
from darl.records import Problem


def final_number(solution: str, field: str = "answer") -> str:
    """The text after the last '####' with thousands separators removed; RowError when there is none."""
    if "####" not in solution:
        raise RowError(field, "no '####' marker before the final answer")
    answer = solution.rsplit("####", 1)[1].strip().replace(",", "")
    if not answer:
        raise RowError(field, "nothing after '####'")
    return answer


def matches(columns: frozenset[str], sample: Mapping[str, Any], filename: str) -> bool:
    return {"question", "answer"} <= columns and "####" in str(sample.get("answer", ""))


def to_problem(row: Mapping[str, Any], ctx: RowContext) -> Problem:
    prompt = text_field(row, "question")
    solution = text_field(row, "answer")
    metadata = {k: v for k, v in row.items() if k not in ("question", "answer") and optional(row, k) is not None}
    metadata["solution"] = solution
    original_id = optional(row, "idx") if optional(row, "idx") is not None else optional(row, "id")
    return Problem(id=stable_id(ctx, original_id), domain="math", prompt=prompt, answer=final_number(solution),
                   source=ctx.source, metadata=metadata)


FORMAT = RowFormat(
    name="gsm8k",
    description="GSM8K: question + worked answer ending in '#### N'",
    matches=matches,
    to_problem=to_problem,
)
