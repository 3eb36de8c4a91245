"""`darl levels`: difficulty levels from a scores table, with a calibration report beside them."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from darl.cli.main import app


@app.command("levels")
def levels_command(
    scores: List[Path] = typer.Argument(..., help="Scores Parquet file(s) from `darl score`; several are read as "
                                        "one table (e.g. the policy scored separately at its training temperature)."),
    output: Path = typer.Option(..., "-o", "--output", help="Levels Parquet file to write (what `darl train` reads)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Levels YAML config: roles, thresholds, keep "
                                          "shares, custom rules; or a packaged config's name: `paper` (default: "
                                          "the paper's rules, roles named small/medium/large/filter)."),
    problems: Optional[Path] = typer.Option(None, "--problems", help="Problems file the scores were made from "
                                            "(default: the one recorded by `darl score`)."),
) -> None:
    """Assign each problem its levels (they may overlap), drop what the filter model never solves (listed in
    <output stem>.dropped.csv), and write <output stem>.report.md/.html and .summary.json."""
    from darl.levels.pipeline import make_levels

    assignment, cal, paths = make_levels(scores, output, config_path=config, problems_path=problems)
    console = Console(stderr=True)
    table = Table(title=f"{paths['levels']} ({len(assignment.kept)} problems, {len(assignment.dropped)} dropped)")
    table.add_column("level")
    for d in cal.domains:
        table.add_column(d, justify="right")
    if cal.policy is not None:
        table.add_column(f"{cal.policy} mean pass rate", justify="right")
    for name in cal.level_names + ["any level", "no level", "dropped"]:
        row = [name] + [str(cal.counts[name][d]) for d in cal.domains]
        if cal.policy is not None:
            value = cal.policy_by_level.get(name, {}).get("all")
            row.append("" if value is None else f"{value:.3f}")
        table.add_row(*row)
    console.print(table)
    console.print(f"dropped list: {paths['dropped']}")
    console.print(f"report: {paths['md']} and {paths['html']}; metrics: {paths['summary']}")
    for message in cal.warnings:
        console.print(f"[bold red]WARNING: {message}[/]")
