"""The levels config that ships with darl (`--config paper`, the one the README's GPU example uses): the paper's
rules spelled out, with each role's model named after the role as the README scores them."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from darl.errors import InputError
from darl.levels.config import build_config, load_config, packaged_configs
from test_levels import _write_inputs


def test_paper_config_is_the_papers_rules_with_roles_named_as_the_readme_scores_them():
    assert "paper" in packaged_configs()
    paper = load_config("paper").to_dict()
    default = build_config(None).to_dict()
    assert paper.pop("source").endswith("darl/levels/configs/paper.yaml")
    default.pop("source")
    assert paper == default
    assert paper["roles"] == {"small": "small", "medium": "medium", "large": "large", "filter": "filter"}


def test_cli_takes_the_packaged_name_and_gives_the_default_levels(tmp_path):
    from darl.cli.main import app

    _write_inputs(tmp_path)
    outputs = {}
    for name, extra in (("paper", ["--config", "paper"]), ("default", [])):
        out = tmp_path / f"{name}.parquet"
        result = CliRunner().invoke(app, ["levels", str(tmp_path / "scores.parquet"), *extra, "--problems",
                                          str(tmp_path / "problems.parquet"), "-o", str(out)])
        assert result.exit_code == 0, result.output
        outputs[name] = {r["id"]: r["levels"] for r in pq.read_table(out).to_pylist()}
    assert outputs["paper"] == outputs["default"] and any(outputs["paper"].values())


def test_a_file_of_that_name_wins_and_an_unknown_name_lists_the_packaged_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "paper").write_text("roles: {small: a, medium: b, large: c, filter: d}\n")
    assert dict(load_config("paper").roles)["small"] == "a"
    with pytest.raises(InputError, match="packaged configs: paper"):
        load_config("papr")
