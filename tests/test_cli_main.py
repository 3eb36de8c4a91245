"""The `darl` command itself: --version, commands in pipeline order, exit status with one meaning each, a user error
as one line without a traceback (an output path that is a folder), every warning once."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from darl.cli.main import EXIT_USAGE, EXIT_USER_ERROR, PIPELINE_ORDER, app, configure_logging


def _darl(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "darl", *args], capture_output=True, text=True, timeout=timeout)


def test_version_and_pipeline_order_in_help():
    from darl import __version__

    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"darl {__version__}"
    text = CliRunner().invoke(app, ["--help"]).output
    import re

    listed = re.findall(r"^│ ([a-z][a-z-]+) ", text.split("Commands")[1], flags=re.M)
    assert listed == list(PIPELINE_ORDER)
    assert "Exit status" in text


def test_exit_codes_usage_vs_user_error(tmp_path):
    assert _darl("data", "--no-such-option").returncode == EXIT_USAGE
    folder = tmp_path / "out"
    folder.mkdir()
    (tmp_path / "p.jsonl").write_text('{"id": "a", "domain": "math", "prompt": "1+1?", "answer": "2"}\n')
    run = _darl("recipe", "from-open-r1", str(tmp_path / "p.jsonl"), "-o", str(folder))
    assert run.returncode == EXIT_USER_ERROR
    assert "is a folder" in run.stderr and "Traceback" not in run.stderr


def test_every_warning_once(capsys):
    configure_logging("warning")
    log = logging.getLogger("darl.test")
    for _ in range(3):
        log.warning("the same thing")
    log.warning("another thing")
    err = capsys.readouterr().err
    assert err.count("the same thing") == 1 and err.count("another thing") == 1


def test_data_checks_everything_before_loading(tmp_path):
    src = str(Path(__file__).resolve().parents[1] / "darl/benchmarks/data/aime2024/test.jsonl")
    run = _darl("data", f"bogus:{src}", "-o", str(tmp_path / "x.parquet"))
    assert run.returncode == EXIT_USER_ERROR and "unknown format 'bogus'" in run.stderr and "no such file" not in run.stderr
    run = _darl("data", src, "-b", "nosuch", "-o", str(tmp_path / "x.parquet"))
    assert run.returncode == EXIT_USER_ERROR and "unknown benchmark 'nosuch'" in run.stderr
    assert "load sources" not in run.stderr + run.stdout  # refused before any source was read
    run = _darl("data", src, "-o", str(tmp_path))
    assert run.returncode == EXIT_USER_ERROR and "is a folder" in run.stderr and "Traceback" not in run.stderr


def test_output_flag_everywhere_with_the_old_spelling_hidden():
    runner = CliRunner()
    for command in ("demo", "report", "compare"):
        text = runner.invoke(app, [command, "--help"]).output
        assert "--output" in text and "--out " not in text, command
    res = runner.invoke(app, ["compare", "spec.yaml"])
    assert res.exit_code == EXIT_USAGE and "--output" in res.output
    res = runner.invoke(app, ["compare", "spec.yaml", "-o", "a", "--out", "b"])
    assert res.exit_code == EXIT_USAGE and "given twice" in res.output
    assert "<default>" in runner.invoke(app, ["bootstrap", "--help"]).output  # presets listed
