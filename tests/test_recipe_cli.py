"""`darl recipe`: the schema, the resolved recipe with the pass-through fields TRL accepted, and open-r1 configs
(real files from huggingface/open-r1, tests/fixtures/open_r1/) turned into recipes with every key accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from darl.cli.main import app
from darl.errors import InputError
from darl.training.open_r1 import from_open_r1
from darl.training.recipe import parse_recipe

FIXTURES = Path(__file__).parent / "fixtures" / "open_r1"
MATH = FIXTURES / "DeepSeek-R1-Distill-Qwen-1.5B_config_demo.yaml"
CODE = FIXTURES / "Qwen2.5-1.5B-Instruct_config_demo_code.yaml"
runner = CliRunner()


def test_open_r1_math_config_becomes_a_recipe_with_every_key_accounted_for():
    config = yaml.safe_load(MATH.read_text())
    conv = from_open_r1(config, processes=8, max_steps=200)
    r = parse_recipe(yaml.safe_dump(conv.recipe))
    assert r.model == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B" and r.seed == 42
    d = r.defaults
    assert (d.learning_rate, d.num_generations, d.max_completion_length, d.temperature) == (1e-6, 16, 2048, 0.7)
    assert d.kl_coef == 0.0  # TRL's default beta, which the open-r1 run used (not the paper's 0.001)
    assert d.prompts_per_step * d.num_generations == 16 * 4 * 8  # per device x accumulation x processes
    assert d.warmup_steps == 20  # warmup_ratio 0.1 x 200 steps
    assert r.system_prompt.startswith("You are a helpful AI Assistant")
    assert r.trl["lr_scheduler_kwargs"] == {"min_lr_rate": 0.1} and r.trl["log_completions"] is True
    assert [c.domain for c in r.stages[0].mix] == ["math"] and r.stages[0].end.max_steps == 200
    assert r.report_to == ["wandb"] and r.scale.use_vllm and r.scale.bf16
    noted = {n.split(":")[0] for n in conv.notes}
    carried = set(conv.recipe.get("trl", {}))
    from darl.training.open_r1 import DIRECT
    mapped = {k for k in config if k in DIRECT} | {"max_steps", "reward_funcs", "reward_weights", "report_to"}
    assert set(config) <= noted | carried | mapped, set(config) - noted - carried - mapped  # nothing dropped silently
    assert any("'format' has no darl counterpart" in n for n in conv.notes)


def test_open_r1_code_config_maps_reward_weights_and_steps():
    conv = from_open_r1(yaml.safe_load(CODE.read_text()), processes=7)
    r = parse_recipe(yaml.safe_dump(conv.recipe))
    assert [c.domain for c in r.stages[0].mix] == ["code"] and r.stages[0].end.max_steps == 500
    assert r.defaults.kl_coef == 0.01 and r.defaults.learning_rate == 5e-6
    assert r.reward_weights == {}  # code weighs 1.0; the 0.1 'format' reward has no darl counterpart (noted)


def test_open_r1_batch_that_is_not_whole_groups_is_refused():
    with pytest.raises(InputError, match="not whole groups of num_generations=14"):
        from_open_r1(yaml.safe_load(CODE.read_text()), processes=8)
    with pytest.raises(InputError, match="--max-steps"):
        from_open_r1(yaml.safe_load(MATH.read_text()))  # trains by epochs


def test_cli_from_open_r1_writes_a_loadable_recipe_and_lists_notes(tmp_path):
    out = tmp_path / "recipe.yaml"
    res = runner.invoke(app, ["recipe", "from-open-r1", str(MATH), "--processes", "8", "--max-steps", "100",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith("# darl recipe converted from the open-r1 config") and "#   chat_template:" in text
    from darl.training.recipe import load_recipe

    assert load_recipe(out).stages[0].end.max_steps == 100
    res = runner.invoke(app, ["recipe", "from-open-r1", str(MATH), "--max-steps", "1", "-o", str(tmp_path)])
    assert res.exit_code != 0 and "is a folder" in str(res.exception or res.output)


def test_cli_schema_lists_nested_fields():
    res = runner.invoke(app, ["recipe", "schema"])
    assert res.exit_code == 0
    for field in ("defaults.learning_rate", "stages[i].end.plateau", "peft.r", "trl  (dict", "system_prompt"):
        assert field in res.output, field


def test_cli_show_prints_resolved_recipe_and_trl_fields(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("""
name: shown
model: some/model
defaults: {num_generations: 4, prompts_per_step: 2, learning_rate: 3.0e-4}
trl: {log_completions: true, lr_scheduler_kwargs: {min_lr_rate: 0.1}}
reward_weights: {math: 0.5}
stages:
  - {name: one, mix: [{domain: math, level: 2}], end: {max_steps: 7}, grpo: {max_completion_length: 32}}
  - {name: two, mix: [{domain: math, level: 3}], end: {max_steps: 3}}
""")
    res = runner.invoke(app, ["recipe", "show", str(recipe)])
    assert res.exit_code == 0, res.output
    shown = yaml.safe_load(res.stdout)  # stderr may carry a library warning (TRL defaults, transformers 5)
    assert shown["stages"][0]["grpo"]["max_completion_length"] == 32  # defaults merged into the stage
    assert shown["stages"][0]["grpo"]["learning_rate"] == 3e-4
    trl = shown["grpo_config"]["one"]
    assert trl["log_completions"] is True and trl["lr_scheduler_kwargs"] == {"min_lr_rate": 0.1}
    assert trl["max_steps"] == 7 and trl["reward_weights"] == [0.5] and trl["max_completion_length"] == 32
    # a value both stages share is printed in each, not as a YAML anchor and alias
    assert "&id" not in res.stdout and shown["grpo_config"]["two"]["lr_scheduler_kwargs"] == {"min_lr_rate": 0.1}


def test_an_open_r1_config_is_read_directly_as_a_recipe():
    from darl.training.recipe import load_recipe

    with pytest.raises(InputError, match="not whole groups of num_generations=14"):
        load_recipe(CODE)  # on 1 process 16 x 4 completions are not groups of 14 (TRL would refuse it too)
    r = parse_recipe(CODE.read_text().replace("num_generations: 14", "num_generations: 16"), "code.yaml")
    assert r.stages[0].end.max_steps == 500 and r.defaults.prompts_per_step == 4 and r.name == "code"
