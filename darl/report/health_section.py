"""The report's training-health section: darl.training.health's warnings (each with the step where it began) and, per
stage, how large a validation gain its plateau test could see (the manifest's `plateau_power`)."""

from __future__ import annotations

from typing import Any

from darl.report import page
from darl.report.collect import RunData


def heldout_series(run: RunData) -> list[tuple[int, float]] | None:
    """(step, accuracy) of the starting and the final policy from darl train's heldout.json, or None."""
    record = run.heldout or {}
    before, after = record.get("before"), record.get("after")
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return None
    steps = [r.get("train/global_step") for r in run.metrics or [] if isinstance(r.get("train/global_step"), int)]
    return [(0, float(before["accuracy"])), (max(steps, default=0), float(after["accuracy"]))]


def warnings_of(run: RunData) -> list[Any]:
    from darl.training.health import check_health

    return check_health(run.metrics or [], heldout_series(run))


def section_health(run: RunData) -> str:
    if run.metrics is None:
        return ""
    warnings = warnings_of(run)
    parts = ["<h2>Training health</h2>"]
    if warnings:
        parts.append("<ul>" + "".join(f"<li><b>{page.esc(w.name)}</b> from step {w.step}: {page.esc(w.message)}</li>"
                                      for w in warnings) + "</ul>")
    else:
        parts.append("<p>No warning: entropy and response length held above half their start, KL to the reference "
                     "stayed under 0.1, and the training reward did not rise without the held-out accuracy "
                     "(darl.training.health).</p>")
    rows = []
    for manifest in run.manifests:
        power = manifest.get("plateau_power")
        if isinstance(power, dict):
            rows.append([page.esc(manifest.get("name", "?")), power["validation_problems"],
                         f"{100 * power['start_accuracy']:.1f}", f"{100 * power['min_detectable_effect']:.1f}"])
    if rows:
        parts.append("<p>Plateau test power: the validation gain each stage's test detects 80% of the time (smaller "
                     "real gains usually end the stage as a plateau).</p>"
                     + page.table(["stage", "validation problems", "start accuracy %",
                                   "minimum detectable gain (points)"], rows))
    return "".join(parts)
