"""Runs the harness (`harness.py`) on one job inside the strongest isolation this machine offers.

Isolation levels, strongest first (`Isolation`):
- `bwrap`: bubblewrap with new PID, network, IPC and UTS namespaces (only a loopback device, so no network), the
  host's `/usr` and library directories read-only, a fresh `/proc` and minimal `/dev`, a private size-capped tmpfs
  as `/tmp` (the only writable place), a scrubbed environment, `--new-session` and `--die-with-parent`. Nothing
  else of the host (`/root`, `/etc`, `/home`, the repository) is visible. When darl runs as root the harness then
  drops to the slot's own uid (see `pool.py`), which is what makes RLIMIT_NPROC bite and strips every capability.
- `namespaces`: root without bubblewrap: util-linux `unshare` gives the PID, network, IPC and UTS namespaces,
  plus the slot uid and rlimits. The file system is the host's, so the uid's permissions are all that guards it.
- `rlimits`: no namespaces at all: rlimits, a process group per test, a scrubbed environment, a private temporary
  directory, and the slot uid when running as root. No network isolation.
- `none`: the same harness as a bare subprocess of the caller, for benchmarks only.

Every level applies the same rlimits (address space, CPU time per test, processes, open files, file size for
output) and the same wall-clock kill of each test's process group inside the harness; the host kills the whole
sandbox when the harness itself overruns. A test that kills the harness (`os.kill(os.getppid(), 9)`, `kill -9 -1`)
fails alone: the host marks the test in flight as failed and runs the remaining tests in a fresh sandbox.

`choose_isolation` probes the requested level with a real job and, unless `strict`, falls back level by level,
warning loudly once per process. With `strict=True` anything weaker than `bwrap` raises `SandboxUnavailable`.
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from darl.errors import DarlError
from darl.verifiers.code.cgroups import SlotCgroup, create_slot_cgroup
from darl.verifiers.code.pool import Slot

Isolation = Literal["bwrap", "namespaces", "rlimits", "none"]
LEVELS: tuple[Isolation, ...] = ("bwrap", "namespaces", "rlimits")

HARNESS_PATH = Path(__file__).with_name("harness.py")
SANDBOX_HARNESS = "/run/darl/harness.py"
SANDBOX_SITE = "/run/darl/site"
# Packages that programs may import inside the sandbox, staged from darl's own environment (the system Python has
# only the standard library): LeetCode reference solutions use sortedcontainers, some contest solutions numpy.
DEFAULT_PACKAGES = ("sortedcontainers", "numpy")
SANDBOX_TMP = "/tmp"
SYSTEM_PYTHON = "/usr/bin/python3"

log = logging.getLogger("darl.sandbox")


class SandboxUnavailable(DarlError):
    """The requested isolation cannot run here (bubblewrap missing or failing, and strict isolation was asked)."""


class SandboxWarning(RuntimeWarning):
    """Code runs with weaker isolation than bubblewrap."""


@dataclass(frozen=True)
class Limits:
    """Limits inside the sandbox. `memory_bytes` is the address space of each process, `processes` counts the
    processes and threads of the slot's uid, `file_bytes` caps any file a test writes (stdout of a stdin test is
    capped separately, see jobs.py), `tmp_bytes` the private /tmp, `sandbox_memory_bytes` the whole sandbox."""

    memory_bytes: int = 2 << 30
    processes: int = 32
    open_files: int = 256
    file_bytes: int = 64 << 20
    stack_bytes: int = 256 << 20
    tmp_bytes: int = 256 << 20
    sandbox_memory_bytes: int = 4 << 30  # all processes of one slot's sandbox together (cgroup, where available)


@dataclass
class Job:
    """One response against its tests; `tests` are the harness's test dicts (kind stdin | call | assert)."""

    program: str
    tests: list[dict[str, Any]]
    time_limit_s: float
    prelude: str | None = None
    func_name: str | None = None


@dataclass
class _Launch:
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    done: bool = False
    in_flight: int | None = None
    dirty: bool = False
    timed_out: bool = False
    stderr: str = ""


_warned: set[str] = set()
_warn_lock = threading.Lock()


def _warn_once(key: str, message: str) -> None:
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    log.warning(message)
    warnings.warn(message, SandboxWarning, stacklevel=3)


def _scrubbed_env(home: str) -> dict[str, str]:
    # One BLAS/OpenMP thread: each thread counts against the slot's process limit and reserves address space.
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
            "MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _processes_of(uid: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    pids.append(int(name))
            except FileNotFoundError:
                continue
    return pids


