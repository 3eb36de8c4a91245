"""`darl data`: turn problem sources into one problems Parquet file with a dedup/decontamination report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from darl.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from darl.benchmarks.registry import BENCHMARKS
from darl.cli.main import app

_BENCHMARK_NAMES = ", ".join(BENCHMARKS)


@app.command("data")
def data_command(
    sources: List[str] = typer.Argument(..., help="Files (.jsonl/.json/.parquet, .gz too) or Hugging Face dataset "
                                        "names, each as [NAME=][FORMAT:]LOCATION. NAME prefixes the ids; FORMAT "
                                        "overrides auto-detection."),
    output: Path = typer.Option(..., "-o", "--output", help="The problems file to write (Parquet)."),
    dedup: bool = typer.Option(True, "--dedup/--no-dedup", help="Remove exact and near duplicates."),
    near_threshold: float = typer.Option(0.8, min=0.01, max=1.0, help="Shingle Jaccard similarity from which a problem is a near "
                                         "duplicate (0 < t <= 1)."),
    decontaminate: bool = typer.Option(True, "--decontaminate/--no-decontaminate",
                                       help="Remove problems overlapping an evaluation set."),
    benchmark: Optional[List[str]] = typer.Option(None, "--benchmark", "-b", help="Packaged evaluation set to check "
                                                  f"against (repeatable; default: all of them): {_BENCHMARK_NAMES}."),
    eval_file: Optional[List[str]] = typer.Option(None, "--eval-file", help="A further evaluation file to check "
                                                  "against (repeatable)."),
    ngram: int = typer.Option(8, min=2, help="Word n-gram length for decontamination."),
    min_overlap: float = typer.Option(0.5, min=0.01, max=1.0, help="Share of n-grams in common from which a problem is contaminated."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Skip malformed rows (counted, reported and "
                                      "written to <output>.skipped.jsonl) instead of stopping at the first."),
    split: Optional[str] = typer.Option(None, help="Split of Hugging Face datasets (default: train)."),
    hub_config: Optional[str] = typer.Option(None, help="Configuration name of Hugging Face datasets."),
) -> None:
    """Load SOURCES, remove duplicates and evaluation-set overlaps, and write one problems Parquet file with
    <output>.report.json and <output>.report.md beside it."""
    from darl.data.build import BuildOptions, build_problems
    from darl.data.loaders import SourceSpec

    from darl.benchmarks.registry import evaluation_sets, get_benchmark
    from darl.errors import InputError

    # everything checked before any source is loaded: the output path, the benchmarks, the FORMAT: prefixes
    if output.is_dir():
        raise InputError("is a folder", path=output, hint="give the problems file to write, e.g. problems.parquet")
    for name in benchmark or ():
        get_benchmark(name)
    hub_options = {k: v for k, v in (("split", split), ("config", hub_config)) if v is not None}
    specs = [SourceSpec.parse(s) for s in sources]
    if hub_options:
        from dataclasses import replace

        specs = [spec if Path(spec.location).exists() else replace(spec, options=tuple(hub_options.items()))
                 for spec in specs]
    options = BuildOptions(skip_invalid=skip_invalid, dedup=dedup, near_threshold=near_threshold,
                           decontaminate=decontaminate, benchmarks=tuple(benchmark) if benchmark else None,
                           eval_files=tuple(eval_file or ()), ngram=ngram, min_overlap=min_overlap)
    console = Console(stderr=True, soft_wrap=True)  # paths stay on one line, for copying
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        eval_sets = evaluation_sets(options.benchmarks) if options.decontaminate else None
        outputs = build_problems(specs, output, options, progress=progress, eval_sets=eval_sets)
    report = outputs.report
    console.print(f"[bold]{report['result']['problems']}[/] problems -> {outputs.problems_path}")
    for source in report["sources"]:
        console.print(f"  {source['source']} ({source['format']}): {source['rows']} rows, {source['loaded']} loaded, "
                      f"{source['skipped']} skipped")
    if report["dedup"] is not None:
        counts = report["dedup"]["counts"]
        console.print(f"  duplicates removed: {counts['exact']} exact, {counts['near']} near")
    if report["decontamination"] is not None:
        by_bench = report["decontamination"]["removed_by_benchmark"]
        console.print("  contaminated removed: " + (", ".join(f"{n} ({b})" for b, n in by_bench.items()) or "none"))
    if outputs.skipped_path is not None:
        console.print(f"  skipped rows: {report['skipped']['count']} -> {outputs.skipped_path}")
    console.print(f"  report: {outputs.report_md} and {outputs.report_json}")
