"""The typed records every pipeline step exchanges: one `Problem` for math and code, and one `Verdict`.

Why one record for both domains: the paper mixes math and code inside one training batch and grades both with
the same `verify(problem, response)` call, so every step (data, scoring, levels, training, evaluation) handles a
single type and routes on `Problem.domain`.

On disk a problems file is Parquet with the columns of `PROBLEM_COLUMNS`; the nested parts (`tests`, `metadata`)
are stored as JSON text so that one schema holds every source (LiveCodeBench metadata differs from MATH's) and a
person can read a row with any Parquet viewer.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from darl.errors import DarlError

Domain = Literal["math", "code"]
DOMAINS: tuple[Domain, ...] = ("math", "code")
TestType = Literal["stdin", "functional"]

PROBLEM_COLUMNS = ("id", "domain", "prompt", "answer", "tests", "source", "metadata")


class RecordError(DarlError, ValueError):
    """A record that does not fit the schema; the message names the field and what to do."""


@dataclass(frozen=True)
class IOTest:
    """One LiveCodeBench-style test: `stdin` feeds `input` to the program and compares its stdout with `output`;
    `functional` calls `CodeTests.func_name` with the JSON values on each line of `input` as positional arguments
    and compares the return value with the JSON value in `output`."""

    input: str
    output: str
    testtype: TestType = "stdin"


@dataclass(frozen=True)
class CodeTests:
    """The tests of a code problem. Either `io` tests (stdin or functional) or `asserts`, never neither.

    `asserts` holds assert-style test programs, each one test for partial credit: a HumanEval `check` plus its call,
    one MBPP assert, a LeetCode `check(Solution().method)`. `entry_point` names the function HumanEval's `check`
    receives; `prelude` is code run before the candidate (LeetCode's imports and helper classes).
    """

    io: tuple[IOTest, ...] = ()
    func_name: str | None = None
    asserts: tuple[str, ...] = ()
    entry_point: str | None = None
    prelude: str | None = None
    time_limit_s: float | None = None

    @property
    def count(self) -> int:
        return len(self.io) + len(self.asserts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["io"] = [asdict(t) for t in self.io]
        data["asserts"] = list(self.asserts)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "tests") -> CodeTests:
        known = {"io", "func_name", "asserts", "entry_point", "prelude", "time_limit_s"}
        unknown = set(data) - known
        if unknown:
            raise RecordError(f"{where}: unknown key(s) {sorted(unknown)}; expected some of {sorted(known)}")
        io = []
        for i, t in enumerate(data.get("io") or ()):
            if not isinstance(t, dict) or "input" not in t or "output" not in t:
                raise RecordError(f"{where}.io[{i}]: needs 'input' and 'output' strings")
            testtype = t.get("testtype", "stdin")
            if testtype not in ("stdin", "functional"):
                raise RecordError(f"{where}.io[{i}].testtype: {testtype!r} is not 'stdin' or 'functional'")
            io.append(IOTest(input=str(t["input"]), output=str(t["output"]), testtype=testtype))
        tests = cls(
            io=tuple(io),
            func_name=data.get("func_name"),
            asserts=tuple(str(a) for a in data.get("asserts") or ()),
            entry_point=data.get("entry_point"),
            prelude=data.get("prelude"),
            time_limit_s=data.get("time_limit_s"),
        )
        tests.validate(where)
        return tests

    def validate(self, where: str = "tests") -> None:
        if not self.io and not self.asserts:
            raise RecordError(f"{where}: a code problem needs at least one test ('io' or 'asserts')")
        if any(t.testtype == "functional" for t in self.io) and not self.func_name:
            raise RecordError(f"{where}.func_name: functional tests need the name of the function or method to call")


@dataclass(frozen=True)
class Problem:
    """One math or code problem. `answer` is set for math (LaTeX or plain), `tests` for code."""

    id: str
    domain: Domain
    prompt: str
    answer: str | None = None
    tests: CodeTests | None = None
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        where = f"problem {self.id!r}"
        if not self.id:
            raise RecordError("problem.id: must be a non-empty string")
        if self.domain not in DOMAINS:
            raise RecordError(f"{where}.domain: {self.domain!r} is not one of {DOMAINS}")
        if not self.prompt or not self.prompt.strip():
            raise RecordError(f"{where}.prompt: empty")
        if self.domain == "math" and (self.answer is None or not str(self.answer).strip()):
            raise RecordError(f"{where}.answer: a math problem needs a reference answer")
        if self.domain == "code":
            if self.tests is None:
                raise RecordError(f"{where}.tests: a code problem needs tests")
            self.tests.validate(f"{where}.tests")

    def to_row(self) -> dict[str, Any]:
        """The flat row stored in Parquet (nested parts as JSON text)."""
        return {
            "id": self.id,
            "domain": self.domain,
            "prompt": self.prompt,
            "answer": self.answer,
            "tests": json.dumps(self.tests.to_dict()) if self.tests is not None else None,
            "source": self.source,
            "metadata": json.dumps(self.metadata, sort_keys=True, default=str),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any], where: str = "row") -> Problem:
        """Inverse of `to_row`; `where` (for example 'problems.parquet row 17') prefixes every error."""
        missing = [c for c in ("id", "domain", "prompt") if row.get(c) in (None, "")]
        if missing:
            raise RecordError(f"{where}: missing field(s) {missing}")
        tests = row.get("tests")
        if isinstance(tests, str):
            try:
                tests = json.loads(tests)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{where}.tests: not valid JSON ({exc})") from None
        metadata = row.get("metadata") or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{where}.metadata: not valid JSON ({exc})") from None
        try:
            return cls(
                id=str(row["id"]),
                domain=row["domain"],
                prompt=row["prompt"],
                answer=None if row.get("answer") is None else str(row["answer"]),
                tests=CodeTests.from_dict(tests, f"{where}.tests") if tests else None,
                source=row.get("source") or "",
                metadata=dict(metadata),
            )
        except RecordError as exc:
            raise RecordError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one response. `score` in [0, 1] (code: passed tests / all tests); `passed` is True
    only for a fully correct response (every test passed; the math answer matched); `error` is None or a short
    reason such as 'no answer found', 'timeout', 'runtime error'.

    `score` None means *not graded*: the checker itself failed to run (an infrastructure failure such as a code
    sandbox that cannot start; `error` says which), so the response is neither right nor wrong. Callers leave such
    a sample out instead of counting it as 0: scoring drops it from K (and counts it in `infra_failures`), a GRPO
    reward is None (TRL leaves it out of its group's mean and std and gives it no advantage), and evaluation leaves
    it out of Pass@1."""

    score: float | None
    passed: bool
    error: str | None = None
    tests_passed: int | None = None
    tests_total: int | None = None

    def __post_init__(self) -> None:
        if self.score is None and self.passed:
            raise ValueError("Verdict: an ungraded response (score None) cannot have passed")

    @property
    def graded(self) -> bool:
        """False for an infrastructure failure (score None): the response was never checked."""
        return self.score is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
