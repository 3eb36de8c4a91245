"""`darl verify IN.jsonl -o OUT.jsonl`: grade any tool's responses with darl's verifiers.

Output rows keep the input order and every input field, and add `score` (0..1, or null when the checker itself
could not run: an infrastructure failure such as a code sandbox that cannot start, which is not a 0), `passed` and
`error` (null or a short reason).

`--thinking` grades responses of a model whose prompt opened a `<think>` block (DeepSeek-R1-Distill's chat template
ends the prompt with `<think>\\n`, so its responses never contain `<think>`): only text after `</think>` is the
answer, and a response without `</think>` has none (score 0, error 'no final answer (thinking not closed)'). Off by
default: then a response without thinking tags is graded whole.

A row that cannot be graded (not JSON, missing field, bad tests) gets score 0, passed false and an
error naming its line and field; the rest of the file is graded normally. Rows are graded in chunks and written as
they finish, so `--resume` continues an interrupted run where its output file ends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from darl.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from darl.cli.main import app


def _read_rows(path: Path) -> list[tuple[int, Any, str | None]]:
    """(line number, parsed value or raw text, parse error or None) for every non-blank line."""
    from darl.errors import InputError

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


def _complete_lines(path: Path) -> int:
    """How many whole rows an earlier run wrote (a last line cut off by a crash is dropped)."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    return data.count(b"\n")


def _failed_row(value: Any, line: int, message: str) -> dict[str, Any]:
    out = dict(value) if isinstance(value, dict) else {"line": line, "input": value}
    out.update(score=0.0, passed=False, error=f"line {line}: {message}")
    return out


def _grade(verifier: Any, problems: list, responses: list[str], thinking: bool = False) -> list[Any]:
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


VERIFY_FIELDS = ("domain", "response", "answer", "tests", "test", "prompt", "entry_point", "func_name")


