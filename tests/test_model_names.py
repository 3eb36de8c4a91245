"""One way to name a model (darl.generation.models): `embedded:<role>` reaches the embedded family's policy in
`darl score` and `darl eval` as it does in `darl train`, and means exactly the folder it resolves to."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from darl.cli.main import app
from darl.errors import InputError
from darl.generation.models import open_generator, resolve_model, trainable_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def math_problems(embedded_family, tmp_path_factory):
    from darl.data.io import write_problems

    problems = [p for p in embedded_family.problems("heldout") if p.domain == "math"][:3]
    return write_problems(problems, tmp_path_factory.mktemp("names") / "p.parquet")


def test_embedded_names_resolve_to_the_family_folders(embedded_family):
    assert resolve_model("embedded:small") == str(embedded_family.path("small"))
    assert resolve_model("embedded:default/large") == str(embedded_family.path("large"))
    assert trainable_model("embedded:small") == str(embedded_family.path("small"))
    assert resolve_model("some/hub-id") == "some/hub-id"  # other names pass through unchanged
    with pytest.raises(InputError, match="no role 'huge'"):
        resolve_model("embedded:huge")


def test_score_command_takes_an_embedded_name(embedded_family, math_problems, tmp_path):
    result = CliRunner().invoke(app, ["score", str(math_problems), "--model", "embedded:small", "-n", "2",
                                      "--max-new-tokens", "24", "--backend", "transformers", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = pq.read_table(tmp_path / "scores.parquet").to_pylist()
    assert len(rows) == 3 and {r["model"] for r in rows} == {"embedded:small"}
    # the weights are the family's small policy: the same fingerprint as a generator over its folder
    folder = open_generator(str(embedded_family.path("small")), "transformers")
    assert {r["model_revision"] for r in rows} == {folder.revision}


def test_eval_command_takes_an_embedded_name_and_matches_its_folder(embedded_family, math_problems, tmp_path):
    def evaluate(model: str, out: str) -> dict:
        result = CliRunner().invoke(app, ["eval", model, "-b", str(math_problems), "-n", "2", "--max-new-tokens",
                                          "24", "--backend", "transformers", "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
        return json.loads((tmp_path / out / "eval.json").read_text())["benchmarks"]["p"]

    by_name, by_folder = evaluate("embedded:small", "name"), evaluate(str(embedded_family.path("small")), "folder")
    assert by_name["per_problem"] == by_folder["per_problem"]  # same model, same seed: the same samples
    assert by_name["pass@1"] == by_folder["pass@1"]
