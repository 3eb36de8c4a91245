"""Grading a JSON Lines file of any tool's responses with darl's verifiers: the library behind `darl verify`.

Output rows keep the input order and every input field, and add `score` (0..1, or null when the checker itself
could not run: an infrastructure failure such as a code sandbox that cannot start, which is not a 0), `passed` and
`error` (null or a short reason). The row format is `darl.data.verify_rows`.

A row that cannot be graded (not JSON, missing field, bad tests) gets score 0, passed false and an error naming its
line and field; the rest of the file is graded normally. If a chunk's batch call itself fails (a verifier bug, not a
wrong answer) each of its rows is retried alone, so one bad row cannot sink the file. Rows are graded in chunks and
appended as they finish, so `resume=True` continues an interrupted run where its output file ends (a last line cut
off by the crash is dropped first).

`thinking=True` grades responses of a model whose prompt opened a `<think>` block: only text after `</think>` is the
answer, and a response without `</think>` has none.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from darl.atomic import atomic_write_bytes
from darl.data.formats.base import RowError
from darl.data.verify_rows import problem_from_verify_row
from darl.errors import InputError

# The fields a row may carry under another tool's column name (`darl verify --column DARL=THEIRS`).
VERIFY_FIELDS = ("domain", "response", "answer", "tests", "test", "prompt", "entry_point", "func_name")


@dataclass
class VerifySummary:
    """What `verify_file` did: rows written by this call, how many passed, were malformed (their error says why)
    or could not be graded (score null), the sum of the graded scores, and rows kept from an earlier run."""

    output: Path
    rows: int = 0
    passed: int = 0
    malformed: int = 0
    ungraded: int = 0
    score_sum: float = 0.0
    kept: int = 0

    @property
    def mean_score(self) -> float:
        """Mean score of the rows graded by this call (0.0 when none was)."""
        graded = self.rows - self.ungraded
        return self.score_sum / graded if graded else 0.0


def read_rows(path: Path) -> list[tuple[int, Any, str | None]]:
    """(line number, parsed value or raw text, parse error or None) for every non-blank line."""
    if not path.is_file():
        raise InputError("no such file", path=path)
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append((line_number, json.loads(line), None))
            except json.JSONDecodeError as exc:
                rows.append((line_number, line.rstrip("\n"), f"not valid JSON ({exc.msg} at column {exc.colno})"))
    return rows


def complete_lines(path: Path) -> int:
    """How many whole rows an earlier run wrote; a last line cut off by a crash is removed from the file."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        atomic_write_bytes(path, data)
    return data.count(b"\n")


def failed_row(value: Any, line: int, message: str) -> dict[str, Any]:
    out = dict(value) if isinstance(value, dict) else {"line": line, "input": value}
    out.update(score=0.0, passed=False, error=f"line {line}: {message}")
    return out


def grade_chunk(verifier: Any, problems: list, responses: list[str], thinking: bool = False) -> list[Any]:
    """Verdicts for a chunk; if the batch call itself fails (a verifier bug, not a wrong answer), each row is
    retried alone so that one bad row cannot sink the file: a row that still fails gets the reason as a string."""
    try:
        return verifier.verify_batch(problems, responses, thinking=thinking)
    except Exception:  # noqa: BLE001 - isolate the failing row below; each failure is reported on its row
        verdicts: list[Any] = []
        for problem, response in zip(problems, responses):
            try:
                verdicts.append(verifier.verify(problem, response, thinking=thinking))
            except Exception as exc:  # noqa: BLE001 - reported on the row, never swallowed
                verdicts.append(f"verifier failed ({type(exc).__name__}: {str(exc)[:200]})")
        return verdicts


def mapped(row: Any, mapping: Mapping[str, str]) -> Any:
    """The row as darl reads it: each mapped field taken from the tool's column (the written row keeps the original
    fields)."""
    if not mapping or not isinstance(row, dict):
        return row
    out = dict(row)
    for ours, theirs in mapping.items():
        if theirs in row:
            out[ours] = row[theirs]
    return out


