"""The calibration report beside the levels file: `<stem>.report.md`, `<stem>.report.html` (self-contained, plots
inlined) and `<stem>.report/*.png`, plus `<stem>.summary.json` with the namespaced metrics.

Sections: problems per level and domain (and the overlap of levels), pass-rate histograms per model, agreement
between proxies (Spearman matrix, never/sometimes/always confusion between roles), and, when the policy was
scored, how well each proxy predicts the policy's pass rate and the policy's mean pass rate on each level (the
paper's 0.58 / 0.50 / 0.17 is that number for its 1.5B policy).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from darl.atomic import atomic_write_text
from darl.levels.calibration import BINS, Calibration
from darl.report import page


def _fmt(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _plots(cal: Calibration, folder: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}

    groups = cal.level_names + ["no level", "dropped"]
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(groups)), 3.2))
    width = 0.8 / max(1, len(cal.domains))
    for i, d in enumerate(cal.domains):
        ax.bar(np.arange(len(groups)) + i * width, [cal.counts[g][d] for g in groups], width, label=d)
    ax.set_xticks(np.arange(len(groups)) + width * (len(cal.domains) - 1) / 2, groups)
    ax.set_ylabel("problems")
    ax.set_title("Problems per level and domain (levels overlap)")
    ax.legend()
    fig.tight_layout()
    out["levels"] = folder / "levels_by_domain.png"
    fig.savefig(out["levels"], dpi=110)
    plt.close(fig)

    n = len(cal.models)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, m in zip(axes.flat, cal.models):
        values = Counter(round(v, 4) for v in cal.rates[m])
        xs = sorted(values)
        ax.bar([str(round(x, 2)) for x in xs], [values[x] for x in xs], color="tab:blue")
        ax.set_title(m, fontsize=9)
        ax.set_xlabel("pass rate")
        ax.tick_params(axis="x", labelsize=7, rotation=45)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    out["hist"] = folder / "pass_rate_histograms.png"
    fig.savefig(out["hist"], dpi=110)
    plt.close(fig)

    matrix = np.array([[np.nan if cal.spearman[(a, b)] is None else cal.spearman[(a, b)] for b in cal.models]
                       for a in cal.models])
    fig, ax = plt.subplots(figsize=(1.2 * n + 2, 1.0 * n + 1.5))
    image = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu")
    ax.set_xticks(range(n), cal.models, rotation=45, ha="right")
    ax.set_yticks(range(n), cal.models)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, "n/a" if np.isnan(matrix[i, j]) else f"{matrix[i, j]:.2f}", ha="center", va="center",
                    fontsize=8)
    fig.colorbar(image, ax=ax)
    ax.set_title("Spearman rank correlation of pass rates")
    fig.tight_layout()
    out["spearman"] = folder / "proxy_spearman.png"
    fig.savefig(out["spearman"], dpi=110)
    plt.close(fig)

    if cal.policy is not None and cal.policy_fit:
        proxies = list(cal.policy_fit)
        fig, axes = plt.subplots(1, len(proxies), figsize=(3 * len(proxies), 3), squeeze=False)
        rng = np.random.default_rng(0)
        target = np.array(cal.rates[cal.policy])
        for ax, m in zip(axes.flat, proxies):
            x = np.array(cal.rates[m]) + rng.uniform(-0.02, 0.02, len(target))
            y = target + rng.uniform(-0.02, 0.02, len(target))
            ax.scatter(x, y, s=6, alpha=0.5)
            ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
            ax.set_xlabel(f"{m} pass rate")
            ax.set_ylabel(f"{cal.policy} pass rate")
            rho = cal.policy_fit[m]["spearman"]
            ax.set_title(f"rho = {_fmt(rho, 2)}", fontsize=9)
        fig.tight_layout()
        out["policy"] = folder / "proxy_vs_policy.png"
        fig.savefig(out["policy"], dpi=110)
        plt.close(fig)
    return out


def _sections(cal: Calibration, config: dict) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    """(title, header, rows, plot key) for each table, shared by the Markdown and HTML writers."""
    sections = []
    header = ["level"] + cal.domains + ["all"]
    rows = [[name] + [str(cal.counts[name][d]) for d in cal.domains] + [str(sum(cal.counts[name].values()))]
            for name in cal.level_names + ["any level", "no level", "dropped"]]
    sections.append(("Problems per level and domain", header, rows, "levels"))
    sections.append(("Overlap of levels (problems in both)", [""] + cal.level_names,
                     [[a] + [str(v) for v in row] for a, row in zip(cal.level_names, cal.overlap)], None))
    model_rows = []
    for m in cal.models:
        values = cal.rates[m]
        roles = [r for r, mm in config["roles"].items() if mm == m] + (["policy"] if m == cal.policy else [])
        model_rows.append([m, ", ".join(roles) or "-", _fmt(sum(values) / len(values)),
                           _fmt(sum(v > 0 for v in values) / len(values)), _fmt(sum(v >= 1 for v in values) / len(values)),
                           _fmt(cal.truncation.get(m))])
    sections.append(("Pass rates per model", ["model", "role", "mean pass rate", "solved (p > 0)", "always (p = 1)",
                                              "truncated"], model_rows, "hist"))
    sections.append(("Agreement between proxies (Spearman rank correlation)", [""] + cal.models,
                     [[a] + [_fmt(cal.spearman[(a, b)], 2) for b in cal.models] for a in cal.models], "spearman"))
    for (ra, rb), grid in cal.bin_confusion.items():
        sections.append((f"Confusion of difficulty bins: {ra} (rows) vs {rb} (columns)", [""] + list(BINS),
                         [[BINS[i]] + [str(v) for v in row] for i, row in enumerate(grid)], None))
    if cal.policy is not None:
        sections.append((f"How well each proxy predicts the policy ({cal.policy}) pass rate",
                         ["proxy", "Spearman", "Pearson", "mean abs. error", "AUROC (policy solves)"],
                         [[m, _fmt(s["spearman"]), _fmt(s["pearson"]), _fmt(s["mae"]), _fmt(s["auroc_solved"])]
                          for m, s in cal.policy_fit.items()], "policy"))
        sections.append((f"Policy ({cal.policy}) mean pass rate per level (the paper: 0.58 / 0.50 / 0.17)",
                         ["level"] + cal.domains + ["all"],
                         [[name] + [_fmt(cal.policy_by_level[name][d]) for d in cal.domains + ["all"]]
                          for name in cal.level_names], None))
    return sections


def write_report(cal: Calibration, config: dict, levels_path: Path) -> dict[str, Path]:
    """Write the report files next to `levels_path`; returns their paths by kind (md, html, summary, plot_*)."""
    stem = levels_path.with_name(levels_path.stem)
    plots = _plots(cal, Path(f"{stem}.report"))
    sections = _sections(cal, config)
    intro = (f"Levels from `{config['source']}`; roles {json.dumps(config['roles'])}; drop rule "
             f"`{config['drop']}`; seed {config['seed']}. Level rules: "
             + "; ".join(f"{lv['name']}: `{lv['when']}`"
                         + (f" + share {lv['keep']['share']} of `{lv['keep']['when']}`" if "keep" in lv else "")
                         for lv in config["levels"]))
    md = ["# Levels calibration report", "", intro, ""]
    md += [f"> **WARNING:** {message}\n" for message in cal.warnings]
    for title, header, rows, plot in sections:
        md += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        md += ["| " + " | ".join(r) + " |" for r in rows]
        if plot in plots:
            md += ["", f"![{title}]({plots[plot].parent.name}/{plots[plot].name})"]
        md.append("")
    md_path = Path(f"{stem}.report.md")
    atomic_write_text(md_path, "\n".join(md))
    parts = ["<h1>Levels calibration report</h1>", f"<p>{page.esc(intro)}</p>"]
    parts += [page.problem(f"WARNING: {page.esc(message)}") for message in cal.warnings]
    for title, header, rows, plot in sections:
        parts.append(f"<h2>{page.esc(title)}</h2>" + page.table(header, rows, escape=True))
        if plot in plots:
            parts.append(f"<p>{page.figure(plots[plot].read_bytes(), title)}</p>")
    html_path = Path(f"{stem}.report.html")
    atomic_write_text(html_path, page.document("Levels calibration report", parts))
    summary_path = Path(f"{stem}.summary.json")
    atomic_write_text(summary_path, json.dumps(cal.metrics, indent=2, sort_keys=True) + "\n")
    return {"md": md_path, "html": html_path, "summary": summary_path, **{f"plot_{k}": v for k, v in plots.items()}}
