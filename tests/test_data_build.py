"""`darl data` end to end through the CLI on the fixture files: one problems Parquet, the report beside it, the
skipped rows written out, duplicates and a planted benchmark problem removed and reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from darl.benchmarks import load_benchmark
from darl.cli.main import app
from darl.data.io import read_problems
from darl.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "shared"


def planted_file(tmp_path: Path) -> tuple[Path, str]:
    math500 = load_benchmark("math500")[42]
    aime_row = json.loads((FIXTURES / "math_train" / "deepscaler_train_aime_1983_2023.json").read_text())[3]
    rows = [
        json.dumps({"problem": "A train leaves at 3 pm travelling 60 miles per hour. How far has it gone by 5 pm?",
                    "answer": "120"}),
        json.dumps({"problem": math500.prompt, "answer": math500.answer}),  # contamination
        json.dumps({"problem": "  " + aime_row["problem"].replace(" ", "  ") + " ", "answer": aime_row["answer"]}),
        json.dumps({"problem": "What is the answer?"}),  # malformed: no answer (line 4)
    ]
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path, math500.id


@pytest.mark.slow
def test_darl_data_end_to_end(tmp_path):
    mine, math500_id = planted_file(tmp_path)
    out = tmp_path / "out" / "problems.parquet"
    sources = [str(FIXTURES / "math_train" / "deepscaler_train_aime_1983_2023.json"),
               f"lc=leetcode:{FIXTURES / 'leetcode' / 'leetcode_test_200.json'}", str(mine)]
    result = CliRunner().invoke(app, ["data", *sources, "-o", str(out), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    problems = read_problems(out)
    report = json.loads((tmp_path / "out" / "problems.report.json").read_text())
    markdown = (tmp_path / "out" / "problems.report.md").read_text()
    skipped = [json.loads(line) for line in (tmp_path / "out" / "problems.skipped.jsonl").read_text().splitlines()]

    assert [s["source"] for s in report["sources"]] == ["deepscaler_train_aime_1983_2023", "lc", "mine"]
    assert [(s["rows"], s["loaded"], s["skipped"]) for s in report["sources"]] == [(200, 200, 0), (200, 200, 0),
                                                                                   (4, 3, 1)]
    assert skipped == [{"path": str(mine), "line": 4, "field": "answer",
                        "error": "missing (also looked for gt_answer, final_answer)",
                        "content": {"problem": "What is the answer?"}}]
    dedup = {r["removed_id"]: r for r in report["dedup"]["removed"]}
    assert dedup["mine/2"]["kept_id"] == "deepscaler_train_aime_1983_2023/1983-1-4"
    assert dedup["mine/2"]["kind"] == "exact"
    contaminated = {m["train_id"]: m for m in report["decontamination"]["removed"]}
    assert contaminated["mine/1"]["benchmark"] == "math500" and contaminated["mine/1"]["benchmark_id"] == math500_id
    assert set(report["decontamination"]["eval_sets"]) >= {"math500", "aime24", "gsm8k", "humaneval",
                                                           "livecodebench", "mbpp"}
    ids = {p.id for p in problems}
    assert "mine/0" in ids and "mine/1" not in ids and "mine/2" not in ids
    assert any(i.startswith("lc/") for i in ids) and any(m.startswith("lc/") for m in contaminated)
    removed = len(dedup) + len(contaminated)
    assert len(problems) == 403 - removed == report["result"]["problems"]
    code_removed = sum(1 for r in dedup if r.startswith("lc/")) + sum(1 for m in contaminated if m.startswith("lc/"))
    assert report["result"]["by_domain"] == {"math": 203 - (removed - code_removed), "code": 200 - code_removed}
    assert report["dedup"]["counts"]["input"] == 403
    assert "mine/1" in markdown and math500_id in markdown and "mine.jsonl, line 4, field 'answer'" in markdown
    assert "problems.parquet" in result.output


def test_darl_data_switches(tmp_path):
    mine, _ = planted_file(tmp_path)
    out = tmp_path / "plain.parquet"
    result = CliRunner().invoke(app, ["data", str(mine), "-o", str(out), "--skip-invalid", "--no-dedup",
                                      "--no-decontaminate"])
    assert result.exit_code == 0, result.output
    assert len(read_problems(out)) == 3
    report = json.loads((tmp_path / "plain.report.json").read_text())
    assert report["dedup"] is None and report["decontamination"] is None


def test_darl_data_stops_on_malformed_row(tmp_path):
    mine, _ = planted_file(tmp_path)
    result = CliRunner().invoke(app, ["data", str(mine), "-o", str(tmp_path / "x.parquet")])
    assert isinstance(result.exception, InputError)
    assert "mine.jsonl, line 4, field 'answer'" in str(result.exception)
    assert not (tmp_path / "x.parquet").exists()


def test_darl_data_error_is_one_line_exit_3(tmp_path):
    mine, _ = planted_file(tmp_path)
    run = subprocess.run([sys.executable, "-m", "darl", "data", str(mine), "-o", str(tmp_path / "x.parquet")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 3  # user error (darl.cli.main: 2 is a usage error)
    assert "line 4, field 'answer'" in run.stderr and "Traceback" not in run.stderr


def test_colliding_source_names_are_refused(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "problems.jsonl").write_text(json.dumps({"problem": f"What is {folder.name}?", "answer": "1"}))
    (b / "problems.jsonl").rename(b / "a-problems.jsonl")  # default names: 'a-problems' twice
    result = CliRunner().invoke(app, ["data", str(a / "problems.jsonl"), str(b / "a-problems.jsonl"),
                                      "-o", str(tmp_path / "o.parquet"), "--no-decontaminate"])
    assert isinstance(result.exception, InputError) and "NAME=PATH" in str(result.exception)


def test_same_ids_from_two_sources_are_refused(tmp_path):
    row = {"id": "x/1", "domain": "math", "prompt": "What is 1+1?", "answer": "2"}
    for name in ("one", "two"):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps(row) + "\n")
    result = CliRunner().invoke(app, ["data", str(tmp_path / "one.jsonl"), str(tmp_path / "two.jsonl"),
                                      "-o", str(tmp_path / "o.parquet"), "--no-decontaminate"])
    assert isinstance(result.exception, InputError) and "'x/1' comes from both" in str(result.exception)
