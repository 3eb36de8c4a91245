"""One command-line style: the same flag for the same thing in every command (old spellings still accepted, hidden),
choices listed in --help, `darl verify --fail-on-malformed` and `--column` for other tools' field names."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from darl.benchmarks.registry import BENCHMARKS
from darl.cli.main import EXIT_FAILURE, EXIT_USAGE, app

runner = CliRunner()


def _help(command: str) -> str:
    res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "220", "TERMINAL_WIDTH": "220"})
    assert res.exit_code == 0, res.output
    return res.output


def test_same_flags_for_the_same_things():
    for command in ("data", "score", "levels", "train", "eval", "export", "report", "verify", "demo", "compare"):
        assert "--output" in _help(command), command
    for command in ("score", "eval"):
        text = _help(command)
        for flag in ("--samples", "--max-new-tokens", "--backend", "--device", "--threads", "--dtype"):
            assert flag in text, (command, flag)
        assert "auto|transformers|vllm" in text and "float32|bfloat16|float16" in text
        assert "--max-tokens" not in text and "--out " not in text  # old spellings hidden
    eval_help = _help("eval")
    assert all(name in eval_help for name in BENCHMARKS)  # every packaged benchmark listed


def test_old_spellings_still_parse():
    res = runner.invoke(app, ["eval", "no/model", "-b", "aime24", "--out", "x", "--max-tokens", "8",
                              "--export", "csv"])
    assert res.exit_code != EXIT_USAGE and "unknown export format 'csv'" in str(res.exception)
    res = runner.invoke(app, ["eval", "no/model", "-b", "aime24", "--export", "csv"])
    assert res.exit_code == EXIT_USAGE and "--output" in res.output  # required, named by its current spelling
    res = runner.invoke(app, ["eval", "no/model", "-b", "aime24", "-o", "x", "--backend", "tpu"])
    assert res.exit_code == EXIT_USAGE and "tpu" in res.output


def test_verify_column_mapping_and_fail_on_malformed(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"domain": "math", "completion": "so \\boxed{4}", "solution": "4"}) + "\n"
                   + json.dumps({"domain": "math", "completion": "\\boxed{4}"}) + "\n")
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["verify", str(src), "-o", str(out), "--column", "response=completion",
                              "--column", "answer=solution"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["passed"] is True and "completion" in rows[0] and "response" not in rows[0]
    assert rows[1]["passed"] is False and "answer" in rows[1]["error"]  # no solution: malformed, named
    res = runner.invoke(app, ["verify", str(src), "-o", str(out), "--column", "response=completion",
                              "--column", "answer=solution", "--fail-on-malformed"])
    assert res.exit_code == EXIT_FAILURE and len(out.read_text().splitlines()) == 2
    res = runner.invoke(app, ["verify", str(src), "-o", str(out), "--column", "reply=completion"])
    assert res.exit_code == EXIT_USAGE and "'reply' is not a field" in res.output
