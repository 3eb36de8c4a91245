"""`darl train RECIPE --levels levels.parquet --out run/ [--resume]`: staged GRPO training (darl.training)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from darl.cli.main import app
from darl.errors import InputError


@app.command("train")
def train(
    recipe: str = typer.Argument(..., help="Recipe YAML file, or a shipped recipe name (e.g. embedded_two_stage)."),
    levels: Optional[Path] = typer.Option(None, "--levels", help="Levels Parquet file written by `darl levels` "
                                          "(required unless --dry-run)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Run directory (checkpoints, metrics.jsonl, "
                                          "stage manifests; required unless --dry-run)."),
    out: Optional[Path] = typer.Option(None, "--out", hidden=True, help="Old spelling of --output."),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run in --out at the same step and data."),
    model: str | None = typer.Option(None, "--model", help="Override the recipe's starting policy (path or hub id)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Memory preflight only: print what each device holds in "
                                 "each stage and exit 1 if a stage does not fit; loads no model."),
    devices: int = typer.Option(8, "--devices", help="--dry-run: number of GPUs (processes)."),
    device_memory: str = typer.Option("80GB", "--device-memory", help="--dry-run: memory of each GPU, e.g. 80GB."),
    model_config: Optional[Path] = typer.Option(None, "--model-config", help="--dry-run: the policy's "
                                                "config.json (default: the model folder's, or the one darl ships "
                                                "for the paper's hub ids)."),
    prompt_tokens: Optional[int] = typer.Option(None, "--prompt-tokens", help="--dry-run: prompt length to "
                                                "size for (default: the stage's max_prompt_length, else 1024)."),
    skip_preflight: bool = typer.Option(False, "--skip-preflight", help="On GPUs, start even when the memory "
                                        "preflight says a stage does not fit (its numbers are estimates)."),
) -> None:
    """Run the recipe's stages with GRPO (TRL), moving stages on a validation plateau or at max steps."""
    from darl.training.recipe import load_recipe, resolve_recipe_path

    from darl.cli.options import alias

    out = alias(output, out, "--output", "--out")
    spec = load_recipe(resolve_recipe_path(recipe))  # recipe errors come before the slow torch/TRL import
    if model is not None:
        spec = spec.model_copy(update={"model": model})
    if dry_run:
        _preflight(spec, devices, device_memory, model_config, prompt_tokens)
        return
    if levels is None or out is None:
        raise InputError("--levels and --out are required to train", field="--levels" if levels is None else "--out",
                         hint="or pass --dry-run for the memory preflight alone")

    if not skip_preflight:
        _preflight_on_this_machine(spec, prompt_tokens)
    from darl.locking import FolderLock
    from darl.training.processes import process_state

    # one writer per --out (darl.locking), taken by the main process before the slow imports; an error exit drops
    # it with the process
    lock = FolderLock(out).acquire() if process_state().is_main_process else None
    from darl.training.stages import run_recipe

    main = process_state().is_main_process  # under `accelerate launch` the header and summary are printed once
    console = Console(quiet=not main)
    console.print(f"[bold]darl train[/bold] {spec.name}: {len(spec.stages)} stage(s), policy {spec.model}, out {out}")
    result = run_recipe(spec, levels, out, resume=resume)
    if not main:
        return
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
    from darl.training.health import check_health
    from darl.training.metrics import read_jsonl

    records = read_jsonl(out / "metrics.jsonl")
    last = max((r["train/global_step"] for r in records if isinstance(r.get("train/global_step"), int)), default=0)
    for warning in check_health(records, [(0, before["accuracy"]), (last, after["accuracy"])]):
        console.print(f"[yellow]training health: {warning.name}[/yellow] from step {warning.step}: {warning.message}")
    console.print(f"run directory: {out} (metrics.jsonl, heldout.json, stage-*/manifest.json)")
    # soft_wrap: a path split over two lines cannot be copied
    console.print(f"final model: {result.final}   evaluate it with: darl eval {result.final} -b ... -o {out}/eval",
                  soft_wrap=True)
    if lock is not None:
        lock.release()


def _preflight(spec, devices: int, device_memory: str, model_config: Path | None, prompt_tokens: int | None) -> None:
    """`--dry-run`: the memory table of every stage (darl.training.preflight); exit 1 when one does not fit."""
    from darl.training.preflight import load_model_dims, parse_memory, stage_memory, stage_plans

    try:
        memory = parse_memory(device_memory)
    except ValueError as exc:
        raise InputError(str(exc), field="--device-memory") from None
    try:
        dims = load_model_dims(spec.model, model_config)
    except FileNotFoundError:
        raise InputError(f"no config.json for the policy {spec.model!r}", field="--model-config",
                         hint="pass --model-config path/to/config.json (the model's own, from its hub page)") from None
    except ValueError as exc:
        raise InputError(str(exc), field="--model-config") from None
    try:
        plans = stage_plans(spec, devices, prompt_tokens)
    except ValueError as exc:
        raise InputError(str(exc), field="gradient_accumulation_steps") from None
    from darl.training.preflight import format_report

    results = [stage_memory(dims, plan, memory) for plan in plans]
    # plain print: the table is read in logs and CI output, where a console would wrap it at 80 columns
    print(f"darl train --dry-run {spec.name}: policy {spec.model} ({dims.parameters() / 1e9:.2f}B parameters), "
          f"{devices} x {device_memory}")
    print(format_report(results))
    failed = [r.plan.name for r in results if not r.fits]
    if failed:
        print(f"preflight: stage(s) {', '.join(failed)} do not fit; nothing was started")
        raise typer.Exit(1)
    print("preflight: every stage fits" + (" (with warnings above)" if any(r.warnings for r in results) else ""))


def _preflight_on_this_machine(spec, prompt_tokens: int | None) -> None:
    """On CUDA GPUs, before any work: the preflight for this launch's process count and this GPU's memory. A stage
    that cannot fit is refused on every process alike (`--skip-preflight` overrides); a tight one is warned about.
    Nothing happens on a CPU, or when the policy's config.json is not at hand (a hub id darl ships none for)."""
    import torch

    if not torch.cuda.is_available():
        return
    from darl.training.preflight import format_report, load_model_dims, stage_memory, stage_plans
    from darl.training.processes import process_state

    state = process_state()
    try:
        dims = load_model_dims(spec.model)
        plans = stage_plans(spec, state.num_processes, prompt_tokens)
    except (FileNotFoundError, ValueError) as exc:  # batch-split errors are reported by the trainer's own check
        if state.is_main_process:
            print(f"memory preflight skipped ({exc})")
        return
    memory = torch.cuda.get_device_properties(torch.cuda.current_device()).total_memory
    results = [stage_memory(dims, plan, memory) for plan in plans]
    failed = [r for r in results if not r.fits]
    if state.is_main_process and (failed or any(r.warnings for r in results)):
        print(format_report(results))
    if failed:
        raise InputError(f"memory preflight: stage(s) {', '.join(r.plan.name for r in failed)} cannot fit "
                         f"{state.num_processes} x {memory / 2 ** 30:.0f} GiB: {failed[0].errors[0]}",
                         hint="change the recipe as the table says, or pass --skip-preflight to try anyway")
