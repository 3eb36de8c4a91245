"""The training data of a run: the levels file, the held-out split, and each stage's TRL dataset.

Input: a levels Parquet file written by `darl levels`, read by `darl.artifacts.levels.read_levels` (re-exported here
as `load_levels`): each problem with the levels it carries (1-based; a problem may carry several, method.md
section 4).

Held-out split: for each stage and each mix component, the `validation.per_component` problems with the smallest
seeded hash are held out of training in *every* stage (levels overlap, so a level-2 validation problem may also be a
level-1 training problem elsewhere). The plateau test and the before/after accuracy use only held-out problems.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from darl.artifacts.levels import LeveledProblem
from darl.artifacts.levels import read_levels as load_levels
from darl.errors import InputError
from darl.prompting import chat_messages
from darl.records import Problem
from darl.training.recipe import MixComponent, Recipe
from darl.training.sampler import Stream

__all__ = ["LeveledProblem", "Split", "StageData", "check_mix", "heldout_split", "load_levels", "matches",
           "stage_data"]


def matches(item: LeveledProblem, component: MixComponent) -> bool:
    return item.problem.domain == component.domain and (component.level is None or component.level in item.levels)


def _rank(seed: int, problem_id: str) -> str:
    return hashlib.sha256(f"{seed}:{problem_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Split:
    validation: dict[int, list[Problem]]  # stage index (0-based) -> held-out problems of that stage
    heldout_ids: frozenset[str]

    def all_validation(self) -> list[Problem]:
        seen: dict[str, Problem] = {}
        for problems in self.validation.values():
            for p in problems:
                seen.setdefault(p.id, p)
        return list(seen.values())


def check_mix(recipe: Recipe, items: Sequence[LeveledProblem], source: str | Path) -> None:
    """Every stream the recipe names must have problems in the levels file. Says which of the two usual mistakes it
    is (a domain the file lacks, or a level no problem of that domain carries) and what the file does have, before
    the held-out split would report the same thing as a bare count of 0."""
    by_domain: dict[str, dict[int, int]] = {}
    for it in items:
        counts = by_domain.setdefault(it.problem.domain, {})
        for level in it.levels:
            counts[level] = counts.get(level, 0) + 1
    for s_index, stage in enumerate(recipe.stages):
        for c_index, component in enumerate(stage.mix):
            where = f"stages.{s_index}.mix.{c_index}"
            present = by_domain.get(component.domain)
            if present is None:
                have = ", ".join(f"{d}: {sum(1 for it in items if it.problem.domain == d)} problems"
                                 for d in sorted(by_domain)) or "nothing"
                raise InputError(f"stage {stage.name!r} asks for {component.domain} problems ({component.stream}), but "
                                 f"the levels file has none (it has {have})", path=source, field=where,
                                 hint=f"drop this mix component or score and level {component.domain} problems too")
            if component.level is not None and component.level not in present:
                have = ", ".join(f"L{level}: {count}" for level, count in sorted(present.items())) or "no levels at all"
                raise InputError(f"stage {stage.name!r} names level {component.level} ({component.stream}), which no "
                                 f"{component.domain} problem in the levels file carries ({component.domain} has "
                                 f"{have})", path=source, field=where,
                                 hint="name one of those levels in the recipe, or rebuild the levels file with a "
                                      f"level config that defines level {component.level}")


def heldout_split(recipe: Recipe, items: Sequence[LeveledProblem], source: str | Path) -> Split:
    check_mix(recipe, items, source)
    n = recipe.validation.per_component
    validation: dict[int, list[Problem]] = {}
    held: set[str] = set()
    for s_index, stage in enumerate(recipe.stages):
        chosen: list[Problem] = []
        for c_index, component in enumerate(stage.mix):
            pool = sorted((it for it in items if matches(it, component)), key=lambda it: _rank(recipe.seed, it.problem.id))
            if len(pool) <= n:
                raise InputError(f"{component.stream} has {len(pool)} problem(s), not more than the {n} held out for "
                                 f"validation", path=source, field=f"stages.{s_index}.mix.{c_index}",
                                 hint="use a larger levels file or lower validation.per_component")
            chosen.extend(it.problem for it in pool[:n])
        validation[s_index] = chosen
        held.update(p.id for p in chosen)
    return Split(validation, frozenset(held))


@dataclass(frozen=True)
class StageData:
    rows: list[dict[str, Any]]  # TRL dataset rows: prompt (chat messages), problem_id, stream
    streams: list[Stream]
    problems: dict[str, Problem]


def stage_data(recipe: Recipe, stage_index: int, items: Sequence[LeveledProblem], split: Split,
               source: str | Path) -> StageData:
    """Dataset rows (one per stream membership) and the sampler's streams for one stage."""
    stage = recipe.stages[stage_index]
    rows: list[dict[str, Any]] = []
    streams: list[Stream] = []
    problems: dict[str, Problem] = {}
    for c_index, component in enumerate(stage.mix):
        members = [it.problem for it in items if matches(it, component) and it.problem.id not in split.heldout_ids]
        if not members:
            raise InputError(f"{component.stream} has no training problems left after the held-out split",
                             path=source, field=f"stages.{stage_index}.mix.{c_index}")
        start = len(rows)
        for p in members:
            rows.append({"prompt": chat_messages(p, recipe.system_prompt), "problem_id": p.id,
                         "stream": component.stream})
            problems[p.id] = p
        streams.append(Stream(component.stream, component.weight, tuple(range(start, len(rows))),
                              tuple(p.id for p in members)))
    return StageData(rows, streams, problems)
