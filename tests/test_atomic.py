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


def test_a_folder_is_published_whole_or_not_at_all(tmp_path: Path) -> None:
    from darl.atomic import atomic_folder

    final = tmp_path / "roles" / "small"
    with pytest.raises(RuntimeError, match="save died"):
        with atomic_folder(final) as tmp:
            (tmp / "config.json").write_text("{}")
            raise RuntimeError("save died")
    assert not final.exists() and list((tmp_path / "roles").iterdir()) == []
    with atomic_folder(final) as tmp:
        (tmp / "config.json").write_text("new")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "weights").write_bytes(b"w")
    assert (final / "config.json").read_text() == "new" and (final / "sub" / "weights").read_bytes() == b"w"
    with atomic_folder(final) as tmp:  # replace=True: a newer complete version replaces the older one
        (tmp / "config.json").write_text("newer")
    assert sorted(p.name for p in final.iterdir()) == ["config.json"] and (final / "config.json").read_text() == "newer"
    with atomic_folder(final, replace=False) as tmp:  # another process published first: its copy stays
        (tmp / "config.json").write_text("late")
    assert (final / "config.json").read_text() == "newer"
    assert sorted(p.name for p in (tmp_path / "roles").iterdir()) == ["small"]
