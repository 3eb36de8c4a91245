"""Raw rows out of a local file, each with the position a person would look for it at.

Why a separate step: every source format (MATH-500, HumanEval, LiveCodeBench, ...) is a mapping from one raw row
to one `Problem`; reading the rows is the same for all of them. JSON Lines rows are numbered by their 1-based line
in the file (blank lines are skipped but still counted), JSON arrays and Parquet tables by their 1-based row.
Parquet goes through Arrow (`pyarrow.parquet`), the same reader `datasets` uses, so nested columns such as a verl
chat prompt arrive as plain lists and dicts.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from darl.errors import InputError

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
JSON_SUFFIXES = (".json", ".json.gz")
PARQUET_SUFFIXES = (".parquet",)


@dataclass(frozen=True)
class RowRef:
    """Where a row came from: `path` and a 1-based `number`, a line number for JSON Lines (`is_line`), else a row."""

    path: str
    number: int
    is_line: bool

    def describe(self) -> str:
        return f"{self.path}, {'line' if self.is_line else 'row'} {self.number}"

    def error(self, message: str, field: str | None = None, hint: str | None = None) -> InputError:
        if self.is_line:
            return InputError(message, path=self.path, line=self.number, field=field, hint=hint)
        return InputError(message, path=f"{self.path}, row {self.number}", field=field, hint=hint)


@dataclass(frozen=True)
class RawRow:
    """One row as read: `data` is the parsed object, or None when the row could not be parsed, in which case
    `text` holds what was there and `parse_error` says why."""

    ref: RowRef
    data: dict[str, Any] | None
    text: str | None = None
    parse_error: str | None = None


def file_kind(path: Path) -> str:
    """'jsonl', 'json' or 'parquet' from the file name; an InputError for anything else."""
    name = path.name.lower()
    for kind, suffixes in (("jsonl", JSONL_SUFFIXES), ("json", JSON_SUFFIXES), ("parquet", PARQUET_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    raise InputError(
        "unknown file type", path=path,
        hint="use .jsonl, .jsonl.gz, .json, .json.gz or .parquet, or give a Hugging Face dataset name",
    )


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_raw_rows(path: str | Path) -> Iterator[RawRow]:
    """Every row of a local JSON Lines, JSON or Parquet file, in file order. A JSON Lines line that is not a JSON
    object is yielded with `data=None` (the caller decides whether that is fatal); a JSON or Parquet file that
    cannot be read at all raises InputError."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=path, hint="check the path, or give a Hugging Face dataset name")
    kind = file_kind(path)
    if kind == "jsonl":
        yield from _iter_jsonl(path)
    elif kind == "json":
        yield from _iter_json(path)
    else:
        yield from _iter_parquet(path)


def _iter_jsonl(path: Path) -> Iterator[RawRow]:
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            ref = RowRef(str(path), number, True)
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RawRow(ref, None, line.rstrip("\n"), f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(data, dict):
                yield RawRow(ref, None, line.rstrip("\n"), f"expected a JSON object, got {type(data).__name__}")
                continue
            yield RawRow(ref, data)


def _iter_json(path: Path) -> Iterator[RawRow]:
    try:
        with _open_text(path) as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=path, line=exc.lineno,
                         hint="a .json file holds one array of objects; use .jsonl for one object per line") from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise InputError("expected a JSON array of objects (or an object with exactly one array in it)", path=path)
        data = lists[0]
    if not isinstance(data, list):
        raise InputError(f"expected a JSON array of objects, got {type(data).__name__}", path=path)
    for index, item in enumerate(data):
        ref = RowRef(str(path), index + 1, False)
        if isinstance(item, dict):
            yield RawRow(ref, item)
        else:
            yield RawRow(ref, None, json.dumps(item)[:2000], f"expected a JSON object, got {type(item).__name__}")


def _iter_parquet(path: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise InputError(f"cannot read Parquet ({exc})", path=path) from None
    number = 0
    for batch in parquet.iter_batches(batch_size=4096):
        for item in batch.to_pylist():
            number += 1
            yield RawRow(RowRef(str(path), number, False), item)
