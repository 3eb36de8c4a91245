"""The verifier in a child process, for scoring.

Why: scoring overlaps verification with generation. In one process the verifier thread's Python work (answer
extraction, job bookkeeping) competes for the GIL with the generation loop, whose every torch call releases and
re-takes it; each re-take can then wait for the other thread's switch interval (CPython's convoy effect). In a
child process the two never share a GIL; the parent's verifier thread only waits on a pipe.

`ProcessVerifier` has the surface scoring uses (`verify_batch`, `versions`, `close`). The child is a plain
`python -c` process running `serve()` (not `multiprocessing`, whose 'spawn' re-imports the caller's main module
and would re-run an unguarded script or CLI entry point); it builds a default `Verifier` and answers pickled
requests, length-prefixed, on a private copy of its stdout (its fd 1 goes to stderr so that stray prints cannot
corrupt the protocol).
"""

from __future__ import annotations

import importlib.metadata
import os
import pickle
import struct
import subprocess
import sys
import threading
from typing import Any, BinaryIO, Sequence

from darl.records import Problem, Verdict


# Run through -c rather than -m: the package imports this module, and runpy would warn about running it twice.
_CHILD = "from darl.scoring.verify_process import serve; serve()"


def verifier_versions(verifier: Any, domains: set[str]) -> dict[str, Any]:
    """What graded the samples: math-verify's version and the code sandbox's isolation mode (None when the job
    has no problems of that domain; asking for it starts the sandbox, so a missing sandbox fails up front)."""
    info: dict[str, Any] = {"math_verify": None, "code_sandbox": None}
    if "math" in domains:
        info["math_verify"] = importlib.metadata.version("math-verify")
    if "code" in domains:
        info["code_sandbox"] = verifier.code.isolation
    return info


def _send(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _receive(stream: BinaryIO) -> Any:
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("verifier process closed its pipe")
    (size,) = struct.unpack("<Q", head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("verifier process closed its pipe mid-message")
    return pickle.loads(data)


class ProcessVerifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE)

    def _call(self, request: tuple) -> Any:
        with self._lock:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the verifier process exited (status {self._proc.returncode})")
            try:
                _send(self._proc.stdin, request)
                status, value = _receive(self._proc.stdout)
            except (EOFError, BrokenPipeError):
                self._proc.wait()
                raise RuntimeError(f"the verifier process died (status {self._proc.returncode})") from None
        if status == "error":
            raise value
        return value

    def verify_batch(self, problems: Sequence[Problem], responses: Sequence[str], *,
                     thinking: bool = False) -> list[Verdict]:
        if len(problems) != len(responses):
            raise ValueError(f"verify_batch: {len(problems)} problems but {len(responses)} responses")
        return self._call(("verify", list(problems), list(responses), thinking))

    def versions(self, domains: set[str]) -> dict[str, Any]:
        return self._call(("versions", set(domains)))

    def close(self) -> None:
        with self._lock:
            if self._proc.poll() is None:
                try:
                    _send(self._proc.stdin, ("close",))
                    self._proc.stdin.close()
                except BrokenPipeError:
                    pass
                try:
                    self._proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc.stdout.close()

    def __enter__(self) -> ProcessVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve() -> None:
    """The child's loop (see the module docstring)."""
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed from here on goes to stderr, never into the protocol
    requests = sys.stdin.buffer
    from darl.verifiers import Verifier

    with Verifier() as verifier:
        while True:
            try:
                request = _receive(requests)
            except EOFError:
                return
            if request[0] == "close":
                return
            try:
                if request[0] == "verify":
                    result: Any = verifier.verify_batch(request[1], request[2], thinking=request[3])
                else:
                    result = verifier_versions(verifier, request[1])
                _send(channel, ("ok", result))
            except Exception as exc:  # handed back to the parent, which re-raises it
                try:
                    _send(channel, ("error", exc))
                except (pickle.PicklingError, TypeError, AttributeError):
                    _send(channel, ("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
