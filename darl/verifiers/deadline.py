"""A pool of worker processes in which every task has a hard deadline, usable from any thread.

Why not `concurrent.futures.ProcessPoolExecutor`: it cannot stop one task that runs too long (sympy stuck in a
power tower never returns), and a worker that dies breaks the whole executor. Why not Math-Verify's own timeouts:
they use `signal.alarm`, which only works in the main thread of the main interpreter, so a reward function
called from a trainer's worker thread cannot use them.

Here each worker runs one task at a time; the parent waits on all workers' pipes with the nearest deadline as
its timeout; a worker past its deadline is killed (SIGKILL) and replaced, and its task is reported as
`Outcome("timeout")`. A worker that dies on its own (segfault, out of memory) is replaced and its task reported
as `Outcome("crashed")`. Nothing a task does can crash `run`. Calls from several threads are serialised by a
lock (one batch at a time uses all workers).

Workers are fresh interpreters (`python -m darl.verifiers.deadline MODULE FUNCTION ...`), not multiprocessing
children: they never re-run the caller's `__main__` script (a user's script needs no `if __name__ ==
"__main__"` guard) and never inherit the parent's threads (torch, tokenizers) the way a fork would. A worker
gets tasks only after it has imported the task module and said so, so its import time never counts against a
task's deadline.
"""

from __future__ import annotations

import importlib
import os
import pickle
import resource
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Sequence

_READY = "ready"


@dataclass(frozen=True)
class Outcome:
    """What became of one task: status 'ok' (value holds the result), 'timeout', 'crashed' or 'error' (the task
    raised; `detail` holds the exception's type and message)."""

    status: str
    value: Any = None
    detail: str | None = None


def _worker_main(argv: list[str]) -> None:
    """Worker loop: import module.function, run the warm-up, say ready, then for each (task_id, payload) received send back
    (task_id, status, value)."""
    module, function, warm_up, read_fd, write_fd, memory = argv
    inbox = Connection(int(read_fd), writable=False)
    outbox = Connection(int(write_fd), readable=False)
    memory_bytes = int(memory)
    if memory_bytes > 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        except (ValueError, OSError):
            pass  # a hard limit already lower than ours: keep it
    task_module = importlib.import_module(module)
    fn = getattr(task_module, function)
    if warm_up != "-":
        getattr(task_module, warm_up)()
    outbox.send(_READY)
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, payload = message
        try:
            result: tuple[int, str, Any] = (task_id, "ok", fn(payload))
        except Exception as exc:  # the task's own failure is reported, the worker lives on
            result = (task_id, "error", f"{type(exc).__name__}: {str(exc)[:200]}")
        try:
            outbox.send(result)
        except (OSError, ValueError, pickle.PicklingError):
            return


def _package_root() -> str:
    """The directory that holds the `darl` package, so a worker imports the same darl as its parent."""
    return str(Path(__file__).resolve().parents[2])


class _Worker:
    def __init__(self, module: str, function: str, warm_up: str | None, memory_bytes: int | None) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH", "")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "darl.verifiers.deadline", module, function, warm_up or "-", str(to_child_r),
             str(from_child_w), str(memory_bytes or 0)],
            # stdout is closed so that nothing a worker prints can mix into the caller's output (a JSONL stream)
            pass_fds=(to_child_r, from_child_w), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            close_fds=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self.inbox = Connection(to_child_w, readable=False)   # parent -> worker
        self.conn = Connection(from_child_r, writable=False)  # worker -> parent
        self.ready = False
        self.task: int | None = None
        self.deadline = 0.0

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.inbox.close()
        self.conn.close()


