"""darl's evaluation exported in lighteval's and lm-evaluation-harness's layouts and as Parquet, opened by readers
written the way those tools load results (lighteval `EvaluationTracker.load_details_datasets` and its results
folder; lm-eval `utils.get_results_filenames` / `get_sample_results_filenames` / `get_file_task_name`), on a real
evaluation (fake generator with a known number of correct samples per problem, real verifier)."""

from __future__ import annotations

import datetime as dt
import glob
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from darl.benchmarks.registry import load_benchmark
from darl.errors import InputError
from darl.evaluation.evaluate import EvalSettings, evaluate
from darl.evaluation.export import export_eval, parse_formats
from darl.generation.fake import FakeGenerator
from darl.prompting import user_message
from darl.verifiers import Verifier

N = 4


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    """AIME-24's first 10 problems; problem j gets j % 5 correct samples of 4 (capped at 4)."""
    problems = load_benchmark("aime24")[:10]
    table, counts = {}, []
    for j, p in enumerate(problems):
        c = min(j % 5, N)
        table[user_message(p)] = ([f"so \\boxed{{{p.answer}}}"] * c + ["\\boxed{-1}"] * N)[:N]
        counts.append(c)
    out = tmp_path_factory.mktemp("eval")
    with Verifier() as verifier:
        evaluate(FakeGenerator(table, name="org/tiny-model"), {"aime24": problems}, out, EvalSettings(samples=N),
                 verifier=verifier)
    return out, problems, counts


# -- readers written for each tool's layout -------------------------------------------------------------------------
def read_lighteval(output_dir: Path, model_name: str):
    """lighteval: results/<model>/results_<date>.json (newest), details/<model>/<date>/details_<task>_<date>.parquet
    loaded with datasets' parquet builder, task name from the file name (load_details_datasets)."""
    from datasets import load_dataset

    results_files = sorted(glob.glob(str(output_dir / "results" / model_name / "results_*.json")))
    results = json.loads(Path(results_files[-1]).read_text())
    details_root = output_dir / "details" / model_name
    date_id = max(p.name for p in details_root.iterdir() if p.is_dir())
    details = {}
    for file in glob.glob(str(details_root / date_id / f"details_*_{date_id}.parquet")):
        task_name = Path(file).stem.replace("details_", "").replace(f"_{date_id}", "")
        details[task_name] = load_dataset("parquet", data_files=file, split="train",
                                          cache_dir=str(output_dir / ".hf-cache"))
    return results, details


def read_lm_eval(output_path: Path):
    """lm-eval: files under <output_path>/<model>/; results_*.json and samples_<task>_<date>.jsonl, newest by the
    date after the last '_'."""
    files = [str(p) for p in output_path.rglob("*") if p.is_file()]
    results_files = [f for f in files if "/results_" in f and ".json" in f]
    latest = max(results_files, key=lambda f: f[f.rfind("_") + 1:].replace(".jsonl", ""))
    samples = {}
    for f in (f for f in files if "/samples_" in f and ".json" in f):
        name = Path(f).name
        task = name[name.find("_") + 1: name.rfind("_")]
        samples[task] = [json.loads(line) for line in Path(f).read_text().splitlines()]
    return json.loads(Path(latest).read_text()), samples


def test_lighteval_layout_opens_with_a_lighteval_style_reader(evaluation, tmp_path):
    out, problems, counts = evaluation
    written = export_eval(out, ["lighteval"], tmp_path, now=dt.datetime(2026, 12, 1, 7, 30, 0))
    assert all(p.exists() for p in written["lighteval"])
    results, details = read_lighteval(tmp_path / "lighteval", "org/tiny-model")
    darl = json.loads((out / "eval.json").read_text())["benchmarks"]["aime24"]
    task = results["results"]["aime24|0"]
    assert task[f"avg@n:n={N}"] == pytest.approx(sum(counts) / (N * len(counts))) == darl["pass@1"]["mean"]
    assert task[f"avg@n:n={N}_stderr"] == darl["pass@1"]["stderr"]
    assert task[f"pass@k:k=1&n={N}"] == pytest.approx(darl["pass@1"]["mean"])
    assert results["results"]["all"][f"avg@n:n={N}"] == task[f"avg@n:n={N}"]
    assert set(results) == {"config_general", "results", "versions", "config_tasks", "summary_tasks", "summary_general"}
    rows = details["aime24|0"]
    assert rows.num_rows == 10 and set(rows.column_names) == {"doc", "metric", "model_response"}
    by_id = {r["doc"]["id"]: r for r in rows}
    for p, c in zip(problems, counts):
        row = by_id[p.id]
        assert row["doc"]["query"] == p.prompt and row["doc"]["choices"] == [p.answer]
        assert len(row["model_response"]["text"]) == N and row["metric"]["passed"] == c


def test_lm_eval_layout_opens_with_an_lm_eval_style_reader(evaluation, tmp_path):
    out, problems, counts = evaluation
    export_eval(out, ["lm-eval"], tmp_path)
    results, samples = read_lm_eval(tmp_path / "lm_eval")
    assert results["model_name"] == "org/tiny-model" and (tmp_path / "lm_eval" / "org__tiny-model").is_dir()
    entry = results["results"]["aime24"]
    assert entry["pass@1,none"] == pytest.approx(sum(counts) / (N * len(counts)))
    assert results["n-samples"]["aime24"]["effective"] == 10
    lines = samples["aime24"]
    assert len(lines) == 10 and all(len(line["resps"][0]) == N for line in lines)
    assert sorted(line["pass@1"] for line in lines) == sorted(c / N for c in counts)


def test_samples_parquet_has_one_row_per_sample_with_prompt_and_reference(evaluation, tmp_path):
    out, problems, counts = evaluation
    path = export_eval(out, ["parquet"], tmp_path)["parquet"][0]
    table = pq.read_table(path)
    assert table.num_rows == 10 * N
    rows = table.to_pylist()
    assert sum(r["passed"] for r in rows) == sum(counts)
    assert {r["reference"] for r in rows} == {p.answer for p in problems}


def test_unknown_format_and_a_file_as_output_folder_are_named_errors(evaluation, tmp_path):
    with pytest.raises(InputError, match="unknown export format 'lightevel'"):
        parse_formats(["parquet,lightevel"])
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        export_eval(evaluation[0], ["parquet"], tmp_path / "f")


def test_cli_export_and_eval_flags_fail_before_work(evaluation, tmp_path):
    from typer.testing import CliRunner

    from darl.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["export", str(evaluation[0]), "-f", "lighteval,parquet", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "samples.parquet").exists() and (tmp_path / "lighteval" / "results").is_dir()
    res = runner.invoke(app, ["eval", "no/such-model", "-b", "aime24", "-o", str(tmp_path / "e"), "--export", "csv"])
    assert res.exit_code != 0 and "unknown export format 'csv'" in str(res.exception)
    res = runner.invoke(app, ["eval", "no/such-model", "-b", "aime24", "-o", str(tmp_path / "e"), "--grader", "mv"])
    assert res.exit_code == 2 and "'mv' is not one of" in res.output  # a choice: usage error, listed in --help


def test_lighteval_model_folder_is_a_plain_path():
    """lighteval's results/<model>/ folder: `org/name` stays two folders, a local path its last two parts, and a
    darl model name such as `embedded:small` loses the colon some file systems refuse."""
    from darl.evaluation.export import lighteval_model_name

    assert lighteval_model_name("org/name") == "org/name"
    assert lighteval_model_name("/runs/exp/stage-2/final") == "stage-2/final"
    assert lighteval_model_name("embedded:small") == "embedded_small"
