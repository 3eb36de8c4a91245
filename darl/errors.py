"""Errors a user can hit. Each says what was wrong, where (file, line, field) and what to do."""

from __future__ import annotations

from pathlib import Path


class DarlError(Exception):
    """Base class of every error darl raises on purpose; the CLI prints these without a traceback."""


class InputError(DarlError):
    """Bad user input: a file, row or field that cannot be used."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 field: str | None = None, hint: str | None = None) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        text = (", ".join(where) + ": " if where else "") + message
        if hint:
            text += f" ({hint})"
        super().__init__(text)
        self.path, self.line, self.field, self.hint = path, line, field, hint
