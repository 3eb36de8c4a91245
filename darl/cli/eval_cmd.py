"""`darl eval MODEL -b aime24 -b math500 -o out/`: Pass@1 the paper's way, pass@k, breakdowns, and the difference
from a baseline evaluation. The work is done by `darl.evaluation`; this module parses, shows progress and prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from darl.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from darl.atomic import atomic_write_text
from darl.benchmarks.registry import BENCHMARKS
from darl.cli.main import app
from darl.cli.options import Backend, Dtype, alias, choices, value
from darl.verifiers.plain_math_verify import GRADERS
from darl.errors import InputError
from darl.defaults import PAPER_MAX_NEW_TOKENS, PAPER_TEMPERATURE, PAPER_TOP_P
from darl.generation.vllm_backend import engine_args_from_options, engine_kwargs

_BENCHMARK_NAMES = ", ".join(BENCHMARKS)
Grader = choices("Grader", GRADERS)


@app.command("eval")
def eval_command(
    model: str = typer.Argument(..., help="Model folder, .gguf file, Hugging Face Hub id "
                                "or embedded:<role> (e.g. embedded:small, the embedded family's policy)."),
    benchmark: list[str] = typer.Option(..., "--benchmark", "-b", help=f"Benchmark: {_BENCHMARK_NAMES}, an "
                                        "embedded suite, or a problems file; repeat for several."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output folder (eval.json, samples.jsonl). "
                                          "Re-running into the same folder resumes. Required."),
    out: Optional[Path] = typer.Option(None, "--out", hidden=True, help="Old spelling of --output."),
    samples: Optional[int] = typer.Option(None, "-n", "--samples", help="Samples per problem (default: the paper's "
                                          "16 for aime24/math500/amc23, 4 for livecodebench and the rest)."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", min=1, help="Max response tokens "
                                                 f"(default {PAPER_MAX_NEW_TOKENS}, the paper's 32k)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", hidden=True, help="Old spelling of "
                                             "--max-new-tokens."),
    temperature: float = typer.Option(PAPER_TEMPERATURE, help=f"Sampling temperature (paper: {PAPER_TEMPERATURE})."),
    top_p: float = typer.Option(PAPER_TOP_P, "--top-p", help=f"Nucleus sampling (paper: {PAPER_TOP_P})."),
    seed: int = typer.Option(0, help="Base seed of the sampling."),
    system_prompt: Optional[str] = typer.Option(None, "--system-prompt", help="A system message before every "
                                                "prompt, as a recipe's system_prompt (default: none, as in the "
                                                "paper). Evaluate with the one the model was trained with."),
    lcb_window: Optional[str] = typer.Option(None, "--lcb-window", help="LiveCodeBench contest dates START:END "
                                             "(default 2024-08-01:2025-01-31)."),
    lcb_difficulty: Optional[list[str]] = typer.Option(None, "--lcb-difficulty", help="easy, medium or hard "
                                                        "(repeatable)."),
    lcb_platform: Optional[list[str]] = typer.Option(None, "--lcb-platform", help="leetcode, atcoder or codeforces "
                                                      "(repeatable)."),
    limit: Optional[int] = typer.Option(None, help="Only the first N problems of each benchmark (a quick look)."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="A baseline eval.json: print the difference per "
                                            "benchmark with a 95% interval (paired by problem)."),
    backend: Backend = typer.Option("auto", help="auto (vLLM when installed with a GPU, else transformers), "
                                "transformers or vllm."),
    batch_size: int = typer.Option(32, "--batch-size", help="Rows (prompt x sample) per transformers forward pass."),
    batch_problems: int = typer.Option(8, "--batch-problems", help="Problems per generation call (and per resume "
                                       "checkpoint)."),
    dtype: Optional[Dtype] = typer.Option(None, help="Model dtype; default per device (bf16 on GPU, fp32 on CPU)."),
    device: Optional[str] = typer.Option(None, help="Device for the transformers back end (default: cuda if "
                                         "available, else cpu)."),
    threads: Optional[int] = typer.Option(None, min=1, help="CPU threads for torch (default: torch's choice)."),
    tensor_parallel_size: Optional[int] = typer.Option(None, "--tensor-parallel-size", help="vLLM: GPUs the model "
                                                       "is split over (tensor parallel)."),
    max_model_len: Optional[int] = typer.Option(None, "--max-model-len", help="vLLM: context length (prompt + "
                                                "response) the engine reserves KV cache for; default: the model's "
                                                "own maximum. At least the prompt plus --max-new-tokens."),
    gpu_memory_utilization: Optional[float] = typer.Option(None, "--gpu-memory-utilization", help="vLLM: share of "
                                                           "each GPU's memory the engine may use."),
    grader: Grader = typer.Option("darl", "--grader", help="darl (darl's math verifier and sandbox) or math-verify "
                               "(plain Math-Verify as open-r1/lighteval call it; code still in the sandbox)."),
    export: Optional[list[str]] = typer.Option(None, "--export", help="Also write the results as lighteval, lm-eval "
                                               "and/or parquet into -o (see `darl export`); repeatable."),
    engine_arg: Optional[list[str]] = typer.Option(None, "--engine-arg", help="vLLM: any vllm.LLM argument as "
                                                   "KEY=VALUE, VALUE read as JSON (e.g. pipeline_parallel_size=2); "
                                                   "repeatable."),
) -> None:
    """Evaluate MODEL: n samples per problem, Pass@1 = mean correctness with its standard error, unbiased pass@k."""
    from darl.generation.models import open_generator
    from darl.evaluation.compare import compare_evals, read_eval
    from darl.evaluation.evaluate import EvalSettings, evaluate
    from darl.evaluation.sources import parse_window, resolve_benchmark

    console = Console(stderr=True)
    out = alias(output, out, "--output", "--out", required=True)
    max_tokens = alias(max_new_tokens, max_tokens, "--max-new-tokens", "--max-tokens", default=PAPER_MAX_NEW_TOKENS)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    settings = EvalSettings(temperature=temperature, top_p=top_p, max_new_tokens=max_tokens, samples=samples,
                            seed=seed, batch_problems=batch_problems, system_prompt=system_prompt)
    baseline_data = read_eval(baseline) if baseline is not None else None  # fail before loading any model
    from darl.evaluation.export import parse_formats
    from darl.verifiers.plain_math_verify import open_grader

    export_formats = parse_formats(export or [])  # an unknown format fails before any model is loaded
    grader = value(grader)
    window = parse_window(lcb_window) if lcb_window else None
    benchmarks, filters = {}, {}
    for spec in benchmark:
        name, problems, applied = resolve_benchmark(spec, lcb_window=window, lcb_difficulty=lcb_difficulty,
                                                    lcb_platform=lcb_platform, limit=limit)
        benchmarks[name], filters[name] = problems, applied
        console.print(f"[bold]{name}[/]: {len(problems)} problems x {settings.samples_for(name)} samples"
                      + (f"  {applied}" if applied else ""))
    from darl.locking import FolderLock

    lock = FolderLock(out).acquire()  # one writer per --out (darl.locking); an error exit drops it with the process
    console.print(f"loading [bold]{model}[/] ...")
    engine = engine_args_from_options(tensor_parallel_size, max_model_len, gpu_memory_utilization, engine_arg)
    scoped = [a for a in engine if a.model is not None]
    if scoped:
        raise InputError(f"--engine-arg {scoped[0].model}:{scoped[0].key}=...: darl eval has one model, so no "
                         f"NAME: prefix", field="--engine-arg", hint="write KEY=VALUE")
    generator = open_generator(model, value(backend), batch_size=batch_size, seed=seed, device=device,
                               dtype=None if dtype is None or value(dtype) == "auto" else value(dtype),
                               engine_args=engine_kwargs(engine))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("problems"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        tasks = {name: progress.add_task(name, total=len(p)) for name, p in benchmarks.items()}

        def on_progress(name: str, done: int, total: int) -> None:
            progress.update(tasks[name], completed=done, total=total)

        with open_grader(grader) as verifier:
            result = evaluate(generator, benchmarks, out, settings, on_progress=on_progress, verifier=verifier,
                              extra={"filters": filters, "model_path": model, "grader": grader})
    print_summary(result.data, Console())
    if baseline_data is not None:
        comparisons = compare_evals(result.data, baseline_data)
        print_comparison(comparisons, Console())
        atomic_write_text(Path(out) / "compare.json", json.dumps(
            {"baseline": str(baseline), "comparisons": [c.to_dict() for c in comparisons]}, indent=2) + "\n")
    Console().print(f"wrote {result.path} and {Path(out) / 'samples.jsonl'}")
    if export_formats:
        from darl.evaluation.export import export_eval

        for fmt, paths in export_eval(out, export_formats, problems=benchmarks).items():
            Console().print(f"{fmt}: {', '.join(str(p) for p in paths)}")
    lock.release()


def print_summary(data: dict, console: Console) -> None:
    table = Table(title=f"{data['model']}: Pass@1 (mean over samples) +- s.e. over problems")
    for column in ("benchmark", "problems", "n", "Pass@1 %", "pass@k %", "truncated %"):
        table.add_column(column, justify="left" if column == "benchmark" else "right")
    for name, bench in data["benchmarks"].items():
        p1 = bench["pass@1"]
        se = "" if p1["stderr"] is None else f" +- {100 * p1['stderr']:.1f}"
        ks = "  ".join(f"@{k} {100 * v:.1f}" for k, v in bench["pass@k"].items() if k != "1" and v is not None)
        table.add_row(name, str(bench["problems"]), str(bench["n"]), f"{100 * p1['mean']:.1f}{se}", ks or "-",
                      f"{100 * bench['truncation_rate']:.1f}")
    console.print(table)


def print_comparison(comparisons: list, console: Console) -> None:
    if not comparisons:
        console.print("no benchmark in common with the baseline")
        return
    table = Table(title="Difference from the baseline (95% interval)")
    for column in ("benchmark", "baseline %", "this %", "difference", "95% CI", "problems paired"):
        table.add_column(column, justify="left" if column == "benchmark" else "right")
    for c in comparisons:
        ci = "n/a" if c.ci_low is None else f"[{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}]"
        table.add_row(c.benchmark, f"{100 * c.baseline_pass1:.1f}", f"{100 * c.new_pass1:.1f}",
                      f"{100 * c.delta:+.1f}", ci, str(c.problems_compared) if c.paired else "0 (unpaired)")
    console.print(table)
