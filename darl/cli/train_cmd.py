"""`darl train RECIPE --levels levels.parquet --out run/ [--resume]`: staged GRPO training (darl.training)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from darl.cli.main import app


@app.command("train")
def train(
    recipe: str = typer.Argument(..., help="Recipe YAML file, or a shipped recipe name (e.g. embedded_two_stage)."),
    levels: Path = typer.Option(..., "--levels", help="Levels Parquet file written by `darl levels`."),
    out: Path = typer.Option(..., "--out", help="Run directory (checkpoints, metrics.jsonl, stage manifests)."),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run in --out at the same step and data."),
    model: str | None = typer.Option(None, "--model", help="Override the recipe's starting policy (path or hub id)."),
) -> None:
    """Run the recipe's stages with GRPO (TRL), moving stages on a validation plateau or at max steps."""
    from darl.training.recipe import load_recipe, resolve_recipe_path

    spec = load_recipe(resolve_recipe_path(recipe))  # recipe errors come before the slow torch/TRL import

    from darl.training.stages import run_recipe
    if model is not None:
        spec = spec.model_copy(update={"model": model})
    console = Console()
    console.print(f"[bold]darl train[/bold] {spec.name}: {len(spec.stages)} stage(s), policy {spec.model}, out {out}")
    result = run_recipe(spec, levels, out, resume=resume)
    table = Table(title=f"{spec.name}: stages")
    for col in ("stage", "steps", "ended because", "val acc start -> end"):
        table.add_column(col)
    for stage in result.stages:
        m = stage.manifest
        hist = m["validation_history"]
        acc = f"{hist[0]['accuracy']:.3f} -> {hist[-1]['accuracy']:.3f}" if hist else "-"
        table.add_row(f"{stage.index} {stage.name}", str(m["end_step"]), m["ended_because"], acc)
    console.print(table)
    before, after = result.heldout["before"], result.heldout["after"]
    console.print(f"held-out greedy accuracy ({before['count']} problems): {before['accuracy']:.3f} -> "
                  f"{after['accuracy']:.3f}   by domain {before['by_domain']} -> {after['by_domain']}")
    console.print(f"run directory: {out} (metrics.jsonl, heldout.json, stage-*/manifest.json)")
