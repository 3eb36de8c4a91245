"""The run report: renders every part a run directory holds, says which parts are missing, never fails on them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from darl.errors import InputError
from darl.report import collect, write_report
from darl.report.series import global_steps, stage_spans
from report_fixtures import make_run


def images(html: str) -> int:
    return len(re.findall(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', html))


@pytest.fixture(scope="module")
def full_run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("report") / "run")


def test_full_run_renders_every_section_self_contained(full_run: Path) -> None:
    run = full_run
    path = write_report(run)
    assert path == run / "report.html"
    html = path.read_text()
    # one file: no scripts, no external resources of any kind
    assert "<script" not in html and not re.search(r'(src|href)="(https?:|//|file:)', html)
    assert "<b>Missing:</b>" not in html and "Unreadable" not in html and "Missing: nothing." in html
    for heading in ("1. Data and levels", "2. Training, stage by stage", "3. Online difficulty estimates",
                    "4. Evaluation against the starting policy", "Zero-variance share over time"):
        assert heading in html
    # level table, proxy histograms, training curves, zero-variance, online (2), eval bars
    assert images(html) >= 6
    assert "plateau: no improvement over the last 3 validations" in html and "end.max_steps = 20" in html
    assert "Held-out greedy accuracy" in html and "42.0" in html
    # the proxy whose pass rates track the online estimates best is named, with its rank correlation
    assert re.search(r"<td class=\"l\">stage-1-level2</td><td class=\"l\">small</td><td>40</td>"
                     r"<td>\+0\.9", html)
    # the difference from the baseline, paired over the 20 problems, with its interval
    row = re.search(r"<td class=\"l\">embedded-math</td><td class=\"l\">eval/after</td><td>50.0</td>"
                    r".*?</tr>", html).group(0)
    assert "+20.0" in row and ">20<" in row
    assert "70.0% (+20.0)" in html  # headline card
    # level counts from the levels table: Level 3 has every fifth problem
    assert re.search(r"<td class=\"l\">Level 3</td><td>8</td><td>16</td><td>24</td>",
                     html)


def test_stage_ranges_from_restarting_counters_and_manifests(full_run: Path) -> None:
    run = collect(full_run)
    spans = stage_spans(run.metrics, run.manifests)
    assert [(s.name, s.start, s.end) for s in spans] == [("level2", 1, 30), ("level3", 31, 50)]
    assert spans[0].end_reason.startswith("plateau") and spans[1].end_reason == "reached end.max_steps = 20"
    # without metrics the manifests alone place the stages
    spans = stage_spans([], run.manifests)
    assert [(s.name, s.start, s.end) for s in spans] == [("level2", 1, 30), ("level3", 31, 50)]
    # per-stage step counters without a global step are laid end to end
    rows = [{"stage": "a", "step": 1}, {"stage": "a", "step": 2}, {"stage": "b", "step": 1}, {"stage": "b", "step": 2}]
    assert global_steps(rows) == [1, 2, 3, 4]
    spans = stage_spans(rows, [])
    assert [(s.name, s.start, s.end, s.end_reason) for s in spans] == [("a", 1, 2, None), ("b", 3, 4, None)]


def test_empty_run_says_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    html = write_report(tmp_path / "empty").read_text()
    assert images(html) == 0
    for missing in ("levels.parquet", "scores.parquet", "calibration", "metrics.jsonl", "eval.json",
                    "online difficulty files"):
        assert missing in html
    assert html.count("<b>Missing:</b>") >= 6


def test_partial_run_renders_what_is_present(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", levels=False, manifests=False, online=False)
    html = write_report(run, tmp_path / "elsewhere" / "r.html").read_text()
    assert "2. Training" in html and images(html) >= 3
    assert "no stage manifests" in html and "reasons are unknown" in html
    assert "levels.parquet" in html  # named as missing


def test_unreadable_files_are_reported_not_fatal(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", levels=False, online=False)
    (run / "eval" / "broken").mkdir()
    (run / "eval" / "broken" / "eval.json").write_text("{not json")
    (run / "levels.parquet").write_text("not parquet")
    with (run / "metrics.jsonl").open("a") as f:
        f.write("garbage\n" + json.dumps({"train/global_step": 51, "stage/index": 2, "train/reward": 0.4}) + "\n")
    html = write_report(run).read_text()
    assert html.count("Unreadable:") == 3
    assert "broken/eval.json" in html and "levels.parquet" in html and "metrics.jsonl: line" in html


def test_missing_run_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such run directory"):
        write_report(tmp_path / "nope")


def test_every_embedded_figure_decodes_to_a_drawn_png(full_run: Path) -> None:
    """Each figure is a whole PNG that decodes (no browser needed): the signature, the image data, a sensible size
    and something drawn on it (not one flat colour). A corrupted or truncated figure fails here, not only in the
    slow browser test."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    html = write_report(full_run).read_text()
    payloads = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([^"]*)"', html)
    assert len(payloads) == images(html) >= 6
    for alt, payload in payloads:
        data = base64.b64decode(payload, validate=True)
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82"), alt
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decodes every chunk: a truncated or garbled stream raises here
            pixels = np.asarray(image.convert("L"), dtype=float)
        assert pixels.shape[0] >= 100 and pixels.shape[1] >= 200, (alt, pixels.shape)
        assert pixels.std() > 1.0, f"{alt}: a blank figure"
        assert alt.strip(), "every figure has alt text"


def test_calibration_numbers_show_as_a_matrix_and_a_per_model_table():
    from darl.report.render import calibration_tables

    scalars = {"levels/agreement/spearman/large/small": 0.64, "levels/model/small/mean_pass_rate": 0.19,
               "levels/model/small/truncation_rate": 0.003, "levels/policy_fit/small/spearman": 0.9,
               "levels/policy_pass_rate/level2/math": 0.22, "levels/count/level2/math": 429, "levels/new/key": 7}
    html = "\n".join(calibration_tables(scalars))
    # the matrix is symmetric: the one pair fills both off-diagonal cells
    assert html.count("<td>0.64</td>") == 2 and html.count("<td>1</td>") == 2
    assert "<td>0.190</td><td>0.003</td><td>0.900</td><td>-</td>" in html  # small's row, absent fit stats as "-"
    assert "<td>0.22</td>" in html
    assert "levels/new/key" in html and "levels/count" not in html  # an unknown key is listed, counts are elsewhere
