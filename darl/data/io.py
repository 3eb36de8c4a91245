"""Problems files on disk: Parquet with darl's schema (`PROBLEM_COLUMNS`), written and read through Arrow.

Writing goes to a temporary file in the same folder and is renamed into place, so a crash never leaves a
half-written problems file that a later step would read as complete. The Arrow schema is fixed (all columns text,
`answer` and `tests` nullable) so that a file holding only math problems has the same schema as a mixed one and
`datasets.load_dataset("parquet", data_files=...)` reads any of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from darl.errors import InputError
from darl.records import PROBLEM_COLUMNS, Problem, RecordError


def problems_schema():
    import pyarrow as pa

    return pa.schema([(name, pa.string()) for name in PROBLEM_COLUMNS])


def write_problems(problems: Iterable[Problem], path: str | Path) -> Path:
    """Write `problems` (in order) to a Parquet file at `path`, atomically; returns the path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [p.to_row() for p in problems]
    table = pa.Table.from_pylist(rows, schema=problems_schema())
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_darl_table(path: str | Path, kind: str, columns: Sequence[str], make_hint: str):
    """Open one of darl's Parquet files (`kind`: 'problems', 'scores', ...) as a pyarrow Table, with an InputError
    naming the file for a missing file, a damaged file or missing `columns`; `make_hint` says how to make one."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such {kind} file", path=path, hint=make_hint)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise InputError(f"cannot read Parquet ({exc})", path=path) from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InputError(f"not a darl {kind} file: missing column(s) {missing}", path=path, hint=make_hint)
    return table


def read_problems(path: str | Path) -> list[Problem]:
    """Read a problems Parquet file written by `write_problems` (or any Parquet with darl's columns).
    InputError naming the file, row and field for a row that does not fit the schema."""
    path = Path(path)
    table = read_darl_table(path, "problems", ("id", "domain", "prompt"),
                            "build one with `darl data`, which converts every supported format")
    problems = []
    for number, row in enumerate(table.to_pylist(), start=1):
        try:
            problems.append(Problem.from_row(row, where=f"{path}, row {number}"))
        except RecordError as exc:
            raise InputError(str(exc)) from None
    return problems
