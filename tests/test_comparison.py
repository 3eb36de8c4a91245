"""`darl compare`: the spec (strict, with YAML lines), arms cut to one rollout budget, the statistics, the training
health rules, and one real comparison on the embedded family at tiny sizes (2 arms x 2 seeds, real verifier, real
TRL), rerun to check that finished work is reused."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from darl.comparison.spec import load_spec, merge
from darl.errors import InputError


def _spec_text(levels: str, extra: str = "", budget: int = 48) -> str:
    return f"""
name: tiny
levels: {levels}
seeds: [0, 1]
budget: {{rollouts: {budget}}}
heldout: {{embedded: {{domain: math, levels: [1, 2], per_level: 3}}}}
eval: {{samples: 2, ks: [1, 2], max_new_tokens: 48, curve_every_steps: 2, backend: transformers}}
baseline: random
arms:
  - name: leveled
    recipe: embedded_two_stage
    overrides: &o
      defaults: {{prompts_per_step: 4, num_generations: 4, max_completion_length: 48, warmup_steps: 1}}
      validation: {{per_component: 2, batch_size: 8}}
      stages: [{{end: {{plateau: null}}}}, {{grpo: {{max_completion_length: 48}}, end: {{plateau: null}}}}]
  - name: random
    recipe: embedded_two_stage
    stages: 1
    overrides:
      defaults: {{prompts_per_step: 4, num_generations: 4, max_completion_length: 48, warmup_steps: 1}}
      validation: {{per_component: 2, batch_size: 8}}
      stages: [{{mix: [{{domain: math, level: null}}], end: {{plateau: null}}}}]
{extra}"""


def test_merge_keys_and_stage_entries():
    base = {"a": {"b": 1, "c": 2}, "stages": [{"x": 1, "mix": [{"level": 2, "domain": "math"}]}, {"x": 2}],
            "l": [1, 2]}
    got = merge(base, {"a": {"b": 5}, "stages": [{"mix": [{"level": None, "domain": "math"}]}], "l": [3]})
    assert got == {"a": {"b": 5, "c": 2}, "stages": [{"x": 1, "mix": [{"level": None, "domain": "math"}]}, {"x": 2}],
                   "l": [3]}
    assert base["stages"][0]["mix"][0]["level"] == 2  # not modified in place
    # a mix is replaced whole: an arm can keep one stream of a two-stream recipe (weights not carried over)
    two = {"stages": [{"mix": [{"domain": "math", "level": 1, "weight": 2.1}, {"domain": "code", "level": 3}]}]}
    assert merge(two, {"stages": [{"mix": [{"domain": "code", "level": 3}]}]}) == \
        {"stages": [{"mix": [{"domain": "code", "level": 3}]}]}


def test_spec_unknown_key_names_line_and_field(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(_spec_text("levels.parquet", extra="colour: red\n"))
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert "colour" in str(err.value) and "line" in str(err.value)
    path.write_text(_spec_text("levels.parquet").replace("baseline: random", "baseline: nope"))
    with pytest.raises(InputError, match="baseline 'nope' is not an arm"):
        load_spec(path)


def test_every_arm_is_cut_to_the_same_rollout_budget(tmp_path):
    from darl.comparison.arms import plan_arm

    path = tmp_path / "c.yaml"
    path.write_text(_spec_text("levels.parquet", budget=200))
    spec, _ = load_spec(path)
    for arm in spec.arms:
        plan = plan_arm(spec, arm, 0, scoring=0)
        spent = sum(s * r for s, r in zip(plan.steps, plan.rollouts_per_step))
        assert 200 - min(plan.rollouts_per_step) < spent <= 200
        assert [s.end.max_steps for s in plan.recipe.stages] == list(plan.steps)
        assert plan.recipe.seed == 0 and plan.recipe.save_every_steps == 2
    two = plan_arm(spec, spec.arm("leveled"), 0, scoring=0)
    assert two.steps == (8, 4)  # the recipe's 32 : 16 split of its steps, 16 rollouts a step
    assert plan_arm(spec, spec.arm("random"), 1, scoring=0).recipe.stages[0].mix[0].level is None


def test_scoring_rollouts_are_charged_only_to_leveled_arms(tmp_path):
    from darl.comparison.arms import plan_arm

    path = tmp_path / "c.yaml"
    path.write_text(_spec_text("levels.parquet", budget=200).replace("budget: {rollouts: 200}",
                                                                   "budget: {rollouts: 200, count_scoring: true}"))
    spec, _ = load_spec(path)
    assert plan_arm(spec, spec.arm("leveled"), 0, scoring=64).training_budget == 136
    assert plan_arm(spec, spec.arm("random"), 0, scoring=64).training_budget == 200
    with pytest.raises(InputError, match="leaves a stage without a step"):
        plan_arm(spec, spec.arm("leveled"), 0, scoring=190)


def test_t_interval_and_verdict():
    from darl.comparison.analysis import t_interval, verdict

    mean, lo, hi = t_interval([0.1, 0.2, 0.3])
    assert mean == pytest.approx(0.2)
    assert lo == pytest.approx(0.2 - 4.3027 * 0.1 / 3 ** 0.5, abs=1e-4) and hi > mean
    assert t_interval([0.5]) == (0.5, None, None)
    assert verdict(0.01, 0.2) == "better" and verdict(-0.2, -0.01) == "worse" and verdict(-0.1, 0.1) == "within noise"


def test_health_names_each_failure_with_its_step():
    from darl.training.health import check_health

    rows = [{"train/global_step": s, "train/entropy": 1.0 if s < 6 else 0.3, "train/completions/mean_length": 40.0,
             "train/kl": 0.0105 * s, "train/reward": 0.2 + 0.02 * s} for s in range(1, 21)]
    warnings = {w.name: w for w in check_health(rows, heldout=[(0, 0.3), (10, 0.3), (20, 0.28)])}
    assert set(warnings) == {"entropy_collapse", "kl_blowup", "reward_without_heldout_gain"}
    assert warnings["entropy_collapse"].step == 6  # the rolling mean crosses at step 8; the fall began at 6
    assert warnings["kl_blowup"].step == 10  # rolling mean 0.105 at step 11 (steps 9-11); 0.105 already at 10
    assert warnings["reward_without_heldout_gain"].step == 5  # start 0.24 (steps 1-3); 0.30 at step 5
    healthy = [{**r, "train/entropy": 1.0, "train/kl": 0.01} for r in rows]
    assert check_health(healthy, heldout=[(0, 0.3), (20, 0.4)]) == []


@pytest.mark.slow  # builds the family's whole warm-start stream (13 s)
def test_heldout_set_is_disjoint_from_every_training_prompt():
    from darl.comparison.heldout import fresh_heldout, seen_prompts

    seen = seen_prompts("default")
    held = fresh_heldout("math", (1, 3), 40, exclude=seen)
    assert held.per_level == {1: 40, 3: 40}
    prompts = [p.prompt for p in held.problems]
    assert len(set(prompts)) == len(prompts) and not set(prompts) & seen
    assert held.problems == fresh_heldout("math", (1, 3), 40, exclude=seen).problems  # deterministic


@pytest.mark.slow
def test_a_fresh_train_pool_shares_no_prompt_with_the_heldout_set_or_any_role():
    from darl.comparison.heldout import fresh_heldout, fresh_train_pool, seen_prompts

    held = fresh_heldout("math", (2, 3), 30).problems
    pool = fresh_train_pool("math", (2, 3), 30, heldout=held)
    assert pool.per_level == {2: 30, 3: 30}
    prompts = {p.prompt for p in pool.problems}
    assert len(prompts) == 60 and not prompts & {p.prompt for p in held} and not prompts & seen_prompts("default")
    from darl.embedded.suite import SUITES, suite_pairs

    assert not prompts & {p.prompt for name in SUITES for p, _ in suite_pairs(name, "heldout")}
    assert all(p.id.startswith("train-x-math-") for p in pool.problems)


@pytest.fixture(scope="module")
def tiny_levels(tmp_path_factory, embedded_family):
    """Suite train problems with stand-in levels (generator level 1 -> level 2, 2 -> level 3), no scoring needed."""
    root = tmp_path_factory.mktemp("compare")
    rows = []
    for level in (1, 2):
        mine = [p for p in embedded_family.problems("train") if p.domain == "math" and p.metadata["level"] == level]
        rows += [{**p.to_row(), "levels": [level + 1]} for p in mine[:30]]
    pq.write_table(pa.Table.from_pylist(rows), root / "levels.parquet")
    return root


@pytest.mark.slow
def test_compare_end_to_end_on_the_embedded_family(tiny_levels, embedded_family):
    import torch

    from darl.comparison import compare

    torch.set_num_threads(1)
    spec = tiny_levels / "c.yaml"
    spec.write_text(_spec_text("levels.parquet") + f"model: {embedded_family.path('small')}\n")
    out = tiny_levels / "out"
    said: list[str] = []
    compare(spec, out, only=("random", 1), say=said.append)
    assert (out / "runs" / "random" / "seed-1" / "recipe.resolved.yaml").exists()
    assert not (out / "comparison.json").exists()
    partial = compare(spec, out, report_only=True, say=said.append)  # a merge step while jobs are still out
    assert partial["arms"]["random"]["seeds_done"] == [1] and partial["arms"]["leveled"]["seeds_done"] == []
    assert "| leveled | 0 | not trained yet |" in (out / "comparison.md").read_text()
    summary = compare(spec, out, say=said.append)
    assert any("random seed 1: trained earlier, reused" in s for s in said)
    assert summary["heldout_problems"] == 6
    for arm in ("leveled", "random"):
        entry = summary["arms"][arm]
        assert entry["seeds_done"] == [0, 1] and entry["rollouts_spent"] == 48
        assert 0 <= entry["pass@1"]["mean"] <= entry["pass@2"]["mean"] <= 1
        assert 0 <= entry["gradient_yield"] <= 1
    runs = {(r["arm"], r["seed"]): r for r in summary["runs"]}
    assert [c["step"] for c in runs[("leveled", 0)]["curve"]] == [0, 2, 2 + 1]  # start, step 2, end of stage 2
    assert [c["rollouts"] for c in runs[("random", 0)]["curve"]] == [0, 32, 48]
    paired = summary["paired"]["leveled"]
    assert paired["seeds"] == [0, 1] and paired["problems"] == 6 and paired["low"] <= paired["mean"] <= paired["high"]
    data = json.loads((out / "comparison.json").read_text())
    assert data["arms"]["random"]["pass@1"] == summary["arms"]["random"]["pass@1"]
    text = (out / "comparison.md").read_text()
    assert "| leveled |" in text and "comparison-learning-curves.png" in text
    assert "data:image/png;base64" in (out / "comparison.html").read_text()
    # a rerun reuses every run and evaluation
    said.clear()
    again = compare(spec, out, say=said.append)
    assert not any(s.startswith("  eval") for s in said)
    assert again["arms"] == summary["arms"]
    with pytest.raises(InputError, match="another spec"):
        spec.write_text(_spec_text("levels.parquet", budget=64)
                        + f"model: {embedded_family.path('small')}\n")
        compare(spec, out, say=said.append)


def test_a_comparison_folder_grows_by_arms_and_seeds_but_refuses_a_changed_run(tmp_path):
    from darl.comparison.runner import check_extends

    arm = {"name": "a", "recipe": "embedded_two_stage", "stages": None, "overrides": {}}
    old = {"name": "c", "levels": "l.parquet", "seeds": [0, 1], "budget": {"rollouts": 48}, "baseline": "a",
           "arms": [arm]}
    grown = {**old, "name": "c2", "seeds": [0, 1, 2], "baseline": "b",
             "arms": [arm, {**arm, "name": "b", "overrides": {"defaults": {"learning_rate": 1e-4}}}]}
    check_extends(old, grown, tmp_path / "spec.resolved.json")  # more arms and seeds: accepted
    check_extends(grown, old, tmp_path / "spec.resolved.json")  # fewer: accepted (their runs stay on disk)
    with pytest.raises(InputError, match="differs in budget"):
        check_extends(old, {**old, "budget": {"rollouts": 64}}, tmp_path / "spec.resolved.json")
    check_extends(old, {**old, "arms": [{**arm, "stages": 1}]}, tmp_path / "spec.resolved.json")  # runs decide


def test_a_run_is_reused_only_under_the_recipe_it_was_trained_with(tmp_path):
    import yaml

    from darl.comparison.runner import check_same_recipe, plans

    path = tmp_path / "c.yaml"
    path.write_text(_spec_text("levels.parquet"))
    spec, _ = load_spec(path)
    plan = plans(spec)[0]
    folder = tmp_path / "runs" / plan.arm / "seed-0"
    folder.mkdir(parents=True)
    (folder / "recipe.resolved.yaml").write_text(yaml.safe_dump(plan.recipe.resolved()))
    check_same_recipe(folder, plan)
    # the same arm after a shipped default moved (here: the arm's learning rate changed under it)
    path.write_text(_spec_text("levels.parquet").replace("warmup_steps: 1}", "warmup_steps: 1, learning_rate: 5.0e-5}", 1))
    moved = plans(load_spec(path)[0])[0]
    with pytest.raises(InputError, match=r"arm 'leveled' seed 0 was trained with another recipe .*learning_rate"):
        check_same_recipe(folder, moved)


def test_one_run_is_claimed_by_one_process_at_a_time(tmp_path):
    from darl.comparison.runner import claimed

    folder = tmp_path / "runs" / "arm" / "seed-0"
    with claimed(folder) as first:
        with claimed(folder) as second:
            assert first and not second
    with claimed(folder) as again:
        assert again  # released when the holder is done


def test_the_heldout_breakdown_shows_a_domain_that_got_worse_under_a_better_average(tmp_path):
    from darl.artifacts.problems import read_problems, write_problems
    from darl.comparison.analysis import RunResult, breakdown, heldout_groups
    from darl.comparison.report import breakdown_tables
    from darl.records import CodeTests, Problem

    problems = [Problem(id=f"m{i}", domain="math", prompt=f"Compute {i}+1.", answer=str(i + 1),
                        metadata={"level": 1 + i % 2}) for i in range(4)]
    problems += [Problem(id="c0", domain="code", prompt="def f(): ...", tests=CodeTests(asserts=("assert f() is None",)),
                         metadata={"level": 1})]
    write_problems(problems, tmp_path / "heldout.parquet")
    groups = heldout_groups(read_problems(tmp_path / "heldout.parquet"))
    assert groups["domain"] == {"m0": "math", "m1": "math", "m2": "math", "m3": "math", "c0": "code"}
    assert groups["level"]["m1"] == "math L2" and groups["level"]["c0"] == "code L1"
    start = {"m0": 0.5, "m1": 0.5, "m2": 0.5, "m3": 0.5, "c0": 1.0}
    runs = [RunResult("mixed", seed, True, rates={"m0": 1.0, "m1": 1.0, "m2": 0.75, "m3": 1.0, "c0": 0.0 + seed / 4})
            for seed in (0, 1)]
    table = breakdown(groups, runs, start, ["mixed", "absent"])
    math, code = table["domain"]["math"], table["domain"]["code"]
    assert math["problems"] == 4 and math["start"] == 0.5 and abs(math["arms"]["mixed"]["mean"] - 0.9375) < 1e-12
    assert code["arms"]["mixed"]["gain"]["mean"] == -0.875 and code["arms"]["mixed"]["per_seed"] == [0.0, 0.25]
    assert "absent" not in math["arms"]
    text = "\n".join(breakdown_tables({"arms": {"mixed": {}, "absent": {}}, "breakdown": table}))
    assert "| code | 1 | 100.0 | 12.5 [" in text and "; -87.5 [" in text and "absent" not in text
    write_problems(problems[:2], tmp_path / "one.parquet")  # one domain, levels 1 and 2: levels only
    assert list(heldout_groups(read_problems(tmp_path / "one.parquet"))) == ["level"]