def kill_uid_and_wait(uid: int, timeout_s: float = 2.0) -> int:
    """SIGKILLs every process of `uid` (a slot's own uid: nothing else runs under it) until none is left or the
    timeout passes; returns how many were still there at the end (0 when the uid is clean)."""
    deadline = time.monotonic() + timeout_s
    while True:
        pids = _processes_of(uid)
        if not pids or time.monotonic() > deadline:
            return len(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.002)


def _link_or_copy(source: str, target: str) -> None:
    """A hard link where possible (no copy of numpy's 70 MB), else a copy. A linked file keeps its own mode, so
    only world-readable files are linked; never chmod a link (that would change darl's environment)."""
    try:
        if os.stat(source).st_mode & 0o444 == 0o444:
            os.link(source, target)
            return
    except OSError:
        pass
    shutil.copy2(source, target)
    os.chmod(target, 0o644)


def stage_packages(names: tuple[str, ...]) -> str | None:
    """Puts the named packages (those importable here, with their `<name>.libs` directory of bundled shared
    libraries when there is one) in a world-readable directory that the sandbox adds to `sys.path`; None when there
    is nothing to stage. Staged, not used in place, because darl's own environment may sit where an unprivileged
    uid cannot read (a pyenv under /root). Compiled packages must match the sandbox's Python version."""
    import importlib.util

    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            location = list(spec.submodule_search_locations)[0]
            found.append((name, location))
            libs = location.rstrip("/") + ".libs"
            if os.path.isdir(libs):
                found.append((name + ".libs", libs))
    if not found:
        return None
    site = tempfile.mkdtemp(prefix="darl-sandbox-site-")
    for name, location in found:
        shutil.copytree(location, os.path.join(site, name), copy_function=_link_or_copy,
                        ignore=shutil.ignore_patterns("__pycache__", "tests"))
    for root, _dirs, _files in os.walk(site):
        os.chmod(root, 0o755)  # directories are new; files keep their modes (see _link_or_copy)
    return site


