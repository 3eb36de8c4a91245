"""A darl evaluation (eval.json + samples.jsonl) written in the layouts lighteval and lm-evaluation-harness write, and
its per-sample outputs as Parquet, so users open darl's numbers with the tools and scripts they already have.

Why: a user comparing darl's Pass@1 with an open-r1/lighteval or an lm-eval run should not have to learn darl's
files; their loaders glob for their own file names. The layouts below follow what those tools write (read from their
source: lighteval `logging/evaluation_tracker.py` `save_results`/`save_details`/`load_details_datasets` and
`logging/info_loggers.py`; lm-eval `loggers/evaluation_tracker.py` `save_results_aggregated`/`save_results_samples`
and `utils.py` `get_results_filenames`/`get_file_task_name`):

lighteval (OUT/lighteval/):
    results/<model>/results_<date>.json     {"config_general", "results": {"<task>|0": {metric: value,
                                             "<metric>_stderr": se}, "all": {...}}, "versions", "config_tasks",
                                             "summary_tasks", "summary_general"}
    details/<model>/<date>/details_<task>|0_<date>.parquet   one row per problem: doc (query, choices, gold_index,
                                             task_name, specific), model_response (text: the n responses, ...),
                                             metric ({metric: value})
  Metric names as lighteval spells its math metrics: `pass@k:k=<k>&n=<n>` (unbiased pass@k over n samples) and
  `avg@n:n=<n>` (mean correctness over n samples = darl's Pass@1).
lm-evaluation-harness (OUT/lm_eval/):
    <model sanitized>/results_<date>.json   {"results": {task: {"alias", "pass@1,none", "pass@1_stderr,none",
                                             "pass@<k>,none"}}, "configs", "versions", "n-shot", "higher_is_better",
                                             "n-samples", "config", "model_name", "date", ...}
    <model sanitized>/samples_<task>_<date>.jsonl   one line per problem: doc_id, doc, target, resps, filtered_resps,
                                             filter, metrics, and each metric's value
darl Parquet (OUT/samples.parquet): samples.jsonl's rows (one per sample) with the problem's prompt and reference.

`<date>` is the time of export in lighteval's and lm-eval's own format (ISO, ':' replaced by '-'). Numbers are
darl's: which grader produced them is in eval.json (`extra.grader`; `darl eval --grader math-verify` grades as
open-r1/lighteval do) and is copied into both layouts' config blocks.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from darl.atomic import atomic_write_bytes, atomic_write_text
from darl.errors import InputError

FORMATS = ("lighteval", "lm-eval", "parquet")


def date_id(now: _dt.datetime | None = None) -> str:
    """Both tools' file-name date: ISO time with ':' as '-' (lighteval and lm-eval use the same expression)."""
    return (now or _dt.datetime.now()).isoformat().replace(":", "-")


def sanitize_model_name(model_name: str) -> str:
    """lm-eval's folder name for a model (its `utils.sanitize_model_name`)."""
    return re.sub(r"[\"<>:/|\\?*\[\]]+", "__", model_name)


def lighteval_model_name(model: str) -> str:
    """lighteval keeps `org/name` as two folders; a local path becomes its last two parts. Characters a Hub id
    never has and some file systems refuse (`embedded:small`'s colon) become '_'."""
    parts = [re.sub(r'[<>:"\\|?*]', "_", p) for p in Path(model).parts if p not in ("/", "")]
    return "/".join(parts[-2:]) if len(parts) > 2 else "/".join(parts)


def parse_formats(values: Iterable[str]) -> list[str]:
    """Validated export formats (comma-separated values are split); an unknown one is named."""
    out: list[str] = []
    for value in values:
        for fmt in filter(None, (v.strip() for v in value.split(","))):
            if fmt not in FORMATS:
                raise InputError(f"unknown export format {fmt!r}", field="--export", hint=f"one of {', '.join(FORMATS)}")
            if fmt not in out:
                out.append(fmt)
    return out


def grader_of(data: Mapping[str, Any]) -> str:
    """Which grader produced the numbers: `darl eval --grader` is kept in eval.json's `extra` (default darl's)."""
    return str((data.get("extra") or {}).get("grader", "darl"))


def _task_metrics(bench: Mapping[str, Any]) -> dict[str, float | None]:
    """lighteval metric names and values of one darl benchmark summary."""
    n = bench["n"]
    p1 = bench.get("pass@1") or {}
    out: dict[str, float | None] = {f"avg@n:n={n}": p1.get("mean"), f"avg@n:n={n}_stderr": p1.get("stderr")}
    for k, value in (bench.get("pass@k") or {}).items():
        out[f"pass@k:k={k}&n={n}"] = value
    return out


def _problems_by_id(problems: Sequence[Any] | None) -> dict[str, Any]:
    return {p.id: p for p in problems or ()}


def _gold(problem: Any | None) -> str | None:
    if problem is None:
        return None
    if problem.answer is not None:
        return str(problem.answer)
    return json.dumps(problem.tests.to_dict()) if problem.tests is not None else None


