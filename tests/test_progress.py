"""Progress where no terminal is attached (Slurm, CI): periodic plain lines, and one when a task finishes."""

from __future__ import annotations

import io

from rich.console import Console

from darl.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn


def test_plain_lines_without_a_terminal():
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console,
                  interval=0.0) as progress:
        task = progress.add_task("[bold]score small", total=4)
        for _ in range(4):
            progress.advance(task)
        progress.update(task, completed=4)  # finished tasks print once
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert lines[0].startswith("score small: 0/4 (0%)")
    assert lines[-1].startswith("score small: 4/4 (100%) elapsed")
    assert sum("4/4" in line for line in lines) == 1 and "[bold]" not in out.getvalue()


def test_interval_limits_the_lines():
    out = io.StringIO()
    with Progress(console=Console(file=out, force_terminal=False), interval=3600) as progress:
        task = progress.add_task("x", total=100)
        for _ in range(99):
            progress.advance(task)
    assert len([line for line in out.getvalue().splitlines() if line.strip()]) == 1  # the start line only
