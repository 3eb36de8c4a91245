"""What every source format shares: the row context, the error a converter raises, and small field helpers.

A format is a `RowFormat`: a name, a `matches(columns, sample, filename)` test used for auto-detection, and a
`to_problem(row, ctx)` converter. Converters raise `RowError(field, message)`; the loader turns that into an
`InputError` naming the file, the line or row, and the field, or into a skipped row when the user asked to skip.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from darl.records import Problem


class RowError(ValueError):
    """A row that cannot become a Problem; `field` is the column at fault (None when it is the row as a whole)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RowContext:
    """`source` is the name that prefixes every id from this source (stable: ids are `source/original-id`);
    `index` is the 0-based position of the row in the source, used as the id when a row has no id of its own."""

    source: str
    index: int


Matcher = Callable[[frozenset[str], Mapping[str, Any], str], bool]
Converter = Callable[[Mapping[str, Any], RowContext], Problem]


@dataclass(frozen=True)
class RowFormat:
    name: str
    description: str
    matches: Matcher
    to_problem: Converter


def text_field(row: Mapping[str, Any], *names: str) -> str:
    """The first of `names` holding a non-empty string; RowError naming the first name when none does."""
    for name in names:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value
    present = [n for n in names if n in row]
    if present:
        value = row[present[0]]
        raise RowError(present[0], f"expected non-empty text, got {_short(value)}")
    raise RowError(names[0], "missing" + (f" (also looked for {', '.join(names[1:])})" if len(names) > 1 else ""))


def optional(row: Mapping[str, Any], name: str) -> Any:
    """The value of `name`, or None when it is absent, null, or LiveCodeBench's string 'None'."""
    value = row.get(name)
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


_INT_STRING = re.compile(r"^-?\d+(?:\.0+)?$")


def answer_text(value: Any, field: str = "answer") -> tuple[str, bool]:
    """A reference answer as text, with (text, changed). Numbers stored as floats (AMC's 27.0) become '27';
    integer strings lose leading zeros and a zero fraction (AIME's '025' -> '25', '142.0' -> '142') so that the
    answer reads the way a model writes it. Anything else is kept as written (LaTeX stays LaTeX)."""
    if isinstance(value, bool) or value is None:
        raise RowError(field, f"expected an answer, got {_short(value)}")
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RowError(field, f"answer is {value}")
        return (str(int(value)) if value.is_integer() else repr(value)), True
    if not isinstance(value, str):
        raise RowError(field, f"expected text or a number, got {_short(value)}")
    text = value.strip()
    if not text:
        raise RowError(field, "empty answer")
    if _INT_STRING.match(text):
        canonical = str(int(text.split(".")[0]))
        return canonical, canonical != value
    return text, text != value


def stable_id(ctx: RowContext, original: Any | None) -> str:
    """`source/original` when the row has an id of its own, else `source/row-index` (0-based)."""
    if original is None or (isinstance(original, str) and not original.strip()):
        return f"{ctx.source}/{ctx.index}"
    return f"{ctx.source}/{original}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
