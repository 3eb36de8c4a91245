"""Apply a levels config to a scores table: drop what the filter model never solves, then put every remaining
problem in each level whose condition it meets (levels may overlap, as in the paper), plus the seeded keep share.

Pure data in, data out: `assign_levels(score_rows, config)` reads no files, so the same rows and seed always give
the same levels.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from darl.errors import InputError
from darl.levels.config import LevelsConfig


@dataclass(frozen=True)
class LeveledProblem:
    problem_id: str
    domain: str
    source: str
    pass_rates: Mapping[str, float]     # model name -> pass rate
    levels: tuple[int, ...]             # 1-based level numbers, in config order
    sampled: tuple[int, ...]            # the subset of `levels` entered through a keep share


@dataclass(frozen=True)
class DroppedProblem:
    problem_id: str
    domain: str
    reason: str
    pass_rates: Mapping[str, float]


@dataclass(frozen=True)
class LevelAssignment:
    config: LevelsConfig
    level_names: tuple[str, ...]
    models: tuple[str, ...]
    kept: tuple[LeveledProblem, ...]
    dropped: tuple[DroppedProblem, ...]


def pass_rate_table(score_rows: Iterable[Mapping[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """problem_id -> {'domain', 'source', 'rates': {model: pass_rate}}, and the model names in first-seen order."""
    problems: dict[str, dict[str, Any]] = {}
    models: list[str] = []
    for row in score_rows:
        entry = problems.setdefault(row["problem_id"], {"domain": row["domain"], "source": row.get("source") or "",
                                                        "rates": {}})
        entry["rates"][row["model"]] = float(row["pass_rate"])
        if row["model"] not in models:
            models.append(row["model"])
    return problems, models


def check_names(config: LevelsConfig, models: list[str]) -> None:
    """Every role must map to a scored model and every name in a condition must be known, before any work."""
    where = config.source
    for role, model in config.roles.items():
        if model not in models:
            raise InputError(f"role {role!r} is mapped to model {model!r}, which the scores file does not have",
                             path=where, field=f"roles.{role}", hint=f"scored models: {models}")
    if config.policy is not None and config.policy not in models:
        raise InputError(f"policy model {config.policy!r} is not in the scores file", path=where, field="policy",
                         hint=f"scored models: {models}")
    known = set(config.roles) | set(models) | set(config.constants) | {"domain"}
    unknown = sorted(config.names() - known)
    if unknown:
        raise InputError(f"unknown name(s) {unknown} in the rules", path=where,
                         hint=f"roles: {sorted(config.roles)}; models: {models}; constants: "
                              f"{sorted(config.constants)}; map each role under 'roles:'")


def _env(config: LevelsConfig, domain: str, rates: Mapping[str, float]) -> dict[str, Any]:
    env: dict[str, Any] = dict(config.constants)
    env.update(rates)
    env.update({role: rates[model] for role, model in config.roles.items()})
    env["domain"] = domain
    return env


def _stable_seed(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(map(str, parts)).encode()).digest()[:8], "big")


def assign_levels(score_rows: Iterable[Mapping[str, Any]], config: LevelsConfig) -> LevelAssignment:
    import numpy as np

    problems, models = pass_rate_table(score_rows)
    if not problems:
        raise InputError("the scores table has no rows", path=config.source)
    check_names(config, models)
    needed = {config.roles[r] for r in config.roles} | (config.names() & set(models))
    incomplete = [(pid, sorted(needed - set(e["rates"]))) for pid, e in problems.items() if needed - set(e["rates"])]
    if incomplete:
        pid, absent = incomplete[0]
        raise InputError(f"{len(incomplete)} problem(s) lack scores of a model the rules need, e.g. {pid!r} has no "
                         f"row for {absent}", hint="score every problem with every model the config names")
    envs = {pid: _env(config, e["domain"], e["rates"]) for pid, e in problems.items()}
    dropped, alive = [], []
    for pid, entry in problems.items():
        if config.drop is not None and config.drop(envs[pid]):
            dropped.append(DroppedProblem(pid, entry["domain"], config.drop.text, dict(entry["rates"])))
        else:
            alive.append(pid)
    membership: dict[str, list[int]] = {pid: [] for pid in alive}
    sampled: dict[str, list[int]] = {pid: [] for pid in alive}
    for number, rule in enumerate(config.levels, start=1):
        candidates: dict[str, list[str]] = {}
        for pid in alive:
            if rule.when(envs[pid]):
                membership[pid].append(number)
            elif rule.keep is not None and rule.keep.when(envs[pid]):
                candidates.setdefault(problems[pid]["domain"], []).append(pid)
        for domain, pids in sorted(candidates.items()):
            share = rule.keep.share.get(domain, 0.0) if rule.keep is not None else 0.0
            take = int(round(share * len(pids)))
            rng = np.random.default_rng(_stable_seed(config.seed, rule.name, domain))
            ordered = sorted(pids)  # input order must not change which problems are drawn
            for index in rng.permutation(len(ordered))[:take]:
                pid = ordered[index]
                membership[pid].append(number)
                sampled[pid].append(number)
    kept = tuple(LeveledProblem(pid, problems[pid]["domain"], problems[pid]["source"], dict(problems[pid]["rates"]),
                                tuple(sorted(membership[pid])), tuple(sorted(sampled[pid]))) for pid in alive)
    return LevelAssignment(config, tuple(r.name for r in config.levels), tuple(models), kept, tuple(dropped))
