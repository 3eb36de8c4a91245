"""Parallel sandbox slots: each worker thread owns one slot, and each slot its own unprivileged uid.

Why a uid per slot: RLIMIT_NPROC counts every process of a real uid, and root is exempt from it. Running each
slot's programs under a uid that nothing else uses makes the process limit both enforced and private to the slot
(with one shared uid, a fork bomb in one slot would starve the slot beside it), and lets the sandbox kill "all
processes of this uid" after a test without touching anything else. The uids are claimed with `flock` on a lock
file per uid, so several darl processes on one machine (pytest-xdist workers, two evaluation jobs) never share one.
"""

from __future__ import annotations

import fcntl
import os
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_UID_BASE = 1_960_000_000  # far above any uid a distribution hands out
UID_RANGE = 4096
LOCK_DIR = "/run/darl-sandbox-uids" if os.path.isdir("/run") else "/tmp/darl-sandbox-uids"


@dataclass
class Slot:
    """One worker's sandbox identity: `uid` is None when programs run under the caller's own uid."""

    index: int
    uid: int | None
    lock_fd: int | None = None


def claim_uids(count: int, uid_base: int = DEFAULT_UID_BASE) -> list[tuple[int, int]]:
    """Claims `count` free uids (uid, lock fd) from the range above `uid_base`; the lock lasts while the fd is open."""
    os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
    claimed: list[tuple[int, int]] = []
    for uid in range(uid_base, uid_base + UID_RANGE):
        if len(claimed) == count:
            return claimed
        fd = os.open(os.path.join(LOCK_DIR, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        claimed.append((uid, fd))
    if len(claimed) < count:
        for _, fd in claimed:
            os.close(fd)
        raise RuntimeError(f"no free sandbox uid in {uid_base}..{uid_base + UID_RANGE}: too many darl processes?")
    return claimed


class SlotPool:
    """`size` slots and as many worker threads; `map` runs one call per item on whichever slot is free."""

    def __init__(self, size: int, *, separate_uids: bool, uid_base: int = DEFAULT_UID_BASE) -> None:
        if size < 1:
            raise ValueError(f"workers must be at least 1, got {size}")
        if separate_uids:
            self.slots = [Slot(i, uid, fd) for i, (uid, fd) in enumerate(claim_uids(size, uid_base))]
        else:
            self.slots = [Slot(i, None) for i in range(size)]
        self._free: queue.Queue[Slot] = queue.Queue()
        for slot in self.slots:
            self._free.put(slot)
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="darl-sandbox")

    def run(self, fn: Callable[[Slot, T], R], item: T) -> R:
        slot = self._free.get()
        try:
            return fn(slot, item)
        finally:
            self._free.put(slot)

    def map(self, fn: Callable[[Slot, T], R], items: Sequence[T]) -> list[R]:
        """Results in input order."""
        if len(items) <= 1:
            return [self.run(fn, item) for item in items]
        futures = [self._executor.submit(self.run, fn, item) for item in items]
        return [future.result() for future in futures]

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for slot in self.slots:
            if slot.lock_fd is not None:
                os.close(slot.lock_fd)
                slot.lock_fd = None
