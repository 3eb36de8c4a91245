"""`darl verify` keeps order and fields for any input: hypothesis writes math rows with arbitrary ids, extra fields
(nested values, unicode), right and wrong answers, malformed lines and blank lines in between, and batch sizes that
cut the file anywhere; every output line is its input row, in order, with exactly score/passed/error added."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from darl.cli.main import app

ADDED = {"score", "passed", "error"}
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=6)


@st.composite
def math_row(draw):
    value = draw(st.integers(0, 30))
    guess = draw(st.sampled_from([value, value + 1]))
    row = {"id": draw(st.text(min_size=1, max_size=10)), "domain": "math", "answer": str(value),
           "response": f"so it is \\boxed{{{guess}}}"}
    extra = draw(st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda k: k not in row and k not in ADDED),
                                 json_values, max_size=3))
    return row | extra


rows_strategy = st.lists(st.one_of(math_row(), math_row(), st.just("not json {"), st.just("")), min_size=1,
                         max_size=12)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows_strategy, st.integers(1, 5))
def test_verify_keeps_every_row_in_order_with_its_fields(tmp_path_factory, rows, batch_size):
    folder = tmp_path_factory.mktemp("verify")
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    (folder / "in.jsonl").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["verify", str(folder / "in.jsonl"), "-o", str(folder / "out.jsonl"),
                                      "--workers", "1", "--batch-size", str(batch_size)])
    assert result.exit_code == 0, result.output
    # JSON Lines are split on "\n" only: str.splitlines would also split inside a string holding U+0085 or U+2028
    out = [json.loads(line) for line in (folder / "out.jsonl").read_text(encoding="utf-8").split("\n") if line]
    given_rows = [(n, r) for n, r in enumerate(rows, start=1) if r != ""]  # a blank line is no row
    assert len(out) == len(given_rows)
    for (line, given_row), got in zip(given_rows, out):
        assert ADDED <= set(got)
        if isinstance(given_row, dict):
            assert {k: v for k, v in got.items() if k not in ADDED} == given_row
            right = given_row["response"] == f"so it is \\boxed{{{given_row['answer']}}}"
            assert (got["score"], got["passed"]) == ((1.0, True) if right else (0.0, False))
        else:  # not JSON: kept with its line number, graded 0 with a reason
            assert got["input"] == given_row and got["line"] == line
            assert got["score"] == 0 and got["passed"] is False and "not valid JSON" in got["error"]
