"""A memory and process cap on a slot's whole sandbox, through a cgroup nested under darl's own.

Why on top of rlimits: RLIMIT_AS caps each process and RLIMIT_NPROC counts them, but a program that forks up to
the process limit and fills the address space in every child could still take `processes x memory` from the
host (32 x 2 GiB). A cgroup caps the sum: past `memory_bytes` the kernel's OOM killer ends a process of the
sandbox (the host sees the test fail as 'memory limit'), and `pids.max` caps the process count independently of
uids. The group is created below the cgroup darl itself runs in, so whatever limits the caller is under still
apply; it is used only where that is writable (root with cgroup v1 memory+pids controllers, or a cgroup v2
subtree with memory and pids delegated). Elsewhere `create_slot_cgroup` returns None and the rlimits stand alone.
"""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_paths() -> dict[str, str]:
    """controller (or '' for cgroup v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(","):
            paths[controller] = parts[2]
    return paths


@dataclass
class SlotCgroup:
    """The group(s) one slot's sandbox runs in: one directory per controller (v1) or one directory (v2)."""

    directories: list[Path]
    memory_dir: Path
    version: int

    def join_command(self, command: list[str]) -> list[str]:
        """`command` run by a shell that first moves itself into the group(s), so nothing runs outside them."""
        joins = " && ".join(f"echo $$ > {shlex.quote(str(d / 'cgroup.procs'))}" for d in self.directories)
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', "darl-sandbox", *command]

    def oom_kills(self) -> int:
        """How many processes the OOM killer has ended in this group so far (0 where the kernel does not say)."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (self.memory_dir / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self, timeout_s: float = 2.0) -> bool:
        """Removes the group(s) once the processes in them are gone (a dying process keeps a group busy for a
        moment); False when one could not be removed in time."""
        deadline = time.monotonic() + timeout_s
        remaining = list(self.directories)
        while remaining:
            for directory in list(remaining):
                try:
                    directory.rmdir()
                    remaining.remove(directory)
                except FileNotFoundError:
                    remaining.remove(directory)
                except OSError:
                    pass
            if remaining:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
        return True


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _remove_stale_siblings(directory: Path) -> None:
    """Removes empty groups left by darl processes that died without closing (named darl-sandbox-<pid>-...)."""
    try:
        siblings = list(directory.parent.glob("darl-sandbox-*"))
    except OSError:
        return
    for sibling in siblings:
        pid = sibling.name.split("-")[2] if sibling.name.count("-") >= 3 else ""
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            try:
                sibling.rmdir()  # only succeeds when no process is left in it
            except OSError:
                pass


def _make(directory: Path) -> None:
    _remove_stale_siblings(directory)
    try:
        directory.mkdir()
    except FileExistsError:
        pass


def create_slot_cgroup(name: str, *, memory_bytes: int, max_pids: int) -> SlotCgroup | None:
    """A cgroup named `name` under darl's own with the two caps, or None when this machine does not let us."""
    if os.geteuid() != 0:
        return None
    own = _own_paths()
    made: list[Path] = []
    try:
        v1_memory, v1_pids = CGROUP_ROOT / "memory", CGROUP_ROOT / "pids"
        if "memory" in own and "pids" in own and (v1_memory / "memory.limit_in_bytes").exists() \
                and (v1_pids / "cgroup.procs").exists():
            memory_dir = v1_memory / own["memory"].lstrip("/") / name
            pids_dir = v1_pids / own["pids"].lstrip("/") / name
            for directory in (memory_dir, pids_dir):
                _make(directory)
                made.append(directory)
            _write(memory_dir / "memory.limit_in_bytes", str(memory_bytes))
            _write(pids_dir / "pids.max", str(max_pids))
            return SlotCgroup(made, memory_dir, 1)
        if "" in own and (CGROUP_ROOT / "cgroup.controllers").exists():
            parent = CGROUP_ROOT / own[""].lstrip("/")
            delegated = (parent / "cgroup.subtree_control").read_text().split()
            if "memory" in delegated and "pids" in delegated:
                directory = parent / name
                _make(directory)
                made.append(directory)
                _write(directory / "memory.max", str(memory_bytes))
                if (directory / "memory.swap.max").exists():
                    _write(directory / "memory.swap.max", "0")
                _write(directory / "pids.max", str(max_pids))
                return SlotCgroup(made, directory, 2)
    except OSError:
        for directory in made:
            try:
                directory.rmdir()
            except OSError:
                pass
    return None