class Sandbox:
    """Launches the harness for jobs at one isolation level. Thread-safe: each call uses the slot it is given."""

    def __init__(self, isolation: Isolation, *, limits: Limits = Limits(), python: str = SYSTEM_PYTHON,
                 startup_s: float = 20.0, jobs_per_sandbox: int = 256,
                 packages: tuple[str, ...] = DEFAULT_PACKAGES, cgroups: bool = True) -> None:
        if jobs_per_sandbox < 1:
            raise ValueError(f"jobs_per_sandbox must be at least 1, got {jobs_per_sandbox}")
        self.isolation = isolation
        self.limits = limits
        self.python = python
        self.startup_s = startup_s
        self.jobs_per_sandbox = jobs_per_sandbox
        self.is_root = os.geteuid() == 0
        self._processes: dict[int, _HarnessProcess] = {}
        self._use_cgroups = cgroups and isolation != "none"
        self._cgroups: dict[int, SlotCgroup | None] = {}
        self._site = stage_packages(packages)
        if self._site is not None:  # removed at close(), or when this object goes away without one
            self._site_finalizer = weakref.finalize(self, shutil.rmtree, self._site, True)

    @property
    def separate_uids(self) -> bool:
        """Whether slots run under uids of their own (only root can switch uid)."""
        return self.is_root and self.isolation != "none"

    # ---------------------------------------------------------------------------------------------- commands

    def _bwrap_command(self, tmp_bytes: int) -> list[str]:
        bwrap = shutil.which("bwrap") or "bwrap"
        cmd = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session", "--clearenv"]
        for key, value in _scrubbed_env(SANDBOX_TMP).items():
            cmd += ["--setenv", key, value]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                cmd += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                cmd += ["--ro-bind", top, top]
        python_prefix = os.path.dirname(os.path.dirname(os.path.realpath(self.python)))
        if not (python_prefix + "/").startswith("/usr/"):
            cmd += ["--ro-bind", python_prefix, python_prefix]  # an interpreter outside /usr (must be world-readable)
        cmd += ["--perms", "0755", "--dir", "/etc",
                "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
                "--ro-bind-try", "/etc/localtime", "/etc/localtime",
                "--proc", "/proc", "--dev", "/dev",
                "--size", str(tmp_bytes), "--perms", "0700", "--tmpfs", SANDBOX_TMP,
                "--perms", "0755", "--dir", "/run", "--perms", "0755", "--dir", os.path.dirname(SANDBOX_HARNESS),
                "--ro-bind", str(HARNESS_PATH), SANDBOX_HARNESS,
                *(["--ro-bind", self._site, SANDBOX_SITE] if self._site else []),
                "--chdir", SANDBOX_TMP, "--", self.python, "-I", "-B", SANDBOX_HARNESS]
        return cmd

    def _command(self, tmp_bytes: int) -> list[str]:
        if self.isolation == "bwrap":
            return self._bwrap_command(tmp_bytes)
        harness = [self.python, "-I", "-B", str(HARNESS_PATH)]
        if self.isolation == "namespaces":
            unshare = shutil.which("unshare") or "unshare"
            # Without root, a user namespace (mapped to the caller) is what allows the others to be created.
            user = [] if self.is_root else ["--user", "--map-root-user"]
            return [unshare, *user, "--pid", "--fork", "--kill-child", "--mount-proc", "--net", "--ipc", "--uts",
                    "--", *harness]
        return harness

    def _setup_payload(self, slot: Slot, workdir: str) -> dict[str, Any]:
        in_pid_namespace = self.isolation in ("bwrap", "namespaces")
        processes: int | None = None
        if slot.uid is not None:
            processes = self.limits.processes
        elif not self.is_root and self.isolation != "none":
            # Under the caller's own uid the limit counts the caller's other processes too.
            processes = len(_processes_of(os.geteuid())) + self.limits.processes
        site = SANDBOX_SITE if self.isolation == "bwrap" else self._site
        return {
            "workdir": workdir,
            "sys_path": [site] if self._site else [],
            "limits": {"memory_bytes": self.limits.memory_bytes, "processes": processes,
                       "open_files": self.limits.open_files, "file_bytes": self.limits.file_bytes,
                       "stack_bytes": self.limits.stack_bytes},
            "drop_to": None if slot.uid is None else {"uid": slot.uid, "gid": slot.uid},
            "kill_all_after_test": in_pid_namespace or slot.uid is not None,
            # bubblewrap (--die-with-parent, PID namespace) ends the harness's zygote with the harness
            "zygote_ends_with_sandbox": self.isolation == "bwrap",
            "subreaper": not in_pid_namespace and self.isolation != "none",
            "no_new_privs": self.isolation in ("namespaces", "rlimits"),
        }

    def cgroup_for(self, slot: Slot) -> SlotCgroup | None:
        """The slot's cgroup (memory and process caps on its whole sandbox), made on first use; None where
        cgroups are not writable (then the rlimits stand alone)."""
        if not self._use_cgroups:
            return None
        known = self._cgroups.get(slot.index)
        if slot.index not in self._cgroups or (known is not None and not all(d.is_dir() for d in known.directories)):
            self._cgroups[slot.index] = create_slot_cgroup(
                f"darl-sandbox-{os.getpid()}-{id(self):x}-{slot.index}",
                memory_bytes=self.limits.sandbox_memory_bytes, max_pids=self.limits.processes + 8)
        return self._cgroups[slot.index]

    def _start(self, slot: Slot) -> _HarnessProcess:
        workdir = SANDBOX_TMP if self.isolation == "bwrap" else tempfile.mkdtemp(prefix="darl-sandbox-")
        setup = self._setup_payload(slot, workdir)
        command = self._command(self.limits.tmp_bytes)
        cgroup = self.cgroup_for(slot)
        if cgroup is not None:
            command = cgroup.join_command(command)
        return _HarnessProcess(command, setup, slot, workdir=None if workdir == SANDBOX_TMP else workdir,
                               startup_s=self.startup_s, in_pid_namespace=self.isolation in ("bwrap", "namespaces"))

    # ------------------------------------------------------------------------------------------------ running

    def run(self, slot: Slot, job: Job) -> list[dict[str, Any]]:
        """One result dict per test, in order. A test that took the harness down is marked failed and the rest run
        in a fresh sandbox. Raises SandboxUnavailable when the sandbox cannot start at all."""
        results: list[dict[str, Any] | None] = [None] * len(job.tests)
        first = 0
        retried = False
        cgroup = self.cgroup_for(slot)
        oom_before = cgroup.oom_kills() if cgroup is not None else 0
        while first < len(job.tests):
            process = self._processes.get(slot.index)
            if process is None:
                process = self._start(slot)
                self._processes[slot.index] = process
            payload = {"program": job.program, "prelude": job.prelude, "func_name": job.func_name,
                       "time_limit_s": job.time_limit_s, "tests": job.tests[first:], "first_index": first}
            budget = sum(job.time_limit_s + 0.5 for _ in job.tests[first:]) + 5.0
            launch = process.run_job(payload, budget)
            for index, record in launch.results.items():
                if first <= index < len(results):
                    results[index] = record
            if launch.done:
                if launch.dirty or process.jobs >= self.jobs_per_sandbox:
                    self._retire(slot)
                break
            self._retire(slot)
            pending = [i for i in range(first, len(job.tests)) if results[i] is None]
            if not pending:
                break
            if launch.in_flight is None and not launch.results:
                if retried:  # died twice before running anything: not the program's doing
                    raise SandboxUnavailable(f"the {self.isolation} sandbox stopped before running a test: "
                                             f"{launch.stderr.strip()[-500:]}")
                retried = True
                continue
            culprit = launch.in_flight if launch.in_flight is not None and results[launch.in_flight] is None \
                else pending[0]
            if launch.timed_out:
                results[culprit] = {"ok": False, "reason": "timeout"}
            else:
                results[culprit] = {"ok": False, "reason": "runtime error", "detail": "the test killed its runner"}
            first = culprit + 1
        final = [r if r is not None else {"ok": False, "reason": "runtime error"} for r in results]
        if cgroup is not None and cgroup.oom_kills() > oom_before:
            # The OOM killer of the slot's cgroup ended a process: a test killed from outside was out of memory.
            for record in final:
                detail = str(record.get("detail", ""))
                if record.get("reason") == "runtime error" and ("signal 9" in detail or "killed its runner" in detail):
                    record["reason"] = "memory limit"
        return final

    def _retire(self, slot: Slot) -> None:
        process = self._processes.pop(slot.index, None)
        if process is not None:
            process.close()

    def disown(self) -> None:
        """Forgets this sandbox's processes, cgroups and staged packages without touching them (they belong to the
        process this one was forked from)."""
        self._processes = {}
        self._cgroups = {}
        if self._site is not None:
            self._site_finalizer.detach()
            self._site = None

    def close(self) -> None:
        for index in list(self._processes):
            process = self._processes.pop(index)
            process.close()
        for index in list(self._cgroups):
            cgroup = self._cgroups.pop(index)
            if cgroup is not None:
                cgroup.remove()
        if self._site is not None:
            self._site_finalizer()
            self._site = None


