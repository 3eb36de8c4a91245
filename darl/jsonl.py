"""Reading the JSON-lines files darl appends to while it runs (samples.jsonl, metrics.jsonl, consumed.jsonl, ...).

darl appends one JSON value per line and a run can be killed at any moment, so the last line of such a file may
be cut off mid-write. That torn last line is expected: it is left out (and reported as `torn_tail`, so a writer
that resumes can rewrite the file from a clean end). Any other line that is not valid JSON cannot come from a
crash, so it is an InputError naming the file and the line, unless the caller asks to skip such lines.

User-given JSONL inputs (darl verify, the data loaders) are not read with this: there every line is the user's
and a broken last line is an error like any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from darl.errors import InputError


@dataclass(frozen=True)
class JsonLines:
    """What read_json_lines found in one file."""

    rows: list[tuple[int, Any]]
    """(1-based line number, parsed value) of every non-blank line that parsed, in file order."""
    torn_tail: bool
    """The last non-blank line was not valid JSON (a write cut short) and was left out."""

    @property
    def values(self) -> list[Any]:
        return [value for _, value in self.rows]


def read_json_lines(path: str | Path, *, hint: str | None = None,
                    on_bad_line: Callable[[InputError], None] | None = None) -> JsonLines:
    """Parse every non-blank line of `path` (UTF-8), tolerating a torn last line (see the module docstring).

    A line other than the last that is not valid JSON raises InputError(path, line, `hint`), or, when
    `on_bad_line` is given, is handed to it as that error and skipped (for readers that collect problems and go
    on, like the report). Blank lines are ignored. A missing file raises FileNotFoundError: callers decide
    what a missing file means.
    """
    path = Path(path)
    # split on "\n" only: str.splitlines would also split inside values holding U+2028 or U+0085, which
    # json.dumps(ensure_ascii=False) writes unescaped
    lines = path.read_text(encoding="utf-8").split("\n")
    last = max((number for number, line in enumerate(lines, start=1) if line.strip()), default=0)
    rows: list[tuple[int, Any]] = []
    torn = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            if number == last:
                torn = True
                continue
            error = InputError(f"not valid JSON ({exc.msg} at column {exc.colno})", path=path, line=number,
                               hint=hint)
            if on_bad_line is None:
                raise error from None
            on_bad_line(error)
    return JsonLines(rows=rows, torn_tail=torn)
