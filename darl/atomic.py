"""Replacing a file or a folder so that a reader, or a run killed at any moment, sees the old one or the new one,
never part. The one way darl writes anything another step (or a resumed run) reads: problems, scores, levels and
evaluation files, manifests, held-out lists, trainer state, models published into a cache.

A file's new content goes to a hidden temporary file beside the target (`.NAME.PID.tmp`, same folder so the rename
stays on one file system; the process id keeps two processes writing the same target from sharing one temporary),
which is fsynced and then renamed over the target: the rename is the commit point. The folder is fsynced after the
rename so that the commit also survives a power cut, not only a killed process. Folders that may hold debris of a
write cut short can remove `.*.tmp` (the scoring shard store does).

A folder (a model saved by `save_pretrained`) is built the same way under `.NAME.PID.tmp/`, every file in it
fsynced, then renamed into place (`atomic_folder`).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_beside(path: Path) -> Path:
    """The hidden temporary name `atomic_replace` and `atomic_folder` use for `path` (matches `.*.tmp`)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextmanager
def atomic_replace(path: str | Path) -> Iterator[Path]:
    """Yield the temporary path to write `path`'s new content to (by any writer: text, Parquet, ...). When the
    block ends without an error the temporary file is committed over `path`; on an error it is removed and
    `path` is left as it was."""
    path = Path(path)
    tmp = temporary_beside(path)
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


@contextmanager
def atomic_folder(final: str | Path, replace: bool = True) -> Iterator[Path]:
    """Yield an empty temporary folder beside `final` to build its new content in. When the block ends without an
    error every file in it is fsynced and the folder renamed to `final`; on an error it is removed and `final` is
    left as it was. An existing `final` is removed first (`replace=True`: a folder is only ever renamed into place
    whole, so an existing one is a complete older version); with `replace=False` an existing `final` wins (another
    process published the same content first) and the new copy is discarded."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_beside(final)
    shutil.rmtree(tmp, ignore_errors=True)  # debris of this process id's earlier crash
    tmp.mkdir()
    try:
        yield tmp
        for file in sorted(p for p in tmp.rglob("*") if p.is_file() and not p.is_symlink()):
            _fsync(file)
        if final.exists() and replace:
            shutil.rmtree(final)
        try:
            os.replace(tmp, final)
        except OSError:
            if replace or not final.exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _fsync(final.parent)
