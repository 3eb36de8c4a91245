"""`darl compare SPEC -o DIR [--only ARM:SEED]`: seeded comparison of recipes (darl.comparison)."""

from __future__ import annotations

from pathlib import Path

import typer

from darl.cli.main import app


def _only(value: str | None) -> tuple[str, int] | None:
    from darl.errors import InputError

    if value is None:
        return None
    arm, _, seed = value.rpartition(":")
    if not arm or not seed.lstrip("-").isdigit():
        raise InputError(f"expected ARM:SEED, got {value!r}", field="--only", hint="e.g. --only two_stage:1")
    return arm, int(seed)


@app.command("compare")
def compare(
    spec: Path = typer.Argument(..., help="Comparison spec (YAML): arms, seeds, levels file, budget, held-out set."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Comparison folder (runs/, eval/, "
                                       "comparison.md/.json/.html). Required."),
    out: Path | None = typer.Option(None, "--out", hidden=True, help="Old spelling of --output."),
    only: str | None = typer.Option(None, "--only", help="Train and evaluate one run, ARM:SEED (a cluster job); "
                                    "a later call without --only evaluates what is missing and writes the report."),
    report_only: bool = typer.Option(False, "--report-only", help="Train and evaluate nothing; report the runs and "
                                     "evaluations already finished (the others are listed as missing)."),
) -> None:
    """Train every arm x seed on the same levels file and rollout budget, evaluate each on the same held-out set, and
    report per-arm means with 95% intervals, paired differences against the baseline arm, learning curves, gradient
    yield and training-health warnings. Finished runs and evaluations are reused."""
    from rich.console import Console

    from darl.comparison import compare as run

    console = Console()
    from darl.cli.options import alias

    out = alias(output, out, "--output", "--out", required=True)
    summary = run(spec, out, only=_only(only), report_only=report_only, say=console.print)
    if not summary:
        console.print(f"done: {only} (write the report with `darl compare {spec} -o {out}`)")
        return
    for arm, entry in summary["arms"].items():
        p1 = entry.get("pass@1")
        text = "not evaluated" if not p1 else f"Pass@1 {100 * p1['mean']:.1f}%" + (
            f" [{100 * p1['low']:.1f}, {100 * p1['high']:.1f}]" if p1["low"] is not None else "")
        console.print(f"  {arm}: {text} over {len(entry['seeds_done'])} seed(s)")
    for arm, p in summary["paired"].items():
        ci = "" if p["low"] is None else f" [{100 * p['low']:+.1f}, {100 * p['high']:+.1f}]"
        console.print(f"  {arm} - {summary['baseline']}: {100 * p['mean']:+.1f} points{ci}: {p['verdict']}")
    for r in summary["runs"]:
        for w in r["health"]:
            console.print(f"  [yellow]warning[/yellow] {r['arm']} seed {r['seed']}: {w['name']} from step "
                          f"{w['step']}: {w['message']}")
    console.print(f"report: {summary['files']['markdown']} (and {Path(summary['files']['html']).name})")
