"""Any reasoning-gym task as a darl data source (the `gym` extra: `pip install 'darl[gym]'`).

reasoning-gym (open-thought/reasoning-gym) generates procedural reasoning problems with reference answers and
difficulty knobs per task. Each item becomes a math-domain `Problem` (prompt = its question, answer = its
reference answer), graded like any math problem by darl's math verifier on the last `\\boxed{}`; reasoning-gym's
own `score_answer` is not used, so tasks whose answers are not mathematical expressions (word lists, grids,
free text) only count an exact match and are a poor fit for the math verifier.

It lives with the data formats (it is a source like any other; `darl.embedded.reasoning_gym_source` re-exports it
for older imports). Use it from Python with `load_reasoning_gym(task, n, seed, **task_config)`, or as a registered
data source:
`darl data reasoning_gym:basic_arithmetic?size=200&seed=1&min_terms=3` (keys other than size and seed go to the
task's config; values are read as JSON, so numbers and booleans keep their type).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from darl.errors import InputError
from darl.records import Problem

FORMAT_NAME = "reasoning_gym"


def _import_reasoning_gym():
    try:
        import reasoning_gym
    except ImportError:
        raise InputError("reasoning-gym is not installed", field="format",
                         hint="pip install 'darl[gym]' (or pip install reasoning-gym)") from None
    return reasoning_gym


def task_names() -> list[str]:
    """Every task reasoning-gym registers."""
    return sorted(_import_reasoning_gym().factory.DATASETS)


def load_reasoning_gym(task: str, n: int, seed: int = 0, source: str | None = None,
                       **task_config: Any) -> list[Problem]:
    """`n` problems of reasoning-gym `task`, deterministic for `seed`; `task_config` sets the task's knobs
    (for example min_terms / max_terms for basic_arithmetic)."""
    rg = _import_reasoning_gym()
    if task not in rg.factory.DATASETS:
        raise InputError(f"unknown reasoning-gym task {task!r}", field="task",
                         hint=f"one of {', '.join(sorted(rg.factory.DATASETS)[:12])}, ... (see task_names())")
    if n < 1:
        raise InputError(f"n must be >= 1, got {n}", field="size")
    try:
        dataset = rg.create_dataset(task, size=n, seed=seed, **task_config)
    except (TypeError, ValueError, AssertionError) as exc:
        raise InputError(f"reasoning-gym rejected the config {task_config} for {task!r}: {exc}", field="config",
                         hint="see the task's config class in reasoning_gym for valid keys") from None
    prefix = source or f"rg-{task}"
    problems = []
    for index, item in enumerate(dataset):
        metadata = {k: v for k, v in (item.get("metadata") or {}).items()}
        metadata.update({"reasoning_gym_task": task, "seed": seed, "index": index, "config": task_config})
        problems.append(Problem(id=f"{prefix}-{seed}-{index:05d}", domain="math", prompt=str(item["question"]),
                                answer=str(item["answer"]), source=f"reasoning_gym/{task}",
                                metadata=json.loads(json.dumps(metadata, default=str))))
    return problems


def parse_location(location: str) -> tuple[str, int, int, dict[str, Any]]:
    """'task?size=200&seed=1&key=value' -> (task, size, seed, task config). Size defaults to 100, seed to 0."""
    task, _, query = location.partition("?")
    options: dict[str, Any] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    size, seed = options.pop("size", 100), options.pop("seed", 0)
    if not isinstance(size, int) or not isinstance(seed, int):
        raise InputError(f"size and seed must be integers in {location!r}", field="size/seed")
    return task.strip(), size, seed, options


def load_source(location: str, *, source: str | None, skip_invalid: bool, **options: Any):
    """The `darl.data.loaders` entry (`reasoning_gym:task?size=..&seed=..&knob=..`); `options` given in Python
    (size, seed, task knobs) override those in the location. Every item is a valid Problem, so `skip_invalid`
    has nothing to skip."""
    from darl.data.loaders import LoadedSource

    task, size, seed, config = parse_location(location)
    size, seed = options.pop("size", size), options.pop("seed", seed)
    config.update(options)
    problems = load_reasoning_gym(task, size, seed, source=source, **config)
    return LoadedSource(location=location, format=FORMAT_NAME, source=source or f"rg-{task}", problems=problems,
                        rows_read=len(problems))
