"""`darl eval` and `darl report` from the command line, on a real (tiny, memorizing) transformers model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from darl.cli.main import app
from darl.evaluation.sources import parse_window, resolve_benchmark
from darl.errors import InputError
from darl.prompting import user_message
from darl.records import Problem

PROBLEMS = [("a", "Add 1 and 3.", "4", "\\boxed{4}"), ("b", "What is 2 plus 5?", "7", "\\boxed{8}"),
            ("c", "Double 3", "6", "\\boxed{6}")]


@pytest.fixture(scope="module")
def model_and_problems(tmp_path_factory):
    from darl.generation.tiny_random import save_tiny_model

    root = tmp_path_factory.mktemp("cli")
    problems_file = root / "sums.jsonl"
    # darl's own schema; raw prompts keep the sequences short, so the tiny model memorizes them in ~100 steps
    rows = [Problem(id=f"sums/{pid}", domain="math", prompt=q, answer=a, metadata={"raw_prompt": True})
            for pid, q, a, _ in PROBLEMS]
    problems_file.write_text("".join(json.dumps(p.to_row()) + "\n" for p in rows))
    pairs = [(user_message(p), reply) for p, (_, _, _, reply) in zip(rows, PROBLEMS)]
    model = save_tiny_model(root / "model", pairs=pairs, steps=150)
    return model, problems_file


@pytest.mark.slow
def test_eval_cli_greedy_tiny_model_scores_the_known_fraction(model_and_problems, tmp_path: Path) -> None:
    model, problems_file = model_and_problems
    runner = CliRunner()
    args = ["eval", str(model), "-b", str(problems_file), "-n", "2", "--temperature", "0", "--max-tokens", "16",
            "--backend", "transformers"]
    result = runner.invoke(app, args + ["-o", str(tmp_path / "e1")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "e1" / "eval.json").read_text())
    bench = data["benchmarks"]["sums"]
    # greedy decoding of the memorized replies: a and c right, b wrong, on both samples
    assert bench["pass@1"]["mean"] == pytest.approx(2 / 3)
    assert {k: v["passes"] for k, v in bench["per_problem"].items()} == {"sums/a": 2, "sums/b": 0, "sums/c": 2}
    assert "sums" in result.output and "66.7" in result.output
    # a second evaluation compared against the first: same model, difference 0 with an interval around it
    result = runner.invoke(app, args + ["-o", str(tmp_path / "e2"), "--baseline", str(tmp_path / "e1" / "eval.json")])
    assert result.exit_code == 0, result.output
    comparison = json.loads((tmp_path / "e2" / "compare.json").read_text())["comparisons"][0]
    assert comparison["delta"] == 0 and comparison["problems_compared"] == 3
    # the report renders the two evaluations found under one folder
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 0 and (tmp_path / "report.html").exists()
    assert "sums" in (tmp_path / "report.html").read_text()


def test_eval_cli_bad_input_fails_before_loading_a_model(tmp_path: Path) -> None:
    from darl.cli.main import main

    runner = CliRunner()
    result = runner.invoke(app, ["eval", "no/such/model", "-b", "not-a-benchmark", "-o", str(tmp_path)])
    assert isinstance(result.exception, InputError) and "unknown benchmark" in str(result.exception)
    result = runner.invoke(app, ["eval", "m", "-b", "aime24", "--baseline", str(tmp_path / "x.json"), "-o", "o"])
    assert isinstance(result.exception, InputError) and "x.json" in str(result.exception)
    assert callable(main)


def test_benchmark_sources_and_lcb_window() -> None:
    assert parse_window("2024-08-01:2025-01-31") == ("2024-08-01", "2025-01-31")
    assert parse_window(":2024-01-01") == (None, "2024-01-01")
    for bad in ("2024-08-01", "2024-8-1:2025-01-31", "2025-01-01:2024-01-01"):
        with pytest.raises(InputError, match="--lcb-window"):
            parse_window(bad)
    name, problems, filters = resolve_benchmark("lcb", limit=None)
    assert name == "livecodebench" and len(problems) == 279
    assert filters == {"start": "2024-08-01", "end": "2025-01-31"}
    name, problems, filters = resolve_benchmark("livecodebench", lcb_window=("2024-08-01", "2025-01-31"),
                                                lcb_difficulty=["hard"])
    assert 0 < len(problems) < 279 and all(p.metadata["difficulty"] == "hard" for p in problems)
    name, problems, filters = resolve_benchmark("AIME2024", limit=5)
    assert name == "aime24" and len(problems) == 5 and filters == {"limit": 5}


def test_embedded_suites_and_local_files_resolve(tmp_path: Path) -> None:
    name, problems, filters = resolve_benchmark("embedded-quick")
    assert name == "embedded-quick" and problems and {p.domain for p in problems} == {"math", "code"}
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(Problem(id="x1", domain="math", prompt="1+1?", answer="2").to_row()) + "\n")
    name, problems, filters = resolve_benchmark(str(path))
    assert name == "mine" and [p.id for p in problems] == ["x1"] and filters["file"].endswith("mine.jsonl")
