"""`darl demo --preset quick`: the whole pipeline end to end (bootstrap -> score -> levels -> train two stages ->
eval before/after -> report), then a re-run that reuses every finished step."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from darl.demo import DEMO_FILE, PRESETS, run_demo


@pytest.mark.slow
def test_quick_demo_end_to_end_and_resumes(tmp_path: Path, embedded_family) -> None:
    # `embedded_family` first: the demo then reuses the test run's one build of the family
    out = tmp_path / "demo-run"
    lines: list[str] = []
    result = run_demo(out, "quick", say=lines.append)
    # every step ran and recorded itself, with progress along the way
    state = json.loads((out / DEMO_FILE).read_text())
    assert list(state["steps"]) == ["bootstrap", "problems", "score", "levels", "train", "eval-before", "eval-after",
                                    "report"]
    assert any("scores:" in line and "/" in line for line in lines)
    assert any("scores-policy:" in line for line in lines)  # the policy at its training temperature
    # the files a person opens
    for path in ("problems.parquet", "scores.parquet", "scores-policy.parquet", "levels.yaml", "levels.parquet", "train/metrics.jsonl",
                 "eval/before/eval.json", "eval/after/eval.json", "report.html"):
        assert (out / path).exists(), path
    assert len(list((out / "train").glob("stage-*/manifest.json"))) == 2
    before = json.loads((out / "eval" / "before" / "eval.json").read_text())
    after = json.loads((out / "eval" / "after" / "eval.json").read_text())
    assert before["complete"] and after["complete"] and before["extra"]["role"] == "baseline"
    n = PRESETS["quick"].eval_samples
    pass1 = {}
    for role, data in (("before", before), ("after", after)):
        bench = data["benchmarks"]["embedded-math"]
        assert bench["n"] == n and bench["problems"] == PRESETS["quick"].eval_problems
        counts = bench["per_problem"].values()
        assert len(counts) == bench["problems"] and all(c["n"] == n for c in counts)
        # Pass@1 is the mean over problems of passes / n, recomputed here from the per-problem counts
        pass1[role] = sum(c["passes"] / c["n"] for c in counts) / len(counts)
        assert bench["pass@1"]["mean"] == pytest.approx(pass1[role], abs=1e-12)
    # the report: the data, training and evaluation inputs were all found, and the headline carries the numbers
    html = result.report.read_text()
    found = re.search(r"Found: ([^.]*)\. Missing: ([^.]*)\.", html)
    assert found is not None
    for part in ("metrics", "stage manifests", "scores", "levels", "held-out accuracy", "evaluations"):
        assert part in found.group(1).split(", "), (part, found.group(0))
    assert "<b>Missing:</b>" not in html.split("4. Evaluation")[0].split("1. Data and levels")[1], found.group(0)
    assert "Difference from the baseline" in html and "embedded-math" in html
    assert result.headline[0].startswith(f"embedded-math: Pass@1 {100 * pass1['before']:.1f}% -> "
                                         f"{100 * pass1['after']:.1f}% ")
    assert any(line.startswith("report: ") for line in lines)
    # a second run reuses every step but the report, and is quick
    lines.clear()
    started = time.monotonic()
    again = run_demo(out, "quick", say=lines.append)
    assert sum("reused from an earlier run" in line for line in lines) == 7
    assert time.monotonic() - started < 60
    assert again.headline == result.headline


def test_demo_refuses_another_preset_in_the_same_folder(tmp_path: Path) -> None:
    from darl.demo import DemoState
    from darl.errors import InputError

    out = tmp_path / "demo-run"
    out.mkdir()
    DemoState(preset={"name": "default"}).save(out / DEMO_FILE)
    with pytest.raises(InputError, match="preset"):
        run_demo(out, "quick", say=lambda _: None)
    with pytest.raises(InputError, match="unknown preset"):
        run_demo(out, "huge", say=lambda _: None)


def test_demo_recipe_is_the_shipped_two_stage_shape() -> None:
    from darl.demo import demo_recipe

    recipe = demo_recipe(PRESETS["default"], "some/policy")
    assert recipe.model == "some/policy" and [s.name for s in recipe.stages] == ["level2", "level3"]
    assert [c.level for s in recipe.stages for c in s.mix] == [2, 3]
    assert recipe.stage_settings(1).mask_truncated_completions and recipe.stage_settings(1).entropy_coef == 0.0
    assert [s.end.max_steps for s in recipe.stages] == list(PRESETS["default"].train_steps)


def test_training_processes_two_on_a_multicore_cpu_one_with_an_accelerator(monkeypatch) -> None:
    import os

    import darl.training.processes as processes
    from darl.demo import training_processes

    monkeypatch.setattr(processes, "has_accelerator", lambda: False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert training_processes() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert training_processes() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(processes, "has_accelerator", lambda: True)  # two ranks would share one GPU
    assert training_processes() == 1