class _HarnessProcess:
    """One running harness (inside its sandbox) serving one slot's jobs, one at a time."""

    def __init__(self, command: list[str], setup: dict[str, Any], slot: Slot, *, workdir: str | None,
                 startup_s: float, in_pid_namespace: bool) -> None:
        self.slot = slot
        self.in_pid_namespace = in_pid_namespace
        self._eof = False
        self.workdir = workdir
        self.jobs = 0
        self._buffer = b""
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                         env=_scrubbed_env(workdir or SANDBOX_TMP), cwd=workdir or "/",
                                         start_new_session=True, bufsize=0)
        except OSError as exc:
            self._stderr.close()
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
            raise SandboxUnavailable(f"cannot start the sandbox ({command[0]}): {exc}") from None
        deadline = time.monotonic() + startup_s
        ready = self._write(json.dumps(setup).encode("utf-8") + b"\n", deadline)
        while ready:
            event = self._next_event(deadline)
            if event is None:
                break
            if event.get("event") == "ready":
                return
        self.close()
        raise SandboxUnavailable(f"the sandbox did not start: {self.stderr_tail() or 'no message'}")

    def stderr_tail(self) -> str:
        try:
            self._stderr.seek(0)
            return self._stderr.read()[-2000:].decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def _write(self, data: bytes, deadline: float) -> bool:
        """Writes all of `data` to the harness's stdin; False when it is gone or the deadline passed."""
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _, writable, _ = select.select([], [fd], [], remaining)
            if not writable:
                return False
            try:
                written = os.write(fd, view[: 1 << 16])
            except (BrokenPipeError, OSError):
                return False
            view = view[written:]
        return True

    def _next_event(self, deadline: float) -> dict[str, Any] | None:
        """The next JSON event line; None at end of stream or when the deadline passes."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self._eof = True
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            event = json.loads(line)
        except ValueError:
            return {"event": "garbled"}
        return event if isinstance(event, dict) else {"event": "garbled"}

    def run_job(self, payload: dict[str, Any], budget_s: float) -> _Launch:
        launch = _Launch()
        deadline = time.monotonic() + budget_s
        self.jobs += 1
        if not self._write(json.dumps(payload).encode("utf-8") + b"\n", deadline):
            launch.stderr = self.stderr_tail()
            return launch
        while True:
            event = self._next_event(deadline)
            if event is None:
                launch.timed_out = time.monotonic() >= deadline
                launch.stderr = self.stderr_tail()
                return launch
            kind = event.pop("event", None)
            if kind == "start":
                launch.in_flight = int(event["i"])
            elif kind == "result":
                launch.results[int(event.pop("i"))] = event
                launch.in_flight = None
            elif kind == "done":
                launch.done = True
                launch.dirty = bool(event.get("dirty"))
                return launch

    def close(self) -> None:
        """Ends the harness (closing its stdin lets a healthy one exit) and everything it started."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            deadline = time.monotonic() + 0.5
            while self._next_event(deadline) is not None:  # its stdout closes when it exits (no polling)
                pass
        # A harness that was PID 1's only child of a PID namespace and ended on its own has left nothing behind:
        # the kernel empties a namespace before its init is reaped. Otherwise sweep the slot's uid.
        clean_exit = self._eof and self.in_pid_namespace
        for kill, target in ((os.killpg, self.proc.pid), (os.kill, self.proc.pid)):
            try:
                kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._stderr.close()
        if self.slot.uid is not None and not clean_exit:
            kill_uid_and_wait(self.slot.uid)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


