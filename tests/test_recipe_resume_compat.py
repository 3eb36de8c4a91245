"""A resume compares the saved resolved recipe with the current one field by field: the refusal names what differs,
and a field darl added later (absent from an older run's file) counts only when it is set."""

from __future__ import annotations

from darl.training.recipe import resolved_differences


def test_equal_recipes_have_no_difference():
    saved = {"stages": [{"name": "a", "grpo": {"lr": 1e-6}}], "seed": 0}
    assert resolved_differences(saved, {"stages": [{"name": "a", "grpo": {"lr": 1e-6}}], "seed": 0}) == []


def test_changed_fields_are_named_by_path():
    saved = {"stages": [{"name": "a", "grpo": {"lr": 1e-6, "beta": 0.001}}], "seed": 0}
    current = {"stages": [{"name": "a", "grpo": {"lr": 3e-4, "beta": 0.001}}], "seed": 1}
    assert resolved_differences(saved, current) == ["seed", "stages[0].grpo.lr"]


def test_a_newer_field_left_empty_is_not_a_difference_but_a_set_one_is():
    saved = {"stages": [{"name": "a"}]}
    assert resolved_differences(saved, {"stages": [{"name": "a", "trl": {}}], "peft": None}) == []
    assert resolved_differences(saved, {"stages": [{"name": "a", "trl": {"log_completions": True}}]}) == [
        "stages[0].trl"]
    assert resolved_differences({"x": 1}, {}) == ["x"]  # a field removed is a difference


def test_a_different_number_of_stages_is_a_difference():
    assert resolved_differences({"stages": [{"n": 1}]}, {"stages": [{"n": 1}, {"n": 2}]}) == ["stages"]
