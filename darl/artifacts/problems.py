"""Problems files: Parquet with darl's schema (`darl.records.PROBLEM_COLUMNS`), written by `darl data` and read by
every later step.

The write is atomic (darl.artifacts.parquet), so a crash never leaves a half-written problems file that a later
step would read as complete. The Arrow schema is fixed (all columns text, `answer` and `tests` nullable) so that a
file holding only math problems has the same schema as a mixed one and
`datasets.load_dataset("parquet", data_files=...)` reads any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from darl.artifacts.parquet import read_darl_table, write_parquet
from darl.errors import InputError
from darl.records import PROBLEM_COLUMNS, Problem, RecordError


def problems_schema():
    import pyarrow as pa

    return pa.schema([(name, pa.string()) for name in PROBLEM_COLUMNS])


def write_problems(problems: Iterable[Problem], path: str | Path) -> Path:
    """Write `problems` (in order) to a Parquet file at `path`, atomically; returns the path."""
    import pyarrow as pa

    rows = [p.to_row() for p in problems]
    return write_parquet(pa.Table.from_pylist(rows, schema=problems_schema()), path)


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
