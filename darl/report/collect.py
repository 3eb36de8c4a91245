"""Find and read what a run directory holds, for the report. Every part is optional: a reader returns None when its
files are absent, and the report says so instead of failing. A file that is present but unreadable is not hidden
either: its problem is recorded in `RunData.problems` and shown in the report.

Where things are looked for (relative to the run directory, searched a few folders deep so that the folder `darl
demo` writes and a bare `darl train` output both work):
- training metrics: `metrics.jsonl` files (one JSON object per logged step);
- stage manifests: `manifest.json` / `stage.json` / `stage_manifest.json` files inside `stage-*` folders;
- scores and levels: `scores.parquet`, `levels.parquet`, and the levels calibration numbers (`levels.summary.json`
  as darl levels writes it, or a `calibration.json`), linking darl levels' `levels.report.html` when present;
- online difficulty: `online_difficulty*.json*` / `online*.parquet` per-prompt files (darl train writes one per
  stage folder), and metrics whose name contains `online`;
- held-out accuracy: darl train's `heldout.json` (greedy accuracy of the starting and final policy);
- evaluations: every `eval.json` (the label is its folder's path).

Levels and scores usually sit beside a run, not in it (`darl levels ... -o levels.parquet`, `darl train --levels
levels.parquet --out run/`). When the run directory has none, they are looked for, in this order:
1. the levels file each stage manifest records (`data.levels_file`, an absolute path), with darl levels' calibration
   files beside it (`<stem>.summary.json`, `<stem>.report.html`) and scores in its folder (`scores.parquet`,
   `scores/scores.parquet`, or every `scores/<model>/scores.parquet` as one table);
2. the run directory's parent folder, the same files (`levels.parquet` and its companions, scores as above: the
   layout of the README's commands). Nothing deeper, so that another run's files beside this one are never taken
   for this run's.
`RunData.sources` says which file each part came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from darl.artifacts.levels import read_level_rows
from darl.artifacts.scores import read_rows
from darl.errors import InputError
from darl.jsonl import read_json_lines

MAX_DEPTH = 4
CALIBRATION_NAMES = ("levels.summary.json", "calibration.json", "levels.calibration.json", "levels_calibration.json",
                     "levels-calibration.json", "calibration_report.json")
MANIFEST_NAMES = ("manifest.json", "stage.json", "stage_manifest.json", "stage-manifest.json")
BASELINE_LABELS = ("before", "baseline", "base", "initial", "start", "eval-before", "eval_before")


@dataclass
class EvalFile:
    label: str
    path: Path
    data: dict[str, Any]

    @property
    def is_baseline(self) -> bool:
        role = str(self.data.get("extra", {}).get("role", "")).lower()
        return role == "baseline" or self.path.parent.name.lower() in BASELINE_LABELS


@dataclass
class RunData:
    root: Path
    metrics: list[dict[str, Any]] | None = None
    metrics_paths: list[Path] = field(default_factory=list)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] | None = None
    levels: list[dict[str, Any]] | None = None
    calibration: dict[str, Any] | None = None
    calibration_report: Path | None = None
    """darl levels' own HTML calibration report, linked from the report when present."""
    online: list[dict[str, Any]] | None = None
    """Per-prompt online difficulty rows; each carries '_label' (the folder it came from, e.g. the stage)."""
    heldout: dict[str, Any] | None = None
    """darl train's heldout.json: greedy accuracy of the starting and the final policy on held-out problems."""
    evals: list[EvalFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Files that exist but could not be read, with why."""
    sources: dict[str, Path] = field(default_factory=dict)
    """Where the levels, scores and calibration files were found ('levels', 'scores', 'calibration', ...)."""

    @property
    def baseline(self) -> EvalFile | None:
        marked = [e for e in self.evals if e.is_baseline]
        return marked[0] if marked else None


def _walk(root: Path, depth: int = 0) -> list[Path]:
    """Files under root up to MAX_DEPTH folders deep, skipping model checkpoints' insides quickly."""
    found: list[Path] = []
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return found
    for entry in entries:
        if entry.is_dir():
            if depth < MAX_DEPTH and not entry.name.startswith((".", "checkpoint-", "__")):
                found.extend(_walk(entry, depth + 1))
        elif entry.is_file():
            found.append(entry)
    return found


def _read_jsonl(path: Path, problems: list[str]) -> list[dict[str, Any]]:
    """The JSON objects of a run's JSONL file. A torn last line (a run killed mid-write) is left out without a
    word; any other bad line is noted in `problems` and skipped, since the report shows what it can."""

    def note(error: InputError) -> None:
        problems.append(f"{error.path}: line {error.line} is not valid JSON (skipped)")

    contents = read_json_lines(path, on_bad_line=note)
    return [row for row in contents.values if isinstance(row, dict)]


def _read_json(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        problems.append(f"{path}: could not be read ({exc})")
        return None


def _read_table(path: Path, problems: list[str],
                read: Callable[[Path], list[dict[str, Any]]] | None = None) -> list[dict[str, Any]] | None:
    """The rows of a Parquet file through `read` (an artifact's reader; any table by default); a file that cannot be
    read becomes a problem listed in the report, never an error."""
    try:
        if read is None:
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        return read(path)
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: could not be read as Parquet ({exc})")
        return None


def collect(run_dir: str | Path) -> RunData:
    """Read everything the report can use from `run_dir`."""
    root = Path(run_dir)
    data = RunData(root=root)
    files = _walk(root)
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(path.name, []).append(path)

    metric_files = [p for p in by_name.get("metrics.jsonl", [])]
    if metric_files:
        rows: list[dict[str, Any]] = []
        for path in metric_files:
            rows.extend(_read_jsonl(path, data.problems))
        data.metrics = rows
        data.metrics_paths = metric_files

    for path in files:
        if path.name in MANIFEST_NAMES and any(part.startswith("stage") for part in path.relative_to(root).parts[:-1]):
            manifest = _read_json(path, data.problems)
            if isinstance(manifest, dict):
                manifest.setdefault("_path", str(path.relative_to(root)))
                data.manifests.append(manifest)
    data.manifests.sort(key=lambda m: (_as_int(m.get("stage", m.get("index", m.get("stage_index")))), m["_path"]))

    for name, attr, read in (("scores.parquet", "scores", read_rows), ("levels.parquet", "levels", read_level_rows)):
        paths = by_name.get(name, [])
        if paths:
            path = sorted(paths, key=lambda p: len(p.parts))[0]
            setattr(data, attr, _read_table(path, data.problems, read))
            data.sources[attr] = path
    if by_name.get("levels.report.html"):
        data.calibration_report = by_name["levels.report.html"][0]
    for name in CALIBRATION_NAMES:
        if by_name.get(name):
            value = _read_json(by_name[name][0], data.problems)
            if isinstance(value, dict):
                data.calibration = value
                data.sources["calibration"] = by_name[name][0]
                break
    _levels_beside_the_run(data)

    online_rows: list[dict[str, Any]] = []
    for path in files:
        if not path.name.startswith(("online_difficulty", "online-difficulty", "online_pass")):
            continue
        rows = []
        if path.suffix == ".parquet":
            rows = _read_table(path, data.problems) or []
        elif path.suffix == ".jsonl":
            rows = _read_jsonl(path, data.problems)
        elif path.suffix == ".json":
            rows = _online_rows(_read_json(path, data.problems))
        label = str(path.parent.relative_to(root)) if path.parent != root else "run"
        online_rows.extend({**row, "_label": label} for row in rows)
    if online_rows:
        data.online = online_rows

    heldout = [p for p in by_name.get("heldout.json", [])]
    if heldout:
        value = _read_json(sorted(heldout, key=lambda p: len(p.parts))[0], data.problems)
        if isinstance(value, dict):
            data.heldout = value

    for path in by_name.get("eval.json", []):
        value = _read_json(path, data.problems)
        if isinstance(value, dict) and "benchmarks" in value:
            label = str(path.parent.relative_to(root)) if path.parent != root else "."
            data.evals.append(EvalFile(label=label, path=path, data=value))
    data.evals.sort(key=lambda e: (not e.is_baseline, e.label))
    return data


def _recorded_levels_files(manifests: list[dict[str, Any]]) -> list[Path]:
    """The levels files the stage manifests record (darl train writes the absolute path), in stage order."""
    out: list[Path] = []
    for manifest in manifests:
        data = manifest.get("data")
        value = data.get("levels_file") if isinstance(data, dict) else None
        if isinstance(value, str) and Path(value) not in out:
            out.append(Path(value))
    return out


def _read_scores_beside(data: RunData, folder: Path) -> None:
    """`scores.parquet`, `scores/scores.parquet`, or every `scores/<model>/scores.parquet` (one scoring job per
    model, as the README scores the paper's proxies) read as one table."""
    for path in (folder / "scores.parquet", folder / "scores" / "scores.parquet"):
        if path.is_file():
            data.scores = _read_table(path, data.problems, read_rows)
            data.sources["scores"] = path
            return
    per_model = sorted((folder / "scores").glob("*/scores.parquet"))
    if per_model:
        tables = [_read_table(path, data.problems, read_rows) for path in per_model]
        data.scores = [row for table in tables if table for row in table]
        data.sources["scores"] = folder / "scores" / "*" / "scores.parquet"


def _levels_beside_the_run(data: RunData) -> None:
    """Fill in levels, scores and calibration that the run directory lacks, from the places the module docstring
    lists, in that order (the first file found for each part wins)."""
    candidates: list[tuple[Path, Path]] = []  # (levels file, folder to look for its companions in)
    for levels_file in _recorded_levels_files(data.manifests):
        candidates.append((levels_file, levels_file.parent))
    parent = data.root.resolve().parent
    candidates.append((parent / "levels.parquet", parent))
    for levels_file, folder in candidates:
        stem = levels_file.name.removesuffix(".parquet")
        if data.levels is None and levels_file.is_file():
            data.levels = _read_table(levels_file, data.problems, read_level_rows)
            data.sources["levels"] = levels_file
        if data.scores is None:
            _read_scores_beside(data, folder)
        if data.calibration is None and (folder / f"{stem}.summary.json").is_file():
            value = _read_json(folder / f"{stem}.summary.json", data.problems)
            if isinstance(value, dict):
                data.calibration = value
                data.sources["calibration"] = folder / f"{stem}.summary.json"
        if data.calibration_report is None and (folder / f"{stem}.report.html").is_file():
            data.calibration_report = folder / f"{stem}.report.html"
    if data.levels is None:
        for levels_file in _recorded_levels_files(data.manifests):
            data.problems.append(f"{levels_file}: the levels file the stage manifests record is gone")


def _online_rows(value: Any) -> list[dict[str, Any]]:
    """An online-difficulty state as rows with at least 'alpha'/'beta' or 'mean'. Accepts a list of rows, a
    {prompt id: {...}} mapping, or either under a 'prompts' key."""
    if isinstance(value, dict) and "prompts" in value:
        value = value["prompts"]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        return [{"id": k, **v} for k, v in value.items() if isinstance(v, dict)]
    return []


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1 << 30
