"""The sandbox's resource limits, read from inside it, and the address-space limit shown to be what stops an
allocation.

The adversarial tests (test_sandbox_adversarial.py) check that attacks are contained, but a fork bomb is contained
by the cgroup's pids cap and the time limit even without RLIMIT_NPROC, so they would not notice a limit that the
harness stopped setting. Here a program prints `resource.getrlimit` of every limit the harness sets and the test
compares them with the configured `Limits`, at every isolation level this machine can run.
"""

from __future__ import annotations

import os
import resource
import warnings

import pytest

from darl.records import CodeTests, IOTest, Problem
from darl.verifiers.code import CodeVerifier, Limits
from darl.verifiers.code import sandbox as sandbox_module

# Odd numbers, unlike any default, so that a limit inherited from elsewhere cannot match by chance.
LIMITS = Limits(memory_bytes=700 << 20, processes=23, open_files=77, stack_bytes=24 << 20,
                sandbox_memory_bytes=2 << 30)
READ_LIMITS = """import resource
for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_STACK"):
    print(name, *resource.getrlimit(getattr(resource, name)))
"""


def _clamped(value: int, which: int) -> int:
    """The harness lowers a limit to the host's hard limit when that is smaller (it cannot raise it)."""
    hard = resource.getrlimit(which)[1]
    return value if hard == resource.RLIM_INFINITY else min(value, hard)


def expected_limits_text(limits: Limits) -> str:
    values = {"RLIMIT_AS": _clamped(limits.memory_bytes, resource.RLIMIT_AS),
              "RLIMIT_NPROC": _clamped(limits.processes, resource.RLIMIT_NPROC),
              "RLIMIT_NOFILE": _clamped(limits.open_files, resource.RLIMIT_NOFILE),
              "RLIMIT_CORE": 0,
              "RLIMIT_STACK": _clamped(limits.stack_bytes, resource.RLIMIT_STACK)}
    return "".join(f"{name} {value} {value}\n" for name, value in values.items())


def _levels() -> list:
    levels = []
    for level in sandbox_module.LEVELS:
        marks = []
        if level != "bwrap":
            marks.append(pytest.mark.skipif(os.geteuid() != 0, reason="the fallback levels switch uid: needs root"))
        levels.append(pytest.param(level, marks=marks))
    return levels


def _verifier(level: str, limits: Limits) -> CodeVerifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sandbox_module.SandboxWarning)
        try:
            return CodeVerifier(workers=1, isolation=level, strict=(level == "bwrap"), limits=limits)
        except sandbox_module.SandboxUnavailable as exc:
            pytest.skip(f"{level} unusable here: {exc}")


@pytest.mark.parametrize("level", _levels())
def test_limits_inside_the_sandbox_are_the_configured_ones(level):
    expected = expected_limits_text(LIMITS)
    problem = Problem(id="limits", domain="code", prompt="p", tests=CodeTests(io=(IOTest("", expected),)))
    with _verifier(level, LIMITS) as verifier:
        assert verifier.isolation == level
        outcome = verifier.test_outcomes(problem, f"```python\n{READ_LIMITS}```")
    assert outcome[0].passed, (outcome, expected)


def test_the_address_space_limit_is_what_stops_a_large_allocation():
    """512 MiB (zero pages, never touched, so the cgroup's memory cap does not count them) fits under a 1 GiB
    address-space limit and fails under a 256 MiB one: the verdict 'memory limit' comes from RLIMIT_AS."""
    program = "```python\nblock = bytearray(512 << 20)\nprint(len(block) >> 20)\n```"
    problem = Problem(id="alloc", domain="code", prompt="p", tests=CodeTests(io=(IOTest("", "512\n"),)))
    roomy = Limits(memory_bytes=1 << 30, sandbox_memory_bytes=2 << 30)
    tight = Limits(memory_bytes=256 << 20, sandbox_memory_bytes=2 << 30)
    with CodeVerifier(workers=1, limits=roomy) as verifier:
        assert verifier.verify(problem, program).passed
    with CodeVerifier(workers=1, limits=tight) as verifier:
        verdict = verifier.verify(problem, program)
    assert not verdict.passed and verdict.error == "memory limit", verdict
