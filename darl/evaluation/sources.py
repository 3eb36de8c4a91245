"""Which problems an evaluation runs on: a packaged benchmark by name (`darl.benchmarks`), an embedded suite, or a
local problems file in any format `darl data` reads. Names resolve in that order; a path that exists is a file.

LiveCodeBench takes the contest-date window (`--lcb-window 2024-08-01:2025-01-31`, the paper's likely window and the
registry's default), difficulty and platform filters. `limit` keeps the first N problems of each set (a quick look,
recorded in eval.json so a partial number is never mistaken for the full benchmark).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from darl.errors import InputError
from darl.records import Problem

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_window(text: str) -> tuple[str | None, str | None]:
    """'START:END' with YYYY-MM-DD dates, either side may be empty for an open end."""
    if text.count(":") != 1:
        raise InputError(f"{text!r} is not START:END", field="--lcb-window", hint="e.g. 2024-08-01:2025-01-31")
    start, end = (part.strip() or None for part in text.split(":"))
    for value in (start, end):
        if value is not None and not _DATE.match(value):
            raise InputError(f"{value!r} is not a YYYY-MM-DD date", field="--lcb-window")
    if start and end and start > end:
        raise InputError(f"the window starts ({start}) after it ends ({end})", field="--lcb-window")
    return start, end


def _embedded_suite(name: str) -> list[Problem] | None:
    """An embedded suite by name, or None when `name` is not one (or darl.embedded offers no suites)."""
    try:
        from darl import embedded
    except ImportError:
        return None
    loader = getattr(embedded, "load_suite", None)
    names = getattr(embedded, "suite_names", None)
    if loader is None or names is None or name not in names():
        return None
    return list(loader(name))


def benchmark_choices() -> list[str]:
    from darl.benchmarks.registry import benchmark_names

    choices = list(benchmark_names())
    try:
        from darl import embedded

        choices += list(getattr(embedded, "suite_names", lambda: [])())
    except ImportError:
        pass
    return choices


def resolve_benchmark(spec: str, *, lcb_window: tuple[str | None, str | None] | None = None,
                      lcb_difficulty: Sequence[str] | None = None, lcb_platform: Sequence[str] | None = None,
                      limit: int | None = None) -> tuple[str, list[Problem], dict[str, Any]]:
    """(name, problems, filters applied) for one `--benchmark` value."""
    from darl.benchmarks.registry import ALIASES, BENCHMARKS, load_benchmark

    filters: dict[str, Any] = {}
    key = ALIASES.get(spec.lower(), spec.lower())
    if key in BENCHMARKS:
        name = key
        if name == "livecodebench":
            if lcb_window is not None:
                filters["start"], filters["end"] = lcb_window
            if lcb_difficulty:
                filters["difficulty"] = list(lcb_difficulty)
            if lcb_platform:
                filters["platform"] = list(lcb_platform)
        problems = load_benchmark(name, **filters)
        if name == "livecodebench" and "start" not in filters:
            from darl.benchmarks.registry import LIVECODEBENCH_WINDOW

            filters["start"], filters["end"] = LIVECODEBENCH_WINDOW
    else:
        embedded = _embedded_suite(spec)
        if embedded is not None:
            name, problems = spec, embedded
        elif Path(spec).expanduser().exists():
            from darl.data.loaders import load_problems

            path = Path(spec).expanduser()
            name, problems = path.stem, load_problems(path)
            filters["file"] = str(path.resolve())
        else:
            raise InputError(f"unknown benchmark {spec!r}", field="--benchmark",
                             hint=f"one of {', '.join(benchmark_choices())}, or a problems file")
    if limit is not None:
        if limit < 1:
            raise InputError(f"must be >= 1, got {limit}", field="--limit")
        if limit < len(problems):
            filters["limit"] = limit
            problems = problems[:limit]
    if not problems:
        raise InputError(f"benchmark {name!r} has no problems with these filters {filters}", field="--benchmark")
    return name, problems, filters
