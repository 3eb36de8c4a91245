"""The report opens in a real headless browser (Chromium) and paints a non-blank page. Skips without Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from darl.report import write_report
from report_fixtures import make_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html: Path, png: Path, height: int = 4000) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--screenshot={png}",
         f"--window-size=1280,{height}", html.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, cwd=png.parent)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    import numpy as np
    from matplotlib.image import imread

    report = write_report(make_run(tmp_path / "run"))
    png = tmp_path / "report.png"
    result = screenshot(report, png)
    assert png.exists(), f"chromium wrote no screenshot: {result.stderr[-2000:]}"
    pixels = imread(png)[..., :3]
    assert pixels.shape[:2] == (4000, 1280)
    # not blank: a fair share of the page is ink, and it is not one flat colour
    non_white = (pixels < 0.95).any(axis=-1).mean()
    assert non_white > 0.05, f"only {non_white:.1%} of the page is not white"
    assert pixels.std() > 0.1
    # the plots painted: strongly coloured pixels (matplotlib's blue and red bars and lines) are present
    saturated = (pixels.max(axis=-1) - pixels.min(axis=-1)) > 0.4
    assert saturated.mean() > 0.005
