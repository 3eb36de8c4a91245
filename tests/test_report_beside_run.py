"""`darl report RUN_DIR` finds the levels, scores and calibration files that sit beside the run (the README's
layout: levels.parquet and scores/ in the run's parent folder) or where the stage manifests say the levels came from,
and the run's own files still win."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from darl.report import collect, write_report
from report_fixtures import make_run


def _move_levels_out(run: Path, folder: Path) -> None:
    """Put the levels, scores and calibration files of a fixture run where darl levels / darl score write them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scores").mkdir(exist_ok=True)
    shutil.move(run / "levels.parquet", folder / "levels.parquet")
    shutil.move(run / "scores.parquet", folder / "scores" / "scores.parquet")
    shutil.move(run / "calibration.json", folder / "levels.summary.json")
    (folder / "levels.report.html").write_text("<html>calibration</html>")


def _record_levels_file(run: Path, levels_file: Path) -> None:
    for manifest in run.glob("stage-*/manifest.json"):
        data = json.loads(manifest.read_text())
        data["data"] = {"levels_file": str(levels_file)}
        manifest.write_text(json.dumps(data))


def test_levels_and_scores_in_the_runs_parent_folder(tmp_path):
    run = make_run(tmp_path / "work" / "run")
    _move_levels_out(run, tmp_path / "work")
    data = collect(run)
    assert data.levels is not None and len(data.levels) == 120 and len(data.scores) == 360
    assert data.sources == {"levels": tmp_path / "work" / "levels.parquet",
                            "scores": tmp_path / "work" / "scores" / "scores.parquet",
                            "calibration": tmp_path / "work" / "levels.summary.json"}
    html = write_report(run).read_text()
    assert "no <code>levels.parquet</code>" not in html and "Missing: nothing." in html
    assert '<a href="../levels.report.html">' in html  # the report sits in run/, the calibration beside it
    assert "Read from beside the run directory" in html


def test_the_levels_file_the_manifests_record_wins_over_the_parent_folder(tmp_path):
    run = make_run(tmp_path / "work" / "run")
    elsewhere = tmp_path / "data" / "math"
    _move_levels_out(run, elsewhere)
    (elsewhere / "levels.parquet").rename(elsewhere / "math_levels.parquet")
    (elsewhere / "levels.summary.json").rename(elsewhere / "math_levels.summary.json")
    (tmp_path / "work" / "levels.parquet").write_bytes(b"not this one")
    _record_levels_file(run, elsewhere / "math_levels.parquet")
    data = collect(run)
    assert data.sources["levels"] == elsewhere / "math_levels.parquet" and len(data.levels) == 120
    assert data.sources["scores"] == elsewhere / "scores" / "scores.parquet"
    assert data.sources["calibration"] == elsewhere / "math_levels.summary.json"
    assert data.problems == []  # the parent's unreadable levels.parquet was never needed


def test_files_inside_the_run_win_and_a_recorded_file_that_is_gone_is_said(tmp_path):
    run = make_run(tmp_path / "work" / "run")
    shutil.copy(run / "levels.parquet", tmp_path / "work" / "levels.parquet")
    data = collect(run)
    assert data.sources["levels"] == run / "levels.parquet"

    bare = make_run(tmp_path / "other" / "run", levels=False)
    _record_levels_file(bare, tmp_path / "gone" / "levels.parquet")
    data = collect(bare)
    assert data.levels is None
    assert data.problems == [f"{tmp_path / 'gone' / 'levels.parquet'}: the levels file the stage manifests record "
                             "is gone"]


def test_one_scores_file_per_model_is_read_as_one_table(tmp_path):
    """The README scores each proxy in its own job: scores/<model>/scores.parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    run = make_run(tmp_path / "work" / "run")
    _move_levels_out(run, tmp_path / "work")
    rows = pq.read_table(tmp_path / "work" / "scores" / "scores.parquet").to_pylist()
    (tmp_path / "work" / "scores" / "scores.parquet").unlink()
    for model in ("small", "medium", "large"):
        (tmp_path / "work" / "scores" / model).mkdir()
        pq.write_table(pa.Table.from_pylist([r for r in rows if r["model"] == model]),
                       tmp_path / "work" / "scores" / model / "scores.parquet")
    data = collect(run)
    assert len(data.scores) == 360 and {r["model"] for r in data.scores} == {"small", "medium", "large"}
    assert data.sources["scores"] == tmp_path / "work" / "scores" / "*" / "scores.parquet"
