"""The `darl` command. Each subcommand lives in its own module under `darl.cli` and only parses arguments,
calls the library and prints progress and a summary; the work is done in the pipeline modules."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="darl",
    help="Difficulty-aware staged RL for reasoning models: data -> score -> levels -> train -> eval -> report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# Subcommands register themselves on `app` when their module is imported here (one line per command).
from darl.cli import data_cmd  # noqa: E402,F401
from darl.cli import verify_cmd  # noqa: E402,F401
from darl.cli import demo_cmd, eval_cmd, report_cmd  # noqa: E402,F401
from darl.cli import train_cmd  # noqa: E402,F401
from darl.cli import levels_cmd, score_cmd  # noqa: E402,F401
from darl.cli import bootstrap_cmd  # noqa: E402,F401
from darl.cli import compare_cmd  # noqa: E402,F401
from darl.cli import recipe_cmd  # noqa: E402,F401
from darl.cli import export_cmd  # noqa: E402,F401


@app.callback()
def _root() -> None:
    """darl: difficulty-aware staged RL for reasoning models."""


def main() -> None:
    """Entry point: errors a user can fix are printed as one clear line (no traceback), exit status 2."""
    from darl.errors import DarlError

    try:
        app()
    except DarlError as exc:
        typer.secho(f"darl: error: {exc}", err=True, fg=typer.colors.RED)
        raise SystemExit(2) from None
