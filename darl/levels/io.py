"""Write the levels file that `darl train` reads, and the list of dropped problems, from a level assignment.

The file format, its writer and its reader are `darl.artifacts.levels`; this module only unpacks a
`LevelAssignment` for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from darl.artifacts import levels as levels_file
from darl.artifacts.levels import dropped_path, read_level_names  # noqa: F401 (kept importable from here)
from darl.levels.assign import LevelAssignment
from darl.records import Problem


def write_levels(assignment: LevelAssignment, problems: Sequence[Problem], path: str | Path) -> Path:
    return levels_file.write_levels(path, assignment.kept, problems, assignment.level_names,
                                    dict(assignment.config.roles), assignment.config.to_dict(), assignment.dropped)
