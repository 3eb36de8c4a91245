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
tests carry their expectations in their own source, so there the program never runs in a process that holds it:
the test runs in a *checker* child, the program in a *solver* forked by the *zygote* (forked from this process
before any job was read), and only plain data crosses between them (see "assert tests: checker and solver apart"
below). The checker reports success only after the whole test source ran.

Test kinds (LiveCodeBench semantics for the first two, lcb_runner/evaluation/testing_util.py):
- `stdin`: the program runs as `__main__` with the test input on fd 0 and fd 1 going to a file capped at
  `output_cap` bytes. `SystemExit` ends the program normally. The namespace starts with the same standard-library
  star imports LiveCodeBench puts in front of a solution, so code that leans on them runs here too.
- `call`: the program is executed as a module (not `__main__`), then `Solution().<func>` is called when the source
  contains `class Solution` (LiveCodeBench's own test), else the top-level function; the positional arguments
  arrive already JSON-decoded. A returned tuple becomes a list (as LiveCodeBench does); the value is sent back in
  a tagged JSON form that keeps tuples, sets and non-string dict keys apart, so the host's `==` matches Python's.
- `assert`: the prelude and the test source run in the checker, the prelude and the program in the solver; the
  program's top-level names reach the test as proxies (module name `solution`, not `__main__`); the test passes
  when the test source finishes without raising.
"""

import errno
import json
import os
import pickle
import resource
import select
import signal
import socket
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
PR_SET_DUMPABLE = 4
PR_SET_PDEATHSIG = 1


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
    # Not dumpable: no other process of this uid (a test's program) may read this process's or its forked
    # children's memory or descriptors through /proc or ptrace. Dropping from root did this already.
    if drop is None:
        _prctl(PR_SET_DUMPABLE, 0)


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
    """The test source runs here, in the checker, with the prelude; the program runs in a solver (see below)."""
    link = SolverLink(ctx.solver_pair[0], ctx.prelude_source, ctx.source)
    try:
        code = compile(test["source"], "<test>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _failure("invalid test", exc)
    namespace = {}
    if ctx.prelude is not None:
        namespace["__name__"] = "prelude"
        exec(ctx.prelude, namespace)
        _RECORD_CLASSES.update(_record_classes(namespace))
    for name, value in link.exports().items():
        if name not in namespace:  # the prelude's names (is_same_list, ListNode) stay the checker's own
            namespace[name] = value
    namespace["__name__"] = "solution"
    exec(code, namespace)
    return {"ok": True}


# ------------------------------------------------------------------------ assert tests: checker and solver apart
#
# An assert-style test carries its expected values in its own source, so the program under test must never run
# in a process that holds that source. The child that runs an assert test (the *checker*) runs only the test
# code and the prelude; the program runs in a *solver* process forked by the *zygote*, a process forked from this
# harness at start-up, before any job (and so any test source) was read: the solver's memory, frames and files
# hold no expected value to read. The checker reaches the program's names through `Remote` proxies; what crosses
# back is plain data only (exact builtin types and the prelude's record classes such as ListNode, rebuilt from
# their attributes with the checker's own classes), so no object of the program's making (an `__eq__` that says
# yes, an int subclass, a lying `__abs__`) ever reaches the test's comparisons, and nothing the program patches
# (builtins, `sys.modules`, the prelude's helpers, `json`, the exit path) exists in the checker. The solver has
# no descriptor of the result pipe or of the host channel, and the harness, the zygote and the checker are not
# dumpable, so it cannot read or write their memory or descriptors through /proc.


MAX_MESSAGE_BYTES = 256 << 20
_PLAIN_TYPES = frozenset((type(None), bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set,
                          frozenset, range, slice, type(Ellipsis)))
_SAFE_GLOBALS = {
    ("builtins", name) for name in ("set", "frozenset", "complex", "bytearray", "list", "dict", "int", "float",
                                    "str", "tuple", "bool", "bytes", "range", "slice")
} | {("collections", name) for name in ("OrderedDict", "defaultdict", "Counter", "deque")} | {
    ("decimal", "Decimal"), ("fractions", "Fraction"), ("__main__", "_new_record")}
_RECORD_CLASSES = {}  # name -> class: the prelude's record classes in this process (the checker's or the solver's)


def _new_record(name):
    """An empty instance of this process's record class `name` (its state arrives separately, as data)."""
    cls = _RECORD_CLASSES.get(name)
    if cls is None:
        raise pickle.UnpicklingError("unknown record class %r" % (name,))
    return cls.__new__(cls)


def _record_classes(namespace):
    return {name: value for name, value in namespace.items()
            if isinstance(value, type) and getattr(value, "__module__", None) == "prelude"}


def _send(sock, data):
    sock.sendall(len(data).to_bytes(8, "little") + data)


def _receive(sock):
    header = _receive_exact(sock, 8)
    size = int.from_bytes(header, "little")
    if size > MAX_MESSAGE_BYTES:
        raise RuntimeError("message of %d bytes from the solver" % size)
    return _receive_exact(sock, size)


def _receive_exact(sock, size):
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side ended")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class _SolverPickler(pickle.Pickler):
    """Solver -> checker: plain data as itself, record instances as (class name, attributes), anything else (a
    function, a class, an object of the program's own type or a subclass of a builtin) as a handle."""

    def __init__(self, file, handles):
        super().__init__(file, protocol=4)
        self.handles = handles

    def persistent_id(self, obj):
        kind = type(obj)
        if kind in _PLAIN_TYPES:
            return None
        if any(obj is c for c in _SAFE_CALLABLES):
            return None  # a safe constructor in a value's reduce (Counter's class, defaultdict's int)
        if kind in _SAFE_VALUE_TYPES or _record_name(obj) is not None:
            return None
        if kind is type(sys) and _importable_by_name(obj):
            return ("module", obj.__name__, self._handle(obj))
        return ("ref", self._handle(obj))

    def _handle(self, obj):
        self.handles.append(obj)
        return len(self.handles) - 1

    def reducer_override(self, obj):
        name = _record_name(obj)
        if name is None:
            return NotImplemented
        return _new_record, (name,), dict(object.__getattribute__(obj, "__dict__"))


def _record_name(obj):
    """The record-class name an object travels as: an instance whose class is named like a prelude class and was
    defined by the prelude or the program (a program may define its own ListNode); None otherwise."""
    kind = type(obj)
    name = getattr(kind, "__name__", None)
    if name in _RECORD_CLASSES and kind.__module__ in ("prelude", "solution"):
        try:
            object.__getattribute__(obj, "__dict__")
        except AttributeError:
            return None
        return name
    return None


def _importable_by_name(module):
    name = getattr(module, "__name__", "")
    return isinstance(name, str) and name.split(".")[0] in _STDLIB_NAMES


_STDLIB_NAMES = frozenset(getattr(sys, "stdlib_module_names", ())) | {"numpy", "sortedcontainers"}


def _safe_value_types():
    import collections
    import decimal
    import fractions

    return frozenset((collections.OrderedDict, collections.defaultdict, collections.Counter, collections.deque,
                      decimal.Decimal, fractions.Fraction))


_SAFE_VALUE_TYPES = _safe_value_types()
_SAFE_CALLABLES = tuple(_SAFE_VALUE_TYPES) + (set, frozenset, complex, bytearray, list, dict, int, float, str, tuple,
                                              bool, bytes, range, slice, _new_record)


class _CheckerUnpickler(pickle.Unpickler):
    """Checker side: only whitelisted constructors, this process's record classes, and handles."""

    def __init__(self, file, link):
        super().__init__(file)
        self.link = link

    def find_class(self, module, name):
        if (module, name) not in _SAFE_GLOBALS:
            raise pickle.UnpicklingError("the solver sent %s.%s" % (module, name))
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if pid[0] == "module" and isinstance(pid[1], str) and pid[1].split(".")[0] in _STDLIB_NAMES:
            import importlib  # the program's `import math`: the checker's own, untouched module

            try:
                return importlib.import_module(pid[1])
            except Exception:
                pass
        return Remote(self.link, pid[-1])


class _CheckerPickler(pickle.Pickler):
    """Checker -> solver: the test's arguments; handles go back as references, records as their attributes, and
    the test's own functions (a lambda passed as an argument) as callbacks that the solver calls back here."""

    def __init__(self, file, callbacks):
        super().__init__(file, protocol=4)
        self.callbacks = callbacks

    def persistent_id(self, obj):
        kind = type(obj)
        if kind is Remote:
            return ("ref", object.__getattribute__(obj, "_id"))
        if kind in _CALLBACK_TYPES and obj is not _new_record:  # the record constructor travels by name
            self.callbacks.append(obj)
            return ("cb", len(self.callbacks) - 1)
        return None

    def reducer_override(self, obj):
        kind = type(obj)
        if _RECORD_CLASSES.get(getattr(kind, "__name__", None)) is kind:
            return _new_record, (kind.__name__,), dict(obj.__dict__)
        return NotImplemented


class _SolverUnpickler(pickle.Unpickler):
    def __init__(self, file, handles, sock):
        super().__init__(file)
        self.handles = handles
        self.sock = sock

    def persistent_load(self, pid):
        if pid[0] == "cb":
            return _Callback(self.sock, self.handles, pid[1])
        return self.handles[pid[1]]


class _Callback:
    """The solver's stand-in for a function of the test (a key or a predicate passed as an argument): calling it
    asks the checker, sending the arguments as the solver sends everything (plain data and handles)."""

    def __init__(self, sock, handles, ident):
        self._sock, self._handles, self._id = sock, handles, ident

    def __call__(self, *args, **kwargs):
        import io

        _solver_send(self._sock, self._handles, ("callback", self._id, args, kwargs))
        answer = _SolverUnpickler(io.BytesIO(_receive(self._sock)), self._handles, self._sock).load()
        if answer[0] == "ok":
            return answer[1]
        raise _exception_named(answer[1], answer[2])


def _solver_send(sock, handles, message):
    import io

    buffer = io.BytesIO()
    try:
        _SolverPickler(buffer, handles).dump(message)
    except RecursionError as exc:
        buffer = io.BytesIO()
        pickle.dump(("raise", "ValueError", "value nested too deeply: %s" % exc), buffer, protocol=4)
    except BaseException as exc:
        buffer = io.BytesIO()
        pickle.dump(("raise", "ValueError", "unrepresentable value: %s" % _short(exc)), buffer, protocol=4)
    _send(sock, buffer.getvalue())


_IN_PLACE = (list, dict, set, bytearray)
_CALLBACK_TYPES = (type(lambda: None), type(Channel(0).emit))  # functions and bound methods


class Remote:
    """The checker's stand-in for an object that lives in the solver (a function, a class, an instance). Calling
    it, reading an attribute or iterating it asks the solver; comparisons are by identity, so a handle never
    equals an expected value."""

    __slots__ = ("_link", "_id")

    def __init__(self, link, ident):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_id", ident)

    def __call__(self, *args, **kwargs):
        link = object.__getattribute__(self, "_link")
        value, changed = link.request(("call", object.__getattribute__(self, "_id"), args, kwargs))
        for key, new in changed:  # arguments the program changed in place (LeetCode's in-place problems)
            _update_in_place(args[key] if isinstance(key, int) else kwargs[key], new)
        return value

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in ("__name__", "__qualname__", "__doc__"):
            raise AttributeError(name)
        link = object.__getattribute__(self, "_link")
        return link.request(("getattr", object.__getattribute__(self, "_id"), name))

    def __setattr__(self, name, value):
        self._ask("setattr", name, value)

    def __iter__(self):
        return iter(self._ask("list"))

    def __len__(self):
        return self._ask("len")

    def __getitem__(self, key):
        return self._ask("getitem", key)

    def __setitem__(self, key, value):
        self._ask("setitem", key, value)

    def __contains__(self, item):
        return self._ask("contains", item)

    def _ask(self, operation, *operands):
        link = object.__getattribute__(self, "_link")
        return link.request((operation, object.__getattribute__(self, "_id")) + operands)

    def __repr__(self):
        return "<object of the program #%d>" % object.__getattribute__(self, "_id")


def _update_in_place(target, new):
    kind = type(target)
    if kind is list or kind is bytearray:
        target[:] = new
    elif kind is dict or kind is set:
        target.clear()
        target.update(new)
    elif _RECORD_CLASSES.get(getattr(kind, "__name__", None)) is kind and type(new) is kind:
        target.__dict__.clear()
        target.__dict__.update(new.__dict__)


class SolverLink:
    """The checker's connection to its solver."""

    def __init__(self, sock, prelude_source, program_source):
        """Sends the program at once (the solver, which the harness asked the zygote for when it forked this
        checker, runs it while the checker prepares the test); `exports()` reads what it defined."""
        self.sock = sock
        self.callbacks = []
        self._send(("start", prelude_source, program_source))

    def exports(self):
        return self._reply()

    def request(self, message):
        self._send(message)
        return self._reply()

    def _send(self, message):
        import io

        buffer = io.BytesIO()
        _CheckerPickler(buffer, self.callbacks).dump(message)
        _send(self.sock, buffer.getvalue())

    def _reply(self):
        import io

        while True:
            reply = _CheckerUnpickler(io.BytesIO(_receive(self.sock)), self).load()
            if reply[0] != "callback":
                break
            try:  # the program calls a function of the test: run it here, send back its value
                answer = ("ok", self.callbacks[reply[1]](*reply[2], **reply[3]))
            except Exception as exc:
                answer = ("raise", type(exc).__name__, _short(exc))
            self._send(answer)
        if reply[0] == "ok":
            return reply[1]
        raise _exception_named(reply[1], reply[2])


def ask_zygote(ctx, group, solver_end):
    """Asks the zygote for a solver in process group `group` (the checker's) on `solver_end`. Never blocks: a zygote
    that is gone or stopped leaves the checker without a solver (its test fails; the sandbox then retires)."""
    cpu = int(ctx.time_limit_s) + 1
    try:
        socket.send_fds(ctx.zygote_sock, [("%d:%d" % (group, cpu)).encode()], [solver_end.fileno()],
                        socket.MSG_DONTWAIT)
    except OSError:
        pass



def _exception_named(name, message):
    """The checker's own exception for one the program raised (builtin exception types only; never an exit)."""
    import builtins

    kind = getattr(builtins, str(name), None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        try:
            return kind(message)
        except Exception:
            pass
    return RuntimeError("%s: %s" % (name, message))


_OPERATIONS = {
    "list": list, "len": len, "setattr": setattr, "getitem": lambda obj, key: obj[key],
    "setitem": lambda obj, key, value: obj.__setitem__(key, value), "contains": lambda obj, item: item in obj,
}


def _solver_main(sock):
    """Runs the program for one checker: start (prelude + program), then calls, attribute reads and iterations
    on its objects, until the checker goes away. Program code runs only here."""
    import io

    handles = []
    namespace = {}

    def reply(message):
        _solver_send(sock, handles, message)

    while True:
        try:
            message = _SolverUnpickler(io.BytesIO(_receive(sock)), handles, sock).load()
        except EOFError:
            os._exit(0)
        try:
            if message[0] == "start":
                prelude, program = message[1], message[2]
                if prelude:
                    namespace["__name__"] = "prelude"
                    exec(compile(prelude, "<prelude>", "exec", dont_inherit=True), namespace)
                    _RECORD_CLASSES.update(_record_classes(namespace))
                namespace["__name__"] = "solution"
                before = dict(namespace)
                exec(compile(program, "<solution>", "exec", dont_inherit=True), namespace)
                exports = {name: value for name, value in namespace.items()
                           if not name.startswith("__") and not (name in before and before[name] is value)}
                reply(("ok", exports))
            elif message[0] == "call":
                args, kwargs = list(message[2]), dict(message[3])
                value = handles[message[1]](*args, **kwargs)
                changed = [(i, a) for i, a in enumerate(args) if isinstance(a, _IN_PLACE) or _record_name(a)]
                changed += [(k, a) for k, a in kwargs.items() if isinstance(a, _IN_PLACE) or _record_name(a)]
                reply(("ok", (value, changed)))
            elif message[0] == "getattr":
                reply(("ok", getattr(handles[message[1]], message[2])))
            elif message[0] in _OPERATIONS:
                reply(("ok", _OPERATIONS[message[0]](handles[message[1]], *message[2:])))
            else:
                reply(("raise", "RuntimeError", "unknown request"))
        except BaseException as exc:  # the program may raise anything, SystemExit included: it goes to the test
            reply(("raise", type(exc).__name__, _short(exc)))


def _zygote_main(sock):
    """Forks one solver per request (a DGRAM message naming the checker's process group, carrying the solver's
    end of a socket pair). Forked from the harness before any job was read."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # solvers are reaped by the kernel
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(sock, 64, 4)
        except InterruptedError:
            continue
        except OSError:
            os._exit(0)
        if not message and not fds:
            os._exit(0)
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        try:
            group, cpu = (int(part) for part in message.decode("ascii").split(":"))
        except ValueError:
            os.close(fds[0])
            continue
        pid = os.fork()
        if pid == 0:
            status = EXIT_CHILD_CRASHED
            try:
                sock.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                try:
                    os.setpgid(0, group)  # killed with the checker's group when its test ends
                except OSError:
                    pass
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
                sys.setrecursionlimit(RECURSION_LIMIT)
                _solver_main(socket.socket(fileno=fds[0]))
            finally:
                os._exit(status)
        os.close(fds[0])


def start_zygote(channel_fd, ends_with_sandbox):
    """Forks the zygote (before any job: its memory holds no test) and returns (pid, the harness's socket)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    pid = os.fork()
    if pid == 0:
        try:
            if not ends_with_sandbox:  # (bubblewrap's PID namespace ends with the harness and takes the zygote)
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            ours.close()
            os.close(channel_fd)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.close(devnull)
            _zygote_main(theirs)
        finally:
            os._exit(EXIT_CHILD_CRASHED)
    theirs.close()
    return pid, ours


RUNNERS = {"stdin": _run_stdin, "call": _run_call, "assert": _run_assert}


def child_main(ctx, test, result_fd):
    """Runs one test and writes one JSON line on `result_fd`; never returns."""
    record = None
    try:
        os.setpgid(0, 0)
        os.close(ctx.channel.fd)
        if ctx.zygote_sock is not None:
            ctx.zygote_sock.close()  # only the harness asks the zygote for solvers
        if ctx.solver_pair is not None:
            ctx.solver_pair[1].close()  # the solver's end
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
        self.prelude_source = None
        self.zygote_pid = None
        self.zygote_sock = None
        self.solver_pair = None  # (checker's end, solver's end) while an assert test's checker is forked

    def zygote_healthy(self):
        """Whether the zygote is still there and running (a test may have killed or stopped it; then this sandbox
        retires after the job, since a fresh zygote can only come from a process that holds no test)."""
        if self.zygote_pid is None:
            return True
        try:
            done, _ = os.waitpid(self.zygote_pid, os.WNOHANG)
        except ChildProcessError:
            return False
        if done:
            return False
        try:
            with open("/proc/%d/stat" % self.zygote_pid) as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("T", "t", "Z", "X")

    def load(self, job):
        """Compiles the job's program and prelude (compiling runs nothing); returns the error that stops them."""
        self.source = job["program"]
        self.func_name = job.get("func_name")
        self.time_limit_s = float(job["time_limit_s"])
        self.program, self.prelude = None, None
        self.prelude_source = job.get("prelude") or None
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


_SIGKILL_BIT = 1 << (signal.SIGKILL - 1)


def _others_of_uid(uid):
    """Every other live process whose real uid is `uid`, read from /proc/<pid>/status (the owner of /proc/<pid> itself
    is root for processes that are not dumpable, as this harness's forked children are); zombies and processes with
    a SIGKILL pending (dying: they run no more code) are left out."""
    me = os.getpid()
    others = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (me, 1):
            continue
        try:
            with open("/proc/%s/status" % name, "rb") as status:
                fields = dict(line.split(b":", 1) for line in status if b":" in line)
            if int(fields[b"Uid"].split()[0]) != uid or fields[b"State"].split()[0] in (b"Z", b"X"):
                continue  # another uid, or already dead and waiting to be reaped
            if any(int(fields.get(key, b"0").strip(), 16) & _SIGKILL_BIT for key in (b"SigPnd", b"ShdPnd")):
                continue  # killed already: it runs no more code of its own
            others.append(int(name))
        except (OSError, ValueError, IndexError, KeyError):
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
    uid of its own that is only this sandbox's) except the zygote, reaps the orphans this process adopted, and
    waits (briefly) until they are gone, so that nothing of one test is alive when the next starts. Everything
    is stopped first (one `kill(-1, SIGSTOP)`), so that nothing forks while the survivors are listed and killed."""
    if not ctx.kill_all:
        _reap()
        return
    spare = ctx.zygote_pid
    deadline = time.monotonic() + 3.0
    if spare is not None and not [pid for pid in _others_of_uid(ctx.uid) if pid != spare]:
        _reap()
        return  # the usual case: the test's processes are gone already (its group was killed)
    while True:
        try:
            if spare is None:
                os.kill(-1, signal.SIGKILL)  # spares this process and PID 1
            else:
                os.kill(-1, signal.SIGSTOP)
                for pid in _others_of_uid(ctx.uid):
                    if pid != spare:
                        _signal(pid, signal.SIGKILL)
                _signal(spare, signal.SIGCONT)
        except (ProcessLookupError, PermissionError):
            pass
        _reap()
        left = [pid for pid in _others_of_uid(ctx.uid) if pid != spare]
        if not left or time.monotonic() > deadline:
            return
        time.sleep(0.001)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


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
    if test["kind"] == "assert":
        ctx.solver_pair = socket.socketpair()
    pid = _fork(ctx)
    if pid == 0:
        try:
            os.close(read_fd)
            child_main(ctx, test, write_fd)
        finally:
            os._exit(EXIT_CHILD_CRASHED)
    os.close(write_fd)
    if ctx.solver_pair is not None:
        try:
            os.setpgid(pid, pid)  # the child does the same; whichever runs first makes the group the solver joins
        except OSError:
            pass
        ask_zygote(ctx, pid, ctx.solver_pair[1])
        for end in ctx.solver_pair:
            end.close()
        ctx.solver_pair = None
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
    # before any job, so that its memory holds no test
    ctx.zygote_pid, ctx.zygote_sock = start_zygote(channel.fd, bool(setup.get("zygote_ends_with_sandbox")))
    channel.emit({"event": "ready"})
    while True:
        line = reader.next_line()
        if line is None:
            return
        run_job(ctx, json.loads(line.decode("utf-8")))
        _wipe(ctx.workdir)
        dirty = _ipc_left_behind(ctx.uid) or not ctx.zygote_healthy()
        channel.emit({"event": "done", "dirty": dirty})
        if dirty:
            return


if __name__ == "__main__":
    main()
