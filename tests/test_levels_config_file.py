"""A levels config is validated like a recipe (pydantic, darl.yaml_input): a mistake names the file, the YAML line
and the field; an empty file is the paper's defaults."""

from __future__ import annotations

import pytest

from darl.errors import InputError
from darl.levels.config import build_config, load_config


def test_a_bad_field_names_its_yaml_line(tmp_path):
    path = tmp_path / "levels.yaml"
    path.write_text("policy: p\nseed: 3\nlevel3_keep_share:\n  math: 1.5\n")
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert caught.value.line == 3 and caught.value.field == "level3_keep_share"
    assert "share must be a number in [0, 1]" in str(caught.value)
    path.write_text("seed: 3\nlevles: []\n")
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert caught.value.line == 2 and caught.value.field == "levles" and "unknown key" in str(caught.value)
    path.write_text("seed: true\n")
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert caught.value.line == 1 and caught.value.field == "seed"


def test_an_empty_file_is_the_papers_defaults(tmp_path):
    path = tmp_path / "levels.yaml"
    path.write_text("# nothing but a comment\n")
    assert {k: v for k, v in load_config(path).to_dict().items() if k != "source"} == \
        {k: v for k, v in build_config(None).to_dict().items() if k != "source"}