def write_lighteval(data: Mapping[str, Any], samples: Mapping[tuple[str, str], list[dict]],
                    problems: Mapping[str, Sequence[Any]], out_dir: Path, stamp: str) -> list[Path]:
    """lighteval's results JSON and one details Parquet per task (see the module docstring); returns the files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    model = lighteval_model_name(str(data.get("model", "model")))
    results: dict[str, dict[str, float | None]] = {}
    config_tasks: dict[str, Any] = {}
    written: list[Path] = []
    details_dir = out_dir / "details" / model / stamp
    for name, bench in data.get("benchmarks", {}).items():
        task = f"{name}|0"
        results[task] = _task_metrics(bench)
        config_tasks[task] = {"name": name, "evaluation_splits": ["test"], "num_samples": [bench["n"]],
                              "generation_size": data.get("settings", {}).get("max_new_tokens"),
                              "metrics": sorted(m for m in results[task] if not m.endswith("_stderr")),
                              "grader": grader_of(data), "version": 0}
        by_id = _problems_by_id(problems.get(name))
        rows = []
        for (bench_name, problem_id), group in samples.items():
            if bench_name != name:
                continue
            problem = by_id.get(problem_id)
            graded = [s["score"] for s in group if s.get("score") is not None]
            rows.append({
                "doc": {"id": problem_id, "task_name": task, "query": problem.prompt if problem else None,
                        "choices": [_gold(problem)] if problem else [], "gold_index": 0,
                        "specific": json.dumps({"passes": sum(1 for s in group if s["passed"]), "n": len(group)})},
                "model_response": {"text": [s["response"] for s in group],
                                   "output_tokens_count": [int(s["num_tokens"]) for s in group],
                                   "truncated": [bool(s["truncated"]) for s in group]},
                "metric": {f"avg@n:n={len(group)}": (sum(graded) / len(graded)) if graded else None,
                           "passed": float(sum(1 for s in group if s["passed"]))},
            })
        rows.sort(key=lambda r: r["doc"]["id"])
        buffer = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(rows), buffer)
        path = details_dir / f"details_{task}_{stamp}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buffer.getvalue().to_pybytes())
        written.append(path)
    numeric = [m for m in results.values()]
    keys = sorted({k for m in numeric for k in m})
    results["all"] = {k: _mean([m[k] for m in numeric if m.get(k) is not None]) for k in keys}
    document = {
        "config_general": {"model_name": model, "lighteval_sha": None, "start_time": data.get("created"),
                           "end_time": data.get("finished"), "model_config": {"model_name": data.get("model"),
                           "generation_parameters": {k: data.get("settings", {}).get(k) for k in
                                                     ("temperature", "top_p", "max_new_tokens", "seed")}},
                           "exported_by": "darl (darl eval results in lighteval's layout)"},
        "results": results,
        "versions": {task: 0 for task in config_tasks},
        "config_tasks": config_tasks,
        "summary_tasks": {},
        "summary_general": {},
    }
    path = out_dir / "results" / model / f"results_{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False))
    return [path, *written]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def write_lm_eval(data: Mapping[str, Any], samples: Mapping[tuple[str, str], list[dict]],
                  problems: Mapping[str, Sequence[Any]], out_dir: Path, stamp: str) -> list[Path]:
    """lm-eval's results JSON and one samples JSONL per task (see the module docstring); returns the files."""
    model = str(data.get("model", "model"))
    folder = out_dir / sanitize_model_name(model)
    folder.mkdir(parents=True, exist_ok=True)
    settings = data.get("settings", {})
    results: dict[str, dict[str, Any]] = {}
    written: list[Path] = []
    for name, bench in data.get("benchmarks", {}).items():
        p1 = bench.get("pass@1") or {}
        entry: dict[str, Any] = {"alias": name, "pass@1,none": p1.get("mean"), "pass@1_stderr,none": p1.get("stderr")}
        for k, value in (bench.get("pass@k") or {}).items():
            if k != "1":
                entry[f"pass@{k},none"] = value
        results[name] = entry
        by_id = _problems_by_id(problems.get(name))
        lines = []
        for doc_id, ((bench_name, problem_id), group) in enumerate(sorted(
                (key, g) for key, g in samples.items() if key[0] == name)):
            problem = by_id.get(problem_id)
            graded = [s["score"] for s in group if s.get("score") is not None]
            pass1 = (sum(graded) / len(graded)) if graded else None
            lines.append({"doc_id": doc_id, "doc": {"id": problem_id, "prompt": problem.prompt if problem else None},
                          "target": _gold(problem), "arguments": {}, "resps": [[s["response"] for s in group]],
                          "filtered_resps": [[s["response"] for s in group]], "filter": "none",
                          "metrics": ["pass@1"], "pass@1": pass1})
        path = folder / f"samples_{name}_{stamp}.jsonl"
        atomic_write_text(path, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
        written.append(path)
    names = list(results)
    document = {
        "results": results,
        "group_subtasks": {name: [] for name in names},
        "configs": {name: {"task": name, "output_type": "generate_until", "repeats": data["benchmarks"][name]["n"],
                           "generation_kwargs": {"temperature": settings.get("temperature"),
                                                 "top_p": settings.get("top_p"),
                                                 "max_gen_toks": settings.get("max_new_tokens")},
                           "metric_list": [{"metric": "pass@1", "aggregation": "mean", "higher_is_better": True}],
                           "grader": grader_of(data)} for name in names},
        "versions": {name: 0 for name in names},
        "n-shot": {name: 0 for name in names},
        "higher_is_better": {name: {m.split(",")[0]: True for m in results[name] if m != "alias"
                                    and "_stderr" not in m} for name in names},
        "n-samples": {name: {"original": data["benchmarks"][name]["problems"],
                             "effective": data["benchmarks"][name]["problems"]} for name in names},
        "config": {"model": "darl", "model_args": f"pretrained={model}", "batch_size": None,
                   "gen_kwargs": {"temperature": settings.get("temperature"), "top_p": settings.get("top_p")}},
        "model_name": model,
        "model_name_sanitized": sanitize_model_name(model),
        "date": stamp,
        "exported_by": "darl (darl eval results in lm-evaluation-harness's layout)",
    }
    path = folder / f"results_{stamp}.json"
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False))
    return [path, *written]


