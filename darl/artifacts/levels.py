"""Levels files: written by `darl levels`, read by `darl train` (and `darl compare`).

`levels.parquet`: the problem columns of `Problem.to_row` (so training needs no other file), then `levels` (list of
level numbers, 1-based in config order; a problem may carry several, method.md section 4), one boolean column
`level_k` per level, `sampled_levels` (the levels a problem entered through a keep share, not its own condition),
`p_<role>` for each role and `pass_rates` (JSON: every scored model). The level names and the resolved config are
stored in the Parquet metadata under `darl.levels`. `<stem>.dropped.csv` lists the problems the drop rule removed,
with the reason and their pass rates, so nothing disappears silently. Files that carry only the boolean columns
`level_1`, `level_2`, ... (no `levels` list) are read too. Both files are written atomically.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

from darl.artifacts.parquet import write_parquet
from darl.atomic import atomic_replace
from darl.errors import InputError
from darl.records import PROBLEM_COLUMNS, Problem, RecordError

METADATA_KEY = b"darl.levels"


@dataclass(frozen=True)
class LeveledProblem:
    """One row of a levels file as training reads it: the problem and the levels it belongs to."""

    problem: Problem
    levels: frozenset[int]


class KeptProblem(Protocol):
    """What the writer needs of a problem that got levels (`darl.levels.assign.LeveledProblem` has it)."""

    problem_id: str
    pass_rates: Mapping[str, float]
    levels: tuple[int, ...]
    sampled: tuple[int, ...]


class DroppedRow(Protocol):
    """What the writer needs of a dropped problem (`darl.levels.assign.DroppedProblem` has it)."""

    problem_id: str
    domain: str
    reason: str
    pass_rates: Mapping[str, float]


def dropped_path(levels_path: Path) -> Path:
    return levels_path.with_name(levels_path.stem + ".dropped.csv")


def write_levels(path: str | Path, kept: Sequence[KeptProblem], problems: Sequence[Problem],
                 level_names: Sequence[str], roles: Mapping[str, str], config: Mapping[str, Any],
                 dropped: Sequence[DroppedRow]) -> Path:
    """Write the levels file of `kept` (each joined to its problem in `problems` by id) and the dropped list beside
    it. `roles`: role -> model name (a `p_<role>` column each); `config`: the resolved levels config, kept in the
    file's metadata. InputError when a kept problem is not in `problems`."""
    import pyarrow as pa

    path = Path(path)
    by_id = {p.id: p for p in problems}
    absent = [k.problem_id for k in kept if k.problem_id not in by_id]
    if absent:
        raise InputError(f"{len(absent)} scored problem(s) are not in the problems file, e.g. {absent[0]!r}",
                         hint="give the problems file the scores were made from (--problems)")
    fields = [(c, pa.string()) for c in PROBLEM_COLUMNS]
    fields += [("levels", pa.list_(pa.int64())), ("sampled_levels", pa.list_(pa.int64()))]
    fields += [(f"level_{k}", pa.bool_()) for k in range(1, len(level_names) + 1)]
    fields += [(f"p_{role}", pa.float64()) for role in roles] + [("pass_rates", pa.string())]
    rows = []
    for item in kept:
        row = by_id[item.problem_id].to_row()
        row["levels"] = list(item.levels)
        row["sampled_levels"] = list(item.sampled)
        for k in range(1, len(level_names) + 1):
            row[f"level_{k}"] = k in item.levels
        for role, model in roles.items():
            row[f"p_{role}"] = item.pass_rates[model]
        row["pass_rates"] = json.dumps(dict(item.pass_rates), sort_keys=True)
        rows.append(row)
    meta = {"level_names": list(level_names), "config": dict(config), "dropped": len(dropped)}
    schema = pa.schema(fields, metadata={METADATA_KEY: json.dumps(meta)})
    write_parquet(pa.Table.from_pylist(rows, schema=schema), path)
    with atomic_replace(dropped_path(path)) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["problem_id", "domain", "reason", "pass_rates"])
        for d in dropped:
            writer.writerow([d.problem_id, d.domain, d.reason, json.dumps(dict(d.pass_rates), sort_keys=True)])
    return path


def read_level_names(path: str | Path) -> list[str]:
    """The level names a levels file records ([] for a file without darl's metadata)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[METADATA_KEY])["level_names"] if METADATA_KEY in meta else []


def read_level_rows(path: str | Path) -> list[dict[str, Any]]:
    """Every row of a levels file with all its columns (`p_<role>`, `pass_rates`, ...), unchecked: for the report,
    which shows what a file holds, even an older one. Training reads `read_levels`."""
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def _levels_of(row: dict[str, Any], path: Path, index: int) -> frozenset[int]:
    if "levels" in row and row["levels"] is not None:
        values = row["levels"]
        try:
            levels = frozenset(int(v) for v in values)
        except (TypeError, ValueError):
            raise InputError(f"row {index}: levels must be a list of integers 1-3, got {values!r}", path=path,
                             field="levels") from None
    else:
        levels = frozenset(int(k.split("_")[1]) for k in row if k.startswith("level_") and k[6:].isdigit() and row[k])
    bad = [v for v in levels if v < 1]
    if bad:
        raise InputError(f"row {index}: level numbers start at 1, got {bad}", path=path, field="levels")
    return levels


def read_levels(path: str | Path) -> list[LeveledProblem]:
    """Every row of a levels file, in file order. InputError naming the file (and row, field) for a missing file,
    a file without levels, a row that is not a problem, a doubled id or an empty file."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise InputError("levels file not found", path=path, hint="write it with `darl levels`")
    table = pq.read_table(path)
    columns = set(table.column_names)
    if "levels" not in columns and not any(c.startswith("level_") for c in columns):
        raise InputError("no 'levels' column (nor level_1/level_2/level_3)", path=path, field="levels",
                         hint="pass the file written by `darl levels`, not the problems or scores file")
    out: list[LeveledProblem] = []
    seen: set[str] = set()
    for index, row in enumerate(table.to_pylist()):
        try:
            problem = Problem.from_row(row, where=f"{path} row {index}")
        except RecordError as exc:
            raise InputError(str(exc), path=path) from None
        if problem.id in seen:
            raise InputError(f"row {index}: duplicate problem id {problem.id!r}", path=path, field="id")
        seen.add(problem.id)
        out.append(LeveledProblem(problem, _levels_of(row, path, index)))
    if not out:
        raise InputError("the levels file has no rows", path=path)
    return out
