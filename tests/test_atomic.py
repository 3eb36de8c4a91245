"""darl.atomic: a replaced file is the old one or the new one, never part, and a failed write leaves no debris."""

from __future__ import annotations

from pathlib import Path

import pytest

from darl.atomic import atomic_replace, atomic_write_text


def test_success_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "eval.json"
    path.write_text("old")
    atomic_write_text(path, "new \u2028")
    assert path.read_text(encoding="utf-8") == "new \u2028"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval.json"]


def test_an_error_while_writing_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="writer died"):
        with atomic_replace(path) as tmp:
            tmp.write_text("half of the new")
            assert tmp.parent == path.parent and tmp.name.startswith(".")
            raise RuntimeError("writer died")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.parquet"]
