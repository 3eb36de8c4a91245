"""`darl train` command: shipped recipe names resolve, and bad input gives an error naming the file and field."""

from __future__ import annotations

from typer.testing import CliRunner

from darl.cli.main import app
from darl.errors import InputError


def test_train_rejects_unknown_recipe_key_with_location(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\nmodel: m\nstages:\n  - name: a\n    mix: [{domain: math}]\n    end: {max_steps: 1}\n"
                      "learning_rate: 3\n")
    result = CliRunner().invoke(app, ["train", str(recipe), "--levels", str(tmp_path / "l.parquet"),
                                      "--out", str(tmp_path / "run")])
    assert isinstance(result.exception, InputError)
    assert "line 7" in str(result.exception) and "learning_rate" in str(result.exception)


def test_train_names_missing_levels_file_and_unknown_recipe(tmp_path):
    result = CliRunner().invoke(app, ["train", "embedded_two_stage", "--levels", str(tmp_path / "missing.parquet"),
                                      "--out", str(tmp_path / "run")])
    assert isinstance(result.exception, InputError) and "missing.parquet" in str(result.exception)
    result = CliRunner().invoke(app, ["train", "no_such_recipe", "--levels", "x", "--out", str(tmp_path / "r")])
    assert isinstance(result.exception, InputError) and "shipped recipes" in str(result.exception)
