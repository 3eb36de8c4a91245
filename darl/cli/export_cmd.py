"""`darl export EVAL_DIR -f lighteval -f lm-eval -f parquet [-o OUT]`: a finished `darl eval` folder written in
lighteval's and lm-evaluation-harness's result layouts and as per-sample Parquet (darl.evaluation.export)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from darl.cli.main import app
from darl.evaluation.export import FORMATS


@app.command("export")
def export_command(
    eval_dir: Path = typer.Argument(..., help="A `darl eval` output folder (eval.json + samples.jsonl)."),
    fmt: List[str] = typer.Option(..., "--format", "-f", help=f"Layout to write: {', '.join(FORMATS)} "
                                  "(repeat or comma-separate for several)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Folder to write into (default: EVAL_DIR): "
                                          "lighteval/, lm_eval/, samples.parquet."),
) -> None:
    """Write an evaluation in lighteval's or lm-evaluation-harness's layout, or its samples as Parquet."""
    from darl.evaluation.export import export_eval, parse_formats

    formats = parse_formats(fmt)  # an unknown format is named before anything is read
    written = export_eval(eval_dir, formats, output)
    for name, paths in written.items():
        for path in paths:
            typer.echo(f"{name}: {path}")
