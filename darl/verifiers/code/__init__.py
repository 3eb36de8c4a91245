"""The code verifier: the program in a response's last Python block, run in a sandbox against the problem's tests.

`CodeVerifier.verify(problem, response)` returns a `Verdict` with score = passed tests / all tests (partial
credit, as in the paper), `passed` only when every test passed, and `error` None or the first failing test's
short reason ('no code found', 'no final answer (thinking not closed)', 'syntax error', 'wrong answer', 'runtime
error', 'timeout', 'memory limit', 'output limit', 'function not found', 'invalid test'). `verify_batch` spreads
responses over `workers` sandbox slots and keeps input order. `thinking=True`: the prompt opened a `<think>` block
(darl.verifiers.extract), so only a block after `</think>` is the program.

A sandbox that cannot run at all (`SandboxUnavailable`: an infrastructure failure, not the program's doing) gives
`Verdict(None, False, 'sandbox unavailable')`: not graded, so that scoring, rewards and evaluation leave the
response out instead of counting a silent 0 (see `darl.records.Verdict`).

How the parts fit: `extract` picks the program, `jobs` turns `CodeTests` into harness tests and grades results,
`compare` holds LiveCodeBench's output comparison, `sandbox` runs `harness.py` (one process per response, a fork
per test) under bubblewrap, and `pool` gives each parallel slot its own uid. See docs/sandbox.md.

Differences from LiveCodeBench's grader, on purpose: every test runs (LiveCodeBench stops at the first failure;
partial credit needs them all), each test gets a fresh `Solution()` in a fresh process (LiveCodeBench reuses one
instance), stdin programs run as `__main__` with a real stdin (`sys.stdin.buffer` works), and the time limit is
wall-clock per test (6 s by default, LiveCodeBench's).
"""

from __future__ import annotations

import logging
import os
from typing import Literal, Sequence

from darl.records import Problem, Verdict
from darl.verifiers.code.extract import extract_program
from darl.verifiers.extract import NO_FINAL_ANSWER, final_answer_part
from darl.verifiers.code.jobs import TestOutcome, build_tests, grade, hidden_score, make_job
from darl.verifiers.code.pool import DEFAULT_UID_BASE, Slot, SlotPool
from darl.verifiers.code.sandbox import (SYSTEM_PYTHON, Isolation, Limits, Sandbox, SandboxUnavailable,
                                         choose_isolation)

__all__ = ["CodeVerifier", "Limits", "SandboxUnavailable", "extract_program"]

DEFAULT_TIME_LIMIT_S = 6.0
SANDBOX_UNAVAILABLE = "sandbox unavailable"  # the error of an ungraded verdict (score None)

log = logging.getLogger("darl.sandbox")


