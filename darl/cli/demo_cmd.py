"""`darl demo [--out demo-run/] [--preset default|quick]`: the whole pipeline on the embedded default (darl.demo)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from darl.cli.main import app


@app.command("demo")
def demo_command(
    out: Path = typer.Option(Path("demo-run"), "--out", "-o", help="Run folder; re-running into it reuses every "
                             "finished step."),
    preset: str = typer.Option("default", help="default (about 15 minutes on 2 cores) or quick (a few minutes, "
                               "smallest sizes, for tests)."),
) -> None:
    """Bootstrap the tiny model family, score, level, train two GRPO stages, evaluate before/after, write the report."""
    from darl.demo import run_demo

    console = Console(highlight=False, soft_wrap=True)
    result = run_demo(out, preset, say=console.print)
    console.print(f"[bold]open {result.report.resolve()} in a browser[/]")
