"""`darl report RUN_DIR`: one self-contained HTML report of a run (see darl.report)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from darl.cli.main import app


@app.command("report")
def report_command(
    run_dir: Path = typer.Argument(..., help="A run directory (what darl train or darl demo wrote)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Where to write the HTML (default "
                                          "RUN_DIR/report.html)."),
    out: Optional[Path] = typer.Option(None, "--out", hidden=True, help="Old spelling of --output."),
    title: Optional[str] = typer.Option(None, help="Report title."),
) -> None:
    """Render RUN_DIR into one HTML file that opens in any browser without a server."""
    from darl.report import write_report

    from darl.cli.options import alias

    path = write_report(run_dir, alias(output, out, "--output", "--out"), title=title)
    typer.echo(f"wrote {path}")
