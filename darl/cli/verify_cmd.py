"""`darl verify IN.jsonl -o OUT.jsonl`: grade any tool's responses with darl's verifiers.

The grading, chunking, resume and retry live in `darl.data.verify_file` (one call, one `VerifySummary`); this module
parses the options, shows progress and prints the summary. Output rows keep the input order and every input field,
and add `score` (null when the checker itself could not run, which is not a 0), `passed` and `error`.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from darl.cli.main import app
from darl.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def _column_mapping(pairs: list[str]) -> dict[str, str]:
    """--column DARL=THEIRS pairs as {darl field: their column}; a bad pair or an unknown darl field is a usage
    error before any row is read."""
    from darl.data.verify_file import VERIFY_FIELDS

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
    from darl.data.verify_file import verify_file

    mapping = _column_mapping(column or [])  # checked before any row is read
    console = Console(stderr=True, soft_wrap=True)  # paths stay on one line, for copying
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=console)
    with ExitStack() as stack:
        task = []

        def show(completed: int, total: int) -> None:
            if not task:  # the bar starts once the input is read and checked: an input error prints no empty bar
                stack.enter_context(progress)
                task.append(progress.add_task("grading", total=total))
            progress.update(task[0], completed=completed)

        summary = verify_file(input_path, output, batch_size=batch_size, workers=workers,
                              strict_isolation=strict_isolation, resume=resume, mapping=mapping, thinking=thinking,
                              on_progress=show)
    done = summary.kept
    console.print(f"{summary.rows} rows graded -> {output}: {summary.passed} passed, mean score "
                  f"{summary.mean_score:.3f}, {summary.malformed} malformed"
                  + (f" ({done} kept from the earlier run)" if done else "")
                  + (", thinking: only text after </think> graded" if thinking else ""))
    if fail_on_malformed and summary.malformed:
        console.print(f"[bold red]{summary.malformed} malformed rows (their error field says why); failing as "
                      f"--fail-on-malformed asks[/]")
        raise typer.Exit(1)
    if summary.ungraded:
        console.print(f"[bold red]{summary.ungraded} rows could not be graded (the checker failed to run, e.g. the "
                      f"code sandbox): their score is null, not 0; fix the cause and grade those rows again.[/]")
