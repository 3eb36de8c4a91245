"""A larger held-out set for the embedded default: fresh suite problems that no role and no policy ever trained on.

The suite's own held-out split has 16 problems per level, too few to see a 5-point gain (the standard error of a
paired difference over 64 problems is about 4 points). This module draws more problems from the same generators
(`darl.embedded.suite.make_problem`) in a seed range of its own (from 3,000,000), and keeps a prompt only if it is
not among:
- the warm-start stream every role of the family was trained on (`warm_start_pairs` with the family's own settings),
- the train split of any suite (what the policy trains on with RL, and what the proxies score),
- a prompt already taken.
The suite's held-out split itself is kept first (its prompts are already unseen), so the set extends it.

It reads the family's settings and never changes them: the family's cache key (darl.embedded.family) stays as it is.
The easiest generator levels have few distinct prompts (math level 1 adds two numbers from 1..3) and the warm start
has seen almost all of them; such a level yields fewer problems than asked, and the result says how many it got.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from darl.records import Domain, Problem

SEED_BASE = 3_000_000
TRAIN_SEED_BASE = 5_000_000  # fresh_train_pool's seeds: never the held-out set's
MAX_MISSES = 20_000


@dataclass(frozen=True)
class HeldoutSet:
    problems: list[Problem]
    requested_per_level: int
    per_level: dict[int, int]  # level -> problems taken (fewer than requested when the generator ran out)
    excluded_prompts: int  # size of the exclusion set (warm start + every suite's train split)


@lru_cache(maxsize=4)
def seen_prompts(preset: str = "default") -> frozenset[str]:
    """Every prompt a role or the policy may have trained on: the family's warm-start stream and the train split of
    every suite. Cached: building the warm-start stream takes tens of seconds, and a held-out set and a train pool
    are usually drawn in one process."""
    from darl.embedded.family import preset_config
    from darl.embedded.suite import SUITES, suite_pairs, warm_start_pairs

    cfg = preset_config(preset)
    seen = {p.prompt for p, _ in warm_start_pairs(cfg.suite, cfg.warm_start_per_domain, cfg.level_weights)}
    for name in SUITES:
        seen.update(p.prompt for p, _ in suite_pairs(name, "train"))
    return frozenset(seen)


def fresh_heldout(domain: Domain = "math", levels: Sequence[int] = (1, 2, 3, 4), per_level: int = 64,
                  preset: str = "default", exclude: frozenset[str] | set[str] | None = None) -> HeldoutSet:
    """Up to `per_level` unseen problems of each generator level: the suite's held-out problems first, then fresh
    ones. Deterministic for its arguments."""
    from darl.embedded.family import preset_config
    from darl.embedded.suite import embedded_suite

    exclude = seen_prompts(preset) if exclude is None else exclude
    suite = preset_config(preset).suite
    first = [p for p in embedded_suite(suite, "heldout", domains=(domain,))]
    return _fresh(domain, levels, per_level, exclude, first, SEED_BASE, "heldout-x")


def fresh_train_pool(domain: Domain = "math", levels: Sequence[int] = (1, 2, 3, 4, 5, 6), per_level: int = 200,
                     preset: str = "default", heldout: Sequence[Problem] = ()) -> HeldoutSet:
    """Up to `per_level` more training problems of each generator level, for a larger RL pool than the suite's train
    split (80 math problems a level, fixed by the family build): fresh prompts that no role saw in its warm start,
    in no suite split (the suites' held-out splits are `darl eval`'s embedded benchmarks), and not among `heldout`
    (pass the held-out set the runs will be evaluated on). Deterministic for its arguments; seeds from
    TRAIN_SEED_BASE, so never the held-out set's seeds."""
    from darl.embedded.suite import SUITES, suite_pairs

    suite_heldout = {p.prompt for name in SUITES for p, _ in suite_pairs(name, "heldout")}
    exclude = seen_prompts(preset) | suite_heldout | {p.prompt for p in heldout}
    return _fresh(domain, levels, per_level, exclude, [], TRAIN_SEED_BASE, "train-x")


def _fresh(domain: Domain, levels: Sequence[int], per_level: int, exclude: frozenset[str] | set[str],
           first: list[Problem],
           seed_base: int, id_prefix: str) -> HeldoutSet:
    """Per level: the `first` problems of that level not in `exclude`, then fresh generator problems from
    `seed_base + 100_000 * level` on, skipping any prompt in `exclude` or already taken."""
    from darl.embedded.suite import make_problem

    taken: set[str] = set()
    problems: list[Problem] = []
    counts: dict[int, int] = {}
    for level in levels:
        chosen = [p for p in first if p.metadata["level"] == level and p.prompt not in exclude][:per_level]
        taken.update(p.prompt for p in chosen)
        seed, misses = seed_base + 100_000 * level, 0
        while len(chosen) < per_level and misses < MAX_MISSES:
            problem, _ = make_problem(domain, level, seed, f"{id_prefix}-{domain}-L{level}-{seed - seed_base}",
                                      source=f"darl-embedded-{domain}")
            seed += 1
            if problem.prompt in exclude or problem.prompt in taken:
                misses += 1
                continue
            taken.add(problem.prompt)
            chosen.append(problem)
        counts[level] = len(chosen)
        problems += chosen
    return HeldoutSet(problems, per_level, counts, len(exclude))
