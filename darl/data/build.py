"""The `darl data` pipeline: sources -> one problems Parquet file, with a report beside it.

    load every source (strict, or --skip-invalid: malformed rows counted and written to <out>.skipped.jsonl)
    -> exact and near-duplicate removal (darl.data.dedup), first occurrence kept
    -> decontamination against the evaluation sets the caller passes (`darl data`: every packaged one, loaded by
       darl.benchmarks.evaluation_sets) and any extra files (darl.data.decontam)
    -> a warning for code problems whose only tests are the examples their prompt shows (a policy that prints
       the examples' outputs is rewarded in full there; darl.verifiers.code.jobs.prompt_example_tests)
    -> <out>.parquet, <out>.report.json (everything removed and why), <out>.report.md (the same, for people)

The output is written only when the whole build succeeded (atomic rename), so a crashed build leaves no
half-written problems file; building again from the same sources gives the same file (ids are stable).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from darl.artifacts.problems import write_problems
from darl.atomic import atomic_replace, atomic_write_text
from darl.data.dedup import deduplicate
from darl.data.decontam import decontaminate
from darl.data.loaders import LoadedSource, SourceSpec, load_source
from darl.errors import InputError
from darl.records import Problem
from darl.verifiers.code.jobs import prompt_example_tests

log = logging.getLogger("darl.data")


@dataclass(frozen=True)
class BuildOptions:
    """`benchmarks`: the names of the packaged evaluation sets the caller loaded into `build_problems`'s `eval_sets`
    (None: all of them; recorded in the report); `eval_files`: further evaluation files in any supported format."""

    skip_invalid: bool = False
    dedup: bool = True
    near_dedup: bool = True
    near_threshold: float = 0.8
    decontaminate: bool = True
    benchmarks: tuple[str, ...] | None = None
    eval_files: tuple[str, ...] = ()
    ngram: int = 8
    min_overlap: float = 0.5


@dataclass
class BuildOutputs:
    problems_path: Path
    report_json: Path
    report_md: Path
    skipped_path: Path | None
    report: dict[str, Any] = field(default_factory=dict)


def output_paths(output: Path) -> tuple[Path, Path, Path]:
    stem = output.with_suffix("") if output.suffix == ".parquet" else output
    return (stem.with_name(stem.name + ".report.json"), stem.with_name(stem.name + ".report.md"),
            stem.with_name(stem.name + ".skipped.jsonl"))


def _eval_sets(options: BuildOptions, packaged: Mapping[str, Sequence[Problem]]) -> dict[str, list[Problem]]:
    sets = {name: list(problems) for name, problems in packaged.items()}
    for location in options.eval_files:
        loaded = load_source(location)
        sets[loaded.source] = loaded.problems
    return sets


def build_problems(sources: Sequence[SourceSpec | str], output: str | Path, options: BuildOptions = BuildOptions(),
                   progress: Any | None = None, *,
                   eval_sets: Mapping[str, Sequence[Problem]] | None = None) -> BuildOutputs:
    """Run the pipeline and write its files; `progress` is an optional `rich.progress.Progress`. `eval_sets`
    (benchmark name -> problems) are the evaluation sets to decontaminate against besides `options.eval_files`;
    `darl data` passes `darl.benchmarks.evaluation_sets(options.benchmarks)`. The data layer does not load the
    packaged benchmarks itself (they are loaded through it), so with decontamination on they must be given."""
    output = Path(output)
    if not sources:
        raise InputError("no sources given", hint="name at least one file or Hugging Face dataset")
    if options.decontaminate and eval_sets is None:
        raise ValueError("decontamination needs eval_sets (e.g. darl.benchmarks.evaluation_sets(options.benchmarks)),"
                         " or BuildOptions(decontaminate=False)")
    specs = [s if isinstance(s, SourceSpec) else SourceSpec.parse(s) for s in sources]
    report_json, report_md, skipped_path = output_paths(output)
    started = time.time()

    def task(description: str, total: int | None) -> Any:
        return progress.add_task(description, total=total) if progress is not None else None

    def advance(task_id: Any, completed: int) -> None:
        if progress is not None:
            progress.update(task_id, completed=completed)

    loaded: list[LoadedSource] = []
    load_task = task("load sources", len(specs))
    for i, spec in enumerate(specs, start=1):
        loaded.append(load_source(spec.location, spec.format, source=spec.name, skip_invalid=options.skip_invalid,
                                  **dict(spec.options)))
        advance(load_task, i)
    names = Counter(source.source for source in loaded)
    clashes = [name for name, count in names.items() if count > 1]
    if clashes:
        raise InputError(f"two sources share the id prefix {clashes[0]!r}, so their ids would collide",
                         hint="name each source: NAME=PATH (for example aime=data/aime/test.jsonl)")
    problems = [p for source in loaded for p in source.problems]
    owner: dict[str, str] = {}
    for source in loaded:
        for problem in source.problems:
            if problem.id in owner:
                raise InputError(f"id {problem.id!r} comes from both {owner[problem.id]} and {source.location}",
                                 hint="ids must be unique across sources; name the sources (NAME=PATH)")
            owner[problem.id] = source.location
    skipped = [row for source in loaded for row in source.skipped]

    dedup_result = None
    if options.dedup:
        dedup_task = task("deduplicate", len(problems))
        dedup_result = deduplicate(problems, near=options.near_dedup, threshold=options.near_threshold,
                                   progress=lambda n: advance(dedup_task, n))
        problems = dedup_result.kept

    decontam_result = None
    eval_sizes: dict[str, int] = {}
    if options.decontaminate:
        eval_sets = _eval_sets(options, eval_sets or {})
        eval_sizes = {name: len(items) for name, items in eval_sets.items()}
        decontam_task = task("decontaminate", len(problems))
        decontam_result = decontaminate(problems, eval_sets, n=options.ngram, min_overlap=options.min_overlap,
                                        progress=lambda n: advance(decontam_task, n))
        problems = decontam_result.kept

    if not problems:
        raise InputError("no problems left to write", path=output,
                         hint="see what was skipped or removed above; check the sources and options")
    examples_only = only_prompt_examples(problems)
    if examples_only:
        log.warning("%d code problem(s) are tested only by the examples their prompt shows (e.g. %s): a policy that "
                    "prints those outputs is rewarded in full; add hidden tests where you can (report: "
                    "'prompt_examples_only')", len(examples_only), ", ".join(examples_only[:3]))
    write_problems(problems, output)
    if options.skip_invalid:
        with atomic_replace(skipped_path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
            for row in skipped:
                handle.write(json.dumps(row.to_json(), ensure_ascii=False, default=str) + "\n")

    report: dict[str, Any] = {
        "output": str(output),
        "seconds": round(time.time() - started, 2),
        "options": asdict(options),
        "sources": [{"location": s.location, "format": s.format, "source": s.source, "rows": s.rows_read,
                     "loaded": len(s.problems), "skipped": len(s.skipped)} for s in loaded],
        "skipped": {"count": len(skipped), "file": str(skipped_path) if options.skip_invalid else None,
                    "rows": [row.describe() for row in skipped]},
        "dedup": None if dedup_result is None else {
            "counts": dedup_result.counts(), "removed": [r.to_json() for r in dedup_result.removed]},
        "decontamination": None if decontam_result is None else {
            "eval_sets": eval_sizes, "removed_by_benchmark": decontam_result.by_benchmark(),
            "removed": [m.to_json() for m in decontam_result.removed],
            "other_matches": [m.to_json() for m in decontam_result.other_matches]},
        "prompt_examples_only": {"count": len(examples_only), "ids": examples_only},
        "result": {"problems": len(problems), "by_domain": dict(Counter(p.domain for p in problems)),
                   "by_source": dict(Counter(p.source for p in problems))},
    }
    atomic_write_text(report_json, json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    atomic_write_text(report_md, markdown_report(report))
    return BuildOutputs(output, report_json, report_md, skipped_path if options.skip_invalid else None, report)


def only_prompt_examples(problems: Sequence[Problem]) -> list[str]:
    """Ids of the code problems whose every test is shown in full in the prompt (memorisable)."""
    return [p.id for p in problems if p.domain == "code" and p.tests is not None and p.tests.count
            and len(prompt_example_tests(p.prompt, p.tests)) == p.tests.count]


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def markdown_report(report: dict[str, Any], limit: int = 200) -> str:
    """The build report for people: sources, skipped rows, duplicates and contamination (first `limit` of each;
    the JSON report beside it lists everything)."""
    lines = [f"# Problems file `{report['output']}`", "",
             f"{report['result']['problems']} problems " + ", ".join(
                 f"{n} {d}" for d, n in sorted(report["result"]["by_domain"].items())) + ".", "", "## Sources", ""]
    lines += _table(["source", "format", "location", "rows", "loaded", "skipped"],
                    [[s["source"], s["format"], s["location"], s["rows"], s["loaded"], s["skipped"]]
                     for s in report["sources"]])
    skipped = report["skipped"]
    lines += ["", "## Skipped rows", "", f"{skipped['count']} skipped" +
              (f"; written to `{skipped['file']}`." if skipped["file"] else ".")]
    lines += [f"- {text}" for text in skipped["rows"][:limit]]
    dedup = report["dedup"]
    lines += ["", "## Duplicates", ""]
    if dedup is None:
        lines.append("Deduplication was off.")
    else:
        c = dedup["counts"]
        lines += [f"{c['exact']} exact and {c['near']} near duplicates removed ({c['input']} -> {c['kept']}).", ""]
        lines += _table(["removed", "duplicate of", "kind", "similarity", "note"],
                        [[r["removed_id"], r["kept_id"], r["kind"], r["similarity"], r["note"] or ""]
                         for r in dedup["removed"][:limit]])
    decontam = report["decontamination"]
    lines += ["", "## Decontamination", ""]
    if decontam is None:
        lines.append("Decontamination was off.")
    else:
        sets = ", ".join(f"{name} ({n})" for name, n in decontam["eval_sets"].items())
        lines += [f"Checked against: {sets}.", "",
                  f"{len(decontam['removed'])} training problems removed: " + (", ".join(
                      f"{n} match {name}" for name, n in decontam["removed_by_benchmark"].items()) or "none") + ".",
                  ""]
        lines += _table(["training problem", "benchmark", "benchmark problem", "overlap", "shared n-grams", "example"],
                        [[m["train_id"], m["benchmark"], m["benchmark_id"], m["overlap"], m["shared"], m["example"]]
                         for m in decontam["removed"][:limit]])
    examples_only = report.get("prompt_examples_only") or {"count": 0, "ids": []}
    lines += ["", "## Code problems tested only by the prompt's examples", "",
              f"{examples_only['count']} problems: every test is an example shown in full in the prompt, so a "
              "policy that prints those outputs without solving anything is rewarded in full. Add hidden tests "
              "where you can."]
    lines += [f"- {pid}" for pid in examples_only["ids"][:limit]]
    if any(len(section or {}) and len((section or {}).get("removed", [])) > limit
           for section in (dedup, decontam)):
        lines += ["", f"Only the first {limit} of each list are shown; the JSON report has them all."]
    return "\n".join(lines) + "\n"
