"""Tasks for bench/bench_deadline_pool.py, in a module of their own so that every pool's workers import them by name.

`task(("check", payload))` is the math verifier's real sympy check (`darl.verifiers.math_compare.check`);
`("spin", seconds)` burns CPU like a check that never returns (sympy in a power tower) until it is killed;
`("crash", code)` ends the worker process at once, as a segfault or the out-of-memory killer would.
"""

from __future__ import annotations

import os
import time
from typing import Any

from darl.verifiers.math_compare import check, warm_up


def task(payload: tuple[str, Any]) -> Any:
    kind, value = payload
    if kind == "check":
        return check(value)
    if kind == "spin":
        end = time.monotonic() + value
        while time.monotonic() < end:
            pass
        return "spun"
    if kind == "crash":
        os._exit(value)
    raise ValueError(f"unknown task kind {kind!r}")


__all__ = ["task", "warm_up"]
