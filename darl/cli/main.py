"""The `darl` command. Each subcommand lives in its own module under `darl.cli` and only parses arguments,
calls the library and prints progress and a summary; the work is done in the pipeline modules.

Exit status, one meaning each (`EXIT_*` below, also in `darl --help`):
0 done; 1 failure (the work ran and failed: a crash, with its traceback, or a check that did not pass, such as a
preflight that does not fit or `darl verify --fail-on-malformed`); 2 usage error (an unknown option, a bad option
value: click's own code, with the usage line); 3 user error (a file, row or field that cannot be used: one line
naming it and what to do, no traceback).
"""

from __future__ import annotations

import enum
import inspect
import logging
import warnings
from typing import Optional

import click
import typer
from typer.core import TyperGroup

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_USER_ERROR = 0, 1, 2, 3
LOG_LEVELS = ("debug", "info", "warning", "error")
LogLevel = enum.Enum("LogLevel", {name: name for name in LOG_LEVELS}, type=str)

# `darl --help` lists the commands in the pipeline's order, then the tools (Typer would put command groups last).
PIPELINE_ORDER = ("data", "bootstrap", "score", "score-merge", "levels", "recipe", "train", "eval", "export",
                  "compare", "report", "verify", "demo")


class _PipelineOrder(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        return [n for n in PIPELINE_ORDER if n in names] + [n for n in names if n not in PIPELINE_ORDER]

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        # `darl --help` lists each command's first docstring paragraph; typer's rich help keeps the docstring's line
        # breaks there, which cut sentences mid-line, so the listing gets the paragraph as one line
        command = super().get_command(ctx, cmd_name)
        if command is not None and command.short_help is None and command.help:
            command.short_help = " ".join(inspect.cleandoc(command.help).split("\n\n")[0].split())
        return command


app = typer.Typer(
    name="darl",
    cls=_PipelineOrder,
    help="Difficulty-aware staged RL for reasoning models: data -> score -> levels -> train -> eval -> report.",
    epilog="Exit status: 0 done, 1 failure, 2 usage error, 3 user error (bad input file, row or field).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# Subcommands register themselves on `app` when their module is imported here (one line per command module).
from darl.cli import data_cmd  # noqa: E402,F401
from darl.cli import bootstrap_cmd  # noqa: E402,F401
from darl.cli import score_cmd  # noqa: E402,F401  (score, score-merge)
from darl.cli import levels_cmd  # noqa: E402,F401
from darl.cli import recipe_cmd  # noqa: E402,F401
from darl.cli import train_cmd  # noqa: E402,F401
from darl.cli import eval_cmd  # noqa: E402,F401
from darl.cli import export_cmd  # noqa: E402,F401
from darl.cli import compare_cmd  # noqa: E402,F401
from darl.cli import report_cmd  # noqa: E402,F401
from darl.cli import verify_cmd  # noqa: E402,F401
from darl.cli import demo_cmd  # noqa: E402,F401


class _OncePerMessage(logging.Filter):
    """Every warning once: a message already shown (same logger, level and text) is not repeated."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def configure_logging(level: str) -> None:
    """darl's log lines on stderr as `darl: LEVEL: message`; Python warnings shown once per message."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("darl: %(levelname)s: %(name)s: %(message)s"))
    handler.addFilter(_OncePerMessage())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_darl", False)]:
        root.removeHandler(old)
    handler._darl = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    logging.captureWarnings(True)
    warnings.simplefilter("once")
    from darl.training.trl_support import quiet_upstream_renames

    quiet_upstream_renames()  # after simplefilter, which would otherwise take precedence over it


def _version(value: bool) -> None:
    if value:
        from darl import __version__

        typer.echo(f"darl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                           help="Print darl's version and exit."),
    log_level: LogLevel = typer.Option(LogLevel.warning, "--log-level", case_sensitive=False,
                                       help="Least severe log messages shown (debug also shows the traceback "
                                       "behind a user error)."),
) -> None:
    """darl: difficulty-aware staged RL for reasoning models."""
    configure_logging(log_level.value)


def main() -> None:
    """Entry point: a user error is one line naming what and where (exit 3); see the module docstring."""
    from darl.errors import DarlError

    try:
        app()
    except DarlError as exc:
        _user_error(str(exc), exc)
    except (IsADirectoryError, NotADirectoryError, FileNotFoundError, FileExistsError, PermissionError) as exc:
        # a path the user gave that cannot be used (an output path that is a folder, a missing input)
        where = f"{exc.filename}: " if exc.filename else ""
        _user_error(f"{where}{exc.strerror or exc}", exc)


def _user_error(message: str, exc: BaseException) -> None:
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("darl").debug("user error", exc_info=exc)
    typer.secho(f"darl: error: {message}", err=True, fg=typer.colors.RED)
    raise SystemExit(EXIT_USER_ERROR) from None
