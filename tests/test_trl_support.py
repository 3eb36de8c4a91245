"""The TRL members darl's trainer relies on exist in the installed TRL (CI runs this at both ends of the pinned
range: `make test` has the newest, scripts/test_trl_lower.sh the oldest)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import trl

from darl.training.trl_support import TESTED_TRL, missing_trl_members


def test_installed_trl_has_every_member_darl_uses():
    assert missing_trl_members() == [], f"trl {trl.__version__}"


def test_pyproject_pins_the_tested_range_and_uses_trl_extras():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    spec = f"trl>={TESTED_TRL[0]},<{TESTED_TRL[1]}"
    assert spec in project["dependencies"]
    extras = project["optional-dependencies"]
    assert extras["vllm"] == [spec.replace("trl", "trl[vllm]", 1)]
    assert extras["deepspeed"] == [spec.replace("trl", "trl[deepspeed]", 1)]
    version = tuple(int(x) for x in re.findall(r"\d+", trl.__version__)[:2])
    low, high = (tuple(int(x) for x in v.split(".")[:2]) for v in TESTED_TRL)
    assert low <= version < high
