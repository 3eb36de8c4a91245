"""The test runner that executes inside the sandbox: one long-lived process per slot, one forked child per test.

This file is run as a script by the system Python (`/usr/bin/python3`) inside the sandbox, so it imports nothing
from darl and keeps to the standard library (Python 3.8+). The host (`darl.verifiers.code.sandbox`) writes JSON
lines on its stdin, a set-up line and then one job (a response's program and its tests) per line, and reads JSON
lines back from its stdout:

    {"event": "ready"}                       set-up done, privileges dropped
    {"event": "start", "i": 3}               test 3 is running (tells the host which test killed us, if one does)
    {"event": "result", "i": 3, ...}         its outcome
    {"event": "done", "dirty": false}        every test of the job reported

Why one process for many tests: starting Python (and bubblewrap) costs far more than running a typical test, so
tests share one interpreter, while each test still runs in a fresh forked child of its own process group, with
its own CPU limit and wall-clock deadline. A test that hangs, crashes, exits early or leaves processes behind
fails alone: after every test everything else of the slot's uid is killed and reaped, and after every job the
work directory is wiped. The candidate's code only ever runs in those children, never in this parent, so the
parent's state is the same for every job; a child's stdout is a file (stdin tests) or /dev/null and the result
stream is closed in it, so a program cannot write into the result stream.

How results stay honest: for stdin and functional tests the expected outputs never enter the sandbox. Children
return what the program printed or returned and the host compares it with the expected output. Assert-style
tests carry their expectations in their own source; there a child reports success only after the whole test
program ran (a program that exits early, `sys.exit(0)` or `os._exit(0)`, fails). A program that deliberately
inspects this runner's memory could still forge an assert-style success: the sandbox protects the host, not the
grade, from code written to attack this file.

Test kinds (LiveCodeBench semantics for the first two, lcb_runner/evaluation/testing_util.py):
- `stdin`: the program runs as `__main__` with the test input on fd 0 and fd 1 going to a file capped at
  `output_cap` bytes. `SystemExit` ends the program normally. The namespace starts with the same standard-library
  star imports LiveCodeBench puts in front of a solution, so code that leans on them runs here too.
- `call`: the program is executed as a module (not `__main__`), then `Solution().<func>` is called when the source
  contains `class Solution` (LiveCodeBench's own test), else the top-level function; the positional arguments
  arrive already JSON-decoded. A returned tuple becomes a list (as LiveCodeBench does); the value is sent back in
  a tagged JSON form that keeps tuples, sets and non-string dict keys apart, so the host's `==` matches Python's.
- `assert`: the prelude, the program and the test source run in one namespace (not `__main__`); the test passes
  when the test source finishes without raising.
"""

import errno
import json
import os
import resource
import select
import signal
import sys
import time

# The modules LiveCodeBench star-imports in front of every solution, in its order (`builtins` last but one so
# that names such as `open` or `compile` keep their builtin meaning, then `typing`).
LCB_STAR_MODULES = (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics",
    "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing",
)
RECURSION_LIMIT = 50000  # LiveCodeBench raises the limit to this for every solution
MAX_DETAIL_CHARS = 300
EXIT_CHILD_CRASHED = 70


# ----------------------------------------------------------------------------------------------------------- I/O


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Channel:
    """JSON lines to the host on a private duplicate of the original stdout."""

    def __init__(self, fd):
        self.fd = fd

    def emit(self, event):
        _write_all(self.fd, (json.dumps(event, allow_nan=True) + "\n").encode("utf-8"))


# ------------------------------------------------------------------------------------------------------- set-up


def _prctl(option, value):
    """prctl(2) through ctypes; only used outside bubblewrap (which sets no_new_privs itself)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, value, 0, 0, 0)


PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38


def _set_limit(which, value):
    if value is None:
        return
    soft, hard = resource.getrlimit(which)
    value = int(value)
    if hard != resource.RLIM_INFINITY and value > hard:
        value = hard
    resource.setrlimit(which, (value, value))


def set_up(job):
    """Work directory, resource limits, then the drop to the slot's uid (limits first: only root may raise them)."""
    workdir = job["workdir"]
    os.chdir(workdir)
    os.umask(0o077)
    for path in reversed(job.get("sys_path") or ()):
        sys.path.insert(0, path)
    limits = job.get("limits") or {}
    _set_limit(resource.RLIMIT_AS, limits.get("memory_bytes"))
    _set_limit(resource.RLIMIT_NOFILE, limits.get("open_files"))
    _set_limit(resource.RLIMIT_CORE, 0)
    if limits.get("stack_bytes"):
        _set_limit(resource.RLIMIT_STACK, limits["stack_bytes"])
    if limits.get("processes") is not None:
        _set_limit(resource.RLIMIT_NPROC, limits["processes"])
    if job.get("subreaper"):
        # Outside a PID namespace orphans would go to the host's init, which may never reap them; keep them here.
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
    drop = job.get("drop_to")
    if drop is not None:
        uid, gid = int(drop["uid"]), int(drop["gid"])
        os.chown(workdir, uid, gid)
        os.chmod(workdir, 0o700)
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise SystemExit("darl harness: could not drop privileges")
    if job.get("no_new_privs"):
        _prctl(PR_SET_NO_NEW_PRIVS, 1)


