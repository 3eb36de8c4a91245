"""The recipe resolved once into typed stages (`Recipe.resolved_stages`): what build, train/resume and the manifest
read, with one validation-length rule for the stage and the held-out set."""

from __future__ import annotations

from darl.training.recipe import parse_recipe

RECIPE = """
name: r
model: m
defaults: {{max_completion_length: 64, num_generations: 4, prompts_per_step: 3}}
{validation}
stages:
  - name: one
    mix: [{{domain: math, level: 1}}]
    end: {{max_steps: 2}}
  - name: two
    mix: [{{domain: math, level: 3}}]
    grpo: {{max_completion_length: 128, entropy_coef: 0.0}}
    trl: {{log_completions: true}}
    end: {{max_steps: 2}}
"""


def test_stages_are_resolved_once_and_carry_what_each_step_reads():
    recipe = parse_recipe(RECIPE.format(validation=""))
    one, two = recipe.resolved_stages
    assert recipe.resolved_stages is recipe.resolved_stages and recipe.stage(1) is two
    assert (one.number, one.name, one.where, two.number, two.name) == (1, "one", "stages.0", 2, "two")
    assert (one.grpo.max_completion_length, two.grpo.max_completion_length) == (64, 128)
    assert two.grpo.num_generations == 4 and one.rollouts_per_step == 12 and two.trl == {"log_completions": True}
    assert recipe.stage_settings(1) is two.grpo
    assert recipe.resolved()["stages"][1]["grpo"] == two.grpo.model_dump(mode="json")


def test_one_validation_length_rule_for_the_stage_and_the_heldout_set():
    recipe = parse_recipe(RECIPE.format(validation=""))
    assert [s.validation_max_new_tokens for s in recipe.resolved_stages] == [64, 128]
    assert recipe.heldout_max_new_tokens == 128  # the held-out set spans every stage: the longest
    fixed = parse_recipe(RECIPE.format(validation="validation: {max_new_tokens: 32}"))
    assert [s.validation_max_new_tokens for s in fixed.resolved_stages] == [32, 32]
    assert fixed.heldout_max_new_tokens == 32


def test_a_copy_with_changes_resolves_again():
    recipe = parse_recipe(RECIPE.format(validation=""))
    assert recipe.heldout_max_new_tokens == 128
    copied = recipe.model_copy(update={"validation": recipe.validation.model_copy(update={"max_new_tokens": 7})})
    assert copied.heldout_max_new_tokens == 7 and recipe.heldout_max_new_tokens == 128
