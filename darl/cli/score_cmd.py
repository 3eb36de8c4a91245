"""`darl score` and `darl score-merge`: difficulty scores of problems under several proxy models."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from darl.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from darl.cli.main import app
from darl.cli.options import Backend, Dtype, alias, resolve_backend, value
from darl.errors import InputError
from darl.defaults import PAPER_MAX_NEW_TOKENS, PAPER_TEMPERATURE, PAPER_TOP_P
from darl.generation.vllm_backend import engine_args_from_options, engine_kwargs


class _SamplesRate(ProgressColumn):
    """Responses per second (each (problem, model) row is K responses)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        samples = task.fields.get("samples", 0)
        rate = samples / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.1f} resp/s", style="cyan")


@app.command("score")
def score_command(
    problems: Path = typer.Argument(..., help="Problems Parquet file (from `darl data`)."),
    model: List[str] = typer.Option(..., "--model", "-m", help="Proxy model as NAME=PATH or PATH (repeatable): a "
                                    "folder, a .gguf file, a Hugging Face Hub id or an embedded:<role> name (e.g. "
                                    "embedded:small). NAME is what a levels config refers to."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder (shard folders, scores.parquet)."),
    samples: Optional[int] = typer.Option(None, "-n", "--samples", min=1, help="K: samples per problem and model "
                                          "(default 4)."),
    k: Optional[int] = typer.Option(None, "-k", hidden=True, help="Old spelling of --samples."),
    temperature: float = typer.Option(PAPER_TEMPERATURE, help="Sampling temperature (the paper's evaluation "
                                      "setting)."),
    top_p: float = typer.Option(PAPER_TOP_P, help="Nucleus sampling mass."),
    max_new_tokens: int = typer.Option(PAPER_MAX_NEW_TOKENS, help="Token budget per response; longer ones count as "
                                       "truncated (and fail). Default: the paper's evaluation length, which R1-style "
                                       "models need; a model cut off often is named in a warning at the end."),
    seed: int = typer.Option(0, help="Base seed of the sampling."),
    batch_problems: int = typer.Option(8, help="Problems per generation call and per committed batch."),
    batch_size: int = typer.Option(32, help="Rows (problem x sample) per forward batch (transformers back end)."),
    backend: Backend = typer.Option("auto", help="auto (vLLM when installed with a CUDA GPU, else transformers), "
                                    "transformers (CPU or GPU) or vllm (GPU)."),
    tensor_parallel_size: Optional[int] = typer.Option(None, "--tensor-parallel-size", help="vLLM: GPUs per "
                                                       "model (tensor parallel)."),
    max_model_len: Optional[int] = typer.Option(None, "--max-model-len", help="vLLM: context length (prompt + "
                                                "response) the engine reserves KV cache for."),
    gpu_memory_utilization: Optional[float] = typer.Option(None, "--gpu-memory-utilization", help="vLLM: share "
                                                           "of each GPU's memory the engine may use."),
    engine_arg: Optional[List[str]] = typer.Option(None, "--engine-arg", help="vLLM: any vllm.LLM argument as "
                                                   "KEY=VALUE (VALUE read as JSON, e.g. pipeline_parallel_size=2), "
                                                   "or NAME:KEY=VALUE for model NAME only (repeatable)."),
    device: Optional[str] = typer.Option(None, help="Device for the transformers back end (default: cuda if "
                                         "present, else cpu)."),
    dtype: Optional[Dtype] = typer.Option(None, help="float32, bfloat16 or float16 (default: bf16 on GPU, fp32 on "
                                        "CPU)."),
    threads: Optional[int] = typer.Option(None, help="CPU threads for torch (default: torch's choice). On a busy "
                                          "machine 1 can be several times faster for small models."),
    shard: str = typer.Option("0/1", help="Do shard i of N (0-based), e.g. for a Slurm array task; join the "
                              "shards with `darl score-merge`."),
    keep_responses: bool = typer.Option(False, "--keep-responses", help="Also store every response and verdict "
                                        "(samples.parquet)."),
    ray: bool = typer.Option(False, "--ray", help="Run the shards as Ray tasks (needs darl[ray])."),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster address (default: start a local one)."),
    ray_shards: int = typer.Option(4, help="Number of shards with --ray."),
    ray_gpus: float = typer.Option(0.0, help="GPUs per shard task with --ray."),
) -> None:
    """Sample K responses per problem from each model, verify them, and write one row per (problem, model).
    Rerunning the same command resumes where a previous run stopped (kill -9 included)."""
    from darl.scoring.job import ModelSpec, ScoreJob, Shard
    from darl.scoring.merge import merge_shards
    from darl.scoring.runner import run_shard

    k = alias(samples, k, "--samples", "-k", default=4)
    backend = resolve_backend(value(backend))  # the job records the back end that ran, never "auto"
    dtype = None if dtype is None or value(dtype) == "auto" else value(dtype)
    specs = tuple(ModelSpec.parse(m, backend=backend, batch_size=batch_size, dtype=dtype, device=device)
                  for m in model)
    specs = _with_engine_args(specs, backend, engine_args_from_options(
        tensor_parallel_size, max_model_len, gpu_memory_utilization, engine_arg))
    job = ScoreJob(problems_path=str(problems), models=specs, k=k, temperature=temperature, top_p=top_p,
                   max_new_tokens=max_new_tokens, seed=seed, batch_problems=batch_problems,
                   shard=Shard.parse(shard), keep_responses=keep_responses)
    console = Console(stderr=True)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    if ray:
        from darl.scoring.ray_runner import run_on_ray

        merged = run_on_ray(job, output, ray_shards, address=ray_address, gpus_per_shard=ray_gpus,
                            on_shard_done=lambda r: console.print(f"  {r.dir.name}: {r.units_new} new rows, "
                                                                  f"complete={r.complete}"))
        _summary(console, merged)
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _SamplesRate(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("scoring", total=None, samples=0)

        def on_start(total: int, done: int) -> None:
            progress.update(task, total=total, completed=done)
            if done:
                console.print(f"resuming: {done} of {total} (problem, model) rows already done")

        def on_progress(event) -> None:
            fields = progress.tasks[task].fields
            progress.update(task, advance=event.units, description=f"scoring [{event.model}]",
                            samples=fields.get("samples", 0) + event.samples)

        result = run_shard(job, output, on_start=on_start, on_progress=on_progress)
    console.print(f"{result.dir}: {result.units_new} new rows ({result.samples_new} responses) in "
                  f"{result.seconds:.1f} s; {result.units_done_before + result.units_new} of {result.units_total} done")
    if result.ungraded_units:
        console.print(f"[bold red]{result.ungraded_units} (problem, model) rows were not written: the verifier could "
                      f"not grade any of their samples (infrastructure failure, e.g. the code sandbox; see the log "
                      f"above). Fix it and run the same command again to score them.[/]")
    if job.shard.count == 1 and result.complete:
        _summary(console, merge_shards(output))
    elif result.complete:
        console.print(f"shard {job.shard.index}/{job.shard.count} complete; when all are, run "
                      f"`darl score-merge {output}`")


def _with_engine_args(specs: tuple, backend: str, args: list) -> tuple:
    """Each model spec with the vLLM engine arguments meant for it; an argument naming no model is an error."""
    import dataclasses

    if not args:
        return specs
    if backend != "vllm":
        raise InputError("vLLM engine options were given, but the back end is not vLLM", field="--engine-arg",
                         hint="add --backend vllm, or drop the vLLM options")
    names = {s.name for s in specs}
    unknown = sorted({a.model for a in args if a.model is not None and a.model not in names})
    if unknown:
        raise InputError(f"--engine-arg names model(s) {unknown}, which are not among {sorted(names)}",
                         field="--engine-arg", hint="write NAME:KEY=VALUE with a NAME from --model NAME=PATH")
    return tuple(dataclasses.replace(s, engine_args=engine_kwargs(args, s.name)) for s in specs)


@app.command("score-merge")
def score_merge_command(
    folder: Path = typer.Argument(..., help="The -o folder holding shard-IIII-of-NNNN folders."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Merged file (default FOLDER/scores.parquet)."),
) -> None:
    """Join the shards of one scoring job, checking that none is missing, unfinished or doubled."""
    from darl.scoring.merge import merge_shards

    _summary(Console(stderr=True), merge_shards(folder, output))


def _summary(console: Console, path: Path) -> None:
    from darl.scoring.table import generated_samples, read_scores, truncation_warnings

    rows = read_scores(path)
    table = Table(title=f"{path} ({len(rows)} rows)")
    for column in ("model", "domain", "problems", "mean pass rate", "solved (p>0)", "all K pass", "truncated",
                   "mean tokens", "ungraded"):
        table.add_column(column, justify="left" if column in ("model", "domain") else "right")
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["domain"]), []).append(row)
    for (name, domain), group in groups.items():
        n = len(group)
        samples = sum(generated_samples(r) for r in group)
        table.add_row(name, domain, str(n), f"{sum(r['pass_rate'] for r in group) / n:.3f}",
                      f"{sum(r['passes'] > 0 for r in group) / n:.1%}",
                      f"{sum(r['passes'] == r['k'] for r in group) / n:.1%}",
                      f"{sum(r['truncations'] for r in group) / samples:.1%}",
                      f"{sum(r['mean_tokens'] * generated_samples(r) for r in group) / samples:.0f}",
                      str(sum(int(r.get("infra_failures") or 0) for r in group)))
    console.print(table)
    for message in truncation_warnings(rows):
        console.print(f"[bold red]WARNING: {message}[/]")