def write_samples_parquet(samples: Mapping[tuple[str, str], list[dict]], problems: Mapping[str, Sequence[Any]],
                          path: Path) -> Path:
    """Every sample as one Parquet row: samples.jsonl's fields plus the problem's prompt and reference."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    by_bench = {name: _problems_by_id(p) for name, p in problems.items()}
    rows = []
    for (name, problem_id), group in sorted(samples.items()):
        problem = by_bench.get(name, {}).get(problem_id)
        for s in group:
            rows.append({**s, "prompt": problem.prompt if problem else None, "reference": _gold(problem)})
    schema = pa.schema([("benchmark", pa.string()), ("problem_id", pa.string()), ("sample", pa.int64()),
                        ("response", pa.string()), ("num_tokens", pa.int64()), ("truncated", pa.bool_()),
                        ("score", pa.float64()), ("passed", pa.bool_()), ("error", pa.string()),
                        ("tests_passed", pa.int64()), ("tests_total", pa.int64()), ("prompt", pa.string()),
                        ("reference", pa.string())])
    table = pa.Table.from_pylist([{f: r.get(f) for f in schema.names} for r in rows], schema=schema)
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    atomic_write_bytes(path, buffer.getvalue().to_pybytes())
    return path


def load_problems_for(data: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The problems of each benchmark in eval.json, loaded again the way `darl eval` resolved them (packaged sets,
    embedded suites, problem files), for the prompt and reference columns. A benchmark that cannot be loaded again
    (a problems file since moved) gets none: its rows then carry the problem id without prompt and reference."""
    from darl.evaluation.sources import resolve_benchmark

    out: dict[str, list[Any]] = {}
    filters = (data.get("extra") or {}).get("filters") or data.get("filters") or {}
    for name in data.get("benchmarks", {}):
        applied = filters.get(name) or {}
        window = (applied["start"], applied["end"]) if "start" in applied else None
        try:
            _, problems, _ = resolve_benchmark(name, lcb_window=window, lcb_difficulty=applied.get("difficulty"),
                                               lcb_platform=applied.get("platform"))
        except InputError:
            problems = []
        out[name] = problems
    return out


def export_eval(eval_dir: str | Path, formats: Sequence[str], out_dir: str | Path | None = None,
                problems: Mapping[str, Sequence[Any]] | None = None,
                now: _dt.datetime | None = None) -> dict[str, list[Path]]:
    """Write the evaluation in `eval_dir` in each of `formats` under `out_dir` (default: `eval_dir`); returns the
    files written per format. `problems` ({benchmark: problems}) saves loading them again."""
    from darl.evaluation.compare import read_eval
    from darl.evaluation.evaluate import SAMPLES_FILE, load_samples

    eval_dir = Path(eval_dir)
    data = read_eval(eval_dir)
    samples_path = (eval_dir if eval_dir.is_dir() else eval_dir.parent) / SAMPLES_FILE
    if not samples_path.is_file():
        raise InputError("no samples.jsonl next to eval.json", path=samples_path, hint="export a finished darl eval folder")
    samples = load_samples(samples_path, data.get("settings", {}).get("samples"))
    out = Path(out_dir) if out_dir is not None else (eval_dir if eval_dir.is_dir() else eval_dir.parent)
    if out.exists() and not out.is_dir():
        raise InputError("is a file, not a folder", path=out, hint="give a folder for the exported results")
    problems = problems if problems is not None else load_problems_for(data)
    stamp = date_id(now)
    written: dict[str, list[Path]] = {}
    for fmt in parse_formats(formats):
        if fmt == "lighteval":
            written[fmt] = write_lighteval(data, samples, problems, out / "lighteval", stamp)
        elif fmt == "lm-eval":
            written[fmt] = write_lm_eval(data, samples, problems, out / "lm_eval", stamp)
        else:
            written[fmt] = [write_samples_parquet(samples, problems, out / "samples.parquet")]
    return written
