"""Each arm's recipe for one seed, cut to the comparison's rollout budget.

The budget is in rollouts (prompts x generations per step, summed over steps), not steps: arms with different
batch shapes or stage counts still spend the same amount of generation. A stage gets the share of the budget that its
`end.max_steps` had of the recipe's total rollouts, rounded down to whole steps, and the last stage takes what the
rounding left. A stage that ends earlier on its plateau test spends less; the report shows what each run spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from darl.comparison.spec import ArmSpec, ComparisonSpec, merge
from darl.errors import InputError
from darl.training.recipe import Recipe, resolve_recipe_path


@dataclass(frozen=True)
class ArmPlan:
    """One arm at one seed: the recipe to train and what its rollouts were budgeted at."""

    arm: str
    seed: int
    recipe: Recipe
    uses_levels: bool  # some mix component names a level (so the arm paid for proxy scoring)
    scoring_rollouts: int  # charged to the learning curves' x axis (0 when the arm uses no levels)
    training_budget: int  # rollouts the stages were cut to
    steps: tuple[int, ...]  # max_steps per stage after the cut
    rollouts_per_step: tuple[int, ...]


def scoring_rollouts(paths: list[str]) -> int:
    """Rollouts spent on proxy scoring: the sum of k over every (problem, model) row of the scores files."""
    from darl.artifacts.scores import read_scores

    total = 0
    for path in paths:
        if not Path(path).is_file():
            raise InputError("scores file not found", path=path, field="scores", hint="give darl score's output")
        total += sum(int(row["k"]) for row in read_scores(path))
    return total


def arm_data(arm: ArmSpec) -> dict[str, Any]:
    """The arm's recipe as a mapping: the recipe file, first `stages` stages kept, `overrides` merged."""
    path = resolve_recipe_path(arm.recipe)
    data = yaml.safe_load(path.read_text())
    if arm.stages is not None:
        if arm.stages > len(data["stages"]):
            raise InputError(f"arm {arm.name!r} keeps {arm.stages} stages but {path} has {len(data['stages'])}",
                             field=f"arms.{arm.name}.stages")
        data["stages"] = data["stages"][:arm.stages]
    return merge(data, arm.overrides)


def plan_arm(spec: ComparisonSpec, arm: ArmSpec, seed: int, scoring: int) -> ArmPlan:
    data = arm_data(arm)
    data["seed"] = seed
    if spec.model is not None:
        data["model"] = spec.model
    if spec.eval.curve_every_steps:
        data["save_every_steps"] = spec.eval.curve_every_steps
        data["save_total_limit"] = None  # the learning curve evaluates every saved checkpoint
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"{'.'.join(map(str, err['loc']))}: {err['msg']}", field=f"arms.{arm.name}",
                         hint="check the arm's recipe and overrides") from None
    uses_levels = any(c.level is not None for s in recipe.stages for c in s.mix)
    charged = scoring if uses_levels else 0
    budget = spec.budget.rollouts - (charged if spec.budget.count_scoring else 0)
    per_step = [stage.rollouts_per_step for stage in recipe.resolved_stages]
    weights = [s.end.max_steps * r for s, r in zip(recipe.stages, per_step)]
    steps = [budget * w // sum(weights) // r for w, r in zip(weights, per_step)]
    steps[-1] += (budget - sum(s * r for s, r in zip(steps, per_step))) // per_step[-1]
    if min(steps) < 1:
        raise InputError(f"arm {arm.name!r}: a budget of {budget} training rollouts leaves a stage without a step "
                         f"(rollouts a step: {per_step})", field="budget.rollouts", hint="raise the budget")
    data = recipe.model_dump(mode="json")
    for stage, n in zip(data["stages"], steps):
        stage["end"]["max_steps"] = n
    recipe = Recipe.model_validate(data)
    return ArmPlan(arm.name, seed, recipe, uses_levels, charged, budget, tuple(steps), tuple(per_step))
