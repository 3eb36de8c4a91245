"""darl.jsonl: a torn last line is tolerated, a bad line elsewhere names file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darl.errors import InputError
from darl.jsonl import read_json_lines
from darl.training.metrics import read_jsonl, truncate_jsonl


def test_whole_file_keeps_line_numbers_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n\n[2]\n"x"\r\n', encoding="utf-8")
    got = read_json_lines(path)
    assert got.rows == [(1, {"a": 1}), (3, [2]), (4, "x")]
    assert got.values == [{"a": 1}, [2], "x"]
    assert not got.torn_tail


@pytest.mark.parametrize("tail", ['{"a": 2, "b', '{"a": 2, "b\n', '{"a": 2, "b\n\n  \n'])
def test_torn_last_line_is_left_out(tmp_path: Path, tail: str) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n' + tail, encoding="utf-8")
    got = read_json_lines(path)
    assert got.rows == [(1, {"a": 1})] and got.torn_tail


def test_bad_line_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"a": 3}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"a\.jsonl, line 2: not valid JSON .*\(fix it\)") as caught:
        read_json_lines(path, hint="fix it")
    assert caught.value.line == 2 and Path(caught.value.path) == path
    seen: list[InputError] = []
    got = read_json_lines(path, on_bad_line=seen.append)
    assert got.values == [{"a": 1}, {"a": 3}] and not got.torn_tail
    assert [e.line for e in seen] == [2]


def test_line_separators_inside_values_do_not_split_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    value = {"text": "one\u2028two\x85three\x1cfour"}
    path.write_text(json.dumps(value, ensure_ascii=False) + "\n", encoding="utf-8")
    assert read_json_lines(path).values == [value]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("", encoding="utf-8")
    assert read_json_lines(path).rows == [] and not read_json_lines(path).torn_tail
    with pytest.raises(FileNotFoundError):
        read_json_lines(tmp_path / "missing.jsonl")
    assert read_jsonl(tmp_path / "missing.jsonl") == []


def test_truncate_jsonl_drops_a_torn_tail_so_appending_continues_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": i}) + "\n" for i in range(4)) + '{"step": 4, "lo')
    truncate_jsonl(path, lambda r: r["step"] < 3)
    with path.open("a") as handle:
        handle.write(json.dumps({"step": 3}) + "\n")
    assert read_jsonl(path) == [{"step": i} for i in range(4)]
