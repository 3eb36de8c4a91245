"""`darl bootstrap` prints where the models are, their sizes and where the family came from: copied from the build
shipped with darl, or a build made on some machine (`--from-source`), each read from a cache of its own here."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from darl.errors import InputError


def _bootstrap(*args: str):
    from darl.cli.main import app

    return CliRunner().invoke(app, ["bootstrap", "--preset", "default", *args])


def test_bootstrap_command_reports_the_family(tmp_path):
    result = _bootstrap("--cache-dir", str(tmp_path))  # an empty cache: the shipped build is copied in
    assert result.exit_code == 0, result.output
    for role in ("small", "medium", "large", "filter"):
        assert role in result.output
    assert "the build shipped with darl" in result.output and "DeepSeek-R1" in result.output
    refused = _bootstrap("--cache-dir", str(tmp_path), "--from-source")  # (the CLI's main turns it into exit status 3)
    assert isinstance(refused.exception, InputError) and "shipped with darl" in str(refused.exception)
    assert "--cache-dir" in str(refused.exception)
    # a family this cache holds from a build of its own (a manifest without "origin") is reported as reused
    manifest = next(p for p in tmp_path.glob("default-*") if p.is_dir()) / "manifest.json"  # not the .lock file
    data = json.loads(manifest.read_text())
    del data["origin"]
    manifest.write_text(json.dumps(data))
    again = _bootstrap("--cache-dir", str(tmp_path), "--from-source")
    assert again.exit_code == 0 and "reused the cached build" in again.output, again.output


def test_bootstrap_command_rejects_unknown_preset():
    from darl.cli.main import EXIT_USAGE, app

    result = CliRunner().invoke(app, ["bootstrap", "--preset", "huge"])  # a choice: refused by click, listed in --help
    assert result.exit_code == EXIT_USAGE and "--preset" in result.output and "'default'" in result.output
