"""Two writers on one output folder: the second stops with a message naming the first (pid, host, command, since),
a holder killed with SIGKILL leaves no lock behind, and a stale holder record is called stale. Every case
uses real processes: `darl score`, `darl train` and `darl eval` themselves, and a plain holder process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from darl.locking import FolderLock, FolderLocked, lock_paths, read_holder

HOLD = textwrap.dedent("""
    import sys, time
    from darl.locking import FolderLock
    lock = FolderLock(sys.argv[1], command="holder for the test").acquire()
    print("locked", flush=True)
    time.sleep(120)
""")


def _holder(folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_writer_is_refused_with_the_holders_details_and_a_killed_holder_leaves_no_lock(tmp_path):
    folder = tmp_path / "out"
    proc = _holder(folder)
    try:
        with pytest.raises(FolderLocked) as caught:
            FolderLock(folder, command="second").acquire()
        text = str(caught.value)
        assert str(folder) in text and f"pid {proc.pid} on host {socket.gethostname()!r}" in text
        assert "running 'holder for the test', since 20" in text and "another output folder" in text
        assert not folder.exists()  # the lock sits beside the folder, which stays the command's own
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert read_holder(folder)["pid"] == proc.pid  # the stale record is still there ...
    with FolderLock(folder, command="after the kill") as lock:  # ... but the kernel dropped the lock itself
        assert lock.held and read_holder(folder)["command"] == "after the kill"
        assert read_holder(folder)["pid"] == os.getpid()
    assert read_holder(folder) is None and lock_paths(folder)[0].exists()


def test_a_record_of_a_dead_process_is_called_stale(tmp_path):
    """The moment between a new holder's lock and its record: the record left is a killed run's."""
    folder = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    proc = _holder(folder)
    try:
        info = lock_paths(folder)[1]
        info.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "command": "darl score old",
                                    "since": "2026-01-01T00:00:00+00:00", "lock_file": str(lock_paths(folder)[0])}))
        with pytest.raises(FolderLocked, match=f"pid {dead.pid} .*'darl score old'.*that process is gone, so this "
                                               "record is a dead run's"):
            FolderLock(folder).acquire()
        info.write_text("{torn")
        with pytest.raises(FolderLocked, match="a process that has not recorded itself yet"):
            FolderLock(folder).acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_two_locks_in_one_process_collide_too(tmp_path):
    with FolderLock(tmp_path / "out"):
        with pytest.raises(FolderLocked, match=f"pid {os.getpid()}"):
            FolderLock(tmp_path / "out").acquire()


@pytest.mark.parametrize("command", ["train", "eval"])
def test_darl_train_and_eval_refuse_a_locked_out_folder(tmp_path, command):
    """The CLI takes the lock before loading any model or data, so a second run fails fast and says why."""
    out = tmp_path / "out"
    proc = _holder(out)
    try:
        args = (["train", "embedded_two_stage", "--levels", str(tmp_path / "levels.parquet"), "--out", str(out)]
                if command == "train" else ["eval", str(tmp_path / "model"), "-b", "gsm8k", "-o", str(out)])
        second = subprocess.run([sys.executable, "-m", "darl", *args], capture_output=True, text=True, timeout=300)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    output = " ".join((second.stdout + second.stderr).split())
    assert second.returncode != 0
    assert f"the folder is locked by another writer: pid {proc.pid}" in output, output[-2000:]
    assert not out.exists()


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("shard-*/scores-*.parquet"))


@pytest.mark.slow
def test_two_darl_score_processes_on_one_folder(tmp_path):
    """The second `darl score` on the same output stops at once, naming the first, and leaves the first's files
    alone: the first run finishes with every (problem, model) row exactly once."""
    from darl.data.io import write_problems
    from darl.generation.tiny_random import save_tiny_model
    from darl.records import Problem
    from darl.scoring.table import read_scores

    problems = write_problems([Problem(id=f"m{i}", domain="math", prompt=f"Q{i}", answer=str(i),
                                       metadata={"raw_prompt": True}) for i in range(8)], tmp_path / "p.parquet")
    model = save_tiny_model(tmp_path / "a", seed=1)
    out = tmp_path / "scores"
    cmd = [sys.executable, "-m", "darl", "score", str(problems), "-m", f"small={model}", "-k", "2",
           "--max-new-tokens", "24", "--batch-problems", "1", "-o", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not _parts(out) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGSTOP)  # paused mid-run, holding its lock, however slow the second one starts
    try:
        assert first.poll() is None, "the first run ended before the second could start: " + first.stdout.read()[-2000:]
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    finally:
        first.send_signal(signal.SIGCONT)
    output = " ".join((second.stdout + second.stderr).split())
    assert second.returncode != 0
    assert f"the folder is locked by another writer: pid {first.pid} on host" in output, output[-2000:]
    assert f"running 'darl score {problems}" in output
    assert first.wait(timeout=400) == 0, first.stdout.read()[-3000:]
    rows = read_scores(out / "scores.parquet")
    assert sorted(r["problem_id"] for r in rows) == sorted(f"m{i}" for i in range(8))
    assert sum(pq.read_metadata(p).num_rows for p in _parts(out)) == 8
