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


def test_a_recipe_without_validation_problems_is_refused_with_its_line(tmp_path):
    """`validation.per_component: 0` used to pass the recipe check and crash training later ('no problems to
    validate on'); the plateau test needs validation problems, so the recipe check names the field and line."""
    import pytest
    import yaml

    from darl.errors import InputError
    from darl.training.recipe import load_recipe, resolve_recipe_path

    data = yaml.safe_load(resolve_recipe_path("embedded_two_stage").read_text())
    data.setdefault("validation", {})["per_component"] = 0
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="validation.per_component"):
        load_recipe(path)
