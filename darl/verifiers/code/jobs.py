"""From a problem's `CodeTests` to the harness's test list, and from the harness's results to pass/fail per test.

What the sandbox receives for each test kind (the expected outputs of stdin and functional tests stay here, on the
host; only assert-style tests carry theirs, inside their own source):
- stdin (`IOTest.testtype == "stdin"`): the input text and an output cap (the program's stdout beyond it fails
  the test as 'output limit'): at least 1 MiB, or twice the expected output plus 64 KiB.
- functional: the positional arguments, one JSON value per line of `IOTest.input` (LiveCodeBench's format; blank
  lines are skipped), and the function name from `CodeTests.func_name`.
- asserts: each source is one test. When `entry_point` is set and a source defines `check` without calling it
  (a bare HumanEval `test` field), `check(<entry_point>)` is appended.

A test whose own data is malformed (functional input or output that is not JSON) fails as 'invalid test' without
running, so the score still counts it; the verdict's error names it.

Tests shown in the prompt (`prompt_example_tests`): a program that prints the examples' outputs passes them
without solving anything. `darl data` warns about problems whose only tests are such examples (a memorising
policy is rewarded in full there), and `hidden_score` is the score over the other tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from darl.records import CodeTests, Problem
from darl.verifiers.code.compare import decode_value, stdout_matches, value_matches
from darl.verifiers.code.sandbox import Job

MIN_OUTPUT_CAP = 1 << 20

_DEFINES_CHECK = re.compile(r"^def\s+check\s*\(", re.M)
_CALLS_CHECK = re.compile(r"^check\s*\(", re.M)


@dataclass(frozen=True)
class TestOutcome:
    passed: bool
    reason: str | None = None  # None when passed; else 'wrong answer', 'timeout', 'runtime error', ...
    detail: str | None = None


@dataclass(frozen=True)
class Expectation:
    """What the host checks a test's result against; `invalid` holds why the test itself cannot run."""

    kind: str
    expected: Any = None
    invalid: str | None = None


def with_check_call(source: str, entry_point: str | None) -> str:
    if entry_point and _DEFINES_CHECK.search(source) and not _CALLS_CHECK.search(source):
        return f"{source}\n\ncheck({entry_point})\n"
    return source


def _functional_args(text: str) -> list[Any]:
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def build_tests(tests: CodeTests) -> tuple[list[dict[str, Any] | None], list[Expectation]]:
    """The harness test dicts (None for a test that cannot run) and what each result is checked against."""
    harness_tests: list[dict[str, Any] | None] = []
    expectations: list[Expectation] = []
    for number, test in enumerate(tests.io):
        if test.testtype == "stdin":
            cap = max(MIN_OUTPUT_CAP, 2 * len(test.output.encode("utf-8")) + (64 << 10))
            harness_tests.append({"kind": "stdin", "stdin": test.input, "output_cap": cap})
            expectations.append(Expectation("stdin", test.output))
            continue
        try:
            args = _functional_args(test.input)
            expected = json.loads(test.output)
        except ValueError as exc:
            harness_tests.append(None)
            expectations.append(Expectation("call", invalid=f"io[{number}] is not JSON ({exc})"))
            continue
        harness_tests.append({"kind": "call", "args": args})
        expectations.append(Expectation("call", expected))
    for source in tests.asserts:
        harness_tests.append({"kind": "assert", "source": with_check_call(source, tests.entry_point)})
        expectations.append(Expectation("assert"))
    return harness_tests, expectations


def make_job(program: str, tests: CodeTests, runnable: list[dict[str, Any]], time_limit_s: float) -> Job:
    return Job(program=program, tests=runnable, time_limit_s=time_limit_s, prelude=tests.prelude,
               func_name=tests.func_name)


def grade(expectation: Expectation, result: dict[str, Any]) -> TestOutcome:
    """Whether one test passed, from the harness's result dict for it."""
    if not result.get("ok"):
        return TestOutcome(False, str(result.get("reason") or "runtime error"), result.get("detail"))
    if expectation.kind == "stdin":
        if stdout_matches(str(result.get("stdout", "")), expectation.expected):
            return TestOutcome(True)
        return TestOutcome(False, "wrong answer")
    if expectation.kind == "call":
        try:
            returned = decode_value(result.get("value"))
        except (TypeError, ValueError, KeyError):
            return TestOutcome(False, "wrong answer", "unreadable return value")
        if value_matches(returned, expectation.expected):
            return TestOutcome(True)
        return TestOutcome(False, "wrong answer")
    return TestOutcome(True)


_SPACE = re.compile(r"\s+")


def _squashed(text: str) -> str:
    return _SPACE.sub("", text)


def _shown(text: str, prompt: str) -> bool:
    squashed = _squashed(text)
    return bool(squashed) and squashed in prompt


def prompt_example_tests(prompt: str, tests: CodeTests) -> list[int]:
    """Indices (in `CodeTests.count` order: io tests, then asserts) of the tests the prompt shows in full, compared
    without whitespace: a stdin test whose input and output both appear, a functional test whose every argument
    and whose expected value appear (as JSON), an assert whose source appears (MBPP prompts quote their asserts)."""
    shown_prompt = _squashed(prompt)
    shown: list[int] = []
    for number, test in enumerate(tests.io):
        if test.testtype == "stdin":
            parts = [test.input, test.output]
        else:
            try:
                parts = [json.dumps(arg) for arg in _functional_args(test.input)] + [json.dumps(json.loads(test.output))]
            except ValueError:
                continue
        if parts and all(_shown(part, shown_prompt) for part in parts):
            shown.append(number)
    for number, source in enumerate(tests.asserts, start=len(tests.io)):
        lines = [line for line in source.splitlines() if line.strip().startswith("assert")]
        if lines and all(_shown(line, shown_prompt) for line in lines):
            shown.append(number)
    return shown


def hidden_score(problem: Problem, outcomes: list[TestOutcome]) -> float | None:
    """The share of passed tests among those the prompt does not show (what memorising the examples cannot earn);
    None when the prompt shows every test."""
    if problem.tests is None:
        raise ValueError(f"problem {problem.id!r} has no tests")
    shown = set(prompt_example_tests(problem.prompt, problem.tests))
    hidden = [outcome for number, outcome in enumerate(outcomes) if number not in shown]
    if not hidden:
        return None
    return sum(outcome.passed for outcome in hidden) / len(hidden)