class DeadlinePool:
    """Runs `module.function(payload)` for many payloads in `workers` processes, each call within `deadline_s`.

    `module` must be importable by name in a fresh interpreter; `warm_up`, if given, names a function of it that
    a new worker calls before taking tasks (off the task clock), e.g. to fill parser caches. `memory_bytes` caps each worker's address space
    (None: no cap) so one runaway task cannot exhaust the host. `start_timeout_s` bounds how long a new worker
    may take to import the module before the pool gives up on it.
    """

    def __init__(self, module: str, function: str, *, workers: int, deadline_s: float, warm_up: str | None = None,
                 memory_bytes: int | None = 4 << 30, start_timeout_s: float = 120.0) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if deadline_s <= 0:
            raise ValueError(f"deadline_s must be positive, got {deadline_s}")
        self.module, self.function, self.warm_up = module, function, warm_up
        self.workers_wanted = workers
        self.deadline_s = deadline_s
        self.memory_bytes = memory_bytes
        self.start_timeout_s = start_timeout_s
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self.replaced = 0  # workers killed or lost and started again, for tests and diagnostics

    def _spawn(self) -> _Worker:
        worker = _Worker(self.module, self.function, self.warm_up, self.memory_bytes)
        worker.deadline = time.monotonic() + self.start_timeout_s  # until it says ready
        return worker

    def start(self) -> None:
        """Start every worker and wait until each has imported its module and warmed up (or failed to)."""
        with self._lock:
            self._ensure_workers()
            self._run_locked([])

    def _ensure_workers(self) -> None:
        if self._closed:
            raise RuntimeError("DeadlinePool is closed")
        while len(self._workers) < self.workers_wanted:
            self._workers.append(self._spawn())

    def run(self, payloads: Sequence[Any]) -> list[Outcome]:
        """One Outcome per payload, in order. Blocks until all are done or past their deadline."""
        if not payloads:
            return []
        with self._lock:
            self._ensure_workers()
            return self._run_locked(payloads)

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        self.replaced += 1
        fresh = self._spawn()
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def _run_locked(self, payloads: Sequence[Any]) -> list[Outcome]:
        results: list[Outcome | None] = [None] * len(payloads)
        pending = deque(range(len(payloads)))
        start_failures = 0

        def assign(worker: _Worker) -> None:
            worker.task = None
            if not worker.ready or not pending:
                return
            task = pending.popleft()
            try:
                worker.inbox.send((task, payloads[task]))
            except (OSError, ValueError):
                pending.appendleft(task)  # the worker died while idle; the main loop notices and replaces it
                return
            except pickle.PicklingError as exc:
                results[task] = Outcome("error", detail=f"payload cannot be sent: {exc}")
                assign(worker)
                return
            worker.task = task
            worker.deadline = time.monotonic() + self.deadline_s

        for w in self._workers:
            assign(w)
        while True:
            if not pending and all(w.task is None for w in self._workers):
                if payloads or all(w.ready for w in self._workers):
                    break
            clocks = [w.deadline for w in self._workers if w.task is not None or not w.ready]
            timeout = max(0.0, min(clocks) - time.monotonic()) if clocks else None
            ready = wait([w.conn for w in self._workers], timeout=timeout)
            now = time.monotonic()
            for w in list(self._workers):
                if w.conn in ready:
                    try:
                        message = w.conn.recv()
                    except (EOFError, OSError):
                        code = w.process.poll()
                        if w.task is not None:
                            results[w.task] = Outcome("crashed", detail=f"worker exited with code {code}")
                        elif not w.ready:
                            start_failures += 1
                            if start_failures > 2 * self.workers_wanted + 2:
                                raise RuntimeError(
                                    f"worker processes for {self.module}.{self.function} exit on start "
                                    f"(exit code {code}); run `{sys.executable} -c 'import {self.module}'` "
                                    "to see why")
                        assign(self._replace(w))
                        continue
                    if message == _READY:
                        w.ready = True
                        assign(w)
                        continue
                    task_id, status, value = message
                    if status == "ok":
                        results[task_id] = Outcome("ok", value=value)
                    else:
                        results[task_id] = Outcome("error", detail=value)
                    assign(w)
                elif now >= w.deadline and (w.task is not None or not w.ready):
                    if w.task is not None:
                        results[w.task] = Outcome("timeout")
                    assign(self._replace(w))
        return [r if r is not None else Outcome("crashed", detail="never ran") for r in results]

    def close(self) -> None:
        """Stop every worker. Safe to call twice; the pool cannot be used afterwards."""
        with self._lock:
            self._closed = True
            for w in self._workers:  # workers hold no state worth a clean exit; killing is fastest
                w.kill()
            self._workers = []

    def __del__(self) -> None:
        # free the workers when a pool is dropped without close(); they would otherwise wait for their pipe to close
        if not getattr(self, "_closed", True):
            for w in getattr(self, "_workers", []):
                try:
                    w.kill()
                except OSError:
                    pass


def default_workers() -> int:
    """One worker per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
