"""`darl report RUN_DIR`: one self-contained HTML report of a run (see darl.report)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from darl.cli.main import app


@app.command("report")
def report_command(
    run_dir: Path = typer.Argument(..., help="A run directory (what darl train or darl demo wrote)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write the HTML (default "
                                       "RUN_DIR/report.html)."),
    title: Optional[str] = typer.Option(None, help="Report title."),
) -> None:
    """Render RUN_DIR into one HTML file that opens in any browser without a server."""
    from darl.report import write_report

    path = write_report(run_dir, out, title=title)
    typer.echo(f"wrote {path}")
