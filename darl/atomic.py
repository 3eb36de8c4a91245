"""Replacing a file so that a reader, or a run killed at any moment, sees the old file or the new one, never part.

The new content goes to a hidden temporary file beside the target (`.NAME.tmp`, same folder so the rename stays
on one file system), which is fsynced and then renamed over the target: the rename is the commit point. The
folder is fsynced after the rename so that the commit also survives a power cut, not only a killed process.
Folders that may hold debris of a write cut short can remove `.*.tmp` (the scoring shard store does).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_replace(path: str | Path) -> Iterator[Path]:
    """Yield the temporary path to write `path`'s new content to (by any writer: text, Parquet, ...). When the
    block ends without an error the temporary file is committed over `path`; on an error it is removed and
    `path` is left as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_replace(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
