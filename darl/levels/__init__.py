"""`darl levels`: difficulty levels from proxy-model pass rates (method.md section 4) and a calibration report.

`config` holds the rules (the paper's by default, any other as conditions in YAML), `assign` applies them to a
scores table (pure and seeded), `io` writes the levels file training reads, `calibration` and `report` measure how
the levels and the proxies behave, `pipeline.make_levels` runs the whole step.
"""

from darl.levels.assign import LevelAssignment, assign_levels
from darl.levels.config import LevelsConfig, build_config, load_config

__all__ = ["LevelAssignment", "LevelsConfig", "assign_levels", "build_config", "load_config"]
