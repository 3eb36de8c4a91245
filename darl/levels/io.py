"""Write the levels file that `darl train` reads, and the list of dropped problems.

`levels.parquet`: the problem columns of `Problem.to_row` (so training needs no other file), then `levels`
(list of level numbers, 1-based in config order), one boolean column `level_k` per level, `sampled_levels` (the
levels a problem entered through a keep share, not its own condition), `p_<role>` for each role and
`pass_rates` (JSON: every scored model). The level names and the resolved config are stored in the Parquet
metadata under `darl.levels`. `<stem>.dropped.csv` lists the problems the drop rule removed, with the reason and
their pass rates, so nothing disappears silently.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Sequence

from darl.errors import InputError
from darl.levels.assign import LevelAssignment
from darl.records import PROBLEM_COLUMNS, Problem


def dropped_path(levels_path: Path) -> Path:
    return levels_path.with_name(levels_path.stem + ".dropped.csv")


def write_levels(assignment: LevelAssignment, problems: Sequence[Problem], path: str | Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    by_id = {p.id: p for p in problems}
    absent = [k.problem_id for k in assignment.kept if k.problem_id not in by_id]
    if absent:
        raise InputError(f"{len(absent)} scored problem(s) are not in the problems file, e.g. {absent[0]!r}",
                         hint="give the problems file the scores were made from (--problems)")
    roles = dict(assignment.config.roles)
    fields = [(c, pa.string()) for c in PROBLEM_COLUMNS]
    fields += [("levels", pa.list_(pa.int64())), ("sampled_levels", pa.list_(pa.int64()))]
    fields += [(f"level_{k}", pa.bool_()) for k in range(1, len(assignment.level_names) + 1)]
    fields += [(f"p_{role}", pa.float64()) for role in roles] + [("pass_rates", pa.string())]
    rows = []
    for item in assignment.kept:
        row = by_id[item.problem_id].to_row()
        row["levels"] = list(item.levels)
        row["sampled_levels"] = list(item.sampled)
        for k in range(1, len(assignment.level_names) + 1):
            row[f"level_{k}"] = k in item.levels
        for role, model in roles.items():
            row[f"p_{role}"] = item.pass_rates[model]
        row["pass_rates"] = json.dumps(dict(item.pass_rates), sort_keys=True)
        rows.append(row)
    meta = {"level_names": list(assignment.level_names), "config": assignment.config.to_dict(),
            "dropped": len(assignment.dropped)}
    schema = pa.schema(fields, metadata={"darl.levels": json.dumps(meta)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    os.replace(tmp, path)
    with dropped_path(path).open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["problem_id", "domain", "reason", "pass_rates"])
        for d in assignment.dropped:
            writer.writerow([d.problem_id, d.domain, d.reason, json.dumps(dict(d.pass_rates), sort_keys=True)])
    return path


def read_level_names(path: str | Path) -> list[str]:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[b"darl.levels"])["level_names"] if b"darl.levels" in meta else []
