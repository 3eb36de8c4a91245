"""The comparison report: `comparison.json` (every number), `comparison.md` (tables and conclusions, figures as PNG
files beside it) and `comparison.html` (the same, self-contained, figures embedded), from `analysis.summarize`.

Figures: held-out Pass@1 against rollouts spent (each seed a thin line, the arm's mean a thick one; arms that use
levels start right of 0 by the rollouts proxy scoring cost), and per-arm Pass@1 / pass@k with 95% intervals.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from darl.atomic import atomic_write_bytes, atomic_write_text
from darl.report import page

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _interval(entry: dict[str, Any] | None, signed: bool = False) -> str:
    if not entry:
        return "-"
    fmt = "{:+.1f}" if signed else "{:.1f}"
    mean = fmt.format(100 * entry["mean"])
    if entry.get("low") is None:
        return mean
    return f"{mean} [{fmt.format(100 * entry['low'])}, {fmt.format(100 * entry['high'])}]"


def _gain(entry: dict[str, Any] | None) -> str:
    """Gain over the start: the seed interval, and the problem-level one (pairing by problem; no seed spread)."""
    if not entry:
        return "-"
    text = _interval(entry, signed=True)
    if entry.get("problem_low") is not None:
        text += f" (problems [{100 * entry['problem_low']:+.1f}, {100 * entry['problem_high']:+.1f}])"
    return text


def learning_curves(summary: dict[str, Any]):  # -> Figure | None
    from matplotlib.figure import Figure

    runs = [r for r in summary["runs"] if r["curve"]]
    if not runs:
        return None
    fig = Figure(figsize=(7.5, 4.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for index, arm in enumerate(summary["arms"]):
        color = PALETTE[index % len(PALETTE)]
        mine = [r for r in runs if r["arm"] == arm]
        for r in mine:
            ax.plot([c["rollouts"] for c in r["curve"]], [100 * c["pass@1"] for c in r["curve"]], color=color,
                    alpha=0.3, linewidth=0.8)
        by_step: dict[int, list[tuple[float, float]]] = {}
        for r in mine:
            for c in r["curve"]:
                by_step.setdefault(int(c["step"]), []).append((c["rollouts"], c["pass@1"]))
        steps = sorted(k for k, v in by_step.items() if len(v) == len(mine))
        if steps:
            ax.plot([sum(x for x, _ in by_step[s]) / len(by_step[s]) for s in steps],
                    [100 * sum(y for _, y in by_step[s]) / len(by_step[s]) for s in steps], color=color,
                    linewidth=2.2, marker="o", markersize=3, label=f"{arm} (mean of {len(mine)})")
    ax.set_xlabel("rollouts spent (training + proxy scoring)")
    ax.set_ylabel("held-out Pass@1 (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def metric_bars(summary: dict[str, Any]):  # -> Figure | None
    from matplotlib.figure import Figure

    arms = [a for a, e in summary["arms"].items() if "pass@1" in e]
    if not arms:
        return None
    metrics = summary["metrics"]
    fig = Figure(figsize=(3.2 * len(metrics) + 1, 3.6), dpi=100, layout="constrained")
    for m_index, metric in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), m_index + 1)
        for index, arm in enumerate(arms):
            e = summary["arms"][arm].get(metric)
            if not e:
                continue
            err = None
            if e["low"] is not None:
                err = [[100 * (e["mean"] - e["low"])], [100 * (e["high"] - e["mean"])]]
            ax.bar(index, 100 * e["mean"], color=PALETTE[index % len(PALETTE)], yerr=err, capsize=4)
            ax.scatter([index] * len(e["per_seed"]), [100 * v for v in e["per_seed"]], color="black", s=8, zorder=3)
        start = (summary.get("start") or {}).get(metric)
        if start is not None:
            ax.axhline(100 * start, color="gray", linestyle="--", linewidth=1, label="start")
            ax.legend(fontsize=7)
        ax.set_xticks(range(len(arms)), arms, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"held-out {metric} (%)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    return fig


def markdown(summary: dict[str, Any], figures: dict[str, str]) -> str:
    lines = [f"# Comparison: {summary['name']}", ""]
    start = summary.get("start") or {}
    metrics = summary["metrics"]
    budget = summary["budget"]
    lines += [f"Held-out set: {summary['heldout_problems']} problems, {summary['eval']['samples']} samples each at "
              f"temperature {summary['eval']['temperature']}. Budget: {budget['rollouts']} training rollouts per arm "
              f"and seed{' (proxy scoring charged to leveled arms)' if budget['count_scoring'] else ''}. "
              f"Intervals: 95%, Student's t across seeds.", ""]
    if start:
        lines += ["Starting policy: " + ", ".join(f"{m} {_pct(start.get(m))}%" for m in metrics), ""]
    header = ["arm", "seeds", *[f"{m} (%)" for m in metrics], "gain vs start (points)", "gradient yield",
              "zero-variance share (max)", "rollouts spent"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for arm, e in summary["arms"].items():
        zv = "-" if e.get("zero_variance_share") is None else \
            f"{100 * e['zero_variance_share']:.0f}% ({100 * e['zero_variance_max']:.0f}%)"
        gy = "-" if e.get("gradient_yield") is None else f"{100 * e['gradient_yield']:.0f}%"
        spent = "-" if e.get("rollouts_spent") is None else f"{e['rollouts_spent']:.0f}"
        lines.append("| " + " | ".join([arm, f"{len(e['seeds_done'])}/{len(e['seeds_planned'])}",
                                        *[_interval(e.get(m)) for m in metrics],
                                        _gain(e.get("gain_vs_start")), gy, zv, spent]) + " |")
    lines.append("")
    if summary["paired"]:
        lines += [f"## Against the baseline arm `{summary['baseline']}` (paired by seed and problem)", "",
                  "| arm | seeds | problems | Pass@1 difference (points) [seed interval] | problem-level interval | "
                  "verdict |", "|---|---|---|---|---|---|"]
        for arm, p in summary["paired"].items():
            lines.append(f"| {arm} | {len(p['seeds'])} | {p['problems']} | {_interval(p, signed=True)} | "
                         f"{_interval({'mean': p['mean'], 'low': p['problem_low'], 'high': p['problem_high']}, True)}"
                         f" | {p['verdict']} |")
        lines.append("")
    lines += breakdown_tables(summary)
    for name, title in (("learning_curves", "Learning curves"), ("metric_bars", "Pass@1 and pass@k per arm")):
        if name in figures:
            lines += [f"## {title}", "", f"![{title}]({figures[name]})", ""]
    lines += ["## Runs", "", "| arm | seed | Pass@1 (%) | stages (steps / max, why it ended) | reward start -> end | "
              "health |", "|---|---|---|---|---|---|"]
    for r in summary["runs"]:
        if not r["trained"]:
            lines.append(f"| {r['arm']} | {r['seed']} | not trained yet | | | |")
            continue
        stages = "; ".join(f"{s['name']} {s['steps']}/{s['max_steps']} ({s['ended_because'].split(':')[0]})"
                           for s in r["stages"])
        reward = "-" if r["reward_start"] is None else f"{r['reward_start']:.3f} -> {r['reward_end']:.3f}"
        health = "; ".join(f"{w['name']} at step {w['step']}" for w in r["health"]) or "ok"
        p1 = _pct(r["final"]["pass@1"]) if r["final"] else "not evaluated"
        lines.append(f"| {r['arm']} | {r['seed']} | {p1} | {stages} | {reward} | {health} |")
    warnings = [(r["arm"], r["seed"], w) for r in summary["runs"] for w in r["health"]]
    if warnings:
        lines += ["", "## Training health warnings", ""]
        lines += [f"- {arm} seed {seed}: **{w['name']}** (from step {w['step']}): {w['message']}"
                  for arm, seed, w in warnings]
    return "\n".join(lines) + "\n"


def breakdown_tables(summary: dict[str, Any]) -> list[str]:
    """Held-out Pass@1 per domain and per generator level: the start, and each arm's final mean [seed interval]
    with its gain over the start, so a part of the held-out set that got worse is not hidden by the average."""
    lines: list[str] = []
    for kind, groups in (summary.get("breakdown") or {}).items():
        arms = [a for a in summary["arms"] if any(a in g["arms"] for g in groups.values())]
        if not arms:
            continue
        lines += [f"## Held-out Pass@1 by {kind} (%; gain over the start in points, 95% interval across seeds)", "",
                  "| " + " | ".join([kind, "problems", "start", *arms]) + " |", "|" + "---|" * (3 + len(arms))]
        for group, g in groups.items():
            cells = []
            for arm in arms:
                a = g["arms"].get(arm)
                cells.append("-" if a is None else
                             f"{_interval(a)}" + (f"; {_interval(a['gain'], signed=True)}" if a.get("gain") else ""))
            lines.append("| " + " | ".join([group, str(g["problems"]), _pct(g["start"]), *cells]) + " |")
        lines.append("")
    return lines


def write(summary: dict[str, Any], out: str | Path) -> dict[str, Path]:
    """Write comparison.json, comparison.md (+ PNG figures) and comparison.html into `out`; returns their paths."""
    import io

    out = Path(out)
    paths: dict[str, Path] = {}
    pngs: dict[str, bytes] = {}
    for name, make in (("learning_curves", learning_curves), ("metric_bars", metric_bars)):
        fig = make(summary)
        if fig is None:
            continue
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        pngs[name] = buffer.getvalue()
        path = out / f"comparison-{name.replace('_', '-')}.png"
        atomic_write_bytes(path, pngs[name])
        paths[name] = path
    text = markdown(summary, {k: p.name for k, p in paths.items()})
    paths["json"] = out / "comparison.json"
    atomic_write_text(paths["json"], json.dumps(summary, indent=2) + "\n")
    paths["markdown"] = out / "comparison.md"
    atomic_write_text(paths["markdown"], text)
    paths["html"] = out / "comparison.html"
    atomic_write_text(paths["html"], _html(text, pngs, summary["name"]))
    return paths


def _inline(text: str) -> str:
    """One Markdown line's text as HTML: escaped, with `**bold**` and `code` spans kept."""
    escaped = page.esc(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def _html(text: str, pngs: dict[str, bytes], title: str) -> str:
    """The markdown as a page of the shared report template (darl.report.page): tables become HTML tables, figure
    links become embedded PNGs, so the HTML and the Markdown say the same thing."""
    body: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            head, *rest = rows
            body.append(page.table(head, rest, escape=True))
            rows.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= {"-"} for c in cells):
                rows.append(cells)
            continue
        flush()
        if line.startswith("!["):
            name = line[line.index("(") + 1:-1]
            key = name.removeprefix("comparison-").removesuffix(".png").replace("-", "_")
            if key in pngs:
                body.append(page.figure(pngs[key], key))
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{_inline(line.lstrip('# '))}</h{level}>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
    flush()
    return page.document(title, body)
