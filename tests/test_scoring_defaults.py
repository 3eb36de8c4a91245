"""Scoring defaults that fit the paper (32k-token responses) and a loud warning, on the command line and in the levels
calibration report, when a model's responses are cut at the token limit too often."""

from __future__ import annotations

import inspect

import pytest
import torch
from typer.testing import CliRunner

from darl.generation.base import PAPER_MAX_NEW_TOKENS
from darl.levels import assign_levels, build_config
from darl.levels.calibration import calibrate
from darl.scoring.job import ModelSpec, ScoreJob
from darl.scoring.table import HIGH_TRUNCATION_RATE, truncation_rates, truncation_warnings

MODELS = ("small", "medium", "large", "filter")


def rows(truncated: dict[str, int], k: int = 4, problems: int = 5) -> list[dict]:
    """Scores rows for `problems` problems per model; `truncated[model]` of the model's samples hit the limit."""
    out = []
    for model in MODELS:
        left = truncated.get(model, 0)
        for i in range(problems):
            cut = min(k, left)
            left -= cut
            rate = (i % 5) / 4
            out.append({"problem_id": f"p{i}", "domain": "math", "source": "t", "model": model, "k": k,
                        "passes": round(rate * k), "pass_rate": round(rate * k) / k, "truncations": cut,
                        "infra_failures": 0, "max_new_tokens": 1024})
    return out


def test_one_default_the_papers_length():
    from darl.cli.score_cmd import score_command
    from darl.evaluation.evaluate import EvalSettings

    assert PAPER_MAX_NEW_TOKENS == 32768
    assert ScoreJob("p.parquet", (ModelSpec("m", "x"),)).max_new_tokens == PAPER_MAX_NEW_TOKENS
    assert EvalSettings().max_new_tokens == PAPER_MAX_NEW_TOKENS
    assert inspect.signature(score_command).parameters["max_new_tokens"].default.default == PAPER_MAX_NEW_TOKENS
    # `darl eval` without --max-new-tokens: the settings it builds carry the paper's length.
    import darl.evaluation.evaluate as evaluate_module

    seen = []

    class Recording(EvalSettings):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            seen.append(self.max_new_tokens)
            raise KeyboardInterrupt  # stop before any model is loaded

    from darl.cli.main import app

    original = evaluate_module.EvalSettings
    evaluate_module.EvalSettings = Recording
    try:
        CliRunner().invoke(app, ["eval", "m", "-b", "aime24", "-o", "unused-eval-out"])
    finally:
        evaluate_module.EvalSettings = original
    assert seen == [PAPER_MAX_NEW_TOKENS]


def test_demo_keeps_its_own_small_budget():
    from darl.demo import PRESETS

    assert all(p.score_max_tokens < 1024 and p.eval_max_tokens < 1024 for p in PRESETS.values())


def test_warning_names_model_rate_and_flag():
    data = rows({"small": 2, "large": 20})  # small: 2 of 20 = 10% (the threshold), large: all
    assert truncation_rates(data) == {"small": 0.1, "medium": 0.0, "large": 1.0, "filter": 0.0}
    messages = truncation_warnings(data)
    assert len(messages) == 2 and HIGH_TRUNCATION_RATE == 0.10
    assert "'large'" in messages[0] and "100%" in messages[0] and "1024-token" in messages[0]
    assert "'small'" in messages[1] and "10%" in messages[1]
    assert all("--max-new-tokens" in m for m in messages)
    assert truncation_warnings(rows({"small": 1})) == []  # 5%: quiet


def test_calibration_report_shows_the_warning(tmp_path):
    from darl.levels.report import write_report

    data = rows({"filter": 12})
    config = build_config()
    cal = calibrate(assign_levels(data, config), data)
    assert cal.truncation["filter"] == pytest.approx(0.6) and cal.truncation["small"] == 0.0
    assert len(cal.warnings) == 1 and "'filter'" in cal.warnings[0]
    assert cal.metrics["levels/model/filter/truncation_rate"] == pytest.approx(0.6)
    paths = write_report(cal, config.to_dict(), tmp_path / "levels.parquet")
    md, page = paths["md"].read_text(), paths["html"].read_text()
    assert "**WARNING:** model 'filter': 60% of its responses were cut" in md
    assert "WARNING: model &#x27;filter&#x27;: 60%" in page
    assert "| truncated |" in md
    quiet = calibrate(assign_levels(rows({}), config), rows({}))
    assert quiet.warnings == []


def test_score_command_warns_loudly(tmp_path):
    """A real tiny random model at a 3-token budget never finishes a response: `darl score` says so at the end."""
    from darl.cli.main import app
    from darl.data.io import write_problems
    from darl.generation.tiny_random import save_tiny_model
    from darl.records import Problem

    torch.set_num_threads(1)
    model = save_tiny_model(tmp_path / "tiny")
    problems = write_problems([Problem(id=f"q{i}", domain="math", prompt=f"Q{i}", answer="1",
                                       metadata={"raw_prompt": True}) for i in range(2)], tmp_path / "p.parquet")
    result = CliRunner().invoke(app, ["score", str(problems), "--model", f"tiny={model}", "-k", "2",
                                      "--max-new-tokens", "3", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "WARNING: model 'tiny': 100% of its responses were cut at the 3-token limit" in text
    assert "--max-new-tokens" in text
