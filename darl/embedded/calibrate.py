"""Does the family behave like the paper's proxies? Pass rates of every role on a suite split, sampled through the
project's generation back end and graded by the project's verifiers, and the method.md section 4 levels they give.

This is the family's self-check (what `darl bootstrap` promises: the small model's pass rates spread inside
(0, 1), the roles ordered small < medium < large), not the pipeline's scoring step (`darl score`, `darl levels`).

    python -m darl.embedded.calibrate --preset default --split heldout --k 8
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from darl.defaults import ROLES, ROLLOUT_TEMPERATURE, ROLLOUT_TOP_P
from darl.records import Problem

MAX_NEW_TOKENS = 160


def pass_rates(model_path, problems: Sequence[Problem], verifier, k: int = 8,
               temperature: float = ROLLOUT_TEMPERATURE, max_new_tokens: int = MAX_NEW_TOKENS, seed: int = 0,
               batch_size: int = 64) -> list[float]:
    """For each problem, the share of `k` samples that pass (method.md section 3)."""
    from darl.generation.base import SamplingParams
    from darl.generation.models import open_generator
    from darl.prompting import chat_messages

    generator = open_generator(str(model_path), "transformers", batch_size=batch_size)
    params = SamplingParams(n=k, temperature=temperature, top_p=ROLLOUT_TOP_P, max_new_tokens=max_new_tokens,
                            seed=seed)
    completions = generator.generate([chat_messages(p) for p in problems], params)
    flat_problems = [p for p, samples in zip(problems, completions) for _ in samples]
    verdicts = verifier.verify_batch(flat_problems, [c.text for samples in completions for c in samples])
    return [sum(v.passed for v in verdicts[i * k:(i + 1) * k]) / k for i in range(len(problems))]


def level_counts(problems: Sequence[Problem], rates: Mapping[str, Sequence[float]], seed: int = 0
                 ) -> dict[str, tuple[dict[int, int], int]]:
    """Per domain, how many problems land in each level and how many the filter role drops, by the project's own
    level rules (`darl.levels` with the paper's defaults, method.md section 4: overlapping levels, the exact seeded
    Level-3 keep share), so this self-check measures what `darl levels` would build from the same pass rates.

    `rates` maps role -> pass rate per problem (aligned with `problems`); without a 'filter' role nothing is dropped.
    """
    from darl.levels.assign import assign_levels
    from darl.levels.config import build_config

    roles = [role for role in ROLES if role in rates]
    config = build_config({"roles": {role: role for role in roles}, "seed": seed,
                           **({} if "filter" in rates else {"drop": None})}, source="darl.embedded.calibrate")
    rows = [{"problem_id": p.id, "domain": p.domain, "model": role, "pass_rate": rates[role][i]}
            for i, p in enumerate(problems) for role in roles]
    assignment = assign_levels(rows, config)
    out: dict[str, tuple[dict[int, int], int]] = {}
    for domain in sorted({p.domain for p in problems}):
        counts = {number: 0 for number in range(1, len(assignment.level_names) + 1)}
        for kept in assignment.kept:
            if kept.domain == domain:
                for number in kept.levels:
                    counts[number] += 1
        out[domain] = (counts, sum(d.domain == domain for d in assignment.dropped))
    return out


@dataclass(frozen=True)
class DomainReport:
    """One domain: mean pass rate per role, the small model's share of problems with 0 < p < 1, and how many
    problems land in each level (after dropping those the filter role never solves)."""

    domain: str
    problems: int
    mean_pass: dict[str, float]
    small_strictly_between: float
    level_counts: dict[int, int]
    dropped_by_filter: int
    mean_pass_by_level: dict[str, dict[int, float]]


def family_report(family, problems: Sequence[Problem], k: int = 8, temperature: float = ROLLOUT_TEMPERATURE,
                  max_new_tokens: int = MAX_NEW_TOKENS, roles: Sequence[str] = ROLES,
                  seed: int = 0) -> list[DomainReport]:
    """Score every role on `problems` and summarise per domain (see `DomainReport`)."""
    from darl.verifiers import Verifier

    with Verifier() as verifier:
        rates = {role: pass_rates(family.path(role), problems, verifier, k, temperature, max_new_tokens, seed)
                 for role in roles}
    levels = level_counts(problems, rates, seed)
    reports = []
    for domain in ("math", "code"):
        idx = [i for i, p in enumerate(problems) if p.domain == domain]
        if not idx:
            continue
        by_level: dict[str, dict[int, float]] = {}
        for role in roles:
            by_level[role] = {}
            for level in sorted({problems[i].metadata.get("level") for i in idx}):
                sel = [rates[role][i] for i in idx if problems[i].metadata.get("level") == level]
                by_level[role][level] = round(sum(sel) / len(sel), 3)
        reports.append(DomainReport(
            domain=domain,
            problems=len(idx),
            mean_pass={role: round(sum(rates[role][i] for i in idx) / len(idx), 3) for role in roles},
            small_strictly_between=round(sum(0 < rates["small"][i] < 1 for i in idx) / len(idx), 3),
            level_counts=levels[domain][0],
            dropped_by_filter=levels[domain][1],
            mean_pass_by_level=by_level,
        ))
    return reports


def main() -> None:
    import argparse
    import time

    from rich.console import Console
    from rich.table import Table

    from darl.embedded.bootstrap import bootstrap
    from darl.embedded.suite import embedded_suite

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--split", default="heldout", choices=["train", "heldout"])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--temperature", type=float, default=ROLLOUT_TEMPERATURE)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    family = bootstrap(args.preset, cache_dir=args.cache_dir)
    problems = embedded_suite(family.suite, args.split)
    start = time.perf_counter()
    reports = family_report(family, problems, k=args.k, temperature=args.temperature)
    console = Console(highlight=False)
    for r in reports:
        table = Table(title=f"{r.domain}: {r.problems} {args.split} problems of suite '{family.suite}', "
                            f"K={args.k}, T={args.temperature}")
        table.add_column("role")
        table.add_column("mean pass")
        for level in r.mean_pass_by_level["small"]:
            table.add_column(f"L{level}")
        for role, mean in r.mean_pass.items():
            table.add_row(role, f"{mean:.3f}", *(f"{v:.2f}" for v in r.mean_pass_by_level[role].values()))
        console.print(table)
        console.print(f"small: 0 < p < 1 on {r.small_strictly_between:.0%} of problems; levels {r.level_counts} "
                      f"(dropped by filter: {r.dropped_by_filter})")
    console.print(f"scored in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
