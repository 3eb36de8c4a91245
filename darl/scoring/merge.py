"""Join the shard folders of one scoring job into one scores table, refusing anything missing or doubled.

Checks, each an InputError that names the shard: every shard 0..N-1 of one job is present and finished
(`done.json`); all shards were run with the same job settings and the same problems file (sha256); every row's
problem belongs to the shard that holds it (a problem scored in two shards is caught here); no (problem, model)
appears twice; each shard has problems_in_shard x models rows; and, when the problems file is still at its
recorded path with the same hash, every problem of the file has a row for every model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from darl.artifacts.scores import (DONE, SAMPLE_COLUMNS, SAMPLES_FILE, SCORE_COLUMNS, SCORES_FILE,  # noqa: F401
                                   file_sha256, read_manifest, read_rows, shard_dirs, write_json, write_rows)
from darl.errors import InputError
from darl.scoring.job import shard_of
from darl.scoring.table import score_metrics


def merge_shards(out_dir: str | Path, output: str | Path | None = None) -> Path:
    """Merge `out_dir/shard-*` into `output` (default `out_dir/scores.parquet`, with `<stem>.summary.json` (the
    score/ metrics) and, when responses were kept, `samples.parquet` beside it). Rows are ordered as the problems file was, then by model order."""
    out_dir = Path(out_dir)
    found = shard_dirs(out_dir)
    if not found:
        raise InputError("no shard folders (shard-IIII-of-NNNN) here", path=out_dir, hint="run `darl score` first")
    counts = {count for count, _ in found.values()}
    if len(counts) != 1:
        raise InputError(f"shard folders of different splits {sorted(counts)} in one place", path=out_dir,
                         hint="keep each job's shards in their own -o folder")
    count = counts.pop()
    missing = [i for i in range(count) if i not in found]
    if missing:
        raise InputError(f"shard(s) {missing} of {count} missing", path=out_dir,
                         hint=f"run `darl score ... --shard i/{count}` for each")
    manifests = [read_manifest(found[i][1]) for i in range(count)]
    reference = manifests[0]
    for i, manifest in enumerate(manifests):
        for key in ("job", "problems_sha256", "problems_total"):
            if manifest.get(key) != reference.get(key):
                raise InputError(f"shard {i} was run with a different {key}", path=found[i][1])
        if not (found[i][1] / DONE).exists():
            raise InputError(f"shard {i} of {count} has not finished", path=found[i][1],
                             hint=f"run it again with --shard {i}/{count}; it resumes where it stopped")
    models = [m["name"] for m in reference["job"]["models"]]
    rows: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for i in range(count):
        path = found[i][1]
        shard_rows = []
        for part in sorted(path.glob("scores-*.parquet")):
            shard_rows.extend(read_rows(part))
        for row in shard_rows:
            key = (row["problem_id"], row["model"])
            if key in seen:
                raise InputError(f"problem {key[0]!r} scored twice by {key[1]!r} (shards {seen[key]} and {i})",
                                 path=path)
            if shard_of(row["problem_id"], count) != i:
                raise InputError(f"problem {row['problem_id']!r} belongs to shard {shard_of(row['problem_id'], count)}",
                                 path=path, hint="a shard folder was copied into the wrong place")
            seen[key] = i
        expected = manifests[i]["problems_in_shard"] * len(models)
        if len(shard_rows) != expected:
            raise InputError(f"shard {i} has {len(shard_rows)} rows, expected {expected}", path=path,
                             hint=f"run it again with --shard {i}/{count}")
        rows.extend(shard_rows)
        for part in sorted(path.glob("samples-*.parquet")):
            samples.extend(read_rows(part))
    order = _problem_order(reference, models, seen)
    model_rank = {m: r for r, m in enumerate(models)}
    rows.sort(key=lambda r: (order.get(r["problem_id"], len(order)), model_rank.get(r["model"], 0)))
    output = Path(output) if output is not None else out_dir / SCORES_FILE
    output.parent.mkdir(parents=True, exist_ok=True)
    write_rows(rows, SCORE_COLUMNS, output)
    write_json(output.with_name(output.stem + ".summary.json"), score_metrics(rows))
    if samples:
        samples.sort(key=lambda r: (order.get(r["problem_id"], len(order)), model_rank.get(r["model"], 0),
                                    r["sample"]))
        write_rows(samples, SAMPLE_COLUMNS, output.with_name(SAMPLES_FILE))
    return output


def _problem_order(manifest: dict[str, Any], models: list[str], seen: dict[tuple[str, str], int]) -> dict[str, int]:
    """Position of each problem in the problems file, checking that every one has every model's row, when the
    file is still where the manifest says (with the same hash); else order by id."""
    path = Path(manifest.get("problems_path", ""))
    if not path.is_file() or file_sha256(path) != manifest.get("problems_sha256"):
        return {pid: n for n, pid in enumerate(sorted({pid for pid, _ in seen}))}
    from darl.artifacts.problems import read_problems

    ids = [p.id for p in read_problems(path)]
    absent = [(pid, m) for pid in ids for m in models if (pid, m) not in seen]
    if absent:
        raise InputError(f"{len(absent)} (problem, model) pair(s) have no row, first {absent[0]}", path=path)
    return {pid: n for n, pid in enumerate(ids)}

