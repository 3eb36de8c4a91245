"""Scores files: the output of `darl score`, the input of `darl levels` (columns: docs/scoring.md).

Layout of a scoring output folder `OUT/`:
- `shard-IIII-of-NNNN/manifest.json`: the job settings, the shard, `problems_path` and `problems_sha256` (the
  problems file the job read) and how many problems the shard has; `done.json` once the shard is complete;
  `scores-000001.parquet`, ... (and `samples-*.parquet` with kept responses), one file per committed batch
  (written by `darl.scoring.store.ShardStore`).
- `scores.parquet` (+ `scores.summary.json`, `samples.parquet`): the merged table (`darl.scoring.merge`).

Columns (`SCORE_COLUMNS`, see docs/scoring.md): problem_id, domain, source, model, model_path, model_revision, k,
passes, pass_rate, mean_score, mean_tokens, max_tokens, truncations, infra_failures, errors (JSON: verdict error ->
count), thinking, temperature, top_p, max_new_tokens, seed, verifier (JSON: math-verify version, sandbox isolation),
darl_version. `pass_rate` = passes / k, where a sample passes only when fully correct (every code test);
`mean_score` keeps code's partial credit (passed tests / all tests), so for math the two are equal.

`k` counts the *graded* samples: a sample whose verifier could not run (an infrastructure failure, Verdict score
None, e.g. a sandbox that cannot start) is left out of k, passes and mean_score and counted in `infra_failures`
instead, so that a broken sandbox never reads as a hard problem. The generation columns (mean_tokens, max_tokens,
truncations) cover every generated sample, graded or not (`generated_samples`). `thinking` records whether the
model's chat template opened a `<think>` block in the prompt, so that only text after `</think>` was graded.

This module is the layout's one description: the scoring step writes through it, `darl levels` and the report read
through it, so neither needs to import the other.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Sequence

from darl.artifacts.parquet import read_darl_table, write_parquet
from darl.atomic import atomic_write_bytes
from darl.errors import InputError

SCORE_COLUMNS: dict[str, str] = {
    "problem_id": "string", "domain": "string", "source": "string",
    "model": "string", "model_path": "string", "model_revision": "string",
    "k": "int64", "passes": "int64", "pass_rate": "double", "mean_score": "double",
    "mean_tokens": "double", "max_tokens": "int64", "truncations": "int64", "infra_failures": "int64",
    "errors": "string", "thinking": "bool", "temperature": "double", "top_p": "double", "max_new_tokens": "int64",
    "seed": "int64",
    "verifier": "string", "darl_version": "string",
}
SAMPLE_COLUMNS: dict[str, str] = {
    "problem_id": "string", "model": "string", "sample": "int64", "text": "string", "num_tokens": "int64",
    "truncated": "bool", "score": "double", "passed": "bool", "error": "string",
}

MANIFEST = "manifest.json"
DONE = "done.json"
SCORES_FILE = "scores.parquet"
SAMPLES_FILE = "samples.parquet"
SHARD_DIR = re.compile(r"^shard-(\d{4})-of-(\d{4})$")

# A model whose responses hit the token limit this often is scored on cut-off answers (a truncated response counts
# as a failure, and a problem the filter model never solves is dropped): `truncation_warnings` says so, loudly.
HIGH_TRUNCATION_RATE = 0.10


def arrow_schema(columns: dict[str, str]):
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "double": pa.float64(), "bool": pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in columns.items()])


def write_rows(rows: list[dict[str, Any]], columns: dict[str, str], path: Path) -> Path:
    """Write score rows (`SCORE_COLUMNS`) or sample rows (`SAMPLE_COLUMNS`) to `path`, atomically."""
    import pyarrow as pa

    return write_parquet(pa.Table.from_pylist(rows, schema=arrow_schema(columns)), path)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of one file `write_rows` wrote (a shard's committed part), unchecked: `read_scores` checks a merged
    table."""
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """A manifest, done marker or summary: sorted keys, atomic."""
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def file_sha256(path: str | Path) -> str:
    """The fingerprint a shard manifest records of the problems file it read."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def shard_dirs(out_dir: Path) -> dict[int, tuple[int, Path]]:
    """shard index -> (shard count, folder) for every `shard-IIII-of-NNNN` folder in `out_dir`."""
    found: dict[int, tuple[int, Path]] = {}
    for path in sorted(out_dir.iterdir()) if out_dir.is_dir() else []:
        m = SHARD_DIR.match(path.name)
        if m and path.is_dir():
            found[int(m.group(1))] = (int(m.group(2)), path)
    return found


def read_manifest(shard_dir: Path) -> dict[str, Any]:
    return json.loads((shard_dir / MANIFEST).read_text())


def problems_for_scores(scores_path: str | Path) -> Path:
    """The problems file a merged scores file was made from, as its shard manifests recorded it (same sha256)."""
    folder = Path(scores_path).parent
    for manifest in sorted(folder.glob(f"shard-*/{MANIFEST}")):
        data = json.loads(manifest.read_text())
        path = Path(data.get("problems_path", ""))
        if path.is_file() and file_sha256(path) == data.get("problems_sha256"):
            return path
        raise InputError("the problems file this scoring job used is gone or changed", path=path,
                         hint="pass --problems with the problems file the scores were made from")
    raise InputError("cannot tell which problems file these scores came from (no shard manifest beside it)",
                     path=scores_path, hint="pass --problems")


def read_scores(path: str | Path) -> list[dict[str, Any]]:
    """Read a merged scores Parquet file; InputError naming the file for a missing column, a doubled
    (problem, model) row or an impossible count."""
    path = Path(path)
    table = read_darl_table(path, "scores", ("problem_id", "domain", "model", "k", "passes", "pass_rate"),
                            "make one with `darl score` (and `darl score-merge` for shards)")
    rows = table.to_pylist()
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(rows, start=1):
        key = (row["problem_id"], row["model"])
        if key in seen:
            raise InputError(f"problem {key[0]!r} scored twice by model {key[1]!r}", path=path, line=number,
                             hint="merge shards with `darl score-merge`, which refuses doubles")
        seen.add(key)
        if not (0 <= row["passes"] <= row["k"]) or row["k"] < 1:
            raise InputError(f"passes={row['passes']} with k={row['k']}", path=path, line=number, field="passes")
    return rows


def generated_samples(row: dict[str, Any]) -> int:
    """Samples generated for a scores row: the graded k plus the ungraded ones (absent in older files: 0)."""
    return int(row["k"]) + int(row.get("infra_failures") or 0)


def truncation_rates(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Share of each model's generated samples that hit its token limit (rows without the truncations column are
    skipped)."""
    totals: dict[str, list[int]] = {}
    for row in rows:
        if row.get("truncations") is None:
            continue
        t = totals.setdefault(row["model"], [0, 0])
        t[0] += int(row["truncations"])
        t[1] += generated_samples(row)
    return {model: cut / n for model, (cut, n) in totals.items() if n}


def truncation_warnings(rows: Sequence[dict[str, Any]], threshold: float = HIGH_TRUNCATION_RATE) -> list[str]:
    """One message per model whose truncation rate is at least `threshold`, naming the model, the rate, its token
    limit and the flag to raise (shown by `darl score` and in the levels calibration report)."""
    limits: dict[str, set[int]] = {}
    for row in rows:
        if row.get("max_new_tokens") is not None:
            limits.setdefault(row["model"], set()).add(int(row["max_new_tokens"]))
    messages = []
    for model, rate in sorted(truncation_rates(rows).items()):
        if rate >= threshold:
            limit = "/".join(str(x) for x in sorted(limits.get(model, ()))) or "?"
            messages.append(
                f"model {model!r}: {rate:.0%} of its responses were cut at the {limit}-token limit "
                f"(at least {threshold:.0%}); a cut response counts as a failure, so its pass rates are too low and "
                f"problems it never solves may be dropped as too hard. Score again with a larger "
                f"`darl score --max-new-tokens` (the paper evaluates at 32768).")
    return messages
