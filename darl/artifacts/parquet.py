"""Reading and writing darl's Parquet files: one error for a file that is missing, damaged or of another kind, and
one atomic write (temporary file beside the target, fsync, rename; `darl.atomic`)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from darl.atomic import atomic_replace
from darl.errors import InputError


def write_parquet(table, path: str | Path) -> Path:
    """Write the pyarrow Table `table` to `path` atomically (a reader sees the old file or the new one, never part);
    creates the folder."""
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_replace(path) as tmp:
        pq.write_table(table, tmp)
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
