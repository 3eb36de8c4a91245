"""The scores table: one row per (problem, model), the input of `darl levels`.

Columns (see docs/scoring.md): problem_id, domain, source, model, model_path, model_revision, k, passes, pass_rate,
mean_score, mean_tokens, max_tokens, truncations, infra_failures, errors (JSON: verdict error -> count), thinking,
temperature, top_p, max_new_tokens, seed, verifier (JSON: math-verify version, sandbox isolation), darl_version.
`pass_rate` = passes / k, where a sample passes only when fully correct (every code test); `mean_score` keeps
code's partial credit (passed tests / all tests), so for math the two are equal.

`k` counts the *graded* samples: a sample whose verifier could not run (an infrastructure failure, Verdict score
None, e.g. a sandbox that cannot start) is left out of k, passes and mean_score and counted in `infra_failures`
instead, so that a broken sandbox never reads as a hard problem. The generation columns (mean_tokens, max_tokens,
truncations) cover every generated sample, graded or not (`generated_samples`). `thinking` records whether the
model's chat template opened a `<think>` block in the prompt, so that only text after `</think>` was graded.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from darl.errors import InputError
from darl.generation.base import Completion
from darl.records import Problem, Verdict

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


def arrow_schema(columns: dict[str, str]):
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "double": pa.float64(), "bool": pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in columns.items()])


# A model whose responses hit the token limit this often is scored on cut-off answers (a truncated response counts
# as a failure, and a problem the filter model never solves is dropped): `truncation_warnings` says so, loudly.
HIGH_TRUNCATION_RATE = 0.10


def score_row(problem: Problem, completions: Sequence[Completion], verdicts: Sequence[Verdict],
              context: dict[str, Any]) -> dict[str, Any]:
    """Aggregate one (problem, model)'s samples. `context` holds the model and job columns. Ungraded samples
    (Verdict score None) are left out of k, passes and mean_score and counted in infra_failures; a row needs at
    least one graded sample (the runner leaves a row without any uncommitted, to be retried)."""
    n = len(completions)
    if n == 0 or len(verdicts) != n:
        raise ValueError(f"problem {problem.id!r}: {n} completions but {len(verdicts)} verdicts")
    graded = [v for v in verdicts if v.score is not None]
    k = len(graded)
    if k == 0:
        raise ValueError(f"problem {problem.id!r}: none of its {n} samples was graded (infrastructure failures)")
    passes = sum(v.passed for v in graded)
    errors = Counter(v.error for v in verdicts if v.error)
    return {
        "problem_id": problem.id, "domain": problem.domain, "source": problem.source,
        "k": k, "passes": passes, "pass_rate": passes / k,
        "mean_score": sum(float(v.score) for v in graded) / k,  # type: ignore[arg-type]
        "mean_tokens": sum(c.num_tokens for c in completions) / n,
        "max_tokens": max(c.num_tokens for c in completions),
        "truncations": sum(c.truncated for c in completions),
        "infra_failures": n - k,
        "errors": json.dumps(dict(sorted(errors.items()))),
        **context,
    }


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


def sample_rows(problem: Problem, model: str, completions: Sequence[Completion],
                verdicts: Sequence[Verdict]) -> list[dict[str, Any]]:
    return [{"problem_id": problem.id, "model": model, "sample": j, "text": c.text, "num_tokens": c.num_tokens,
             "truncated": c.truncated, "score": v.score, "passed": v.passed, "error": v.error}  # score None: ungraded
            for j, (c, v) in enumerate(zip(completions, verdicts))]


def write_table(rows: list[dict[str, Any]], columns: dict[str, str], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema(columns)), path)


def score_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, float | int]:
    """Namespaced summary of a scores table (docs/metrics.md, section score/): per model and domain (and 'all'),
    problems, mean pass rate, share solved at least once, share solved by all K, truncation rate, mean tokens,
    ungraded samples (infrastructure failures)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["domain"]), []).append(row)
        groups.setdefault((row["model"], "all"), []).append(row)
    out: dict[str, float | int] = {}
    for (model, domain), group in sorted(groups.items()):
        n = len(group)
        samples = sum(generated_samples(r) for r in group)
        prefix = f"score/{model}/{domain}"
        out[f"{prefix}/problems"] = n
        out[f"{prefix}/mean_pass_rate"] = sum(r["pass_rate"] for r in group) / n
        out[f"{prefix}/mean_score"] = sum(r["mean_score"] for r in group) / n
        out[f"{prefix}/solved_share"] = sum(r["passes"] > 0 for r in group) / n
        out[f"{prefix}/all_pass_share"] = sum(r["passes"] == r["k"] for r in group) / n
        out[f"{prefix}/truncation_rate"] = sum(r["truncations"] for r in group) / samples
        out[f"{prefix}/mean_tokens"] = sum(r["mean_tokens"] * generated_samples(r) for r in group) / samples
        out[f"{prefix}/infra_failures"] = sum(int(r.get("infra_failures") or 0) for r in group)
    return out


def read_scores(path: str | Path) -> list[dict[str, Any]]:
    """Read a merged scores Parquet file; InputError naming the file for a missing column, a doubled
    (problem, model) row or an impossible count."""
    from darl.data.io import read_darl_table

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
