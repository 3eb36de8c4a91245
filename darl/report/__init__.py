"""The run report: one self-contained HTML file (figures embedded as PNG, no server, no external assets) showing the
data and levels, the training curves per stage with why each stage ended, the zero-variance share, the online
difficulty estimates and the evaluation against the starting policy. It renders whatever the run directory holds."""

from __future__ import annotations

from pathlib import Path

from darl.report.collect import RunData, collect

REPORT_FILE = "report.html"


def write_report(run_dir: str | Path, out: str | Path | None = None, title: str | None = None) -> Path:
    """Render `run_dir` into `out` (default `run_dir/report.html`) and return the path written."""
    from darl.atomic import atomic_write_text
    from darl.errors import InputError
    from darl.report.render import render

    root = Path(run_dir)
    if not root.is_dir():
        raise InputError("no such run directory", path=root, hint="give the folder darl train or darl demo wrote")
    path = Path(out) if out is not None else root / REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render(collect(root), title=title or f"darl report: {root.resolve().name}")
    atomic_write_text(path, text)
    return path


__all__ = ["REPORT_FILE", "RunData", "collect", "write_report"]
