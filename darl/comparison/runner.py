"""Run a comparison: every arm x seed trained as an ordinary `darl train` run folder, every run evaluated on the same
held-out set at the start, at each stage's end and (optionally) every `eval.curve_every_steps` global steps.

Comparison folder:
```
<out>/spec.resolved.json             the spec as last run (arms and seeds may be added later; a change of a shared
                                     field, or an arm that no longer resolves to the recipe a run in the folder was
                                     trained with, is refused: `check_extends`, `check_same_recipe`)
<out>/heldout.parquet                the held-out problems every evaluation uses
<out>/runs/<arm>/seed-<s>/           a darl train run folder (recipe.resolved.yaml, metrics.jsonl, stage-*/ ...)
<out>/eval/start/                    the starting policy (eval.json + samples.jsonl), shared by every arm
<out>/eval/<arm>/seed-<s>/step-<g>/  the checkpoint at global step g
<out>/comparison.json, comparison.md, comparison.html, *.png   the report (darl.comparison.report)
```

Everything resumes: a finished run or evaluation is reused, a killed `darl train` continues with `--resume`
semantics (same step, same data) and a killed evaluation keeps its finished problems. Runs are independent, so
`--only ARM:SEED` runs one of them (a cluster job each; a lock file per run keeps two jobs off the same run) and a later call without `--only` evaluates what is missing
and writes the report.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from darl.atomic import atomic_write_text
from darl.comparison.arms import ArmPlan, plan_arm, scoring_rollouts
from darl.comparison.spec import ComparisonSpec
from darl.errors import InputError
from darl.records import Problem

Say = Callable[[str], None]
HELDOUT_FILE = "heldout.parquet"
BENCHMARK = "heldout"


@dataclass(frozen=True)
class CurvePoint:
    """A checkpoint on a run's learning curve: its global step, the training rollouts spent up to it (the scoring
    rollouts are added by the report) and its folder."""

    step: int
    rollouts: int
    checkpoint: str


def run_dir(out: Path, arm: str, seed: int) -> Path:
    return out / "runs" / arm / f"seed-{seed}"


def eval_dir(out: Path, arm: str, seed: int, step: int) -> Path:
    return out / "eval" / arm / f"seed-{seed}" / f"step-{step}"


def plans(spec: ComparisonSpec) -> list[ArmPlan]:
    """Every (arm, seed) with its budgeted recipe, arms in spec order."""
    scoring = scoring_rollouts(spec.scores) if spec.scores else 0
    return [plan_arm(spec, arm, seed, scoring) for arm in spec.arms for seed in spec.seeds]


def prepare(spec: ComparisonSpec, out: Path, all_plans: list[ArmPlan]) -> list[Problem]:
    """Create the comparison folder (or check it holds this spec) and its held-out set; returns the held-out
    problems."""
    from darl.artifacts.problems import read_problems, write_problems

    out.mkdir(parents=True, exist_ok=True)
    recorded = out / "spec.resolved.json"
    resolved = spec.model_dump(mode="json")
    old = json.loads(recorded.read_text()) if recorded.exists() else None
    if old is not None and old != resolved:
        check_extends(old, resolved, recorded)
    for plan in all_plans:
        if (run_dir(out, plan.arm, plan.seed) / "recipe.resolved.yaml").is_file():
            check_same_recipe(run_dir(out, plan.arm, plan.seed), plan)
    if old != resolved:
        atomic_write_text(recorded, json.dumps(resolved, indent=2) + "\n")
    path = out / HELDOUT_FILE
    if not path.exists():
        problems = _heldout_problems(spec)
        _check_disjoint(problems, spec.levels)
        write_problems(problems, path)
    return read_problems(path)


# Spec fields a comparison folder may change between calls: they choose which runs exist and how they are reported.
# Every other field (levels, budget, held-out set, eval settings, the starting model) is part of every run and of
# every evaluation, so changing it needs a new folder. An arm's own definition may change as long as each run already
# in the folder still resolves to the recipe it was trained with (`check_same_recipe`, run by run): that allows
# pinning a field whose shipped default moved, and refuses any change that would alter what a finished run means.
EXTENSIBLE_FIELDS = ("name", "arms", "seeds", "baseline")


def check_extends(old: dict, new: dict, recorded: Path) -> None:
    """Accept a spec that only adds (or leaves out, or re-spells) arms and seeds, or renames the comparison or its
    baseline, so that a finished comparison can grow by an arm without retraining the others; refuse a change of any
    field every run shares."""
    changed = sorted(k for k in set(old) | set(new) if k not in EXTENSIBLE_FIELDS and old.get(k) != new.get(k))
    if changed:
        raise InputError(f"holds a comparison with another spec (differs in {', '.join(changed)}); only arms, seeds, "
                         "the name and the baseline may change in a folder", path=recorded,
                         hint="use the same spec to continue, or a new --out")


def _heldout_problems(spec: ComparisonSpec) -> list[Problem]:
    from darl.artifacts.problems import read_problems

    if spec.heldout.embedded is not None:
        from darl.comparison.heldout import fresh_heldout

        e = spec.heldout.embedded
        return fresh_heldout(e.domain, e.levels, e.per_level, e.preset).problems
    return read_problems(spec.heldout.problems)


def _check_disjoint(problems: list[Problem], levels_path: str) -> None:
    """No held-out prompt may be one the arms train on."""
    from darl.artifacts.levels import read_levels as load_levels

    trained = {it.problem.prompt for it in load_levels(levels_path)}
    shared = [p.id for p in problems if p.prompt in trained]
    if shared:
        raise InputError(f"{len(shared)} held-out problem(s) are in the levels file the arms train on, e.g. "
                         f"{shared[:3]}", field="heldout", hint="hold out problems that training never sees")


def is_trained(plan_dir: Path, plan: ArmPlan) -> bool:
    held = plan_dir / "heldout.json"
    last = _stage_dirs(plan_dir, plan)[-1] / "manifest.json"
    return held.exists() and "after" in json.loads(held.read_text()) and last.exists()


def _stage_dirs(plan_dir: Path, plan: ArmPlan) -> list[Path]:
    from darl.training.stages import stage_dir

    return [stage_dir(plan_dir, i + 1, s.name) for i, s in enumerate(plan.recipe.stages)]


def check_same_recipe(folder: Path, plan: ArmPlan) -> None:
    """A run in the folder is reused (or reported) only when it was trained with the recipe its arm resolves to now:
    the spec can be unchanged while a shipped recipe it names is not (a default changed in a darl upgrade, an edited
    recipe file), and a reused run would then be reported under a recipe it never ran."""
    import yaml

    from darl.training.recipe import resolved_differences

    saved = folder / "recipe.resolved.yaml"
    differences = resolved_differences(yaml.safe_load(saved.read_text()), plan.recipe.resolved())
    if differences:
        shown = ", ".join(differences[:6]) + (f" and {len(differences) - 6} more" if len(differences) > 6 else "")
        raise InputError(f"arm {plan.arm!r} seed {plan.seed} was trained with another recipe than the arm resolves to "
                         f"now ({shown})", path=saved,
                         hint="pin the changed fields in the arm's overrides to reuse the run, or use a new --out")


def train(spec: ComparisonSpec, out: Path, plan: ArmPlan, say: Say) -> None:
    """Train one arm at one seed (skipped when finished; resumed when it was killed)."""
    from darl.training.stages import run_recipe

    folder = run_dir(out, plan.arm, plan.seed)
    if is_trained(folder, plan):
        say(f"  {plan.arm} seed {plan.seed}: trained earlier, reused")
        return
    resume = (folder / "recipe.resolved.yaml").is_file()
    say(f"  {plan.arm} seed {plan.seed}: training {' + '.join(map(str, plan.steps))} steps "
        f"({plan.training_budget} rollouts){' (resumed)' if resume else ''}")
    run_recipe(plan.recipe, spec.levels, folder, resume=resume)


def curve_points(out: Path, plan: ArmPlan, every: int) -> list[CurvePoint]:
    """The checkpoints of a finished run that the learning curve evaluates: each stage's final checkpoint, and every
    saved one at a global step divisible by `every` (when > 0)."""
    folder = run_dir(out, plan.arm, plan.seed)
    points: dict[int, CurvePoint] = {}
    spent = 0
    for sdir, per_step in zip(_stage_dirs(folder, plan), plan.rollouts_per_step):
        manifest = json.loads((sdir / "manifest.json").read_text())
        offset = manifest["global_start_step"]
        for ckpt in sdir.glob("checkpoint-*"):
            local = int(ckpt.name.split("-")[1])
            is_final = str(ckpt) == manifest["final_checkpoint"] or local == manifest["end_step"]
            if (every and (offset + local) % every == 0) or is_final:
                points[offset + local] = CurvePoint(offset + local, spent + local * per_step, str(ckpt))
        spent += manifest["end_step"] * per_step
    return [points[k] for k in sorted(points)]


def evaluate_model(spec: ComparisonSpec, problems: list[Problem], model: str, folder: Path, label: str,
                   say: Say) -> Path:
    """Evaluate `model` on the held-out set into `folder` (reused when complete); returns its eval.json."""
    from darl.evaluation.evaluate import EvalSettings, evaluate
    from darl.generation.models import open_generator

    path = folder / "eval.json"
    if path.exists() and json.loads(path.read_text()).get("complete"):
        return path
    e = spec.eval
    settings = EvalSettings(temperature=e.temperature, top_p=e.top_p, max_new_tokens=e.max_new_tokens,
                            samples=e.samples, ks=tuple(e.ks), seed=e.seed, batch_problems=32)
    say(f"  eval {label}: {len(problems)} problems x {e.samples} samples")
    generator = open_generator(model, e.backend, batch_size=e.batch_size, seed=e.seed)
    return evaluate(generator, {BENCHMARK: problems}, folder, settings, extra={"label": label}).path


def start_model(spec: ComparisonSpec, plan: ArmPlan) -> str:
    from darl.generation.models import trainable_model

    return trainable_model(plan.recipe.model)


def evaluate_run(spec: ComparisonSpec, out: Path, plan: ArmPlan, problems: list[Problem], say: Say) -> None:
    for point in curve_points(out, plan, spec.eval.curve_every_steps):
        evaluate_model(spec, problems, point.checkpoint, eval_dir(out, plan.arm, plan.seed, point.step),
                       f"{plan.arm} seed {plan.seed} step {point.step}", say)


@contextmanager
def claimed(folder: Path):
    """An exclusive, non-blocking claim on one run (a lock file beside its folder, released when the process ends,
    even by kill -9): yields False when another process holds it, so two jobs never train the same arm and seed."""
    import fcntl

    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def run_comparison(spec: ComparisonSpec, out: str | Path, only: tuple[str, int] | None = None,
                   say: Say = print) -> list[ArmPlan]:
    """Train and evaluate every run of the spec (or only `(arm, seed)`), reusing finished work. Under `accelerate
    launch` every process trains; only the main one evaluates."""
    from accelerate import PartialState

    out = Path(out)
    all_plans = plans(spec)
    if only is not None:
        spec.arm(only[0])
        if only[1] not in spec.seeds:
            raise InputError(f"seed {only[1]} is not in the spec's seeds {spec.seeds}", field="--only")
        todo = [p for p in all_plans if (p.arm, p.seed) == only]
    else:
        todo = all_plans
    main = PartialState().is_main_process
    problems = prepare(spec, out, all_plans) if main else []
    PartialState().wait_for_everyone()
    if main and only is None:
        starts = {start_model(spec, p) for p in all_plans}
        if len(starts) != 1:
            raise InputError(f"arms start from different policies {sorted(starts)}", field="model",
                             hint="set the spec's `model` so every arm starts from the same policy")
        evaluate_model(spec, problems, starts.pop(), out / "eval" / "start", "start", say)
    for plan in todo:
        with claimed(run_dir(out, plan.arm, plan.seed)) as mine:
            if not mine:
                say(f"  {plan.arm} seed {plan.seed}: another process is running it; skipped here")
                continue
            train(spec, out, plan, say)
            if main:
                evaluate_run(spec, out, plan, problems, say)
    return all_plans