def _grade_rows(verifier: Any, chunk: list[tuple[int, Any, str | None]], mapping: Mapping[str, str],
                thinking: bool) -> tuple[list[dict[str, Any]], int]:
    """The output rows of one chunk, in order, and how many of them are malformed."""
    results: list[dict[str, Any] | None] = [None] * len(chunk)
    problems, responses, where = [], [], []
    malformed = 0
    for i, (line, value, parse_error) in enumerate(chunk):
        if parse_error is not None:
            results[i] = failed_row(value, line, parse_error)
            malformed += 1
            continue
        try:
            problem, response = problem_from_verify_row(mapped(value, mapping), line)
        except RowError as exc:
            field = f"field '{exc.field}': " if exc.field else ""
            results[i] = failed_row(value, line, field + exc.message)
            malformed += 1
            continue
        problems.append(problem)
        responses.append(response)
        where.append(i)
    for i, verdict in zip(where, grade_chunk(verifier, problems, responses, thinking)):
        if isinstance(verdict, str):
            results[i] = failed_row(chunk[i][1], chunk[i][0], verdict)
            malformed += 1
            continue
        results[i] = dict(chunk[i][1]) | {"score": verdict.score, "passed": verdict.passed, "error": verdict.error}
    assert all(r is not None for r in results)
    return results, malformed  # type: ignore[return-value]


def verify_file(input_path: str | Path, output: str | Path, *, batch_size: int = 256, workers: int | None = None,
                strict_isolation: bool = False, resume: bool = False, mapping: Mapping[str, str] | None = None,
                thinking: bool = False, on_progress: Callable[[int, int], None] | None = None) -> VerifySummary:
    """Grade every row of `input_path` into `output` (JSON Lines). `mapping`: darl field -> the tool's column;
    `workers`: verifier processes / sandbox slots (default: CPUs); `on_progress(rows done, rows in total)` is
    called once before grading (after the input was read and checked) and after each chunk. InputError for a
    missing input, or for `resume` on an output with more rows than the input."""
    input_path, output = Path(input_path), Path(output)
    mapping = dict(mapping or {})
    rows = read_rows(input_path)
    done = complete_lines(output) if resume else 0
    if done > len(rows):
        raise InputError(f"holds {done} rows but the input only {len(rows)}", path=output,
                         hint="it is not an output of this input; drop --resume to start over")
    output.parent.mkdir(parents=True, exist_ok=True)
    verifier = _verifier(rows[done:], mapping, workers or os.cpu_count() or 1, strict_isolation)
    summary = VerifySummary(output=output, kept=done)
    with verifier, open(output, "a" if resume else "w", encoding="utf-8") as out:
        if on_progress is not None:
            on_progress(done, len(rows))
        for start in range(done, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            results, malformed = _grade_rows(verifier, chunk, mapping, thinking)
            for result in results:
                out.write(json.dumps(result, ensure_ascii=False) + "\n")
                summary.rows += 1
                summary.passed += bool(result["passed"])
                if result["score"] is None:  # the checker could not run (infrastructure): not a 0
                    summary.ungraded += 1
                else:
                    summary.score_sum += float(result["score"])
            summary.malformed += malformed
            out.flush()
            if on_progress is not None:
                on_progress(start + len(chunk), len(rows))
    return summary


def _verifier(rows: list[tuple[int, Any, str | None]], mapping: Mapping[str, str], workers: int,
              strict_isolation: bool):
    """A `darl.verifiers.Verifier` with only the domains these rows need (a code sandbox is not started for a file
    of math rows)."""
    from darl.verifiers import Verifier

    domains = {mapped(v, mapping).get("domain") for _, v, _ in rows if isinstance(v, dict)}
    math = code = None
    if "math" in domains:
        from darl.verifiers.math import MathVerifier

        math = MathVerifier(workers=workers)
    if "code" in domains:
        from darl.verifiers.code import CodeVerifier

        code = CodeVerifier(workers=workers, strict=strict_isolation)
    return Verifier(math=math, code=code)