def lcb_namespace():
    """A namespace holding what LiveCodeBench's star imports put in front of a solution (built once, copied)."""
    import importlib

    namespace = {}
    for name in LCB_STAR_MODULES:
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            exported = [n for n in dir(module) if not n.startswith("_")]
        for attr in exported:
            if hasattr(module, attr):
                namespace[attr] = getattr(module, attr)
    for name in LCB_STAR_MODULES:
        if name != "builtins":
            namespace[name] = sys.modules[name]
    return namespace


# ------------------------------------------------------------------------------------------ values for the host


def encode_value(value, depth=0):
    """Tagged JSON for a returned value: dicts, tuples, sets and frozensets carry a tag so that the host rebuilds
    the same Python types and `==` behaves as it would have here; anything else is opaque and equals nothing."""
    if depth > 200:
        raise ValueError("value nested too deeply")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [encode_value(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode_value(k, depth + 1), encode_value(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, frozenset):
        return {"$frozenset": [encode_value(v, depth + 1) for v in value]}
    if isinstance(value, set):
        return {"$set": [encode_value(v, depth + 1) for v in value]}
    return {"$opaque": type(value).__name__}


# --------------------------------------------------------------------------------------------- inside the child


def _short(exc):
    text = "%s: %s" % (type(exc).__name__, exc)
    return text[:MAX_DETAIL_CHARS]


def _failure(reason, exc=None):
    record = {"ok": False, "reason": reason}
    if exc is not None:
        record["detail"] = _short(exc)
    return record


def _open_fd(path, flags, target):
    fd = os.open(path, flags, 0o600)
    if fd != target:
        os.dup2(fd, target)
        os.close(fd)


def _join_threads():
    """Waits for the program's non-daemon threads, as the interpreter does at exit (competitive programs often run
    `main` in a thread with a bigger stack); the test's deadline still bounds the wait."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            try:
                thread.join()
            except RuntimeError:
                pass


def _flush_output():
    for stream in (sys.stdout, sys.__stdout__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # a program that closed or replaced stdout: what reached the file is its output
            pass


def _namespace(ctx, test, name):
    """A fresh module namespace: LiveCodeBench's imports (stdin and functional tests), the prelude, no program yet."""
    namespace = dict(ctx.io_namespace) if test["kind"] != "assert" else {}
    if ctx.prelude is not None:
        namespace["__name__"] = "prelude"
        exec(ctx.prelude, namespace)
    namespace["__name__"] = name
    return namespace


def _run_stdin(ctx, test):
    namespace = _namespace(ctx, test, "__main__")
    try:
        exec(ctx.program, namespace)
        _join_threads()
    except SystemExit:
        pass  # LiveCodeBench treats exit() as the end of the program and grades what was printed
    _flush_output()
    return {"ok": True}


def _find_callable(namespace, source, name):
    if "class Solution" in source and "Solution" in namespace:
        return getattr(namespace["Solution"](), name, None)
    return namespace.get(name)


def _run_call(ctx, test):
    namespace = _namespace(ctx, test, "solution")
    exec(ctx.program, namespace)
    function = _find_callable(namespace, ctx.source, ctx.func_name)
    if not callable(function):
        return {"ok": False, "reason": "function not found", "detail": str(ctx.func_name)}
    value = function(*test["args"])
    if isinstance(value, tuple):
        value = list(value)  # LiveCodeBench: "don't penalize model if it produces tuples instead of lists"
    try:
        encoded = encode_value(value)
    except (ValueError, RecursionError) as exc:
        return _failure("unrepresentable value", exc)
    return {"ok": True, "value": encoded}


def _run_assert(ctx, test):
    namespace = _namespace(ctx, test, "solution")
    exec(ctx.program, namespace)
    try:
        code = compile(test["source"], "<test>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _failure("invalid test", exc)
    exec(code, namespace)
    _join_threads()
    return {"ok": True}


RUNNERS = {"stdin": _run_stdin, "call": _run_call, "assert": _run_assert}


def child_main(ctx, test, result_fd):
    """Runs one test and writes one JSON line on `result_fd`; never returns."""
    record = None
    try:
        os.setpgid(0, 0)
        os.close(ctx.channel.fd)
        cpu = int(ctx.time_limit_s) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 2)
        if test["kind"] == "stdin":
            _open_fd(ctx.input_path, os.O_RDONLY, 0)
            _open_fd(ctx.output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 1)
            _set_limit(resource.RLIMIT_FSIZE, test["output_cap"] + 1)
        else:
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            _set_limit(resource.RLIMIT_FSIZE, ctx.file_cap)
        os.close(devnull)
        sys.setrecursionlimit(RECURSION_LIMIT)
        record = RUNNERS[test["kind"]](ctx, test)
    except MemoryError as exc:
        record = _failure("memory limit", exc)
    except AssertionError as exc:
        record = _failure("wrong answer", exc)
    except RecursionError as exc:
        record = _failure("runtime error", exc)
    except OSError as exc:  # Python ignores SIGXFSZ: a write past RLIMIT_FSIZE raises EFBIG instead
        record = _failure("output limit" if exc.errno == errno.EFBIG else "runtime error", exc)
    except BaseException as exc:  # the program under test may raise anything, SystemExit included
        record = _failure("runtime error", exc)
    try:
        line = json.dumps(record, allow_nan=True)
    except BaseException as exc:
        line = json.dumps(_failure("unrepresentable value", exc))
    try:
        _write_all(result_fd, (line + "\n").encode("utf-8", "replace"))
    finally:
        os._exit(0)


# -------------------------------------------------------------------------------------------- in the harness


class Context:
    """What a test needs: the sandbox settings (fixed for the process) and the current job's compiled code."""

    def __init__(self, setup, channel):
        self.channel = channel
        self.workdir = setup["workdir"]
        self.file_cap = int((setup.get("limits") or {}).get("file_bytes") or (16 << 20))
        self.kill_all = bool(setup.get("kill_all_after_test"))
        self.uid = os.getuid()
        self.input_path = os.path.join(self.workdir, "darl_test_input")
        self.output_path = os.path.join(self.workdir, "darl_test_output")
        self.io_namespace = None
        self.source = ""
        self.func_name = None
        self.time_limit_s = 1.0
        self.program = None
        self.prelude = None

    def load(self, job):
        """Compiles the job's program and prelude (compiling runs nothing); returns the error that stops them."""
        self.source = job["program"]
        self.func_name = job.get("func_name")
        self.time_limit_s = float(job["time_limit_s"])
        self.program, self.prelude = None, None
        if job.get("prelude"):
            self.prelude, error = _compile(job["prelude"], "<prelude>")
            if error is not None:
                return "prelude error", error
        self.program, error = _compile(self.source, "<solution>")
        if error is not None:
            return "syntax error", error
        if self.io_namespace is None and any(t["kind"] != "assert" for t in job["tests"]):
            self.io_namespace = lcb_namespace()  # built once per sandbox process, copied into every child
        return None, None


def _wait_exit(pid, deadline):
    """Waits for `pid` until the deadline; returns its wait status or None when it is still running."""
    delay = 0.0005
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.02)


def _read_record(fd, deadline):
    """Reads one JSON line from a child. Returns (record or None, timed_out)."""
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, True
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None, True
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return None, False
        data += chunk
    try:
        return json.loads(data.split(b"\n", 1)[0].decode("utf-8", "replace")), False
    except ValueError:
        return None, False


def _kill_group(pid):
    """Kills the child's process group, and the child itself in case it left that group."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _others_of_uid(uid):
    me = os.getpid()
    others = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (me, 1):
            try:
                if os.stat("/proc/" + name).st_uid == uid:
                    others.append(int(name))
            except OSError:
                continue
    return others


def _reap():
    while True:
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not done:
            return


def _sweep(ctx):
    """Kills whatever the test left behind: everything this uid can signal (inside a PID namespace or under a
    uid of its own that is only this sandbox's), reaps the orphans this process adopted, and waits (briefly)
    until they are gone, so that nothing of one test is alive when the next starts."""
    if not ctx.kill_all:
        _reap()
        return
    deadline = time.monotonic() + 3.0
    while True:
        try:
            os.kill(-1, signal.SIGKILL)  # spares this process and PID 1
        except (ProcessLookupError, PermissionError):
            pass
        _reap()
        if not _others_of_uid(ctx.uid) or time.monotonic() > deadline:
            return
        time.sleep(0.001)


def _outcome_from_status(status, kind):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return {"ok": False, "reason": "timeout"}
        if sig == signal.SIGXFSZ:
            return {"ok": False, "reason": "output limit"}
        return {"ok": False, "reason": "runtime error", "detail": "killed by signal %d" % sig}
    code = os.WEXITSTATUS(status)
    if kind == "stdin" and code == 0:
        return {"ok": True}  # os._exit(0) after printing: the output is what counts
    return {"ok": False, "reason": "runtime error", "detail": "exited with status %d before finishing" % code}


def _fork(ctx):
    """fork(), waiting while the slot's process budget is still held by what the previous test left dying."""
    deadline = time.monotonic() + 10.0
    while True:
        try:
            return os.fork()
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise
            _sweep(ctx)
            time.sleep(0.01)


def run_test(ctx, test):
    if test["kind"] == "stdin":
        for path in (ctx.input_path, ctx.output_path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        fd = os.open(ctx.input_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            _write_all(fd, test["stdin"].encode("utf-8", "replace"))
        finally:
            os.close(fd)
    read_fd, write_fd = os.pipe()
    pid = _fork(ctx)
    if pid == 0:
        try:
            os.close(read_fd)
            child_main(ctx, test, write_fd)
        finally:
            os._exit(EXIT_CHILD_CRASHED)
    os.close(write_fd)
    started = time.monotonic()
    deadline = started + ctx.time_limit_s
    try:
        record, timed_out = _read_record(read_fd, deadline)
        status = None
        if record is None and not timed_out:
            status = _wait_exit(pid, deadline)  # the child closed the pipe: wait for it to end
            timed_out = status is None
    finally:
        os.close(read_fd)
    _kill_group(pid)
    if status is None:
        _, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - started
    _sweep(ctx)
    if timed_out:
        record = {"ok": False, "reason": "timeout"}
    elif record is None:
        record = _outcome_from_status(status, test["kind"])
    record["seconds"] = round(elapsed, 4)
    if test["kind"] == "stdin" and record.get("ok"):
        record.update(_read_output(ctx.output_path, test["output_cap"]))
    return record


def _read_output(path, cap):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return {"stdout": ""}
    try:
        data = b""
        while len(data) <= cap:
            chunk = os.read(fd, cap + 1 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) > cap:
        return {"ok": False, "reason": "output limit"}
    return {"stdout": data.decode("utf-8", "replace")}


def _compile(source, name):
    try:
        return compile(source, name, "exec", dont_inherit=True), None
    except BaseException as exc:  # SyntaxError, or the compiler giving up on pathological nesting
        return None, exc


class LineReader:
    """Newline-delimited jobs from the host on fd 0 (read with os.read so that `sys.stdin` stays untouched for
    the children, which get their own fd 0)."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def next_line(self):
        while b"\n" not in self.buffer:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line


def _wipe(path):
    """Empties the work directory between jobs (the program may have made entries read-only)."""
    for name in os.listdir(path):
        full = os.path.join(path, name)
        try:
            if os.path.isdir(full) and not os.path.islink(full):
                for root, dirs, _files in os.walk(full):
                    for d in dirs:
                        try:
                            os.chmod(os.path.join(root, d), 0o700)
                        except OSError:
                            pass
                os.chmod(full, 0o700)
                import shutil  # only when a program left a directory: keeps start-up light

                shutil.rmtree(full, ignore_errors=True)
            else:
                os.unlink(full)
        except OSError:
            pass


def _ipc_left_behind(uid):
    """Whether System V IPC objects of this uid survive (they outlive their processes: restart the sandbox)."""
    for kind in ("shm", "sem", "msg"):
        try:
            with open("/proc/sysvipc/" + kind) as table:
                header = table.readline().split()
                column = header.index("uid")
                for row in table:
                    fields = row.split()
                    if len(fields) > column and fields[column] == str(uid):
                        return True
        except (OSError, ValueError):
            continue
    return False


def run_job(ctx, job):
    first = int(job.get("first_index", 0))
    tests = job["tests"]
    reason, error = ctx.load(job)
    for offset, test in enumerate(tests):
        if error is not None:
            ctx.channel.emit({"event": "result", "i": first + offset, "ok": False, "reason": reason,
                              "detail": _short(error)})
            continue
        ctx.channel.emit({"event": "start", "i": first + offset})
        record = run_test(ctx, test)
        record["event"] = "result"
        record["i"] = first + offset
        ctx.channel.emit(record)


def main():
    """Set-up line first, then one job per line until the host closes stdin. After each job the work directory is
    wiped; a job that leaves System V IPC objects behind ends this process (the host starts a fresh sandbox)."""
    reader = LineReader(0)
    setup = json.loads(reader.next_line().decode("utf-8"))
    channel = Channel(os.dup(1))
    os.set_inheritable(channel.fd, False)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # nothing but `channel` may reach the host's stdout pipe
    os.close(devnull)
    set_up(setup)
    ctx = Context(setup, channel)
    channel.emit({"event": "ready"})
    while True:
        line = reader.next_line()
        if line is None:
            return
        run_job(ctx, json.loads(line.decode("utf-8")))
        _wipe(ctx.workdir)
        dirty = _ipc_left_behind(ctx.uid)
        channel.emit({"event": "done", "dirty": dirty})
        if dirty:
            return


if __name__ == "__main__":
    main()
