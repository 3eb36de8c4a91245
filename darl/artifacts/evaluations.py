"""Evaluation folders: written by `darl eval` (`darl.evaluation.evaluate`), read by `darl eval --baseline`, the run
report, `darl export` and `darl compare`.

- `eval.json` (`EVAL_FORMAT`): the settings, the model, software versions and, per benchmark, the numbers and the
  per-problem pass counts (which `darl.evaluation.compare` pairs on). Rewritten atomically after each benchmark; says
  `complete` when every benchmark is done.
- `samples.jsonl`: one line per sample (benchmark, problem id, sample index, response, tokens, truncation and the
  verdict). A problem's n lines are appended together with one write and an fsync, so a run killed at any moment
  leaves whole problems behind and at most one torn group at the end, which `load_samples` drops.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

from darl.atomic import atomic_replace, atomic_write_text
from darl.errors import InputError
from darl.jsonl import read_json_lines

EVAL_FORMAT = "darl-eval/1"
EVAL_FILE = "eval.json"
SAMPLES_FILE = "samples.jsonl"


def write_eval(path: Path, data: Mapping[str, Any]) -> None:
    """Replace eval.json at `path` with `data`, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def read_eval(path: str | Path) -> dict[str, Any]:
    """Load an eval.json (a folder holding one is fine too), with a clear error for anything else."""
    path = Path(path)
    if path.is_dir():
        path = path / EVAL_FILE
    if not path.exists():
        raise InputError("no such evaluation file", path=path, hint="give the eval.json that darl eval wrote")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", path=path) from None
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("darl-eval/"):
        raise InputError("is not an eval.json written by darl eval", path=path, field="format")
    return data


def read_eval_to_resume(path: Path) -> dict[str, Any]:
    """eval.json of an evaluation being resumed: like `read_eval`, but a damaged file says to delete it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", path=path, hint="delete it to start over") from None


def append_samples(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append one problem's samples with a single write and fsync, so a crash leaves whole problems behind (and at
    most one torn group at the end, which `load_samples` drops)."""
    payload = "".join(json.dumps(dict(r), ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def load_samples(path: Path, expected_n: Mapping[str, int] | None = None) -> dict[tuple[str, str], list[dict]]:
    """Read samples.jsonl into {(benchmark, problem id): [sample dicts ordered by index]}, keeping only complete
    problems (all `expected_n[benchmark]` samples present; every group when `expected_n` is None or lacks the
    benchmark). An incomplete group or a torn last line (a crash mid-write) is dropped, and the file is rewritten
    without it so that appending continues from a clean end. A corrupt line elsewhere is an error."""
    if not path.exists():
        return {}
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    contents = read_json_lines(path, hint="delete the line or the file to re-evaluate those samples")
    for number, row in contents.rows:
        try:
            key = (str(row["benchmark"]), str(row["problem_id"]))
            int(row["sample"])
        except (KeyError, TypeError, ValueError):
            raise InputError("a sample line needs 'benchmark', 'problem_id' and 'sample'", path=path,
                             line=number) from None
        groups[key].append(row)
    complete: dict[tuple[str, str], list[dict]] = {}
    dropped = contents.torn_tail
    for key, rows in groups.items():
        rows.sort(key=lambda r: int(r["sample"]))
        want = (expected_n or {}).get(key[0])
        indices = [int(r["sample"]) for r in rows]
        if want is None:
            want = len(rows)
        if indices == list(range(want)):
            complete[key] = rows
        elif len(rows) > want or len(set(indices)) != len(indices):
            raise InputError(f"problem {key[1]!r} of {key[0]!r} has {len(rows)} samples, expected {want}",
                             path=path, hint="the output folder holds another evaluation; use a new -o folder")
        else:
            dropped = True
    if dropped:
        with atomic_replace(path) as tmp, tmp.open("w", encoding="utf-8") as handle:
            for rows in complete.values():
                for row in rows:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return complete
