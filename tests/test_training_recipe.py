"""Recipe loading: shipped recipes validate; unknown keys and bad values name the file, line and field."""

from __future__ import annotations

import pytest
import yaml

from darl.errors import InputError
from darl.training.recipe import load_recipe, parse_recipe, save_resolved, shipped_recipes

MINIMAL = """\
name: t
model: some/model
stages:
  - name: a
    mix: [{domain: math, level: 2}]
    end: {max_steps: 3}
"""


def test_shipped_recipes_load_and_match_the_paper():
    recipes = shipped_recipes()
    assert {"paper_two_stage", "paper_mixed_math_code", "embedded_two_stage", "embedded_mixed"} <= set(recipes)
    for path in recipes.values():
        load_recipe(path)
    two = load_recipe(recipes["paper_two_stage"])
    s1, s2 = two.stage_settings(0), two.stage_settings(1)
    assert [c.level for c in two.stages[0].mix] == [2] and [c.level for c in two.stages[1].mix] == [3]
    assert (s1.max_completion_length, s2.max_completion_length) == (16384, 24576)
    assert (s1.entropy_coef, s2.entropy_coef) == (0.001, 0.0)
    assert (s1.mask_truncated_completions, s2.mask_truncated_completions) == (False, True)
    assert s1.learning_rate == 1e-6 and s1.num_generations == 16 and s1.prompts_per_step == 128
    assert s1.kl_coef == 0.001
    mixed = load_recipe(recipes["paper_mixed_math_code"])
    weights = {c.stream: c.weight for c in mixed.stages[0].mix}
    assert weights == {"math/L1": 2.1, "code/L3": 1.0}
    emb = load_recipe(recipes["embedded_two_stage"])
    assert len(emb.stages) == 2 and emb.stages[0].end.plateau is not None


def test_unknown_key_names_field_and_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(MINIMAL.replace("    end: {max_steps: 3}", "    end: {max_steps: 3}\n    epochs: 2"))
    with pytest.raises(InputError) as err:
        load_recipe(path)
    text = str(err.value)
    assert str(path) in text and "line 7" in text and "stages.0.epochs" in text and "unknown key" in text


def test_bad_value_and_bad_override_are_located():
    with pytest.raises(InputError, match=r"line 5.*stages.0.mix.0.domain"):
        parse_recipe(MINIMAL.replace("domain: math", "domain: physics"))
    bad = MINIMAL.replace("    end:", "    grpo: {learnin_rate: 1.0}\n    end:")
    with pytest.raises(InputError, match=r"stages.0.grpo.*learnin_rate"):
        parse_recipe(bad)
    bad = MINIMAL.replace("    end:", "    grpo: {num_generations: 1}\n    end:")
    with pytest.raises(InputError, match=r"stages.0.grpo.num_generations"):
        parse_recipe(bad)
    with pytest.raises(InputError, match="once in a stage's mix"):
        parse_recipe(MINIMAL.replace("[{domain: math, level: 2}]", "[{domain: math, level: 2}, {domain: math, level: 2}]"))


def test_resolved_recipe_spells_out_every_stage(tmp_path):
    recipe = parse_recipe(MINIMAL.replace("    end:", "    grpo: {entropy_coef: 0.01}\n    end:"))
    save_resolved(recipe, tmp_path / "resolved.yaml")
    data = yaml.safe_load((tmp_path / "resolved.yaml").read_text())
    assert data["stages"][0]["grpo"]["entropy_coef"] == 0.01
    assert data["stages"][0]["grpo"]["learning_rate"] == recipe.defaults.learning_rate