# -------------------------------------------------------------------------------------------- level selection


def _probe(isolation: Isolation, limits: Limits, python: str, slot: Slot) -> str | None:
    """Runs a two-test job; returns None when the level works, else why not."""
    if isolation == "bwrap" and shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (apt-get install bubblewrap)"
    if isolation == "namespaces":
        if shutil.which("unshare") is None:
            return "util-linux unshare is not installed"
    if not os.access(python, os.X_OK):
        return f"no Python interpreter at {python}"
    sandbox = Sandbox(isolation, limits=limits, python=python, packages=())
    job = Job(program="def f(x):\n    return x + 1\n", time_limit_s=10.0,
              tests=[{"kind": "assert", "source": "assert f(1) == 2"},
                     {"kind": "call", "args": [41]}], func_name="f")
    started = time.monotonic()
    try:
        results = sandbox.run(slot, job)
    except (SandboxUnavailable, OSError) as exc:
        return str(exc)
    finally:
        sandbox.close()
    if not results[0].get("ok") or results[1].get("value") != 42:
        return f"a probe job failed: {results}"
    log.debug("sandbox level %s works (probe %.3f s)", isolation, time.monotonic() - started)
    return None


def choose_isolation(requested: Isolation | Literal["auto"], *, strict: bool, limits: Limits, python: str,
                     slot: Slot) -> Isolation:
    """The level to use: the requested one if its probe passes, else (unless strict) the next weaker that works."""
    if requested == "none":
        if strict:
            raise SandboxUnavailable("isolation='none' runs code unsandboxed; it cannot be combined with strict")
        _warn_once("none", "darl code sandbox: isolation='none' runs model-written code as a bare subprocess "
                           "(benchmark baseline only)")
        return "none"
    candidates = list(LEVELS) if requested == "auto" else list(LEVELS[LEVELS.index(requested):])
    failures = []
    for level in candidates:
        problem = _probe(level, limits, python, slot)
        if problem is None:
            if level != "bwrap":
                if strict:
                    break
                _warn_once(level, "darl code sandbox: bubblewrap isolation is unavailable (" + "; ".join(failures)
                           + f"); falling back to '{level}' isolation, which is WEAKER: "
                           + ("no read-only file system view" if level == "namespaces"
                              else "no network or PID isolation"
                              + ("" if os.geteuid() == 0 else ", and a program can signal (kill) every process of "
                                 "your user")) + ". Install bubblewrap for full isolation.")
            return level
        failures.append(f"{level}: {problem}")
        if strict:
            break
    raise SandboxUnavailable("no usable code sandbox: " + "; ".join(failures)
                             + (" (strict isolation refuses anything weaker than bubblewrap)" if strict else ""))
