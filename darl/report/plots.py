"""The report's figures, each a function from plain data to a base64 PNG (None when there is nothing to draw).

matplotlib through its object-oriented API (`Figure` rendered by the Agg canvas): no pyplot, no global backend
switch, nothing happens at import, and it works on a headless machine. The paper's Figures 1-4 are the model: level
statistics, per-stage training curves with stage boundaries, and evaluation against the starting policy.
"""

from __future__ import annotations

import base64
import io
import math
from collections import defaultdict
from typing import Any, Sequence

from darl.report.series import Series, StageSpan

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
STAGE_SHADES = ("#f2f6fb", "#fbf4ec")


def _figure(width: float, height: float):  # -> matplotlib.figure.Figure
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def to_png(fig) -> str:
    """Render a Figure to a base64-encoded PNG string."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _shade_stages(ax, spans: Sequence[StageSpan], label: bool) -> None:
    for index, span in enumerate(spans):
        # steps are whole numbers: a stage covers [start - 0.5, end + 0.5], so neighbouring stages touch
        ax.axvspan(span.start - 0.5, span.end + 0.5, color=STAGE_SHADES[index % 2], zorder=0)
        if index > 0:
            ax.axvline(span.start - 0.5, color="#555555", linestyle="--", linewidth=1, zorder=1)
        if label:
            ax.annotate(span.name, xy=(span.start - 0.5, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
                        textcoords="offset points", fontsize=8, color="#333333")


def _break_at_stages(s: Series, spans: Sequence[StageSpan]) -> tuple[list[float], list[float]]:
    """Insert a gap (NaN) where a stage begins, so a line never joins the end of one stage to the next."""
    starts = [span.start for span in spans[1:]]
    xs: list[float] = []
    ys: list[float] = []
    for i, (x, y) in enumerate(zip(s.steps, s.values)):
        if i and any(s.steps[i - 1] < start <= x for start in starts):
            xs.append(float("nan"))
            ys.append(float("nan"))
        xs.append(x)
        ys.append(y)
    return xs, ys


def curves(panels: Sequence[tuple[str, dict[str, Series]]], spans: Sequence[StageSpan], columns: int = 2
           ) -> str | None:
    """Small multiples: each panel (title, {line label: series}) against the global step, stages shaded and their
    boundaries dashed."""
    panels = [(t, lines) for t, lines in panels if any(s.steps for s in lines.values())]
    if not panels:
        return None
    rows = math.ceil(len(panels) / columns)
    fig = _figure(6.2 * columns, 2.6 * rows)
    axes = fig.subplots(rows, columns, squeeze=False)
    for index, (title, lines) in enumerate(panels):
        ax = axes[index // columns][index % columns]
        _shade_stages(ax, spans, label=True)
        for color, (label, s) in zip(PALETTE * 3, lines.items()):
            if not s.steps:
                continue
            marker = "o" if len(s.steps) < 30 else None
            xs, ys = _break_at_stages(s, spans)
            ax.plot(xs, ys, color=color, label=label, linewidth=1.4, marker=marker, markersize=3)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=7, loc="best")
    for index in range(len(panels), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    return to_png(fig)


def level_counts(counts: dict[str, dict[str, int]]) -> str | None:
    """Grouped bars: problems per level ({level: {domain: count}})."""
    if not counts:
        return None
    levels = list(counts)
    domains = sorted({d for per in counts.values() for d in per})
    fig = _figure(6.5, 3.0)
    ax = fig.subplots()
    width = 0.8 / max(len(domains), 1)
    for j, domain in enumerate(domains):
        xs = [i + (j - (len(domains) - 1) / 2) * width for i in range(len(levels))]
        values = [counts[level].get(domain, 0) for level in levels]
        bars = ax.bar(xs, values, width=width, color=PALETTE[j % len(PALETTE)], label=domain)
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(levels)), levels)
    ax.set_ylabel("problems")
    ax.set_title("Problems per level (levels may overlap, as in the paper)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return to_png(fig)


def pass_rate_histograms(rates: dict[str, dict[str, list[float]]], bins: int = 10) -> str | None:
    """One panel per model: histogram of per-problem pass rates, one colour per domain ({model: {domain: rates}})."""
    models = [m for m, per in rates.items() if any(per.values())]
    if not models:
        return None
    columns = min(len(models), 3)
    rows = math.ceil(len(models) / columns)
    fig = _figure(4.3 * columns, 2.8 * rows)
    axes = fig.subplots(rows, columns, squeeze=False)
    edges = [i / bins for i in range(bins + 1)]
    for index, model in enumerate(models):
        ax = axes[index // columns][index % columns]
        per = rates[model]
        domains = sorted(d for d in per if per[d])
        ax.hist([per[d] for d in domains], bins=edges, label=domains,
                color=[PALETTE[j % len(PALETTE)] for j in range(len(domains))], stacked=True)
        ax.set_title(model, fontsize=10)
        ax.set_xlabel("pass rate", fontsize=8)
        ax.set_ylabel("problems", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7)
    for index in range(len(models), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    return to_png(fig)


def online_estimates(estimates: dict[str, list[float]], proxy: tuple[str, list[tuple[float, float]]] | None = None
                     ) -> str | None:
    """Left: histogram of the online (posterior mean) pass-rate estimates per prompt, one colour per stage
    ({label: estimates}). Right, when given: online estimate against one proxy model's offline pass rate for the same
    prompts ((model name, [(proxy rate, online estimate)]))."""
    estimates = {label: values for label, values in estimates.items() if values}
    if not estimates:
        return None
    panels = 2 if proxy else 1
    fig = _figure(5.2 * panels, 3.1)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    labels = list(estimates)
    axes[0].hist([estimates[label] for label in labels], bins=[i / 20 for i in range(21)], label=labels,
                 color=[PALETTE[j % len(PALETTE)] for j in range(len(labels))], alpha=0.85)
    total = sum(len(v) for v in estimates.values())
    axes[0].set_title(f"Online pass-rate estimate per prompt ({total} prompt-stages)", fontsize=10)
    axes[0].set_xlabel("posterior mean pass rate under the policy", fontsize=8)
    axes[0].set_ylabel("prompts", fontsize=8)
    axes[0].legend(fontsize=7)
    if proxy:
        model, points = proxy
        xs, ys = zip(*points)
        jitter = [((i * 7919) % 100 - 50) / 2500 for i in range(len(xs))]  # spread the K-discrete proxy rates
        axes[1].scatter([x + j for x, j in zip(xs, jitter)], ys, s=9, alpha=0.5, color=PALETTE[1])
        axes[1].plot([0, 1], [0, 1], color="#999999", linestyle=":")
        axes[1].set_xlabel(f"proxy pass rate ({model}, offline)", fontsize=8)
        axes[1].set_ylabel("online estimate (policy)", fontsize=8)
        axes[1].set_title("Proxy difficulty vs the policy's own", fontsize=10)
    return to_png(fig)


def eval_bars(table: dict[str, dict[str, tuple[float, float | None]]]) -> str | None:
    """Grouped bars of Pass@1 with +-1 standard error: {benchmark: {evaluation label: (mean, stderr)}}."""
    if not table:
        return None
    benchmarks = list(table)
    labels: list[str] = []
    for per in table.values():
        for label in per:
            if label not in labels:
                labels.append(label)
    fig = _figure(max(5.0, 1.6 * len(benchmarks) * max(len(labels), 1) / 2 + 2), 3.0)
    ax = fig.subplots()
    width = 0.8 / len(labels)
    for j, label in enumerate(labels):
        xs, ys, errs = [], [], []
        for i, bench in enumerate(benchmarks):
            if label in table[bench]:
                mean, se = table[bench][label]
                xs.append(i + (j - (len(labels) - 1) / 2) * width)
                ys.append(100 * mean)
                errs.append(100 * se if se is not None else 0.0)
        bars = ax.bar(xs, ys, width=width, yerr=errs, capsize=3, color=PALETTE[j % len(PALETTE)], label=label)
        ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    ax.set_xticks(range(len(benchmarks)), benchmarks)
    ax.set_ylabel("Pass@1 (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Pass@1 (mean over samples, +-1 s.e. over problems)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return to_png(fig)


def group_rates(rows: Sequence[dict[str, Any]], model_key: str, domain_key: str | None, rate_key: str
                ) -> dict[str, dict[str, list[float]]]:
    """{model: {domain: [rates]}} from flat rows (helper for `pass_rate_histograms`)."""
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        rate = row.get(rate_key)
        if isinstance(rate, (int, float)) and not isinstance(rate, bool) and math.isfinite(rate):
            out[str(row.get(model_key, "?"))][str(row.get(domain_key, "all")) if domain_key else "all"].append(
                float(rate))
    return {m: dict(d) for m, d in out.items()}
