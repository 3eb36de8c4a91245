"""Seeded comparisons of training recipes (`darl compare`): did the levels and the stages help, or was it noise?

spec.py (the YAML spec) -> arms.py (each arm's recipe cut to the rollout budget) -> runner.py (train and evaluate
every arm x seed, resumable) -> analysis.py (means, intervals, paired differences, curves, yield, health) ->
report.py (comparison.json / .md / .html). heldout.py builds the embedded default's larger held-out set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def compare(spec_path: str | Path, out: str | Path, only: tuple[str, int] | None = None,
            report: bool = True, report_only: bool = False, say: Callable[[str], None] = print) -> dict:
    """Run (or continue) the comparison in `spec_path` into `out`; unless `only` names one run, write the report.
    `report_only`: train and evaluate nothing, report what is finished (runs still missing are listed as such).
    Returns the summary (empty when only one run was done)."""
    from darl.comparison.analysis import summarize
    from darl.comparison.report import write
    from darl.comparison.runner import plans as all_plans
    from darl.comparison.runner import prepare, run_comparison
    from darl.comparison.spec import load_spec

    spec, _ = load_spec(spec_path)
    if report_only:
        plans = all_plans(spec)
        prepare(spec, Path(out), plans)
    else:
        plans = run_comparison(spec, out, only=only, say=say)
    if only is not None or not report:
        return {}
    summary = summarize(spec, Path(out), plans)
    summary["files"] = {k: str(v) for k, v in write(summary, out).items()}
    return summary


__all__ = ["compare"]
