"""A recipe's pass-through to TRL (darl.training.trl_args): any GRPOConfig field per recipe and per stage, checked
against the installed TRL with the bad field named; fields darl sets itself refused with the recipe field to use;
reward weights, run name, project and system prompt reach TRL; and a real two-stage LoRA run on a tiny policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_training_run import write_levels
from training_tiny import DigitStandIn, make_tiny_policy

from darl.errors import InputError
from darl.training.recipe import parse_recipe

BASE = """
name: pt
model: {model}
defaults: {{num_generations: 4, prompts_per_step: 2, max_completion_length: 8, learning_rate: 1.0e-3}}
validation: {{per_component: 2, batch_size: 8}}
{extra}
stages:
  - name: one
    mix: [{{domain: math, level: 1}}]
    end: {{max_steps: 2}}
    trl: {{lr_scheduler_kwargs: {{min_lr_rate: 0.1}}}}
  - name: two
    mix: [{{domain: math, level: 2}}]
    end: {{max_steps: 2}}
"""


def recipe(extra: str = "", model: str = "x"):
    return parse_recipe(BASE.format(model=model, extra=extra), "r.yaml")


def test_unknown_trl_field_is_named_with_its_line_and_close_matches():
    with pytest.raises(InputError) as err:
        recipe("trl: {log_completion: true}")
    text = str(err.value)
    assert "r.yaml, line 6, field 'trl.log_completion'" in text and "did you mean log_completions" in text


def test_a_field_darl_sets_is_refused_with_the_recipe_field_to_use():
    with pytest.raises(InputError, match=r"stages\.0\.trl\.beta.*defaults\.kl_coef"):
        parse_recipe(BASE.format(model="x", extra="").replace("min_lr_rate: 0.1}", "min_lr_rate: 0.1}, beta: 0.1"))


def test_darl_owned_table_matches_what_grpo_config_sets(tmp_path, monkeypatch):
    from darl.training import stages
    from darl.training.trl_args import DARL_OWNED, grpo_config_fields

    r = recipe()
    monkeypatch.setattr(stages, "build_grpo_config", lambda kwargs, where: kwargs)  # the keyword arguments only
    kwargs = stages.grpo_config(r, r.stage(0), tmp_path, 1)
    darl_sets = set(kwargs) - set(r.trl_args(0))
    assert darl_sets <= set(DARL_OWNED), f"grpo_config sets fields the table does not name: {darl_sets - set(DARL_OWNED)}"
    assert set(DARL_OWNED) <= grpo_config_fields()


def test_pass_through_weights_name_and_project_reach_grpo_config(tmp_path):
    from darl.training.stages import grpo_config

    r = recipe("trl: {log_completions: true, torch_compile: false}\nreward_weights: {math: 0.5}\n"
               "run_name: my-run\nproject: my-project")
    one, two = grpo_config(r, r.stage(0), tmp_path, 1), grpo_config(r, r.stage(1), tmp_path, 1)
    assert one.log_completions and one.lr_scheduler_kwargs == {"min_lr_rate": 0.1}
    assert two.lr_scheduler_kwargs in (None, {})  # stage-only field stays in its stage
    assert one.reward_weights == [0.5] and one.run_name == "my-run" and one.project == "my-project"
    resolved = r.resolved()
    assert resolved["stages"][0]["trl"] == {"log_completions": True, "torch_compile": False,
                                            "lr_scheduler_kwargs": {"min_lr_rate": 0.1}}


def test_trl_refusing_a_value_names_the_stage(tmp_path):
    from darl.training.stages import grpo_config

    r = recipe("trl: {optim: no_such_optimizer}")
    with pytest.raises(InputError, match=r"field 'stages\.1'.*TRL refuses.*no_such_optimizer"):
        grpo_config(r, r.stage(1), tmp_path, 1)


def test_system_prompt_comes_first_in_every_training_prompt():
    from darl.prompting import chat_messages
    from darl.records import Problem

    p = Problem(id="a", domain="math", prompt="1+1?", answer="2")
    assert chat_messages(p, "Be brief.")[0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in chat_messages(p)] == ["user"]


@pytest.mark.slow
def test_two_stage_lora_run_trains_adapters_and_the_next_stage_starts_merged(tmp_path):
    pytest.importorskip("peft")
    import torch

    from darl.training.stages import run_recipe

    torch.set_num_threads(1)
    policy, levels = make_tiny_policy(tmp_path / "policy"), write_levels(tmp_path / "levels.parquet")
    r = recipe("peft: {r: 4, lora_alpha: 8, target_modules: [q_proj, v_proj]}\nsystem_prompt: Think.\n"
               "trl: {log_completions: false}", model=str(policy))
    result = run_recipe(r, levels, tmp_path / "run", verifier=DigitStandIn())
    first = Path(result.stages[0].manifest["final_checkpoint"])
    config = json.loads((first / "adapter_config.json").read_text())
    assert config["r"] == 4 and sorted(config["target_modules"]) == ["q_proj", "v_proj"]
    assert not (first / "model.safetensors").exists()  # only the adapter was saved
    assert result.stages[1].manifest["status"] == "completed"
    assert result.heldout["after"]["model"]  # the held-out check loaded the merged final policy


def test_validation_prompts_carry_the_system_prompt_too(tmp_path):
    from transformers import AutoTokenizer

    from darl.records import Problem
    from darl.training.validation import render_prompts

    tokenizer = AutoTokenizer.from_pretrained(make_tiny_policy(tmp_path / "policy"))
    p = Problem(id="a", domain="math", prompt="1+1?", answer="2")
    text = tokenizer.decode(render_prompts(tokenizer, [p], "Be brief.")[0])
    assert text.startswith("<s>system:Bebrief.</s><s>user:1+1?")  # the character tokenizer decodes without spaces
    assert "system" not in tokenizer.decode(render_prompts(tokenizer, [p])[0])
