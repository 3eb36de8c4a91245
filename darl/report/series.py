"""Turn metrics.jsonl rows and stage manifests into plottable series: one global step axis across stages, and the
stage boundaries with the reason each stage ended. Pure functions on plain data.

The step axis: a row's `global_step` when logged, else its `step`; when `step` restarts inside a new stage
(per-stage counters), later stages are shifted to follow the previous one, so the curves of all stages share one
axis as in the paper's Figure 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from darl.stats import spearman  # noqa: F401 (one Spearman for both reports; render imports it here)

STAGE_KEYS = ("stage", "stage/index", "stage/name", "stage_index", "stage_name")
COUNTER_KEYS = ("stage/step", "stage_step", "epoch", "timestamp", "time", "wall_time")
STEP_KEYS = ("global_step", "train/global_step", "step", "train/step")


@dataclass(frozen=True)
class StageSpan:
    """One stage on the global step axis; `end_reason` is None when nothing recorded why it ended."""

    name: str
    start: float
    end: float
    end_reason: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Series:
    steps: list[float]
    values: list[float]


def _stage_of(row: dict[str, Any]) -> str | None:
    for key in STAGE_KEYS:
        if row.get(key) is not None:
            return str(row[key])
    return None


def _step_of(row: dict[str, Any]) -> float | None:
    for key in STEP_KEYS:
        value = row.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def global_steps(rows: Sequence[dict[str, Any]]) -> list[float | None]:
    """The global step of each row (None for a row without any step)."""
    out: list[float | None] = []
    offset, last_step, last_stage = 0.0, None, None
    uses_global = any("global_step" in r or "train/global_step" in r for r in rows)
    for row in rows:
        step = _step_of(row)
        stage = _stage_of(row)
        if step is None:
            out.append(None)
            continue
        if not uses_global and last_stage is not None and stage != last_stage and last_step is not None \
                and step + offset <= last_step:
            offset = last_step  # per-stage counter restarted: continue after the previous stage
        value = step + offset
        out.append(value)
        last_step, last_stage = value, stage
    return out


def numeric_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every key holding a finite number in some row (booleans and step/stage counters excluded), in first-seen
    order."""
    seen: dict[str, None] = {}
    skip = set(STEP_KEYS) | set(STAGE_KEYS) | set(COUNTER_KEYS)
    for row in rows:
        for key, value in row.items():
            if key in skip or key in seen:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                seen[key] = None
    return list(seen)


def series(rows: Sequence[dict[str, Any]], key: str, steps: Sequence[float | None] | None = None) -> Series:
    steps = global_steps(rows) if steps is None else steps
    xs, ys = [], []
    for row, step in zip(rows, steps):
        value = row.get(key)
        if step is None or not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            continue
        xs.append(step)
        ys.append(float(value))
    return Series(xs, ys)


_REASON_KEYS = ("end_reason", "reason", "ended_because", "stop_reason", "why")


def _first(mapping: dict[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if mapping.get(key) is not None:
            return mapping[key]
    return None


def _reason_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        kind = value.get("kind") or value.get("type") or value.get("reason")
        rest = ", ".join(f"{k}={v}" for k, v in value.items() if k not in ("kind", "type", "reason"))
        return f"{kind} ({rest})" if kind and rest else str(kind or rest)
    return str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _manifest_range(manifest: dict[str, Any], offset: float) -> tuple[float, float]:
    """A stage's (first, last) global step from its manifest alone: `global_start_step`/`global_end_step` when
    recorded, else its length (`end_step - start_step`, or `steps`) placed after the previous stage."""
    start, end = _number(manifest.get("global_start_step")), _number(manifest.get("global_end_step"))
    if start is not None and end is not None:
        return start + 1, end
    length = None
    if _number(manifest.get("end_step")) is not None:
        length = _number(manifest["end_step"]) - (_number(manifest.get("start_step")) or 0.0)
    elif _number(manifest.get("steps")) is not None:
        length = _number(manifest["steps"])
    return offset + 1, offset + (length or 0.0)


def stage_spans(rows: Sequence[dict[str, Any]], manifests: Sequence[dict[str, Any]]) -> list[StageSpan]:
    """Stages in order with their step ranges. Ranges come from the metrics (first and last step logged in each
    stage); names, reasons and missing ranges from the manifests. A manifest's own step counters are used only where
    no metrics name its stage."""
    steps = global_steps(rows)
    ranges: dict[str, list[float]] = {}
    order: list[str] = []
    for row, step in zip(rows, steps):
        stage = _stage_of(row)
        if stage is None or step is None:
            continue
        if stage not in ranges:
            ranges[stage] = [step, step]
            order.append(stage)
        else:
            ranges[stage][0] = min(ranges[stage][0], step)
            ranges[stage][1] = max(ranges[stage][1], step)
    spans: list[StageSpan] = []
    used: set[str] = set()
    offset = 0.0
    for index, manifest in enumerate(manifests):
        name = str(_first(manifest, ("name", "stage_name")) or f"stage {index + 1}")
        candidates = [str(manifest.get(k)) for k in ("stage", "index", "stage_index", "name", "stage_name")
                      if manifest.get(k) is not None]
        match = next((c for c in candidates if c in ranges and c not in used), None)
        if match is None and index < len(order) and order[index] not in used and len(manifests) == len(order):
            match = order[index]
        if match is not None:
            used.add(match)
            start, end = ranges[match]
        else:
            start, end = _manifest_range(manifest, offset)
        offset = end
        details = {k: v for k, v in manifest.items() if not k.startswith("_") and not isinstance(v, (dict, list))}
        spans.append(StageSpan(name, start, end, _reason_text(_first(manifest, _REASON_KEYS)), details))
    for stage in order:
        if stage not in used and not any(s.name == stage for s in spans):
            start, end = ranges[stage]
            spans.append(StageSpan(stage, start, end, None, {}))
    spans.sort(key=lambda s: s.start)
    return spans
