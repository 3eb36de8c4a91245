"""`darl bootstrap` prints where the models are, their sizes and the build time (here: the test run's cached build)."""

from __future__ import annotations

from typer.testing import CliRunner


def test_bootstrap_command_reports_the_family(embedded_family):
    from darl.cli.main import app

    cache = embedded_family.root.parent
    result = CliRunner().invoke(app, ["bootstrap", "--preset", "default", "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    for role in ("small", "medium", "large", "filter"):
        assert role in result.output
    assert "reused the cached build" in result.output and "DeepSeek-R1" in result.output


def test_bootstrap_command_rejects_unknown_preset():
    from darl.cli.main import EXIT_USAGE, app

    result = CliRunner().invoke(app, ["bootstrap", "--preset", "huge"])  # a choice: refused by click, listed in --help
    assert result.exit_code == EXIT_USAGE and "--preset" in result.output and "'default'" in result.output
