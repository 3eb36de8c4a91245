"""One writer per output folder: `darl score`, `darl train` and `darl eval` lock the folder they write, so that a
second process pointed at the same folder stops with a message naming the first, instead of the two deleting each
other's temporary files and committing the same batches twice.

The lock is a `filelock.FileLock` (an `flock` on Linux) on a hidden file *beside* the folder, `.NAME.lock`, so the
folder itself stays exactly what the command writes (`darl train` refuses a non-empty folder without --resume).
Next to it `.NAME.lock.json` records who holds it: pid, host, command line and since when.

Stale locks: the kernel drops an `flock` when its process dies, `kill -9` included, so a crashed run never leaves
a lock that blocks the next one; its `.lock.json` is simply overwritten by the next holder. (filelock closes the
lock's descriptor in forked children and Python opens files non-inheritable, so a child process never keeps the
lock after its parent died.) When the lock *is* held but the recorded process is gone, the record is a dead run's
and the holder has not written its own yet, or the holder runs on another machine sharing the folder over a network
file system; the message says so.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from darl.atomic import atomic_write_text
from darl.errors import InputError


class FolderLocked(InputError):
    """Another process holds the output folder."""


def lock_paths(folder: str | Path) -> tuple[Path, Path]:
    """(the lock file, its holder record) of `folder`: hidden files in the folder's parent."""
    folder = Path(folder).absolute()
    return folder.parent / f".{folder.name}.lock", folder.parent / f".{folder.name}.lock.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_holder(folder: str | Path) -> dict[str, Any] | None:
    """The holder record of `folder`'s lock, or None when there is none (or it is unreadable: torn by a kill)."""
    try:
        data = json.loads(lock_paths(folder)[1].read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe_holder(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return "a process that has not recorded itself yet (it is starting, or it predates this darl version)"
    text = (f"pid {holder.get('pid')} on host {holder.get('host')!r}, running {holder.get('command')!r}, "
            f"since {holder.get('since')}")
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int) and not _alive(holder["pid"]):
        text += ("; that process is gone, so this record is a dead run's and the process now holding the lock has "
                 f"not recorded itself yet (try again in a moment; `fuser -v {holder.get('lock_file')}` shows it)")
    elif holder.get("host") != socket.gethostname():
        text += "; another machine sharing this folder"
    return text


def _command_line() -> str:
    """This process's command as a person typed it (`python -m darl score ...` reads as `darl score ...`)."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if program == "__main__.py" and Path(sys.argv[0]).parent.name == "darl":
        program = "darl"
    return " ".join([program, *sys.argv[1:]])


class FolderLock:
    """Exclusive lock on an output folder, for `with FolderLock(folder, "darl score ..."):` around the writing.

    Not re-entrant across instances: a second FolderLock on the same folder fails even in the same process (two
    writers in one process collide the same way). `command` defaults to this process's command line."""

    def __init__(self, folder: str | Path, command: str | None = None) -> None:
        from filelock import FileLock

        self.folder = Path(folder).absolute()
        self.lock_file, self.info_file = lock_paths(self.folder)
        self.command = command if command is not None else _command_line()
        self._lock = FileLock(str(self.lock_file), timeout=0, thread_local=False, is_singleton=False)
        self._held = False

    def acquire(self) -> FolderLock:
        from filelock import Timeout

        if self._held:
            return self
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise FolderLocked(f"the folder is locked by another writer: {describe_holder(read_holder(self.folder))}",
                               path=self.folder,
                               hint="wait for it to finish (or stop it) and run again, or give another output folder"
                               ) from None
        self._held = True
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                  "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "lock_file": str(self.lock_file)}
        atomic_write_text(self.info_file, json.dumps(holder, indent=2) + "\n")
        return self

    def release(self) -> None:
        if not self._held:
            return
        holder = read_holder(self.folder)
        if holder is not None and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
            self.info_file.unlink(missing_ok=True)
        self._lock.release(force=True)
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
