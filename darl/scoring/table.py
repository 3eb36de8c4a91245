"""Making the scores table's rows from a problem's samples and verdicts, and the score/ summary of a table.

The table itself (columns, what k and pass_rate count, reader, writer, layout on disk) is `darl.artifacts.scores`;
it is one row per (problem, model), the input of `darl levels`.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Sequence

# The table's columns, reader and writer live in darl.artifacts.scores (re-exported here for existing imports).
from darl.artifacts.scores import (HIGH_TRUNCATION_RATE, SAMPLE_COLUMNS, SCORE_COLUMNS,  # noqa: F401
                                   arrow_schema, generated_samples, read_scores, truncation_rates,
                                   truncation_warnings)
from darl.generation.base import Completion
from darl.records import Problem, Verdict


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


def sample_rows(problem: Problem, model: str, completions: Sequence[Completion],
                verdicts: Sequence[Verdict]) -> list[dict[str, Any]]:
    return [{"problem_id": problem.id, "model": model, "sample": j, "text": c.text, "num_tokens": c.num_tokens,
             "truncated": c.truncated, "score": v.score, "passed": v.passed, "error": v.error}  # score None: ungraded
            for j, (c, v) in enumerate(zip(completions, verdicts))]


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
