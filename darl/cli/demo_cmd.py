"""`darl demo [-o demo-run/] [--preset default]`: the whole pipeline on the embedded default (darl.demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from darl.cli.main import app
from darl.cli.options import alias, choices, value
from darl.demo import PRESETS

Preset = choices("Preset", list(PRESETS))  # the demo's presets (sizes of one run), not the family's build presets


@app.command("demo")
def demo_command(
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Run folder (default demo-run); re-running "
                                          "into it reuses every finished step."),
    out: Optional[Path] = typer.Option(None, "--out", hidden=True, help="Old spelling of --output."),
    preset: Preset = typer.Option("default", help="Demo sizes: default (about 6 minutes on 2 idle cores, 8 from a "
                                  "fresh clone) or quick (the smallest run through every step, for a first look)."),
    train_processes: Optional[int] = typer.Option(None, "--train-processes", min=1, help="Processes to train in "
                                                  "(default: 2 on a machine with 2 or more cores, else 1)."),
) -> None:
    """Bootstrap the tiny model family, score, level, train two GRPO stages, evaluate before/after, write the report."""
    from darl.demo import run_demo

    console = Console(highlight=False, soft_wrap=True)
    output = alias(output, out, "--output", "--out", default=Path("demo-run"))
    result = run_demo(output, value(preset), say=console.print, train_processes=train_processes)
    console.print(f"[bold]open {result.report.resolve()} in a browser[/]")