def _column_mapping(pairs: list[str]) -> dict[str, str]:
    """--column DARL=THEIRS pairs as {darl field: their column}; a bad pair or an unknown darl field is a usage
    error before any row is read."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours or not theirs:
            raise typer.BadParameter(f"{pair!r} is not DARL=THEIRS", param_hint="--column")
        if ours not in VERIFY_FIELDS:
            raise typer.BadParameter(f"{ours!r} is not a field darl verify reads ({', '.join(VERIFY_FIELDS)})",
                                     param_hint="--column")
        mapping[ours] = theirs
    return mapping


def _mapped(row: Any, mapping: dict[str, str]) -> Any:
    """The row as darl reads it: each mapped field taken from the tool's column (the written row keeps the original
    fields)."""
    if not mapping or not isinstance(row, dict):
        return row
    out = dict(row)
    for ours, theirs in mapping.items():
        if theirs in row:
            out[ours] = row[theirs]
    return out


@app.command("verify")
def verify_command(
    input_path: Path = typer.Argument(..., metavar="IN.jsonl", help="Rows with domain, response, and answer (math) "
                                      "or tests / test (code)."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the graded rows (JSON Lines)."),
    batch_size: int = typer.Option(256, min=1, help="Rows graded per chunk (output is written after each)."),
    workers: Optional[int] = typer.Option(None, min=1, help="Worker processes / sandbox slots (default: CPUs)."),
    strict_isolation: bool = typer.Option(False, "--strict-isolation", help="Refuse to run code without "
                                          "bubblewrap instead of falling back to weaker isolation."),
    resume: bool = typer.Option(False, "--resume", help="Keep the rows already in OUT and grade the rest."),
    fail_on_malformed: bool = typer.Option(False, "--fail-on-malformed", help="Exit with status 1 (failure) when a "
                                           "row could not be graded (not JSON, a missing or bad field); every row is "
                                           "still written."),
    column: Optional[list[str]] = typer.Option(None, "--column", help="Read a field under another tool's name, "
                                               "DARL=THEIRS (e.g. response=completion, answer=solution, "
                                               "tests=verification_info); repeatable."),
    thinking: bool = typer.Option(False, "--thinking/--no-thinking", help="The responses come from a model whose "
                                  "prompt opened a <think> block (DeepSeek-R1-Distill chat templates end the prompt "
                                  "with '<think>\\n'): only text after </think> is graded, and a response without "
                                  "</think> has no answer (score 0). Default off: a response without thinking tags "
                                  "is graded whole."),
) -> None:
    """Grade a JSON Lines file of responses; see docs/data.md for the row format."""
    import os

    from darl.data.formats.base import RowError
    from darl.data.verify_rows import problem_from_verify_row
    from darl.verifiers import Verifier

    mapping = _column_mapping(column or [])  # checked before any row is read
    rows = _read_rows(input_path)
    done = _complete_lines(output) if resume else 0
    if done > len(rows):
        from darl.errors import InputError

        raise InputError(f"holds {done} rows but the input only {len(rows)}", path=output,
                         hint="it is not an output of this input; drop --resume to start over")
    output.parent.mkdir(parents=True, exist_ok=True)
    n_workers = workers or os.cpu_count() or 1
    console = Console(stderr=True, soft_wrap=True)  # paths stay on one line, for copying
    counts = {"rows": 0, "passed": 0, "malformed": 0, "score": 0.0, "ungraded": 0}

    def math_verifier():
        from darl.verifiers.math import MathVerifier

        return MathVerifier(workers=n_workers)

    def code_verifier():
        from darl.verifiers.code import CodeVerifier

        return CodeVerifier(workers=n_workers, strict=strict_isolation)

    needs_math = any(isinstance(v, dict) and _mapped(v, mapping).get("domain") == "math" for _, v, _ in rows[done:])
    needs_code = any(isinstance(v, dict) and _mapped(v, mapping).get("domain") == "code" for _, v, _ in rows[done:])
    verifier = Verifier(math=math_verifier() if needs_math else None, code=code_verifier() if needs_code else None)
    with verifier, open(output, "a" if resume else "w", encoding="utf-8") as out, Progress(
            TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console) as progress:
        task = progress.add_task("grading", total=len(rows), completed=done)
        for start in range(done, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            results: list[dict[str, Any] | None] = [None] * len(chunk)
            problems, responses, where = [], [], []
            malformed = 0
            for i, (line, value, parse_error) in enumerate(chunk):
                if parse_error is not None:
                    results[i] = _failed_row(value, line, parse_error)
                    malformed += 1
                    continue
                try:
                    problem, response = problem_from_verify_row(_mapped(value, mapping), line)
                except RowError as exc:
                    field = f"field '{exc.field}': " if exc.field else ""
                    results[i] = _failed_row(value, line, field + exc.message)
                    malformed += 1
                    continue
                problems.append(problem)
                responses.append(response)
                where.append(i)
            for i, verdict in zip(where, _grade(verifier, problems, responses, thinking)):
                if isinstance(verdict, str):
                    results[i] = _failed_row(chunk[i][1], chunk[i][0], verdict)
                    malformed += 1
                    continue
                results[i] = dict(chunk[i][1]) | {"score": verdict.score, "passed": verdict.passed,
                                                  "error": verdict.error}
            for result in results:
                assert result is not None
                out.write(json.dumps(result, ensure_ascii=False) + "\n")
                counts["rows"] += 1
                counts["passed"] += bool(result["passed"])
                if result["score"] is None:  # the checker could not run (infrastructure): not a 0
                    counts["ungraded"] += 1
                else:
                    counts["score"] += float(result["score"])
            counts["malformed"] += malformed
            out.flush()
            progress.update(task, completed=start + len(chunk))
    graded = counts["rows"] - counts["ungraded"]
    mean = counts["score"] / graded if graded else 0.0
    console.print(f"{counts['rows']} rows graded -> {output}: {counts['passed']} passed, mean score {mean:.3f}, "
                  f"{counts['malformed']} malformed" + (f" ({done} kept from the earlier run)" if done else "")
                  + (", thinking: only text after </think> graded" if thinking else ""))
    if fail_on_malformed and counts["malformed"]:
        console.print(f"[bold red]{counts['malformed']} malformed rows (their error field says why); failing as "
                      f"--fail-on-malformed asks[/]")
        raise typer.Exit(1)
    if counts["ungraded"]:
        console.print(f"[bold red]{counts['ungraded']} rows could not be graded (the checker failed to run, e.g. the "
                      f"code sandbox): their score is null, not 0; fix the cause and grade those rows again.[/]")
