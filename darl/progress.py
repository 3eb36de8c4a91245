"""Progress that still shows where no terminal is attached.

rich's live bar draws only on a terminal; in a Slurm or CI log it prints nothing until the end, so a long step (the
demo's bootstrap trains for minutes) looks hung. `Progress` here is rich's, plus: when its console is not a terminal,
each task prints one plain line every `interval` seconds (default 30, `DARL_PROGRESS_INTERVAL` overrides) and once
when it finishes: `description: completed/total (percent) elapsed 1:02, about 3:10 left`.
"""

from __future__ import annotations

import os
import time
from typing import Any

from rich import progress as _rich
from rich.text import Text

# re-exported so a module needs one import for the bar and its columns
BarColumn, MofNCompleteColumn, TextColumn = _rich.BarColumn, _rich.MofNCompleteColumn, _rich.TextColumn
TimeElapsedColumn, TimeRemainingColumn, ProgressColumn, Task = (_rich.TimeElapsedColumn, _rich.TimeRemainingColumn,
                                                                _rich.ProgressColumn, _rich.Task)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Progress(_rich.Progress):
    def __init__(self, *columns: Any, interval: float | None = None, **kwargs: Any) -> None:
        from rich import get_console

        # disable=True (a caller asked for no progress) turns the plain lines off too
        plain = not kwargs.get("disable", False) and not (kwargs.get("console") or get_console()).is_terminal
        if plain:
            kwargs["disable"] = True  # no live bar (its last frame would be printed at the end); lines instead
        super().__init__(*columns, **kwargs)
        self.plain = plain
        self.interval = interval if interval is not None else float(os.environ.get("DARL_PROGRESS_INTERVAL", "30"))
        self._last_line: dict[Any, float] = {}
        self._finished: set[Any] = set()

    def add_task(self, description: str, *args: Any, **kwargs: Any) -> Any:
        task_id = super().add_task(description, *args, **kwargs)
        if self.plain:
            self._line(task_id, force=True)
        return task_id

    def update(self, task_id: Any, *args: Any, **kwargs: Any) -> None:
        super().update(task_id, *args, **kwargs)
        if self.plain:
            self._line(task_id)

    def advance(self, task_id: Any, advance: float = 1) -> None:
        super().advance(task_id, advance)
        if self.plain:
            self._line(task_id)

    def _line(self, task_id: Any, force: bool = False) -> None:
        task = self._tasks.get(task_id)
        if task is None:
            return
        now = time.monotonic()
        done = task.total is not None and task.completed >= task.total
        if done and task_id in self._finished:
            return
        if not force and not done and now - self._last_line.get(task_id, 0.0) < self.interval:
            return
        self._last_line[task_id] = now
        if done:
            self._finished.add(task_id)
        name = Text.from_markup(str(task.description)).plain
        total = f"/{task.total:g}" if task.total is not None else ""
        share = f" ({100 * task.completed / task.total:.0f}%)" if task.total else ""
        left = "" if done or task.time_remaining is None else f", about {_clock(task.time_remaining)} left"
        self.console.print(f"{name}: {task.completed:g}{total}{share} elapsed {_clock(task.elapsed)}{left}",
                           markup=False, highlight=False, soft_wrap=True)
