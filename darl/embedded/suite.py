"""The embedded task suites: procedural math and code problems at six difficulty levels, split by seed.

A suite is what `darl demo` and the tests score, level and train on. Its problems spread from trivial (level 1:
`Compute 4+8.`, a one-step function) to beyond every embedded model (level 6: five-term expressions with
two-digit products, seven-step programs), so that the proxy models disagree, as the paper's do.

Splits never share a seed range, and a prompt that already appeared in an earlier split is skipped:
- `train`: the problems RL trains on (seeds 0, 1, ...),
- `heldout`: evaluation problems (seeds from 1,000,000),
- the warm-start stream (`warm_start_pairs`, seeds from 10,000,000) excludes every prompt of both splits of every
  suite, so the supervised warm start never sees a suite problem.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from darl.embedded.tasks_code import CodeKnobs, code_problem
from darl.embedded.tasks_math import MathKnobs, math_problem, premature_answer
from darl.records import Domain, Problem

Split = Literal["train", "heldout"]
LEVELS = (1, 2, 3, 4, 5, 6)
SPLIT_SEED_BASE = {"train": 0, "heldout": 1_000_000}
WARM_START_SEED_BASE = 10_000_000


def math_knobs(level: int, rng: random.Random) -> MathKnobs:
    """The knobs of a math problem at `level` (1 = easiest); each level mixes the three kinds."""
    E, Q, W = "expression", "equation", "word"
    options = {
        1: [MathKnobs(E, 2, max_value=3), MathKnobs(W, 1, max_value=3)],
        2: [MathKnobs(E, 2, max_value=5), MathKnobs(E, 3, max_value=3), MathKnobs(Q, max_value=3),
            MathKnobs(W, 2, max_value=3)],
        3: [MathKnobs(E, 3, max_value=5), MathKnobs(E, 2, 1), MathKnobs(W, 2, max_value=5), MathKnobs(Q, max_value=5),
            MathKnobs(E, 2, operators="*", max_value=4)],
        4: [MathKnobs(E, 3, 1), MathKnobs(E, 2, 1, operators="*"), MathKnobs(W, 3, max_value=5),
            MathKnobs(Q, digits=1), MathKnobs(E, 4, max_value=5)],
        5: [MathKnobs(E, 3, 1, operators="+-*"), MathKnobs(E, 2, 2), MathKnobs(W, 2, 2),
            MathKnobs(Q, digits=1, both_sides=True), MathKnobs(E, 4, 1, nesting=1)],
        6: [MathKnobs(E, 4, 2, operators="+-*", nesting=1), MathKnobs(W, 3, 2, operators="+-*"), MathKnobs(Q, digits=2),
            MathKnobs(E, 5, 2, 2, operators="+-*", nesting=2), MathKnobs(Q, digits=2, both_sides=True)],
    }
    return rng.choice(options[level])


def code_knobs(level: int, rng: random.Random) -> CodeKnobs:
    """The knobs of a code problem at `level` (1 = easiest); functional and stdin kinds alternate at random."""
    kind = rng.choice(["functional", "stdin"])
    options = {
        1: [CodeKnobs(kind, ops=1, operators="+-*"), CodeKnobs(kind, ops=2, operators="+-", max_const=2)],
        2: [CodeKnobs(kind, ops=2, operators="+-", max_const=3), CodeKnobs(kind, ops=2, two_args=True, operators="+-",
                                                                           max_const=3)],
        3: [CodeKnobs(kind, ops=2, operators="+-*"), CodeKnobs(kind, ops=0, loop=True),
            CodeKnobs(kind, ops=2, two_args=True, operators="+-*")],
        4: [CodeKnobs(kind, ops=3), CodeKnobs(kind, ops=1, loop=True), CodeKnobs(kind, ops=3, two_args=True)],
        5: [CodeKnobs(kind, ops=4, two_args=True), CodeKnobs(kind, ops=1, loop=True, condition=True),
            CodeKnobs(kind, ops=5)],
        6: [CodeKnobs(kind, ops=6, two_args=True), CodeKnobs(kind, ops=3, loop=True, condition=True, two_args=True)],
    }
    return rng.choice(options[level])


def make_problem(domain: Domain, level: int, seed: int, problem_id: str, source: str) -> tuple[Problem, str]:
    """One problem and its worked solution; a pure function of (domain, level, seed)."""
    rng = random.Random(f"knobs:{domain}:{level}:{seed}")
    if domain == "math":
        return math_problem(math_knobs(level, rng), seed, problem_id, level=level, source=source)
    return code_problem(code_knobs(level, rng), seed, problem_id, level=level, source=source)


@dataclass(frozen=True)
class SuiteSpec:
    """How many problems a suite holds: `train_per_level` and `heldout_per_level` per level of each domain;
    `math_train_per_level` (when set) overrides the first for math, whose generators have room for many more
    distinct prompts than the easiest code levels (the demo trains on math and needs a larger pool)."""

    name: str
    train_per_level: int
    heldout_per_level: int
    levels: tuple[int, ...] = LEVELS
    math_train_per_level: int | None = None

    def count(self, domain: Domain, split: Split) -> int:
        if split == "heldout":
            return self.heldout_per_level
        if domain == "math" and self.math_train_per_level is not None:
            return self.math_train_per_level
        return self.train_per_level


SUITES = {
    "default": SuiteSpec("default", train_per_level=40, heldout_per_level=16, math_train_per_level=80),
    "quick": SuiteSpec("quick", train_per_level=8, heldout_per_level=6),
}


def suite_spec(name: str) -> SuiteSpec:
    if name not in SUITES:
        raise ValueError(f"unknown embedded suite {name!r}; choose one of {sorted(SUITES)}")
    return SUITES[name]


def _generate(domain: Domain, spec: SuiteSpec, split: Split, seen: set[str]) -> list[tuple[Problem, str]]:
    per_level = spec.count(domain, split)
    out: list[tuple[Problem, str]] = []
    seed = SPLIT_SEED_BASE[split]
    for level in spec.levels:
        made = misses = 0
        while made < per_level:
            pid = f"embedded-{spec.name}-{domain}-{split}-L{level}-{made:03d}"
            problem, solution = make_problem(domain, level, seed, pid, source=f"darl-embedded-{domain}")
            seed += 1
            if problem.prompt in seen:
                misses += 1
                if misses > 20_000:
                    raise RuntimeError(f"suite {spec.name!r}: level {level} of {domain} has fewer than "
                                       f"{per_level} new prompts for the {split} split; widen its knobs")
                continue
            seen.add(problem.prompt)
            out.append((problem, solution))
            made += 1
    return out


def suite_pairs(name: str = "default", split: Split = "train",
                domains: tuple[Domain, ...] = ("math", "code")) -> list[tuple[Problem, str]]:
    """(problem, worked solution) pairs of a suite split, math first then code, each ordered by level."""
    spec = suite_spec(name)
    out: list[tuple[Problem, str]] = []
    for domain in domains:
        seen: set[str] = set()
        train = _generate(domain, spec, "train", seen)
        out += train if split == "train" else _generate(domain, spec, "heldout", seen)
    return out


def embedded_suite(name: str = "default", split: Split = "train",
                   domains: tuple[Domain, ...] = ("math", "code")) -> list[Problem]:
    """The problems of an embedded suite split (metadata carries level, knobs, seed and the worked solution)."""
    return [p for p, _ in suite_pairs(name, split, domains)]


def warm_start_pairs(suite: str, per_domain: int, level_weights: dict[int, float],
                     domains: tuple[Domain, ...] = ("math", "code"),
                     premature_answer_share: float = 0.0) -> list[tuple[Problem, str]]:
    """The supervised warm-start stream: `per_domain` fresh problems per domain, levels drawn with
    `level_weights`, disjoint from every prompt of the suite's train and heldout splits. Deterministic.
    `premature_answer_share`: the share of math examples (drawn per example) whose worked solution is replaced by
    `premature_answer` (the problem's own metadata keeps the full solution)."""
    suite_spec(suite)  # a valid name; every suite's prompts are excluded, so no family has seen any suite problem
    exclude = {p.prompt for name in SUITES for split in ("train", "heldout") for p, _ in suite_pairs(name, split)}
    levels = sorted(level_weights)
    weights = [level_weights[lv] for lv in levels]
    out: list[tuple[Problem, str]] = []
    for d, domain in enumerate(domains):
        rng = random.Random(f"warm-start-levels:{domain}")
        style_rng = random.Random(f"warm-start-style:{domain}")  # its own stream: the levels drawn do not change
        seed = WARM_START_SEED_BASE
        made = 0
        while made < per_domain:
            level = rng.choices(levels, weights)[0]
            problem, solution = make_problem(domain, level, seed, f"warm-{domain}-{made}", source="darl-warm-start")
            seed += 1
            if problem.prompt in exclude:
                continue
            if domain == "math" and style_rng.random() < premature_answer_share:
                solution = premature_answer(solution)
            out.append((problem, solution))
            made += 1
    return out
