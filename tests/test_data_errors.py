"""Malformed input never vanishes: an InputError names the file, the line (JSON Lines) or row, and the field; with
skip_invalid every bad row is kept as a SkippedRow with its position, field, reason and content."""

from __future__ import annotations

import json

import pytest

from darl.data.io import read_problems
from darl.data.loaders import load_problems, load_source
from darl.errors import InputError

GOOD = {"problem": "What is 1+1?", "answer": "2"}


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_jsonl_missing_field_names_line_and_field(tmp_path):
    path = write_lines(tmp_path / "train.jsonl", [json.dumps(GOOD), "", json.dumps({"problem": "No answer?",
                                                                                    "answer": None})])
    with pytest.raises(InputError) as error:
        load_problems(path, "math")
    text = str(error.value)
    assert f"{path}, line 3, field 'answer'" in text and "--skip-invalid" in text
    assert error.value.line == 3 and error.value.field == "answer"


def test_jsonl_broken_json_names_line(tmp_path):
    path = write_lines(tmp_path / "broken.jsonl", [json.dumps(GOOD), '{"problem": "cut off', json.dumps(GOOD)])
    with pytest.raises(InputError, match=r"line 2: not valid JSON"):
        load_problems(path)


def test_json_array_names_row(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([GOOD, {"problem": "", "answer": "3"}]))
    with pytest.raises(InputError, match=r"rows.json, row 2, field 'problem'"):
        load_problems(path)


def test_parquet_names_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([GOOD, GOOD | {"answer": ""}]), path)
    with pytest.raises(InputError, match=r"rows.parquet, row 2, field 'answer'"):
        load_problems(path)


def test_code_rows_name_their_field(tmp_path):
    row = {"question_id": "q1", "question_content": "Print 1.", "public_test_cases": "[]", "testtype": "stdin"}
    path = write_lines(tmp_path / "lcb.jsonl", [json.dumps(row)])
    with pytest.raises(InputError, match=r"line 1, field 'public_test_cases': no public test"):
        load_problems(path)
    functional = row | {"public_test_cases": json.dumps([{"input": "1", "output": "1", "testtype": "functional"}]),
                        "func_name": None}
    path = write_lines(tmp_path / "lcb2.jsonl", [json.dumps(functional)])
    with pytest.raises(InputError, match=r"field 'func_name'"):
        load_problems(path)
    mbpp = {"text": "Write f.", "code": "def f(): pass", "task_id": 1, "test_list": ["f() == 1"]}
    path = write_lines(tmp_path / "mbpp.jsonl", [json.dumps(mbpp)])
    with pytest.raises(InputError, match=r"field 'test_list\[0\]': not an assert"):
        load_problems(path)


def test_duplicate_ids_within_a_source(tmp_path):
    rows = [{"id": 7, "problem": "A?", "answer": "1"}, {"id": 7, "problem": "B?", "answer": "2"}]
    path = write_lines(tmp_path / "dup.jsonl", [json.dumps(r) for r in rows])
    with pytest.raises(InputError, match=r"line 2, field 'id': id 'dup/7' already used by .*line 1"):
        load_problems(path)


def test_skip_mode_keeps_every_bad_row(tmp_path, caplog):
    lines = [json.dumps(GOOD), "not json", json.dumps({"problem": "x?"}), json.dumps([1, 2]),
             json.dumps(GOOD | {"problem": "What is 2+2?", "answer": 4})]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    loaded = load_source(path, "math", skip_invalid=True)
    assert [p.answer for p in loaded.problems] == ["2", "4"]
    assert loaded.rows_read == 5
    assert [(s.number, s.field) for s in loaded.skipped] == [(2, None), (3, "answer"), (4, None)]
    assert loaded.skipped[0].row == "not json" and loaded.skipped[1].row == {"problem": "x?"}
    assert json.loads(json.dumps(loaded.skipped[1].to_json()))["line"] == 3
    assert len(load_problems(path, "math", skip_invalid=True)) == 2
    assert "skipped 3 of 5 rows" in caplog.text


def test_read_problems_rejects_other_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "other.parquet"
    pq.write_table(pa.Table.from_pylist([GOOD]), path)
    with pytest.raises(InputError, match="not a darl problems file"):
        read_problems(path)
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": "a", "domain": "math", "prompt": "p", "answer": None,
                                          "tests": None, "source": "", "metadata": "{}"}]), bad)
    with pytest.raises(InputError, match=r"bad.parquet, row 1.*answer"):
        read_problems(bad)


def test_undetectable_first_row(tmp_path):
    path = write_lines(tmp_path / "odd.jsonl", [json.dumps({"text": "?"}), json.dumps(GOOD)])
    with pytest.raises(InputError, match=r"odd.jsonl, line 1: cannot tell the format from the columns \['text'\]"):
        load_problems(path)
    loaded = load_source(path, skip_invalid=True)
    assert loaded.format == "math" and len(loaded.problems) == 1 and loaded.skipped[0].number == 1
