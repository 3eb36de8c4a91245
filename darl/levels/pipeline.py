"""The whole `darl levels` step: read the scores (and the problems they were made from), assign levels, write
the levels file, the dropped list and the calibration report."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from darl.artifacts.levels import dropped_path
from darl.artifacts.problems import read_problems
from darl.artifacts.scores import problems_for_scores, read_scores
from darl.errors import InputError
from darl.levels.assign import LevelAssignment, assign_levels
from darl.levels.calibration import Calibration, calibrate
from darl.levels.config import load_config
from darl.levels.io import write_levels
from darl.levels.report import write_report


def make_levels(scores_path: str | Path | Sequence[str | Path], output: str | Path, *,
                config_path: str | Path | None = None,
                problems_path: str | Path | None = None) -> tuple[LevelAssignment, Calibration, dict[str, Path]]:
    """Returns the assignment, its calibration numbers and the paths written (levels, dropped, md, html, ...).
    Several scores files are read as one table (for example the proxies at the evaluation temperature and the
    policy at its training temperature, scored separately); a (problem, model) pair in two of them is an error.
    Everything is checked (config names, scores, problems) before anything is written."""
    paths = [scores_path] if isinstance(scores_path, (str, Path)) else list(scores_path)
    if not paths:
        raise InputError("no scores file given")
    config = load_config(config_path)
    rows = []
    seen: dict[tuple[str, str], Path] = {}
    for path in map(Path, paths):
        for row in read_scores(path):
            key = (row["problem_id"], row["model"])
            if key in seen:
                raise InputError(f"problem {key[0]!r} of model {key[1]!r} is also in {seen[key]}", path=path,
                                 hint="give each scores file its own model names")
            seen[key] = path
            rows.append(row)
    assignment = assign_levels(rows, config)
    problems = read_problems(problems_path if problems_path is not None else problems_for_scores(paths[0]))
    levels_path = write_levels(assignment, problems, Path(output))
    calibration = calibrate(assignment, rows)
    written = write_report(calibration, config.to_dict(), levels_path)
    return assignment, calibration, {"levels": levels_path, "dropped": dropped_path(levels_path), **written}


__all__ = ["make_levels", "problems_for_scores"]
