"""The report's training-health section: named warnings with their step, and the plateau test's power per stage."""

from __future__ import annotations

from pathlib import Path

from darl.report.collect import RunData
from darl.report.health_section import section_health


def test_health_section_names_warnings_and_plateau_power():
    rows = [{"train/global_step": s, "train/entropy": 1.0 if s < 6 else 0.2, "train/kl": 0.01,
             "train/reward": 0.3} for s in range(1, 16)]
    manifest = {"name": "level2", "plateau_power": {"validation_problems": 24, "start_accuracy": 0.36,
                                                    "min_detectable_effect": 0.198}}
    html = section_health(RunData(root=Path("."), metrics=rows, manifests=[manifest]))
    assert "<b>entropy_collapse</b> from step 6" in html
    assert '<td class="l">level2</td><td>24</td><td>36.0</td><td>19.8</td>' in html
    healthy = section_health(RunData(root=Path("."), metrics=[{**r, "train/entropy": 1.0} for r in rows]))
    assert "No warning" in healthy
    assert section_health(RunData(root=Path("."))) == ""
