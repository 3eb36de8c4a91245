"""`darl levels`: the paper's hierarchical rules, seeded keep shares, custom rules from config, errors, the levels
file training reads, and the calibration report."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from darl.data.io import write_problems
from darl.errors import InputError
from darl.levels import assign_levels, build_config
from darl.levels.expr import compile_condition
from darl.records import CodeTests, Problem
from darl.artifacts.scores import SCORE_COLUMNS, write_rows

MODELS = ("small", "medium", "large", "filter")


def rows_for(table: dict[str, tuple], domain: str = "math", models=MODELS) -> list[dict]:
    """table: problem id -> pass rates in `models` order (k = 4)."""
    rows = []
    for pid, rates in table.items():
        for model, rate in zip(models, rates):
            rows.append({"problem_id": pid, "domain": domain, "source": "t", "model": model, "k": 4,
                         "passes": round(rate * 4), "pass_rate": rate})
    return rows


def levels_of(assignment) -> dict[str, tuple[int, ...]]:
    return {k.problem_id: k.levels for k in assignment.kept}


def test_paper_rules_case_by_case():
    table = {                      # small, medium, large, filter
        "l1_only": (0.5, 1.0, 1.0, 1.0),      # 0 < ps < 1, pm = 1 -> level 1 only
        "l1_and_l2": (0.25, 0.5, 1.0, 1.0),   # both in (0, 1): level 1 and level 2 overlap
        "l2_a": (0.0, 1.0, 1.0, 1.0),         # ps = 0, pm = 1
        "l2_b": (0.0, 0.75, 1.0, 1.0),        # ps = 0, 0 < pm < 1
        "easy": (1.0, 1.0, 1.0, 1.0),         # always solved by small: no level unless sampled into 3
        "l3": (0.0, 0.0, 0.0, 0.5),           # large never solves
        "dropped": (0.0, 0.0, 0.0, 0.0),      # filter never solves
    }
    config = build_config({"level3_keep_share": {"math": 0.0}})
    result = assign_levels(rows_for(table), config)
    assert levels_of(result) == {"l1_only": (1,), "l1_and_l2": (1, 2), "l2_a": (2,), "l2_b": (2,), "easy": (),
                                 "l3": (3,)}
    assert [(d.problem_id, d.reason) for d in result.dropped] == [("dropped", "filter <= never")]
    assert result.dropped[0].pass_rates["filter"] == 0.0


def test_level3_keep_share_is_exact_per_domain_and_seeded():
    math = {f"m{i}": (1.0, 1.0, 0.5 if i % 2 else 1.0, 1.0) for i in range(40)}
    code = {f"c{i}": (1.0, 1.0, 1.0, 1.0) for i in range(30)}
    code |= {f"c_hard{i}": (0.0, 0.0, 0.0, 1.0) for i in range(3)}
    rows = rows_for(math) + rows_for(code, domain="code")
    config = build_config({"seed": 3})
    result = assign_levels(rows, config)
    in3 = {k.problem_id for k in result.kept if 3 in k.levels}
    assert sum(p.startswith("m") for p in in3) == 20                # 50% of the 40 the large model solves
    assert sum(p.startswith("c") and "hard" not in p for p in in3) == 3  # 10% of 30
    assert {f"c_hard{i}" for i in range(3)} <= in3                  # p_large = 0: always level 3
    assert all(k.sampled == (3,) for k in result.kept if k.problem_id in in3 and "hard" not in k.problem_id)
    again = assign_levels(list(reversed(rows)), build_config({"seed": 3}))
    assert {k.problem_id for k in again.kept if 3 in k.levels} == in3  # same seed, any input order
    other = assign_levels(rows, build_config({"seed": 4}))
    assert {k.problem_id for k in other.kept if 3 in k.levels} != in3
    half = assign_levels(rows, build_config({"level3_keep_share": {"math": 0.25, "code": 1.0}}))
    in3 = {k.problem_id for k in half.kept if 3 in k.levels}
    assert sum(p.startswith("m") for p in in3) == 10 and sum(p.startswith("c") for p in in3) == 33


def test_roles_map_to_any_model_names_and_thresholds_are_constants():
    names = ("r1-1.5b", "r1-7b", "r1-32b", "r1")
    table = {"a": (0.25, 1.0, 1.0, 1.0), "b": (0.75, 1.0, 1.0, 1.0)}
    roles = dict(zip(MODELS, names))
    no_share = {"math": 0.0}
    result = assign_levels(rows_for(table, models=names), build_config({"roles": roles,
                                                                        "level3_keep_share": no_share}))
    assert levels_of(result) == {"a": (1,), "b": (1,)}
    # "always solved" from 0.75 on: b is no longer level 1
    strict = assign_levels(rows_for(table, models=names), build_config({"roles": roles, "constants": {"always": 0.75},
                                                                        "level3_keep_share": no_share}))
    assert levels_of(strict)["b"] == ()


def test_custom_rules_bands_of_one_model_without_code():
    table = {f"p{i}": (i / 4, 0, 0, 0) for i in range(5)}
    config = build_config({
        "roles": {"small": "small"}, "drop": None,
        "levels": [{"name": "hard", "when": "p('small') < 0.25"},
                   {"name": "medium", "when": "0.25 <= small < 0.75"},
                   {"name": "easy", "when": "small >= 0.75 and domain == 'math'"}]})
    result = assign_levels(rows_for(table), config)
    assert result.level_names == ("hard", "medium", "easy")
    assert levels_of(result) == {"p0": (1,), "p1": (2,), "p2": (2,), "p3": (3,), "p4": (3,)}
    assert result.dropped == ()


@pytest.mark.parametrize("data, message", [
    ({"rolez": {}}, "unknown key"),
    ({"roles": {"small": "nope"}}, "role 'small' is mapped to model 'nope'"),
    ({"drop": "huge <= 0"}, r"unknown name\(s\) \['huge'\]"),
    ({"drop": "__import__('os')"}, "not allowed"),
    ({"drop": "small.real > 0"}, "not allowed"),
    ({"drop": "small <"}, "cannot parse"),
    ({"level3_keep_share": {"math": 1.5}}, "share must be a number"),
    ({"level3_keep_share": {"physics": 0.5}}, "unknown domain"),
    ({"levels": [{"name": "a", "when": "small > 0"}, {"name": "a", "when": "small > 0"}]}, "repeat"),
    ({"policy": "missing"}, "policy model 'missing'"),
])
def test_config_errors_are_clear(data, message):
    with pytest.raises(InputError, match=message):
        assign_levels(rows_for({"a": (0.5, 0.5, 0.5, 0.5)}), build_config(data, source="levels.yaml"))


def test_missing_scores_of_a_needed_model_is_an_error():
    rows = [r for r in rows_for({"a": (0.5, 0.5, 0.5, 0.5), "b": (0.5, 0.5, 0.5, 0.5)})
            if not (r["problem_id"] == "b" and r["model"] == "large")]
    with pytest.raises(InputError, match=r"lack scores.*'b'.*large"):
        assign_levels(rows, build_config())


def test_condition_grammar():
    cond = compile_condition("not (0 < x <= 1) or p('a-b') == -1", "t")
    assert cond.names == {"x", "a-b"}
    assert cond({"x": 0.0, "a-b": 5}) and not cond({"x": 0.5, "a-b": 5}) and cond({"x": 0.5, "a-b": -1})


def _write_inputs(tmp_path):
    problems = [Problem(id=f"m{i}", domain="math", prompt=f"q{i}", answer="1") for i in range(24)]
    problems += [Problem(id=f"c{i}", domain="code", prompt=f"c{i}", tests=CodeTests(asserts=("assert f() == 1",)))
                 for i in range(10)]
    write_problems(problems, tmp_path / "problems.parquet")
    models = ("small", "medium", "large", "filter", "policy")
    rows = []
    for n, p in enumerate(problems):
        small = (n % 5) / 4
        rates = (small, min(1.0, small + 0.25), min(1.0, small + 0.5), 0.0 if n % 11 == 3 else 1.0,
                 min(1.0, small + 0.1 * (n % 3)))
        for model, rate in zip(models, rates):
            rows.append({"problem_id": p.id, "domain": p.domain, "source": "t", "model": model,
                         "model_path": model, "model_revision": "x", "k": 4, "passes": int(rate * 4),
                         "pass_rate": rate, "mean_score": rate, "mean_tokens": 10.0, "max_tokens": 12,
                         "truncations": 0, "errors": "{}", "temperature": 0.6, "top_p": 0.95, "max_new_tokens": 64,
                         "seed": 0, "verifier": "{}", "darl_version": "0"})
    write_rows(rows, SCORE_COLUMNS, tmp_path / "scores.parquet")
    return problems


def test_cli_writes_levels_training_reads_and_report(tmp_path):
    from darl.cli.main import app
    from darl.training.data import load_levels

    _write_inputs(tmp_path)
    (tmp_path / "levels.yaml").write_text("policy: policy\nseed: 1\n")
    result = CliRunner().invoke(app, ["levels", str(tmp_path / "scores.parquet"), "--config",
                                      str(tmp_path / "levels.yaml"), "--problems", str(tmp_path / "problems.parquet"),
                                      "-o", str(tmp_path / "levels.parquet")])
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "levels.parquet")
    assert {"id", "prompt", "answer", "tests", "levels", "level_1", "level_2", "level_3", "p_small",
            "pass_rates"} <= set(table.column_names)
    rows = table.to_pylist()
    assert all(r["level_1"] == (1 in r["levels"]) for r in rows)
    dropped = (tmp_path / "levels.dropped.csv").read_text().splitlines()
    assert len(dropped) - 1 == 34 - len(rows) == 3  # n % 11 == 3: m3, m14, c1
    leveled = load_levels(tmp_path / "levels.parquet")  # the training layer reads it
    assert len(leveled) == len(rows)
    md = (tmp_path / "levels.report.md").read_text()
    for title in ("Problems per level and domain", "Pass rates per model", "Spearman", "Confusion of difficulty bins",
                  "predicts the policy", "mean pass rate per level"):
        assert title in md
    assert (tmp_path / "levels.report.html").read_text().count("data:image/png;base64,") == 4
    summary = json.loads((tmp_path / "levels.summary.json").read_text())
    assert all(key.startswith("levels/") for key in summary)
    assert summary["levels/count/dropped/all"] == 3
    assert summary["levels/policy_fit/small/spearman"] > 0.5


def test_problems_file_found_from_score_manifest_or_error(tmp_path):
    from darl.levels.pipeline import make_levels

    _write_inputs(tmp_path)
    with pytest.raises(InputError, match="pass --problems"):
        make_levels(tmp_path / "scores.parquet", tmp_path / "levels.parquet")
    with pytest.raises(InputError, match="not in the problems file"):
        write_problems([Problem(id="m0", domain="math", prompt="q", answer="1")], tmp_path / "few.parquet")
        make_levels(tmp_path / "scores.parquet", tmp_path / "levels.parquet", problems_path=tmp_path / "few.parquet")


def test_wrong_file_kinds_are_named(tmp_path):
    from darl.levels.pipeline import make_levels

    _write_inputs(tmp_path)
    with pytest.raises(InputError, match="not a darl scores file"):
        make_levels(tmp_path / "problems.parquet", tmp_path / "levels.parquet")
    with pytest.raises(InputError, match="no such scores file"):
        make_levels(tmp_path / "nope.parquet", tmp_path / "levels.parquet")
    (tmp_path / "bad.yaml").write_text("roles: [small]\n")
    with pytest.raises(InputError, match="roles must map"):
        make_levels(tmp_path / "scores.parquet", tmp_path / "levels.parquet", config_path=tmp_path / "bad.yaml")


def test_several_scores_files_are_one_table(tmp_path):
    from darl.levels.pipeline import make_levels

    _write_inputs(tmp_path)
    table = pq.read_table(tmp_path / "scores.parquet")
    policy = table.filter([m == "policy" for m in table.column("model").to_pylist()])
    proxies = table.filter([m != "policy" for m in table.column("model").to_pylist()])
    pq.write_table(policy, tmp_path / "policy.parquet")
    pq.write_table(proxies, tmp_path / "proxies.parquet")
    (tmp_path / "c.yaml").write_text("policy: policy\n")
    _, cal, _ = make_levels([tmp_path / "proxies.parquet", tmp_path / "policy.parquet"], tmp_path / "l.parquet",
                            config_path=tmp_path / "c.yaml", problems_path=tmp_path / "problems.parquet")
    assert cal.policy == "policy" and set(cal.models) == {"small", "medium", "large", "filter", "policy"}
    with pytest.raises(InputError, match="also in"):
        make_levels([tmp_path / "scores.parquet", tmp_path / "policy.parquet"], tmp_path / "l.parquet",
                    problems_path=tmp_path / "problems.parquet")
