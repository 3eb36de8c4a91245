"""Spearman and paired intervals: the hand-written versions darl had (report/series.py's Spearman, compare.py's
paired normal interval and pure-Python bootstrap) against darl.stats on scipy. Same inputs, values compared, time
per call, and for the bootstrap the coverage of the true mean difference over simulated paired evaluations.

Data: pass-rate vectors like darl's (per-problem rates k/n with n = 16 over m = 30 problems, AIME-sized, and m = 500,
MATH-500-sized), drawn with a fixed seed; Spearman on 2,000 pairs of such vectors with ties.

    .venv/bin/python bench/bench_stats.py
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# -- the hand-written versions, as they were in darl before this change (report/series.py, evaluation/compare.py) --
def hand_ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def hand_spearman(xs, ys):
    if len(xs) != len(ys) or len(xs) < 3:
        return None
    rx, ry = hand_ranks(xs), hand_ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def hand_paired(new, base, confidence=0.95, method="normal", resamples=10000, seed=0):
    diffs = [a - b for a, b in zip(new, base)]
    m = len(diffs)
    mean = sum(diffs) / m
    se = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (m - 1) / m)
    if method == "normal":
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        return mean, se, mean - z * se, mean + z * se
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(diffs, k=m)) / m for _ in range(resamples))
    return mean, se, means[int(math.floor((1 - confidence) / 2 * (resamples - 1)))], \
        means[int(math.ceil((1 + confidence) / 2 * (resamples - 1)))]


def rates(rng, m, n=16, shift=0.0):
    p = rng.beta(0.7, 1.2, size=m)
    base = rng.binomial(n, p) / n
    new = rng.binomial(n, np.clip(p + shift, 0, 1)) / n
    return new.tolist(), base.tolist(), float(np.mean(np.clip(p + shift, 0, 1) - p))


def timed(fn, *args, repeat=1, **kw):
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = fn(*args, **kw)
    return out, (time.perf_counter() - t0) / repeat


def main() -> None:
    from darl.stats import paired_difference, spearman

    rng = np.random.default_rng(0)
    console = Console()
    table = Table(title="hand-written vs darl.stats (scipy): largest difference in value, time per call")
    for col in ("function", "inputs", "max |difference|", "hand ms", "scipy ms", "scipy / hand"):
        table.add_column(col, justify="right")
    pairs = [(rng.integers(0, 17, 40) / 16, rng.integers(0, 17, 40) / 16) for _ in range(2000)]
    hand, t_hand = timed(lambda: [hand_spearman(list(a), list(b)) for a, b in pairs])
    sci, t_sci = timed(lambda: [spearman(list(a), list(b)) for a, b in pairs])
    diff = max(abs(h - s) for h, s in zip(hand, sci) if h is not None and s is not None)
    table.add_row("spearman", "2000 x (40 rates, ties)", f"{diff:.1e}", f"{1000 * t_hand / 2000:.3f}",
                  f"{1000 * t_sci / 2000:.3f}", f"{t_sci / t_hand:.2f}x")
    for m in (30, 500):
        new, base, _ = rates(rng, m, shift=0.05)
        h, t_h = timed(hand_paired, new, base, repeat=200)
        s, t_s = timed(paired_difference, new, base, repeat=200)
        table.add_row("paired normal", f"m={m}", f"{max(abs(a - b) for a, b in zip(h, s)):.1e}", f"{1000 * t_h:.3f}",
                      f"{1000 * t_s:.3f}", f"{t_s / t_h:.2f}x")
        h, t_h = timed(hand_paired, new, base, method="bootstrap", repeat=3)
        s, t_s = timed(paired_difference, new, base, method="bootstrap", repeat=3)
        table.add_row("paired bootstrap (10k)", f"m={m}", f"{max(abs(a - b) for a, b in zip(h[2:], s[2:])):.1e}",
                      f"{1000 * t_h:.1f}", f"{1000 * t_s:.1f}", f"{t_s / t_h:.2f}x")
    console.print(table)

    cov = Table(title="coverage of the true mean difference by 95% intervals (300 simulated paired evaluations "
                      "each, 2,000 resamples)")
    for col in ("m", "hand normal", "scipy normal", "hand bootstrap", "scipy bootstrap"):
        cov.add_column(col, justify="right")
    for m in (30, 100):
        hits = {k: 0 for k in ("hn", "sn", "hb", "sb")}
        reps = 300
        for r in range(reps):
            new, base, truth = rates(rng, m, shift=0.05)
            for key, (fn, method) in {"hn": (hand_paired, "normal"), "sn": (paired_difference, "normal"),
                                      "hb": (hand_paired, "bootstrap"), "sb": (paired_difference, "bootstrap")}.items():
                _, _, low, high = fn(new, base, method=method, resamples=2000, seed=r)
                hits[key] += low <= truth <= high
        cov.add_row(str(m), *(f"{hits[k] / reps:.3f}" for k in ("hn", "sn", "hb", "sb")))
    console.print(cov)


if __name__ == "__main__":
    main()
