"""Assemble the one-file HTML report of a run from `collect`ed data: inline CSS, figures as base64 PNG, no scripts, no
external assets, so it opens from disk in any browser, in an e-mail attachment or on a machine without network.

Every section renders whatever is present and says plainly which inputs are missing.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from darl.evaluation.compare import compare_evals
from darl.report import plots
from darl.report import page
from darl.report.collect import EvalFile, RunData
from darl.report.health_section import section_health
from darl.report.series import Series, StageSpan, global_steps, numeric_keys, series, spearman, stage_spans

# Panels of the training figure: (title, regular expressions a key must match, searched in the lower-cased key).
# darl train's names come first (docs/metrics.md); the looser patterns catch other loggers' names.
PANEL_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Reward", (r"^train/reward$", r"^levels/.+/reward_mean$", r"^train/rewards/.+/mean$", r"(^|/)reward(_mean)?$")),
    ("Validation score (held-out greedy accuracy)", (r"^stage/val_accuracy$", r"(^|/)val(idation)?[/_]")),
    ("Zero-variance share (groups with no gradient)", (r"zero_variance", r"frac_reward_zero_std")),
    ("Pass rate per level", (r"^levels/.+/pass_rate$",)),
    ("Response length (tokens)", (r"^train/completions/mean_length$", r"^levels/.+/response_length$",
                                  r"(^|/)(mean_)?(response_)?length$")),
    ("Truncation rate", (r"^train/completions/clipped_ratio$", r"^levels/.+/truncation_rate$", r"trunc")),
    ("KL to reference", (r"(^|/)kl$",)),
    ("Entropy", (r"(^|/)entropy$",)),
    ("Clip fraction", (r"^train/clip_ratio/region_mean$", r"(^|/)clip_(ratio|frac)[a-z_]*$")),
    ("Learning rate", (r"learning_rate$", r"(^|/)lr$")),
    ("Online difficulty", (r"online", r"^stage/prompts_(always|never)_solved$")),
)
MAX_LINES = 8


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}"


# ----------------------------------------------------------------------------------------------- data & levels


def _level_counts(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """{'Level k': {domain: problems}} from a levels table in any of the shapes the levels step may write: a list
    column `levels`, boolean columns `level_1`.. / `L1`.., or one integer column `level`."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        domain = str(row.get("domain", "all"))
        found: list[str] = []
        value = row.get("levels")
        if isinstance(value, (list, tuple)):
            found = [str(v) for v in value]
        elif isinstance(value, str) and value.strip():
            found = [v for v in re.split(r"[,\s;]+", value.strip("[]")) if v]
        else:
            for key, flag in row.items():
                match = re.fullmatch(r"(?:level_?|l|in_level_?)(\d)", key.lower())
                if match and flag is True:
                    found.append(match.group(1))
            if not found and isinstance(row.get("level"), (int, float)) and not isinstance(row.get("level"), bool):
                found = [str(int(row["level"]))]
        for level in found:
            counts[f"Level {level.removeprefix('L').removeprefix('level_')}"][domain] += 1
    return {k: dict(counts[k]) for k in sorted(counts)}


def _dropped_note(calibration: dict[str, Any] | None) -> str:
    """' N dropped ..., M without a level.' from darl levels' counts, when it recorded them."""
    if not calibration:
        return ""
    dropped = calibration.get("levels/count/dropped/all")
    unleveled = calibration.get("levels/count/no_level/all")
    parts = []
    if isinstance(dropped, (int, float)):
        parts.append(f"{int(dropped)} dropped by the filter rule (the strongest model never solved them)")
    if isinstance(unleveled, (int, float)):
        parts.append(f"{int(unleveled)} kept without any level")
    return (" Besides these, " + "; ".join(parts) + ".") if parts else ""


