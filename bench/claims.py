"""The paper's claims on the embedded default, reproduced or not: regenerates docs/benchmarks.md.

    python bench/claims.py --out /work/runs/claims-all            # everything (hours on 2 shared CPU cores)
    python bench/claims.py --out DIR --arms two_stage,random,L2_only --seeds 0,1,2 --budget 4096
    python bench/claims.py --out DIR --mixed                      # claim 3 (mixed math + code) into DIR/mixed
    python bench/claims.py --out DIR --write-only                 # only re-render docs/benchmarks.md from DIR
    python bench/claims.py --out DIR --premature-share 0.5 --arms two_stage_lr1e-4,random_lr1e-4 --budget 8192 \
        --train-per-level 200                                     # the same on a family whose proxies share the
                                                                  # policy's habit (docs/embedded.md); writes
                                                                  # DIR/benchmarks.md

Steps: (1) the demo's data steps (bootstrap the family, the math train split, proxy scoring K = 4, the paper's
levels) into DIR/base; (2) a levels file that also holds the problems the filter role dropped (no level), so the
`random` arm draws from every train problem as training without difficulty scoring would; (3) one `darl compare`
spec with the arms below, run into DIR/compare (resumable: a rerun reuses finished runs; arms can also run as separate
jobs with `darl compare DIR/compare.yaml --out DIR/compare --only ARM:SEED`); (4) docs/benchmarks.md from the
comparison's JSON and the levels summary.

Arms (every arm starts from the embedded small role and spends the same training rollouts):
- two_stage: `embedded_two_stage` (Level 2, then Level 3 with longer responses, truncation masked) at its earlier
  learning rate 3e-4 (the arms without `_lr1e-4` all pin it; the shipped recipe now uses 1e-4);
- random: one stage on every train problem, unleveled (the baseline arm);
- L1_only / L2_only / L3_only: one stage on that level only (L2_only is also "continue stage one");
- two_stage_online: two_stage with online selection (retire solved, defer never-solved prompts);
- two_stage_lr1e-4: two_stage at a third of the learning rate (3e-4 drifted the policy: KL 0.15-0.19 in
  stage 1 and held-out pass@4 below the start in every seed); the shipped recipe since 2026-12-01;
- random_lr1e-4 / L3_only_lr1e-4: random and L3_only at that learning rate (the baseline at the rate where the
  leveled arm kept its breadth; stage 2 on Level 3 is where the two-stage gain came from).
With --mixed: claim 3 (MIXED_ARMS below: the shipped `embedded_mixed` recipe against its math stream alone and its
code stream alone), the suite's math and code train splits scored and leveled together, evaluated on math and code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

# The shipped embedded_two_stage recipe trains at lr 1e-4 since 2026-12-01; the arms measured at its earlier 3e-4
# pin it (LR_3E4), so their finished runs keep meaning what they ran (`darl compare` refuses a run whose arm now
# resolves to another recipe).
LR_3E4 = {"learning_rate": 3.0e-4}
ARMS = {
    "two_stage": {"recipe": "embedded_two_stage", "overrides": {"defaults": LR_3E4}},
    "random": {"recipe": "embedded_two_stage", "stages": 1,
               "overrides": {"defaults": LR_3E4,
                             "stages": [{"mix": [{"domain": "math", "level": None}], "end": {"plateau": None}}]}},
    "L1_only": {"recipe": "embedded_two_stage", "stages": 1,
                "overrides": {"defaults": LR_3E4,
                              "stages": [{"mix": [{"domain": "math", "level": 1}], "end": {"plateau": None}}]}},
    "L2_only": {"recipe": "embedded_two_stage", "stages": 1,
                "overrides": {"defaults": LR_3E4, "stages": [{"end": {"plateau": None}}]}},
    "L3_only": {"recipe": "embedded_two_stage", "stages": 1,
                "overrides": {"defaults": LR_3E4,
                              "stages": [{"mix": [{"domain": "math", "level": 3}], "end": {"plateau": None}}]}},
    "two_stage_online": {"recipe": "embedded_two_stage", "overrides": {"defaults": LR_3E4, "online_difficulty": {
        "retire_solved": True, "retire_min_rollouts": 16, "defer_unsolved": True, "defer_min_rollouts": 16}}},
    "two_stage_lr1e-4": {"recipe": "embedded_two_stage", "overrides": {"defaults": {"learning_rate": 1.0e-4}}},
    "random_lr1e-4": {"recipe": "embedded_two_stage", "stages": 1,
                      "overrides": {"defaults": {"learning_rate": 1.0e-4},
                                    "stages": [{"mix": [{"domain": "math", "level": None}], "end": {"plateau": None}}]}},
    "L3_only_lr1e-4": {"recipe": "embedded_two_stage", "stages": 1,
                       "overrides": {"defaults": {"learning_rate": 1.0e-4},
                                     "stages": [{"mix": [{"domain": "math", "level": 3}], "end": {"plateau": None}}]}},
    "L1_only_lr1e-4": {"recipe": "embedded_two_stage", "stages": 1,
                       "overrides": {"defaults": {"learning_rate": 1.0e-4},
                                     "stages": [{"mix": [{"domain": "math", "level": 1}], "end": {"plateau": None}}]}},
    "L2_only_lr1e-4": {"recipe": "embedded_two_stage", "stages": 1,
                       "overrides": {"defaults": {"learning_rate": 1.0e-4}, "stages": [{"end": {"plateau": None}}]}},
    "two_stage_online_lr1e-4": {"recipe": "embedded_two_stage", "overrides": {
        "defaults": {"learning_rate": 1.0e-4}, "online_difficulty": {
            "retire_solved": True, "retire_min_rollouts": 16, "defer_unsolved": True, "defer_min_rollouts": 16}}},
    # Screens of one seed each: is stage 1's entropy bonus (0.001, the paper's) what drifts a 0.6M policy? (No.)
    **{f"{arm}_lr{rate}_noent": {"recipe": "embedded_two_stage", **({"stages": 1} if arm == "random" else {}),
                                 "overrides": {"defaults": {"learning_rate": float(rate), "entropy_coef": 0.0},
                                               **({"stages": [{"mix": [{"domain": "math", "level": None}],
                                                               "end": {"plateau": None}}]} if arm == "random" else {})}}
       for arm in ("random", "two_stage") for rate in ("1e-4", "3e-4")},
}
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def _family(spec, base: Path, premature_share: float) -> dict:
    """The demo's bootstrap step, or (with a premature-answer share) a family trained here into BASE/family whose
    every role, proxies included, has that share of its math warm start answering after the first line
    (docs/embedded.md, "Two ways of answering": the habit shared by the proxies)."""
    from darl import demo

    if not premature_share:
        return demo._bootstrap(spec)
    import dataclasses

    from darl.embedded.bootstrap import bootstrap
    from darl.embedded.family import preset_config

    preset = preset_config(spec.bootstrap)
    config = dataclasses.replace(preset, roles=tuple(dataclasses.replace(r, premature_answer_share=premature_share)
                                                     for r in preset.roles))
    return demo.family_record(bootstrap(config=config, cache_dir=base / "family", from_source=True))


def prepare_base(base: Path, train_per_level: int = 0, premature_share: float = 0.0) -> Path:
    """The demo's steps 1-4 (darl.demo, preset default) and levels-all.parquet; returns the latter. With
    `train_per_level`, the train pool adds that many fresh math problems per generator level 1-6
    (`fresh_train_pool`: unseen by every role, disjoint from the held-out set below) before scoring. With
    `premature_share`, every step uses a family trained with that share of premature answers (`_family`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import torch

    from darl import demo

    spec = demo.PRESETS["default"]
    base.mkdir(parents=True, exist_ok=True)
    pipe = demo.Pipeline(base, spec, print)
    built = pipe.step("bootstrap", 1, 4, lambda: _family(spec, base, premature_share))
    torch.set_num_threads(1)
    pipe.step("problems", 2, 4, lambda: _problems(base, spec, built["suite"], train_per_level))
    pipe.step("score", 3, 4, lambda: demo._score(base, spec, built["family"], print))
    pipe.step("levels", 4, 4, lambda: demo._levels(base, demo.policy_scoring(spec, built["family"]["small"])[0]))
    out = base / "levels-all.parquet"
    if not out.exists():
        leveled = pq.read_table(base / "levels.parquet")
        have = set(leveled.column("id").to_pylist())
        extra = []
        for row in pq.read_table(base / "problems.parquet").to_pylist():
            if row["id"] in have:
                continue
            entry = {c: None for c in leveled.column_names}
            entry.update({k: v for k, v in row.items() if k in leveled.column_names})
            entry.update({"levels": [], "sampled_levels": [], "level_1": False, "level_2": False, "level_3": False})
            extra.append(entry)
        pq.write_table(pa.concat_tables([leveled, pa.Table.from_pylist(extra, schema=leveled.schema)]), out)
    return out


HELDOUT = {"domain": "math", "levels": [1, 2, 3, 4], "per_level": 50}


def _problems(base: Path, spec, suite: str, train_per_level: int) -> dict:
    from darl import demo

    result = demo._problems(base, spec, suite)
    if train_per_level:
        from darl.comparison.heldout import fresh_heldout, fresh_train_pool
        from darl.data.io import read_problems, write_problems

        heldout = fresh_heldout(**HELDOUT).problems
        pool = fresh_train_pool("math", per_level=train_per_level, heldout=heldout)
        problems = read_problems(base / "problems.parquet") + pool.problems
        write_problems(problems, base / "problems.parquet")
        print(f"train pool: suite split + {len(pool.problems)} fresh math problems {pool.per_level}")
        result = {"problems": len(problems), "fresh": pool.per_level, "paths": result["paths"]}
    return result


# Claim 3 (mixed domains): the `embedded_mixed` recipe (math Level 1 : code Level 3 = 2.1 : 1 in every batch)
# against the same recipe with only its math stream and only its code stream, at the same rollouts (30 steps of
# 31 prompts x 8), every arm evaluated on math and code held-out problems (the report breaks Pass@1 down by domain).
MIXED_ARMS = {  # the first three at embedded_mixed's earlier learning rate 3e-4 (pinned; it ships 1e-4 now)
    "mixed": {"recipe": "embedded_mixed", "overrides": {"defaults": LR_3E4, "stages": [{"end": {"plateau": None}}]}},
    "mixed_math_only": {"recipe": "embedded_mixed", "overrides": {
        "defaults": LR_3E4, "stages": [{"mix": [{"domain": "math", "level": 1}], "end": {"plateau": None}}]}},
    "mixed_code_only": {"recipe": "embedded_mixed", "overrides": {
        "defaults": LR_3E4, "stages": [{"mix": [{"domain": "code", "level": 3}], "end": {"plateau": None}}]}},
    "mixed_lr1e-4": {"recipe": "embedded_mixed", "overrides": {
        "defaults": {"learning_rate": 1.0e-4}, "stages": [{"end": {"plateau": None}}]}},
    # Code Level 3 holds 57 problems and validation.per_component 32 of them, leaving 25 to train on (each drawn
    # about 12 times): does holding out 12 instead keep held-out code of generator level 3 from falling?
    "mixed_lr1e-4_val12": {"recipe": "embedded_mixed", "overrides": {
        "defaults": {"learning_rate": 1.0e-4}, "validation": {"per_component": 12},
        "stages": [{"end": {"plateau": None}}]}},
    # not claim 3: the math two-stage recipe on the demo's own pool (the suite's math split, which these levels also
    # hold) at the shipped and at a third of the learning rate, before the shipped recipe's rate is changed
    "demo_pool_two_stage": {"recipe": "embedded_two_stage", "overrides": {"defaults": LR_3E4}},
    "demo_pool_two_stage_lr1e-4": {"recipe": "embedded_two_stage",
                                   "overrides": {"defaults": {"learning_rate": 1.0e-4}}},
}
MIXED_BUDGET = 30 * 31 * 8
MIXED_HELDOUT = {"math": {"levels": [1, 2, 3, 4], "per_level": 50}, "code": {"levels": [1, 2, 3, 4], "per_level": 25}}


def prepare_mixed(out: Path, seeds: list[int]) -> Path:
    """The demo's data steps with both domains (the suite's math and code train splits, scored and leveled
    together) into out/base, a held-out file of fresh math and code problems, and the claim-3 spec; returns it."""
    import dataclasses

    import torch

    from darl import demo
    from darl.artifacts.problems import write_problems
    from darl.comparison.heldout import fresh_heldout

    spec = dataclasses.replace(demo.PRESETS["default"], domains=("math", "code"))
    base = out / "base"
    base.mkdir(parents=True, exist_ok=True)
    pipe = demo.Pipeline(base, spec, print)
    built = pipe.step("bootstrap", 1, 4, lambda: demo._bootstrap(spec))
    torch.set_num_threads(1)
    pipe.step("problems", 2, 4, lambda: demo._problems(base, spec, built["suite"]))
    pipe.step("score", 3, 4, lambda: demo._score(base, spec, built["family"], print))
    pipe.step("levels", 4, 4, lambda: demo._levels(base, demo.policy_scoring(spec, built["family"]["small"])[0]))
    heldout = base / "heldout-math-code.parquet"
    if not heldout.exists():
        problems = [p for domain, h in MIXED_HELDOUT.items() for p in fresh_heldout(domain, **h).problems]
        write_problems(problems, heldout)
    path = out / "compare.yaml"
    path.write_text(yaml.safe_dump({
        "name": "embedded_mixed_claim", "levels": str(base / "levels.parquet"), "scores": [str(base / "scores.parquet")],
        "seeds": seeds, "budget": {"rollouts": MIXED_BUDGET}, "heldout": {"problems": str(heldout)},
        "eval": {"samples": 4, "ks": [1, 2, 4], "max_new_tokens": 128, "curve_every_steps": 0,
                 "backend": "transformers"},
        "baseline": "mixed_math_only", "arms": [{"name": a, **v} for a, v in MIXED_ARMS.items()]}, sort_keys=False))
    return path


def write_spec(path: Path, levels: Path, scores: Path, arms: list[str], seeds: list[int], budget: int,
               model: str | None = None) -> None:
    """The comparison spec; `model`: the policy every arm starts from (default: each recipe's, the embedded small
    role)."""
    spec = {
        "name": "embedded_claims", **({"model": model} if model else {}),
        "levels": str(levels), "scores": [str(scores)], "seeds": seeds,
        "budget": {"rollouts": budget},
        "heldout": {"embedded": HELDOUT},
        "eval": {"samples": 4, "ks": [1, 2, 4], "max_new_tokens": 96, "curve_every_steps": 0,
                 "backend": "transformers"},
        "baseline": "random" if "random" in arms else next((a for a in arms if a.startswith("random")), arms[0]),
        "arms": [{"name": a, **ARMS[a]} for a in arms],
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


# The claims table: (claim, arm, arm it is compared with), Pass@1 of the first minus the second, paired by seed
# and problem (`_diff`); only pairs whose arms are both in the comparison are listed, and one not run yet reads
# "not run".
CLAIMS = [
    ("1. Difficulty: moderate levels help more than random problems (Level 2 vs random)", "L2_only", "random"),
    ("1. Difficulty: Level 1 vs random", "L1_only", "random"),
    ("1. Difficulty: the hardest level helps least (Level 2 - Level 3)", "L2_only", "L3_only"),
    ("2. Stages: two stages beat continuing stage one for the same rollouts", "two_stage", "L2_only"),
    ("4. Online selection beats offline levels alone", "two_stage_online", "two_stage"),
    ("4. Offline levels beat no selection, both at lr 3e-4", "two_stage", "random"),
    ("(not the paper's) Learning rate 1e-4 vs the earlier 3e-4, two stages", "two_stage_lr1e-4", "two_stage"),
    ("(not the paper's) Two stages at lr 1e-4 vs random problems at 3e-4", "two_stage_lr1e-4", "random"),
    ("4. Offline levels beat no selection, both at lr 1e-4 (two_stage_lr1e-4 vs random_lr1e-4)",
     "two_stage_lr1e-4", "random_lr1e-4"),
    ("1. Difficulty at lr 1e-4: Level 1 alone vs random", "L1_only_lr1e-4", "random_lr1e-4"),
    ("1. Difficulty at lr 1e-4: Level 2 alone vs random", "L2_only_lr1e-4", "random_lr1e-4"),
    ("1. Difficulty at lr 1e-4: Level 3 alone vs random", "L3_only_lr1e-4", "random_lr1e-4"),
    ("1. Difficulty at lr 1e-4: the hardest level helps least (Level 2 - Level 3)", "L2_only_lr1e-4", "L3_only_lr1e-4"),
    ("2. Stages at lr 1e-4: two stages beat continuing stage one", "two_stage_lr1e-4", "L2_only_lr1e-4"),
    ("4. Online selection beats offline levels alone, at lr 1e-4", "two_stage_online_lr1e-4", "two_stage_lr1e-4"),
    ("(not the paper's) No entropy bonus vs the paper's 0.001, random problems at lr 1e-4",
     "random_lr1e-4_noent", "random_lr1e-4"),
    ("(not the paper's) No entropy bonus vs the paper's 0.001, two stages at lr 1e-4",
     "two_stage_lr1e-4_noent", "two_stage_lr1e-4"),
]


def _pts(entry: dict | None) -> str:
    if not entry:
        return "not run"
    text = f"{100 * entry['mean']:+.1f}"
    return text if entry.get("low") is None else f"{text} [{100 * entry['low']:+.1f}, {100 * entry['high']:+.1f}]"


def _diff(summary: dict, a: str, b: str, only: set[str] | None = None) -> dict | None:
    """Pass@1 difference a - b paired by seed and problem (over the problems in `only`, when given); None when the
    two arms share no evaluated seed. The interval is Student's t across seeds with >= 2 seeds, else (one seed) the
    problem-level interval, which leaves the seed-to-seed spread out (flagged by `one_seed`)."""
    from darl.comparison.analysis import normal_interval, t_interval

    runs = {(r["arm"], r["seed"]): r for r in summary["runs"] if r.get("rates")}
    seeds = sorted({s for (arm, s) in runs if arm == a} & {s for (arm, s) in runs if arm == b})
    if not seeds:
        return None
    problems = sorted(p for p in runs[(a, seeds[0])]["rates"] if only is None or p in only)
    per_seed = [sum(runs[(a, s)]["rates"][p] - runs[(b, s)]["rates"][p] for p in problems) / len(problems)
                for s in seeds]
    mean, low, high = t_interval(per_seed)
    if len(seeds) < 2:
        per_problem = [sum(runs[(a, s)]["rates"][p] - runs[(b, s)]["rates"][p] for s in seeds) / len(seeds)
                       for p in problems]
        mean, low, high = normal_interval(per_problem)
    return {"mean": mean, "low": low, "high": high, "seeds": len(seeds), "one_seed": len(seeds) < 2}


def _conclusion(d: dict | None, expect_positive: bool = True) -> str:
    if d is None:
        return "not run"
    note = " (one seed: problem-level interval only)" if d.get("one_seed") else f" ({d.get('seeds', '?')} seeds)"
    if d["low"] is None:
        return "inconclusive" + note
    if (d["low"] > 0) == expect_positive and (d["low"] > 0 or d["high"] < 0):
        return "reproduced" + note
    if d["low"] > 0 or d["high"] < 0:
        return "not reproduced: significant the other way" + note
    return "inconclusive: within noise" + note


def _bar(summary: dict, name: str = "two_stage") -> tuple[dict | None, str]:
    """The issue's bar: two-stage gain over the start >= 5 points, >= 3 seeds, 95% interval above 0, >= 200 held-out
    problems, pass@4 not below the start's."""
    arm = summary["arms"].get(name, {})
    gain = arm.get("gain_vs_start")
    if not gain:
        return None, "not run"
    seeds = len(arm["seeds_done"])
    if seeds < 2:
        gain = {"mean": gain["mean"], "low": gain["problem_low"], "high": gain["problem_high"], "one_seed": True}
    p4, start4 = arm.get("pass@4", {}).get("mean"), (summary.get("start") or {}).get("pass@4")
    checks = [gain["mean"] >= 0.05, seeds >= 3, gain["low"] is not None and gain["low"] > 0,
              (summary["heldout_problems"] or 0) >= 200, p4 is not None and start4 is not None and p4 >= start4]
    text = ("reached" if all(checks) else "not reached") + (
        f": mean {100 * gain['mean']:+.1f} points over {seeds} seed(s), pass@4 "
        f"{'-' if p4 is None else f'{100 * p4:.1f}'}% vs start {'-' if start4 is None else f'{100 * start4:.1f}'}%")
    return gain, text


def render(out: Path) -> str:
    summary = json.loads((out / "compare" / "comparison.json").read_text())
    levels = json.loads((out / "base" / "levels.summary.json").read_text())
    arms = summary["arms"]
    start = summary.get("start") or {}
    rewards = [levels.get(f"levels/policy_pass_rate/level{k}/math") for k in (1, 2, 3)]
    lines = ["# The paper's claims on the embedded default", "",
             "Regenerate: `python bench/claims.py --out DIR` (see its docstring; the numbers below come from the "
             f"comparison `{summary['name']}` in that folder; its full report, every run with its health warnings "
             "and the plots, is copied to [benchmarks/comparison.md](benchmarks/comparison.md)).", "",
             f"Setting: the embedded small role (0.61M parameters) trained with GRPO from the same start in every arm, "
             f"{summary['budget']['rollouts']} training rollouts per arm and seed, seeds "
             f"{sorted({s for e in arms.values() for s in e['seeds_done']})}; held-out set: "
             f"{summary['heldout_problems']} fresh embedded math problems (generator levels 1-4) that no role and no "
             f"policy trained on, {summary['eval']['samples']} samples each at T = {summary['eval']['temperature']}. "
             "Intervals: 95%, Student's t across seeds (paired by seed). With 3 seeds an interval excludes 0 only when "
             "the seeds agree closely.", "", _pool_line(levels), ""]
    if start:
        lines += [f"Starting policy: Pass@1 {100 * start['pass@1']:.1f}%, pass@4 "
                  f"{100 * start.get('pass@4', float('nan')):.1f}%.", ""]
    lines += ["| arm | learning rate | Pass@1 % [95% CI] | gain vs start (points) | pass@4 % | gradient yield | seeds |",
              "|---|---|---|---|---|---|---|"]
    for name, e in arms.items():
        p1, p4 = e.get("pass@1"), e.get("pass@4")
        if not p1:
            lines.append(f"| {name} | | not run | | | | 0 |")
            continue
        ci = "" if p1["low"] is None else f" [{100 * p1['low']:.1f}, {100 * p1['high']:.1f}]"
        gy = "-" if e.get("gradient_yield") is None else f"{100 * e['gradient_yield']:.0f}%"
        p4_text = "-" if not p4 else f"{100 * p4['mean']:.1f}"
        lines.append(f"| {name} | {_learning_rate(out / 'compare', name, e)} | {100 * p1['mean']:.1f}{ci} | "
                     f"{_pts(e.get('gain_vs_start'))} | {p4_text} | {gy} | {len(e['seeds_done'])} |")
    blowups: dict[str, list[int]] = {}
    for run in summary["runs"]:
        if run.get("final"):
            rate = _learning_rate(out / "compare", run["arm"], {"seeds_done": [run["seed"]]})
            blowups.setdefault(rate, []).append(any(w["name"] == "kl_blowup" for w in run["health"]))
    lines += ["", "KL blow-up (the health check's `kl_blowup`) by learning rate: " + "; ".join(
        f"{sum(v)} of {len(v)} runs at lr {rate}" for rate, v in sorted(blowups.items())) + ". The shipped recipes "
        "train at 1e-4 since 2026-12-01 (3e-4 before); docs/training.md (\"Third round\", \"Fourth round\") reads "
        "these numbers.", ""]
    # Only the pairs this comparison holds: a row whose arms are not in its spec would only read "not run".
    claims = [(text, _diff(summary, a, b), True) for text, a, b in CLAIMS if a in arms and b in arms]
    lines += ["", "## Claims", "", "| claim | difference in Pass@1 (points) [95% CI] | conclusion |", "|---|---|---|"]
    for text, d, positive in claims:
        lines.append(f"| {text} | {_pts(d)} | {_conclusion(d, positive)} |")
    for name in ("two_stage", "two_stage_lr1e-4", "L1_only_lr1e-4", "L3_only_lr1e-4", "random_lr1e-4"):
        if name not in arms or not arms[name].get("seeds_done"):
            continue
        gain, bar_text = _bar(summary, name)
        what = "(training without levels, for reference) " if name.startswith("random") else ""
        lines.append(f"| The issue's bar: {name} {what}vs its start (>= 5 points, >= 3 seeds, CI above 0, pass@4 "
                     f"kept) | {_pts(gain)} | {bar_text} |")
    reward_text = " / ".join("-" if r is None else f"{r:.2f}" for r in rewards)
    lines += [f"| 1. Initial reward per level (paper 0.58 / 0.50 / 0.17) | {reward_text} (policy pass rate at T = 1.0 "
              "on levels 1 / 2 / 3) | ordering reproduced: falls with level; far lower than the paper's |" if
              all(r is not None for r in rewards) and rewards[0] > rewards[1] > rewards[2] else
              f"| 1. Initial reward per level (paper 0.58 / 0.50 / 0.17) | {reward_text} | ordering not reproduced |"]
    mixed = _mixed_results(out)
    lines += mixed_claims(mixed)
    lines += ["| 5. Gradient yield per strategy (ideal 100%) | see the table above | measured |", ""]
    lines += ["A relative claim can be reproduced while both arms stay at or below the start: read each difference "
              "with the gain over the start in the first table.", ""]
    habit = habit_rows(out)
    if habit:
        lines += ["## The premature-answer habit per arm", "",
                  "Half the policy's math warm start answers after its first line (docs/embedded.md, \"Two ways of "
                  "answering\"): on the held-out problems whose worked solution takes more than one step, the share "
                  "of responses that go on past their first line, and the Pass@1 of each kind (final evaluation, "
                  "mean over seeds). A gain that comes with a rising share is partly the habit being unlearned:", "",
                  *habit, ""]
    lines += ["## How far each arm narrowed onto its prompts", "",
              "The fewer prompts a level holds, the more often a leveled arm revisits each one at 32 prompts a step "
              "(the paper's levels hold tens of thousands); KL is to each stage's own starting policy, TRL's "
              "reference, so a second stage starts again near 0:", "", *diagnosis(out), ""]
    lines += ["Earlier rounds (a smaller pool, 4,096 rollouts, arms `L2_only` and `two_stage_online`) and what each "
              "round changed are in docs/training.md, \"Does training help on the embedded default?\".", ""]
    levels_table = _section(out / "compare" / "comparison.md", "## Held-out Pass@1 by level")
    if levels_table:
        lines += ["## Held-out Pass@1 by generator level", "",
                  "The average hides where an arm gained and where it lost (from the comparison's report):", "",
                  *levels_table[1:], ""]
    mixed_levels = _section(out / "mixed" / "compare" / "comparison.md", "## Held-out Pass@1 by domain")
    if mixed_levels:
        lines += ["## Claim 3: held-out Pass@1 by domain", "",
                  f"From `python bench/claims.py --out DIR --mixed` (spec: DIR/mixed/compare.yaml; {MIXED_BUDGET} "
                  "rollouts per run; its full report, with the breakdown by level and every run's health warnings, is "
                  "copied to [benchmarks/mixed/comparison.md](benchmarks/mixed/comparison.md)):", "",
                  *mixed_levels[1:], ""]
    demo_pool = demo_pool_rows(mixed)
    if demo_pool:
        lines += ["## The two-stage recipe on the demo's own pool, at both learning rates", "",
                  "The suite's 480 math train problems (what `make demo` trains on), scored and leveled in the claim-3 "
                  "folder; math held-out problems as above:", "", *demo_pool, ""]
    missing = [a for a in ARMS if not arms.get(a, {}).get("seeds_done")]
    lines += ["## Not in this document yet", ""]
    lines += [f"- Arms not run into this folder: {', '.join(f'`{a}`' for a in missing)}." if missing else
              "- Every arm of this script ran."]
    if not mixed_levels:
        lines.append("- Claim 3 (mixed math + code): `--mixed` was not run into this folder.")
    speed = out / "speed" / "speed.md"  # bench/speed.py --out DIR/speed
    if speed.exists():
        lines += ["", speed.read_text()]
    else:
        lines += ["- Speed: `python bench/speed.py --out DIR/speed` (every bench/ ratio in one run, memory peaks, scaling "
                  "with K, G and response length) was not run into this folder.", ""]
    return "\n".join(lines) + "\n"


def _learning_rate(compare_dir: Path, arm: str, entry: dict) -> str:
    """The learning rate an arm's first finished run trained with (its saved resolved recipe)."""
    for seed in entry.get("seeds_done", []):
        saved = compare_dir / "runs" / arm / f"seed-{seed}" / "recipe.resolved.yaml"
        if saved.exists():
            rate = yaml.safe_load(saved.read_text())["stages"][0]["grpo"]["learning_rate"]
            return f"{rate:.0e}".replace("e-0", "e-")
    return "-"


def _section(path: Path, heading: str) -> list[str]:
    """The lines of a markdown section (its heading first, up to the next heading), or [] when absent."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        return []
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return [line for line in lines[start:end] if line.strip()]


def _mixed_results(out: Path) -> tuple[dict, dict[str, set[str]]] | None:
    """The claim-3 comparison's summary and its held-out problem ids by domain; None when `--mixed` has not run."""
    path = out / "mixed" / "compare" / "comparison.json"
    if not path.exists():
        return None
    from darl.artifacts.problems import read_problems

    ids: dict[str, set[str]] = {}
    for problem in read_problems(out / "mixed" / "compare" / "heldout.parquet"):
        ids.setdefault(problem.domain, set()).add(problem.id)
    return json.loads(path.read_text()), ids


def mixed_claims(mixed: tuple[dict, dict[str, set[str]]] | None) -> list[str]:
    """Claim 3's rows: mixed math + code against each stream alone, on that stream's domain of the held-out set,
    paired by seed and problem; and each arm against the start on both domains."""
    if mixed is None:
        return ["| 3. Mixed math + code vs math only and code only | - | not run (`--mixed`) |"]
    summary, ids = mixed
    rows = []
    for domain, alone in (("math", "mixed_math_only"), ("code", "mixed_code_only")):
        d = _diff(summary, "mixed", alone, ids.get(domain, set()))
        rows.append(f"| 3. Mixed math + code vs {domain} only, on {domain} held-out ({len(ids.get(domain, ()))} "
                    f"problems) | {_pts(d)} | {_conclusion(d)} |")
    for domain, g in (summary.get("breakdown") or {}).get("domain", {}).items():
        for arm, a in g["arms"].items():
            gain = a.get("gain")
            if gain and arm.startswith("mixed"):
                rows.append(f"| 3. {arm} vs its start on {domain} held-out (start {100 * g['start']:.1f}%) | "
                            f"{_pts(gain)} | {_conclusion(gain)} |")
    return rows


def demo_pool_rows(mixed: tuple[dict, dict[str, set[str]]] | None) -> list[str]:
    """The two-stage recipe on the demo's own pool (suite math split) at both learning rates: gain over the start
    on the math held-out problems, and the difference between the rates, paired by seed and problem."""
    if mixed is None:
        return []
    from darl.comparison.analysis import verdict

    summary, ids = mixed
    math = (summary.get("breakdown") or {}).get("domain", {}).get("math")
    arms = ("demo_pool_two_stage", "demo_pool_two_stage_lr1e-4")
    if not math or not any(a in math["arms"] for a in arms):
        return []
    rows = ["| arm | seeds | math held-out Pass@1 % [95% CI] | gain vs start (points) |", "|---|---|---|---|"]
    for arm in arms:
        a = math["arms"].get(arm)
        if a:
            rows.append(f"| {arm} | {len(a['per_seed'])} | {100 * a['mean']:.1f}"
                        + ("" if a["low"] is None else f" [{100 * a['low']:.1f}, {100 * a['high']:.1f}]")
                        + f" | {_pts(a.get('gain'))} |")
    d = _diff(summary, arms[1], arms[0], ids.get("math", set()))
    said = "not run" if d is None else f"{verdict(d['low'], d['high'])} ({d['seeds']} seeds)"
    rows += ["", f"lr 1e-4 minus lr 3e-4 on the demo's pool, paired by seed and problem: {_pts(d)} points, {said}."]
    return rows


def _pool_line(levels: dict) -> str:
    """How many scored train problems the levels hold: what each leveled arm draws from."""
    count = {k: levels.get(f"levels/count/{k}/math") or 0
             for k in ("level1", "level2", "level3", "any_level", "dropped", "no_level")}
    total = count["any_level"] + count["dropped"] + count["no_level"]
    return (f"Train pool: {total} scored math problems; Level 1 / 2 / 3 hold {count['level1']} / {count['level2']} / "
            f"{count['level3']} (levels overlap), {count['dropped']} dropped (the filter role never solved them), "
            f"{count['no_level']} in no level. The random arm draws from all of them.")


def _complete_answer_stats(samples: Path, multi_step: set[str]) -> tuple[float, float, float] | None:
    """(share of responses on `multi_step` problems longer than one line before the answer, Pass@1 of those, Pass@1
    of the others) from an evaluation's samples.jsonl; None when it holds none of those problems."""
    complete, premature = [], []
    for line in samples.read_text().splitlines():
        row = json.loads(line)
        if row["problem_id"] in multi_step:
            lines = [x for x in row["response"].strip().splitlines() if x.strip()]
            (complete if len(lines) > 2 else premature).append(bool(row["passed"]))
    total = len(complete) + len(premature)
    if not total:
        return None
    rate = (lambda xs: sum(xs) / len(xs) if xs else float("nan"))
    return len(complete) / total, rate(complete), rate(premature)


def habit_rows(out: Path) -> list[str]:
    """Per arm (and the start): how often the policy finishes the work on held-out multi-step problems, from each
    run's final evaluation. [] when the comparison has no held-out problems with worked solutions, or when its
    start always finishes the work (no habit to unlearn)."""
    import pyarrow.parquet as pq

    compare_dir = out / "compare"
    heldout = compare_dir / "heldout.parquet"
    if not heldout.exists():
        return []
    multi_step = set()
    for row in pq.read_table(heldout, columns=["id", "metadata"]).to_pylist():
        metadata = json.loads(row["metadata"]) if isinstance(row["metadata"], str) else (row["metadata"] or {})
        if str(metadata.get("solution", "")).count("\n") > 1:
            multi_step.add(row["id"])
    if not multi_step:
        return []
    rows = [f"| arm | complete answers on the {len(multi_step)} multi-step problems (lowest - highest seed) | "
            "Pass@1 of complete ones | Pass@1 of premature ones |", "|---|---|---|---|"]
    found = [("start", _complete_answer_stats(compare_dir / "eval" / "start" / "samples.jsonl", multi_step))
             if (compare_dir / "eval" / "start" / "samples.jsonl").exists() else ("start", None)]
    summary = json.loads((compare_dir / "comparison.json").read_text())
    for arm, entry in summary["arms"].items():
        stats = []
        for seed in entry["seeds_done"]:
            steps = sorted((compare_dir / "eval" / arm / f"seed-{seed}").glob("step-*/samples.jsonl"),
                           key=lambda p: int(p.parent.name.split("-")[1]))
            if steps:
                stats.append(_complete_answer_stats(steps[-1], multi_step))
        stats = [x for x in stats if x]
        if stats:
            means = tuple(sum(x[i] for x in stats) / len(stats) for i in range(3))
            found.append((arm, means + (min(x[0] for x in stats), max(x[0] for x in stats))))
    if found[0][1] is not None and found[0][1][0] >= 0.99:
        return []  # a start that always finishes the work (a family without the habit): nothing to report
    for name, stat in found:
        if stat:
            pct = [("-" if value != value else f"{100 * value:.1f}%") for value in stat[1:3]]  # nan: none of that kind
            spread = f" ({100 * stat[3]:.0f}-{100 * stat[4]:.0f}%)" if len(stat) > 3 else ""
            rows.append(f"| {name} | {100 * stat[0]:.0f}%{spread} | {pct[0]} | {pct[1]} |")
    return rows if len(rows) > 2 else []


def diagnosis(out: Path) -> list[str]:
    """Per arm (mean over its finished seeds): training prompts available, visits per prompt, KL to the reference at
    the end, held-out pass@4 against the start: how far each arm narrowed onto its own prompts."""
    summary = json.loads((out / "compare" / "comparison.json").read_text())
    start4 = (summary.get("start") or {}).get("pass@4")
    rows = ["| arm | training prompts | visits per prompt | KL at the end | pass@4 % (start "
            f"{'-' if start4 is None else f'{100 * start4:.1f}'}) |", "|---|---|---|---|---|"]
    for arm, entry in summary["arms"].items():
        pools, visits, kls = [], [], []
        for seed in entry["seeds_done"]:
            run = out / "compare" / "runs" / arm / f"seed-{seed}"
            for manifest_path in sorted(run.glob("stage-*/manifest.json")):
                manifest = json.loads(manifest_path.read_text())
                pool = sum(s["prompts"] for s in manifest["data"]["streams"])
                pools.append(pool)
                visits.append(manifest["data"]["prompts_drawn"] / pool)
            metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line]
            kl = [m["train/kl"] for m in metrics if isinstance(m.get("train/kl"), (int, float))]
            if kl:
                kls.append(sum(kl[-3:]) / len(kl[-3:]))
        if not pools:
            continue
        p4 = entry.get("pass@4", {}).get("mean")
        rows.append(f"| {arm} | {' / '.join(str(p) for p in sorted(set(pools)))} | "
                    f"{sum(visits) / len(visits):.1f} per stage | {sum(kls) / len(kls):.3f} | "
                    f"{'-' if p4 is None else f'{100 * p4:.1f}'} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", type=int, default=4096)
    parser.add_argument("--train-per-level", type=int, default=0,
                        help="add this many fresh math problems per generator level to the scored train pool")
    parser.add_argument("--mixed", action="store_true",
                        help="run claim 3 (mixed math + code vs each alone) into OUT/mixed instead of the arms")
    parser.add_argument("--premature-share", type=float, default=0.0,
                        help="train a family with this share of premature math answers into OUT/base/family and "
                             "start every arm from its small role (docs/embedded.md, \"Two ways of answering\")")
    parser.add_argument("--write-only", action="store_true", help="only render docs/benchmarks.md from --out")
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args()
    if args.mixed and not args.write_only:
        from darl.comparison import compare

        compare(prepare_mixed(args.out / "mixed", [int(s) for s in args.seeds.split(",")]),
                args.out / "mixed" / "compare")
    elif not args.write_only:
        from darl.comparison import compare

        levels = prepare_base(args.out / "base", args.train_per_level, args.premature_share)
        spec = args.out / "compare.yaml"
        model = None
        if args.premature_share:
            model = json.loads((args.out / "base" / "demo.json").read_text())["steps"]["bootstrap"]["family"]["small"]
        write_spec(spec, levels, args.out / "base" / "scores.parquet", args.arms.split(","),
                   [int(s) for s in args.seeds.split(",")], args.budget, model)
        compare(spec, args.out / "compare")
    if args.premature_share and args.doc == DOC:  # not the shipped family: docs/benchmarks.md is not about it
        args.doc = args.out / "benchmarks.md"
    args.doc.write_text(render(args.out))
    assets = args.doc.parent / "benchmarks"  # the comparison's own report beside the document, figures included
    assets.mkdir(exist_ok=True)
    for folder, target in ((args.out / "compare", assets), (args.out / "mixed" / "compare", assets / "mixed")):
        for name in ("comparison.md", "comparison-learning-curves.png", "comparison-metric-bars.png"):
            source = folder / name
            if source.exists():
                target.mkdir(exist_ok=True)
                (target / name).write_bytes(source.read_bytes())
    print(f"wrote {args.doc} and {assets}/")


if __name__ == "__main__":
    main()
