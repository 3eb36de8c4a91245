"""Bad training inputs fail before anything is written, with an error that names the file, the recipe field and
what the file does have: an empty levels file, a recipe naming a level or domain the file lacks, and a stream left
without training problems by the held-out split."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from darl.errors import InputError
from darl.records import Problem
from darl.training.data import _rank, heldout_split, load_levels, stage_data
from darl.training.recipe import parse_recipe


def write_levels(path: Path, levels_of: dict[str, list[int]]) -> Path:
    rows = []
    for pid, levels in levels_of.items():
        row = Problem(id=pid, domain="math", prompt=f"What is {pid}?", answer="1").to_row()
        row["levels"] = levels
        rows.append(row)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def recipe(mix: str, per_component: int = 1, second: str | None = None):
    stages = f"""
  - name: first
    mix: {mix}
    end: {{max_steps: 2}}"""
    if second is not None:
        stages += f"""
  - name: second
    mix: {second}
    end: {{max_steps: 2}}"""
    return parse_recipe(f"""
name: bad-inputs
model: some/model
validation: {{per_component: {per_component}}}
stages:{stages}
""")


def test_a_levels_file_with_no_rows(tmp_path):
    empty = pa.Table.from_pylist([], schema=pa.schema([("id", pa.string()), ("levels", pa.list_(pa.int64()))]))
    pq.write_table(empty, tmp_path / "levels.parquet")
    with pytest.raises(InputError, match="levels.parquet: the levels file has no rows"):
        load_levels(tmp_path / "levels.parquet")


def test_a_recipe_naming_a_level_the_file_lacks(tmp_path):
    path = write_levels(tmp_path / "levels.parquet", {f"p{i}": [1 + i % 2] for i in range(6)})
    items = load_levels(path)
    with pytest.raises(InputError) as caught:
        heldout_split(recipe("[{domain: math, level: 1}]", second="[{domain: math, level: 3}]"), items, path)
    text = str(caught.value)
    assert "levels.parquet" in text and "field 'stages.1.mix.0'" in text and "stage 'second'" in text
    assert "names level 3 (math/L3), which no math problem in the levels file carries (math has L1: 3, L2: 3)" in text


def test_a_recipe_naming_a_domain_the_file_lacks(tmp_path):
    path = write_levels(tmp_path / "levels.parquet", {f"p{i}": [1] for i in range(4)})
    with pytest.raises(InputError) as caught:
        heldout_split(recipe("[{domain: math, level: 1}, {domain: code, level: 1}]"), load_levels(path), path)
    text = str(caught.value)
    assert "field 'stages.0.mix.1'" in text and "asks for code problems (code/L1)" in text
    assert "it has math: 4 problems" in text


def test_a_stream_with_no_problems_left_for_training(tmp_path):
    """Level 2 has exactly as many problems as are held out: nothing would be left to train on."""
    path = write_levels(tmp_path / "levels.parquet", {"a": [1], "b": [1], "c": [1, 2], "d": [2]})
    with pytest.raises(InputError) as caught:
        heldout_split(recipe("[{domain: math, level: 1}, {domain: math, level: 2}]", per_component=2),
                      load_levels(path), path)
    assert "field 'stages.0.mix.1'" in str(caught.value) and "math/L2 has 2 problem(s), not more than the 2 held out" \
        in str(caught.value)


def test_a_stream_emptied_by_another_stages_held_out_problems(tmp_path):
    """Levels overlap and held-out problems leave training in every stage: stage 1 holds out `a` (level 1 and 2),
    stage 2 holds out `b`, and level 2 has nothing left to train on."""
    r = recipe("[{domain: math, level: 1}]", per_component=1, second="[{domain: math, level: 2}]")
    b, a, c = sorted((f"p{i}" for i in range(10)), key=lambda pid: _rank(r.seed, pid))[:3]  # rank b < a < c
    path = write_levels(tmp_path / "levels.parquet", {a: [1, 2], b: [2], c: [1]})
    items = load_levels(path)
    split = heldout_split(r, items, path)
    assert split.heldout_ids == {a, b}
    assert [row["problem_id"] for row in stage_data(r, 0, items, split, path).rows] == [c]
    with pytest.raises(InputError, match=r"field 'stages.1.mix.0'.*math/L2 has no training problems left"):
        stage_data(r, 1, items, split, path)