def _score_rates(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    model_key = next((k for k in ("model", "model_name", "role") if rows and k in rows[0]), "model")
    rate_key = next((k for k in ("pass_rate", "passrate", "rate") if rows and k in rows[0]), "pass_rate")
    return plots.group_rates(rows, model_key, "domain" if rows and "domain" in rows[0] else None, rate_key)


def _flat_scalars(mapping: dict[str, Any], prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 2:
            out.extend(_flat_scalars(value, name + ".", depth + 1))
        elif isinstance(value, (int, float, str, bool)) or value is None:
            out.append((name, value))
    return out


def section_data(run: RunData) -> str:
    parts = ["<h2>1. Data and levels</h2>"]
    if run.levels is None:
        parts.append(page.missing("no <code>levels.parquet</code> in the run directory, beside it, or where its stage "
                              "manifests say (run <code>darl levels</code>); level statistics are not shown."))
    else:
        counts = _level_counts(run.levels)
        domains = sorted({d for per in counts.values() for d in per})
        rows = [[page.esc(level)] + [per.get(d, 0) for d in domains] + [sum(per.values())] for level, per in counts.items()]
        parts.append(f"<p>{len(run.levels)} problems in the levels table.{_dropped_note(run.calibration)}</p>")
        parts.append(page.table(["level"] + domains + ["total"], rows))
        parts.append(page.figure(plots.level_counts(counts), "problems per level"))
    found = [f"{part}: <code>{page.esc(str(path))}</code>" for part, path in run.sources.items()
             if not path.resolve().is_relative_to(run.root.resolve())]
    if found:
        parts.append(f"<p>Read from beside the run directory: {'; '.join(found)}.</p>")
    if run.scores is None:
        parts.append(page.missing("no <code>scores.parquet</code> (run <code>darl score</code>); pass-rate histograms "
                              "of the proxy models are not shown."))
    else:
        rates = _score_rates(run.scores)
        parts.append("<h3>Pass rates of the proxy models (per problem)</h3>")
        summary = [[page.esc(m), page.esc(d), len(v), f"{sum(v) / len(v):.3f}",
                    f"{sum(1 for x in v if 0 < x < 1) / len(v):.0%}"]
                   for m, per in rates.items() for d, v in per.items() if v]
        parts.append(page.table(["model", "domain", "problems", "mean pass rate", "share strictly in (0, 1)"], summary,
                            left=2))
        parts.append(page.figure(plots.pass_rate_histograms(rates), "pass-rate histograms"))
    if run.calibration is None:
        parts.append(page.missing("no levels calibration numbers (<code>levels.summary.json</code> from darl levels); "
                              "proxy agreement is not shown."))
    else:
        # counts per level are in the table above; the rest (agreement between proxies, policy fit) here
        parts.append("<h3>Levels calibration</h3>")
        if run.calibration_report is not None:
            link = Path(os.path.relpath(run.calibration_report, run.root)).as_posix()  # may sit beside the run
            parts.append(f'<p>darl levels\' full calibration report: <a href="{page.esc(link)}">{page.esc(link)}</a> '
                         "(a separate file beside this one).</p>")
        parts += calibration_tables(dict(_flat_scalars(run.calibration)))
    return "\n".join(parts)


def calibration_tables(scalars: dict[str, Any]) -> list[str]:
    """The calibration numbers as a person reads them: proxy agreement as a model x model matrix of Spearman
    correlations, one row per model (mean pass rate, truncation, how well it predicts the policy's own pass rate),
    the policy's pass rate per level; any other key in a plain list, so nothing darl levels wrote is hidden."""
    used: set[str] = set()

    def take(key: str) -> Any:
        used.add(key)
        return scalars.get(key)

    parts = []
    pairs = [k.split("/")[3:5] for k in scalars if k.startswith("levels/agreement/spearman/")]
    models = sorted({m for pair in pairs for m in pair})
    if models:
        def cell(a: str, b: str) -> str:
            if a == b:
                return "1"
            value = take(f"levels/agreement/spearman/{a}/{b}")
            value = take(f"levels/agreement/spearman/{b}/{a}") if value is None else value
            return "-" if value is None else f"{value:.2f}"

        parts.append("<p>Agreement between the scored models: Spearman correlation of per-problem pass rates.</p>")
        parts.append(page.table(["", *models], [[page.esc(a), *(cell(a, b) for b in models)] for a in models]))
    fit_keys = ("mean_pass_rate", "truncation_rate")
    fit_stats = ("spearman", "pearson", "mae", "auroc_solved")
    per_model = sorted({k.split("/")[2] for k in scalars if k.startswith(("levels/model/", "levels/policy_fit/"))})
    if per_model:
        rows = []
        for m in per_model:
            values = [take(f"levels/model/{m}/{k}") for k in fit_keys]
            values += [take(f"levels/policy_fit/{m}/{k}") for k in fit_stats]
            rows.append([page.esc(m), *("-" if v is None else f"{v:.3f}" for v in values)])
        parts.append("<p>Per model; the policy-fit columns say how well its pass rate predicts the policy's own "
                     "(Spearman, Pearson, mean absolute error, AUROC for \"the policy solves it at least once\").</p>")
        parts.append(page.table(["model", "mean pass rate", "truncated", "fit: Spearman", "fit: Pearson", "fit: MAE",
                                 "fit: AUROC"], rows))
    levels = sorted({k.split("/")[2] for k in scalars if k.startswith("levels/policy_pass_rate/")})
    if levels:
        domains = sorted({k.split("/")[3] for k in scalars if k.startswith("levels/policy_pass_rate/")})
        rows = [[page.esc(lv), *("-" if (v := take(f"levels/policy_pass_rate/{lv}/{d}")) is None else f"{v:.2f}"
                                 for d in domains)] for lv in levels]
        parts.append("<p>The policy's pass rate on each level at its training temperature (its initial training "
                     "reward there; the paper's 0.58 / 0.50 / 0.17).</p>")
        parts.append(page.table(["level", *domains], rows))
    rest = [(k, v) for k, v in scalars.items() if k not in used and not k.startswith("levels/count/")]
    if rest:
        parts.append(page.table(["other quantity", "value"], [[page.esc(k), page.esc(_fmt(v))] for k, v in rest]))
    return parts


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# ---------------------------------------------------------------------------------------------------- training


def classify(keys: Sequence[str]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Group metric keys into the titled panels of `PANEL_RULES` (first matching rule wins, in rule order); return
    the panels and the keys no rule claimed (shown as a table, not plotted)."""
    panels: dict[str, list[str]] = {}
    rest: list[str] = []
    for key in keys:
        lowered = key.lower()
        for title, patterns in PANEL_RULES:
            if any(re.search(pattern, lowered) for pattern in patterns):
                panels.setdefault(title, []).append(key)
                break
        else:
            rest.append(key)
    return [(t, panels[t]) for t, _ in PANEL_RULES if t in panels], rest


def _other_metrics(rows: Sequence[dict[str, Any]], keys: Sequence[str], spans: Sequence[StageSpan]) -> str:
    """First and last logged value of each unplotted metric, per stage."""
    if not keys:
        return ""
    steps = global_steps(rows)
    ranges = [(s.name, s.start, s.end) for s in spans] or [("run", float("-inf"), float("inf"))]
    body = []
    for key in keys:
        data = series(rows, key, steps)
        cells = []
        for _, start, end in ranges:
            values = [v for x, v in zip(data.steps, data.values) if start <= x <= end]
            cells.append(f"{_fmt(values[0])} &rarr; {_fmt(values[-1])}" if values else "-")
        body.append([f"<code>{page.esc(key)}</code>"] + cells)
    return ("<details><summary>Other metrics (first &rarr; last value in each stage)</summary>"
            + page.table(["metric"] + [name for name, _, _ in ranges], body) + "</details>")


def _panel_series(rows, steps, keys: Sequence[str]) -> dict[str, Series]:
    # the aggregate first, then per-level/domain breakdowns, at most MAX_LINES lines per panel
    keys = sorted(keys, key=lambda k: (k.count("/"), k))[:MAX_LINES]
    return {k: series(rows, k, steps) for k in keys}


def section_training(run: RunData) -> tuple[str, list[StageSpan]]:
    parts = ["<h2>2. Training, stage by stage</h2>"]
    rows = run.metrics or []
    spans = stage_spans(rows, run.manifests) if (rows or run.manifests) else []
    if run.manifests or spans:
        table = []
        for index, span in enumerate(spans, start=1):
            table.append([index, page.esc(span.name), f"{span.start:g}", f"{span.end:g}",
                          page.esc(span.end_reason) if span.end_reason else "<i>not recorded</i>"])
        parts.append("<h3>Stages and why each ended</h3>")
        parts.append(page.table(["#", "stage", "first step", "last step", "why it ended"], table, left=2))
        if not run.manifests:
            parts.append(page.missing("no stage manifests (<code>stage-*/manifest.json</code>); stage ranges come from "
                                  "the metrics and the reasons are unknown."))
    else:
        parts.append(page.missing("no stage manifests and no staged metrics: stage boundaries are not shown."))
    if not rows:
        parts.append(page.missing("no <code>metrics.jsonl</code> in the run directory (run <code>darl train</code>); "
                              "training curves, zero-variance share and online difficulty curves are not shown."))
        return "\n".join(parts), spans
    steps = global_steps(rows)
    keys = numeric_keys(rows)
    panels, unplotted = classify(keys)
    parts.append(f"<p>{len(rows)} logged steps, {len(keys)} metrics from "
                 + ", ".join(f"<code>{page.esc(p.relative_to(run.root))}</code>" for p in run.metrics_paths)
                 + ". Stages are shaded; dashed lines mark where a stage began.</p>")
    main = [(t, _panel_series(rows, steps, ks)) for t, ks in panels
            if not t.startswith("Zero-variance") and not t.startswith("Online")]
    parts.append(page.figure(plots.curves(main, spans), "training curves"))
    parts.append(_other_metrics(rows, unplotted, spans))
    parts.append("<h3>Zero-variance share over time</h3>")
    zero = [(t, _panel_series(rows, steps, ks)) for t, ks in panels if t.startswith("Zero-variance")]
    if zero:
        parts.append("<p>Share of rollout groups whose rewards all agree (all right or all wrong): they carry no "
                     "GRPO gradient.</p>")
        parts.append(page.figure(plots.curves(zero, spans, columns=1), "zero-variance share"))
    else:
        parts.append(page.missing("no zero-variance metric (a key containing <code>zero_variance</code>) in the "
                              "metrics."))
    return "\n".join(parts), spans


def section_online(run: RunData, spans: Sequence[StageSpan]) -> str:
    parts = ["<h2>3. Online difficulty estimates</h2>"]
    rows = run.metrics or []
    online_keys = [k for t, ks in classify(numeric_keys(rows))[0] if t.startswith("Online") for k in ks] if rows else []
    if online_keys:
        steps = global_steps(rows)
        parts.append(page.figure(plots.curves([("Online difficulty", _panel_series(rows, steps, online_keys))], spans,
                                       columns=1), "online difficulty over time"))
    by_label: dict[str, dict[str, float]] = defaultdict(dict)
    for row in run.online or []:
        estimate = _online_mean(row)
        if estimate is not None and row.get("id") is not None:
            by_label[str(row.get("_label", "run"))][str(row["id"])] = estimate
    if by_label:
        parts.append("<p>Each prompt's pass rate under the policy being trained, estimated from the rollouts "
                     "training already made (Beta posterior mean), at the end of each stage.</p>")
        proxy_rates: dict[str, dict[str, float]] = defaultdict(dict)
        for row in run.scores or []:
            if isinstance(row.get("pass_rate"), (int, float)) and row.get("problem_id") is not None:
                proxy_rates[str(row.get("model", "?"))][str(row["problem_id"])] = float(row["pass_rate"])
        table, best = [], None
        for label, estimates in by_label.items():
            for model, rates in proxy_rates.items():
                shared = [pid for pid in estimates if pid in rates]
                rho = spearman([rates[p] for p in shared], [estimates[p] for p in shared])
                table.append([page.esc(label), page.esc(model), len(shared), "n/a" if rho is None else f"{rho:+.2f}"])
                if rho is not None and (best is None or rho > best[0]):
                    best = (rho, model, [(rates[p], estimates[p]) for p in shared])
        scatter = (best[1], best[2]) if best else None
        parts.append(page.figure(plots.online_estimates({k: list(v.values()) for k, v in by_label.items()}, scatter),
                          "online estimates"))
        if table:
            parts.append("<h3>How well each proxy model's offline pass rate predicts the policy's own</h3>")
            parts.append(page.table(["stage", "proxy model", "prompts in both", "Spearman rank correlation"], table,
                                left=2))
        elif run.scores is None:
            parts.append(page.missing("no <code>scores.parquet</code>: the online estimates are not compared with the "
                                  "proxy models."))
    if not online_keys and not by_label:
        parts.append(page.missing("no online difficulty files (<code>online_difficulty.jsonl</code> in the stage "
                              "folders) and no <code>online</code> metrics in the run directory."))
    return "\n".join(parts)


def _online_mean(row: dict[str, Any]) -> float | None:
    for key in ("mean", "posterior_mean", "pass_rate", "estimate"):
        value = row.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    alpha, beta = row.get("alpha"), row.get("beta")
    if isinstance(alpha, (int, float)) and isinstance(beta, (int, float)) and alpha + beta > 0:
        return float(alpha) / float(alpha + beta)
    return None


# -------------------------------------------------------------------------------------------------- evaluation


def _heldout(run: RunData) -> str:
    record = run.heldout or {}
    rows = []
    for when in ("before", "after"):
        entry = record.get(when)
        if isinstance(entry, dict) and isinstance(entry.get("accuracy"), (int, float)):
            domains = ", ".join(f"{d} {_pct(v)}" for d, v in (entry.get("by_domain") or {}).items())
            rows.append([page.esc(when), page.esc(entry.get("model", "?")), entry.get("count", "?"), _pct(entry["accuracy"]),
                         page.esc(domains or "-")])
    if not rows:
        return ""
    return ("<h3>Held-out greedy accuracy (darl train's own validation problems)</h3>"
            + page.table(["policy", "model", "problems", "accuracy %", "by domain %"], rows, left=2))


def section_eval(run: RunData) -> str:
    parts = ["<h2>4. Evaluation against the starting policy</h2>", _heldout(run)]
    if not run.evals:
        parts.append(page.missing("no <code>eval.json</code> in the run directory (run <code>darl eval</code>)."))
        return "\n".join(parts)
    baseline = run.baseline
    if baseline is None:
        parts.append(page.missing("no baseline evaluation (an <code>eval.json</code> in a folder named "
                              "<code>before</code>/<code>baseline</code>, or with <code>extra.role = baseline</code>); "
                              "differences are not shown."))
    benchmarks: list[str] = []
    for e in run.evals:
        for name in e.data.get("benchmarks", {}):
            if name not in benchmarks:
                benchmarks.append(name)
    rows = []
    chart: dict[str, dict[str, tuple[float, float | None]]] = {}
    for name in benchmarks:
        for e in run.evals:
            bench = e.data["benchmarks"].get(name)
            if not bench or not bench.get("pass@1"):
                continue
            p1 = bench["pass@1"]
            ks = ", ".join(f"@{k}: {_pct(v)}" for k, v in bench.get("pass@k", {}).items() if k != "1")
            role = " (baseline)" if e is baseline else ""
            rows.append([page.esc(name), page.esc(e.label + role), page.esc(e.data.get("model", "?")), bench.get("problems"),
                         bench.get("n"), f"{_pct(p1['mean'])} &plusmn; {_pct(p1.get('stderr'))}", ks or "-",
                         _pct(bench.get("truncation_rate")),
                         "n/a" if bench.get("mean_response_tokens") is None else
                         f"{bench['mean_response_tokens']:.0f}"])
            chart.setdefault(name, {})[e.label] = (p1["mean"], p1.get("stderr"))
    parts.append(page.table(["benchmark", "evaluation", "model", "problems", "n", "Pass@1 % &plusmn; s.e.",
                         "pass@k %", "truncated %", "mean tokens"], rows, left=3)
                 .replace("&amp;plusmn;", "&plusmn;"))
    if baseline is not None:
        diff_rows = []
        for e in run.evals:
            if e is baseline:
                continue
            for c in compare_evals(e.data, baseline.data):
                sign = "up" if c.delta > 0 else "down" if c.delta < 0 else ""
                ci = "n/a" if c.ci_low is None else f"[{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}]"
                verdict = {True: "yes", False: "no", None: "n/a"}[c.significant]
                diff_rows.append([page.esc(c.benchmark), page.esc(e.label), f"{100 * c.baseline_pass1:.1f}",
                                  f"{100 * c.new_pass1:.1f}", f'<span class="{sign}">{100 * c.delta:+.1f}</span>',
                                  ci, verdict, f"{c.problems_compared}{'' if c.paired else ' (unpaired)'}"])
        if diff_rows:
            parts.append("<h3>Difference from the baseline (paired by problem, 95% interval)</h3>")
            parts.append(page.table(["benchmark", "evaluation", "baseline %", "this %", "difference (points)",
                                 "95% CI", "excludes 0", "problems paired"], diff_rows, left=2))
    parts.append(page.figure(plots.eval_bars(chart), "evaluation bars"))
    for e in run.evals:
        for name, bench in e.data["benchmarks"].items():
            for key, table in (bench.get("breakdowns") or {}).items():
                rows_b = [[page.esc(v), s["problems"], f"{_pct(s['mean'])} &plusmn; {_pct(s.get('stderr'))}"]
                          for v, s in table.items() if s]
                if len(rows_b) > 1:
                    parts.append(f"<h3>{page.esc(name)} by {page.esc(key)}: {page.esc(e.label)}</h3>")
                    parts.append(page.table([key, "problems", "Pass@1 %"], rows_b))
    settings = run.evals[0].data.get("settings", {})
    parts.append(f'<p class="meta">Sampling: temperature {settings.get("temperature")}, top_p '
                 f'{settings.get("top_p")}, max tokens {settings.get("max_new_tokens")}; Pass@1 is the mean '
                 f"correctness over n samples per problem; s.e. over problems.</p>")
    return "\n".join(parts)


def headline(run: RunData) -> list[tuple[str, str, str]]:
    """(label, value, css class) cards: each benchmark's Pass@1 of the latest evaluation and its change."""
    cards: list[tuple[str, str, str]] = []
    baseline = run.baseline
    others = [e for e in run.evals if e is not baseline]
    if not others and baseline is None:
        return cards
    latest = others[-1] if others else baseline
    assert latest is not None
    comparisons = {c.benchmark: c for c in compare_evals(latest.data, baseline.data)} if baseline and others else {}
    for name, bench in latest.data.get("benchmarks", {}).items():
        if not bench.get("pass@1"):
            continue
        value = f"{100 * bench['pass@1']['mean']:.1f}%"
        css = ""
        if name in comparisons:
            c = comparisons[name]
            # coloured only when the paired 95% interval excludes 0; otherwise marked not significant
            value += f" ({100 * c.delta:+.1f}{'' if c.significant else ', n.s.'})"
            css = ("up" if c.delta > 0 else "down") if c.significant else ""
        cards.append((f"{name} Pass@1 ({latest.label})", value, css))
    return cards


def render(run: RunData, title: str | None = None) -> str:
    generated = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    training_html, spans = section_training(run)
    body = [
        f"<h1>{page.esc(title or 'darl run report')}</h1>",
        f'<p class="meta">Run directory <code>{page.esc(run.root)}</code>, generated {generated}.</p>',
    ]
    cards = headline(run)
    if cards:
        body.append('<div class="headline">' + "".join(
            f'<div class="card"><div class="v {css}">{page.esc(v)}</div><div class="k">{page.esc(k)}</div></div>'
            for k, v, css in cards) + "</div>")
    present = [name for name, ok in (("metrics", run.metrics is not None), ("stage manifests", bool(run.manifests)),
                                     ("scores", run.scores is not None), ("levels", run.levels is not None),
                                     ("calibration", run.calibration is not None), ("online difficulty",
                                     run.online is not None), ("held-out accuracy", run.heldout is not None),
                                     ("evaluations", bool(run.evals))) if ok]
    absent = [n for n in ("metrics", "stage manifests", "scores", "levels", "calibration", "online difficulty",
                          "held-out accuracy", "evaluations") if n not in present]
    body.append(f'<p class="meta">Found: {", ".join(present) or "nothing"}. '
                f'Missing: {", ".join(absent) or "nothing"}.</p>')
    for unreadable in run.problems:
        body.append(page.problem(f"<b>Unreadable:</b> {page.esc(unreadable)}"))
    body += [section_data(run), training_html, section_health(run), section_online(run, spans), section_eval(run)]
    return page.document(title or "darl run report", body)