class CodeVerifier:
    """Grades code responses in a sandbox; see the module docstring.

    Args:
        workers: parallel sandbox slots (each a worker thread and, as root, a uid of its own).
        isolation: 'auto' (bubblewrap, else the strongest fallback, with a loud warning), 'bwrap', 'namespaces',
            'rlimits', or 'none' (a bare subprocess; benchmarks only).
        strict: refuse to run (raise `SandboxUnavailable`) rather than fall back below bubblewrap.
        time_limit_s: wall-clock limit per test when the problem sets none (`CodeTests.time_limit_s`).
        limits: memory, process, open-file, file-size and tmpfs limits inside the sandbox.
        python: the interpreter inside the sandbox; it must be readable by an unprivileged uid (a pyenv Python
            under /root is not), hence the system Python by default.
        jobs_per_sandbox: responses one sandbox serves before a fresh one replaces it (1: a new sandbox per
            response). Each test runs in a fresh forked process either way; reuse saves the start-up of
            bubblewrap and Python. A sandbox is also replaced whenever a test took it down or left IPC behind.
    """

    def __init__(self, workers: int = 2, *, isolation: Isolation | Literal["auto"] = "auto", strict: bool = False,
                 time_limit_s: float = DEFAULT_TIME_LIMIT_S, limits: Limits = Limits(), python: str = SYSTEM_PYTHON,
                 uid_base: int = DEFAULT_UID_BASE, jobs_per_sandbox: int = 256) -> None:
        if isolation not in ("auto", "bwrap", "namespaces", "rlimits", "none"):
            raise ValueError(f"isolation={isolation!r}: use 'auto', 'bwrap', 'namespaces', 'rlimits' or 'none'")
        if time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
        self.time_limit_s = time_limit_s
        separate_uids = os.geteuid() == 0 and isolation != "none"
        self._pool = SlotPool(workers, separate_uids=separate_uids, uid_base=uid_base)
        try:
            chosen = choose_isolation(isolation, strict=strict, limits=limits, python=python,
                                      slot=self._pool.slots[0])
        except BaseException:
            self._pool.close()
            raise
        self.isolation: Isolation = chosen
        self._sandbox = Sandbox(chosen, limits=limits, python=python, jobs_per_sandbox=jobs_per_sandbox)
        self._settings = dict(workers=workers, separate_uids=separate_uids, uid_base=uid_base, limits=limits,
                              python=python, jobs_per_sandbox=jobs_per_sandbox)
        self._owner_pid = os.getpid()

    def _own(self) -> None:
        """After a fork the slots, uids and sandbox processes belong to the parent: take fresh ones (leaving the
        parent's untouched) so that a forked worker never writes into the parent's sandboxes."""
        if os.getpid() == self._owner_pid:
            return
        settings = self._settings
        self._sandbox.disown()
        self._pool = SlotPool(settings["workers"], separate_uids=settings["separate_uids"],
                              uid_base=settings["uid_base"])
        self._sandbox = Sandbox(self.isolation, limits=settings["limits"], python=settings["python"],
                                jobs_per_sandbox=settings["jobs_per_sandbox"])
        self._owner_pid = os.getpid()

    @property
    def workers(self) -> int:
        return len(self._pool.slots)

    def verify(self, problem: Problem, response: str, *, thinking: bool = False) -> Verdict:
        self._own()
        return self._pool.run(self._verify_on, (problem, response, thinking))

    def verify_batch(self, problems: Sequence[Problem], responses: Sequence[str], *,
                     thinking: bool = False) -> list[Verdict]:
        if len(problems) != len(responses):
            raise ValueError(f"verify_batch: {len(problems)} problems but {len(responses)} responses")
        self._own()
        return self._pool.map(self._verify_on, [(p, r, thinking) for p, r in zip(problems, responses)])

    def test_outcomes(self, problem: Problem, response: str, *, thinking: bool = False) -> list[TestOutcome]:
        """Pass/fail and reason of every test (what `verify` summarises)."""
        self._own()
        return self._pool.run(self._outcomes_on, (problem, response, thinking))

    def close(self) -> None:
        self._own()
        self._pool.close()
        self._sandbox.close()

    def __enter__(self) -> CodeVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------ internals

    def _outcomes_on(self, slot: Slot, item: tuple[Problem, str, bool]) -> list[TestOutcome] | None:
        """None when the response submits no program."""
        problem, response, thinking = item
        if problem.tests is None:
            raise ValueError(f"problem {problem.id!r} has no tests; the code verifier needs CodeTests")
        program = extract_program(response, thinking)
        if program is None:
            return None
        harness_tests, expectations = build_tests(problem.tests)
        runnable = [t for t in harness_tests if t is not None]
        time_limit = problem.tests.time_limit_s or self.time_limit_s
        results = iter(self._sandbox.run(slot, make_job(program, problem.tests, runnable, time_limit))
                       if runnable else [])
        outcomes = []
        for test, expectation in zip(harness_tests, expectations):
            if test is None:
                outcomes.append(TestOutcome(False, "invalid test", expectation.invalid))
            else:
                outcomes.append(grade(expectation, next(results)))
        return outcomes

    def _verify_on(self, slot: Slot, item: tuple[Problem, str, bool]) -> Verdict:
        problem, response, thinking = item
        total = problem.tests.count if problem.tests is not None else 0
        if final_answer_part(response, thinking) is None:
            return Verdict(0.0, False, NO_FINAL_ANSWER, 0, total)
        try:
            outcomes = self._outcomes_on(slot, item)
        except SandboxUnavailable as exc:
            log.error("darl code sandbox failed on problem %s: %s", problem.id, exc)
            return Verdict(None, False, SANDBOX_UNAVAILABLE, 0, total)
        if outcomes is None:
            return Verdict(0.0, False, "no code found", 0, total)
        passed = sum(o.passed for o in outcomes)
        error = next((o.reason for o in outcomes if not o.passed), None)
        # Partial credit counts only the tests the prompt does not show: echoing the prompt's examples must earn
        # nothing (a memorising policy would otherwise be rewarded). A fully passing program scores 1 either way.
        hidden = hidden_score(problem, outcomes)
        score = hidden if hidden is not None else (passed / total if total else 0.0)
        return Verdict(score, passed == total and total > 0, error, passed, total)
