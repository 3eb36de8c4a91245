"""`darl bootstrap [--preset default] [--cache-dir DIR] [--from-source]`: find the embedded model family in the
cache, else copy the build shipped with darl, else train it; print where each role's checkpoint is, its size and
where it came from (darl.embedded)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from darl.cli.main import app
from darl.cli.options import choices, value
from darl.embedded.family import PRESETS as _PRESETS

Preset = choices("Preset", list(_PRESETS))


@app.command("bootstrap")
def bootstrap_command(
    preset: Preset = typer.Option("default", help="The family: 'default' (the one `darl demo` and the tests use; "
                               "shipped with darl, a few minutes on 2 cores to train from source)."),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="Folder holding cached builds (default: "
                                   "$DARL_CACHE/embedded, else ~/.cache/darl/embedded)."),
    from_source: bool = typer.Option(False, "--from-source", help="Train the family on this machine (a few minutes "
                                     "on 2 cores) instead of copying the build shipped with darl; use with an empty "
                                     "--cache-dir."),
) -> None:
    """Build the tiny Qwen2 family standing in for the paper's proxy roles (small, medium, large, filter)."""
    from darl.embedded.bootstrap import bootstrap
    from darl.embedded.family import PRESETS
    from darl.errors import InputError

    preset = value(preset)
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}", field="--preset", hint=f"choose one of {sorted(PRESETS)}")
    console = Console(highlight=False)
    start = time.perf_counter()
    family = bootstrap(preset, cache_dir=cache_dir, from_source=from_source)
    wall = time.perf_counter() - start
    table = Table(title=f"embedded family '{family.preset}' (suite '{family.suite}')")
    for column in ("role", "stands for", "params", "warm-start steps", "final loss", "checkpoint"):
        table.add_column(column)
    for role in family.roles.values():
        table.add_row(role.role, role.stands_for, f"{role.params / 1e6:.2f}M", str(role.steps),
                      f"{role.final_loss:.3f}", str(role.path))
    console.print(table)
    if family.build_seconds > 0:
        console.print(f"built in {family.build_seconds:.1f} s (wall {wall:.1f} s) into {family.root}")
    elif family.origin == "shipped":
        console.print(f"the build shipped with darl, in {family.root} ({wall:.1f} s); `darl bootstrap --from-source "
                      "--cache-dir DIR` trains one here")
    else:
        console.print(f"reused the cached build in {family.root} (loaded in {wall:.1f} s)")
