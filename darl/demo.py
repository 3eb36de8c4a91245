"""`darl demo`: the whole pipeline on the embedded default, on a laptop CPU, in one command.

bootstrap (tiny policy family) -> problems -> score (every proxy model, K samples each) -> levels (the paper's rules)
-> train (two GRPO stages, Level 2 then Level 3) -> evaluate the starting and the final policy on held-out problems
-> report.html. Every step writes its files into one run folder, records itself in `demo.json` when it finishes,
and is skipped by a re-run (a killed demo restarts at the step it was in, which resumes on its own: scoring, training
and evaluation are all resumable).

Presets: `default` (the README's first command; 8 minutes from a fresh clone on 2 idle cores, set-up included)
and `quick` (the smallest run that still goes through every step, for the test suite). They differ only in sizes,
never in code path.

Differs from the paper: everything is tiny (models of well under 10M parameters trained from scratch on procedural
tasks, responses of ~100 tokens, a few dozen GRPO steps); the shape of the method is the paper's.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from darl.atomic import atomic_write_text
from darl.errors import DarlError, InputError  # noqa: F401 (DarlError: raised by steps)

DEMO_FILE = "demo.json"
RECIPE_NAME = "embedded_two_stage"


@dataclass(frozen=True)
class DemoPreset:
    """Sizes of one demo run. `bootstrap` names darl.embedded's bootstrap preset (which also picks the task suite);
    `train_steps` caps each stage (the plateau test may end a stage earlier); `eval_problems` held-out problems per domain are evaluated with
    `eval_samples` samples each at the paper's temperature 0.6 / top_p 0.95, drawn
    fresh from generator levels `eval_levels` when set (see `eval_benchmarks`)."""

    name: str
    bootstrap: str
    score_k: int
    score_max_tokens: int
    train_steps: tuple[int, int]
    prompts_per_step: int
    num_generations: int
    validation_per_component: int
    plateau_every: int
    eval_samples: int
    eval_problems: int
    eval_max_tokens: int
    domains: tuple[str, ...] = ("math",)
    problems_per_domain: int | None = None
    eval_levels: tuple[int, ...] | None = None


PRESETS: dict[str, DemoPreset] = {
    "default": DemoPreset(name="default", bootstrap="default", score_k=4, score_max_tokens=128,
                          train_steps=(32, 16), prompts_per_step=32, num_generations=8, validation_per_component=24,
                          plateau_every=4, eval_samples=4, eval_problems=200, eval_max_tokens=128,
                          eval_levels=(1, 2, 3, 4)),
    "quick": DemoPreset(name="quick", bootstrap="default", score_k=4, score_max_tokens=96,
                        train_steps=(3, 2), prompts_per_step=4, num_generations=4, validation_per_component=1,
                        plateau_every=2, eval_samples=2, eval_problems=16, eval_max_tokens=96,
                        problems_per_domain=96),
}


@dataclass
class DemoState:
    """What demo.json holds: the preset, and per finished step its outputs and how long it took."""

    preset: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(asdict(self), indent=2) + "\n")


@dataclass
class DemoResult:
    out_dir: Path
    report: Path
    headline: list[str]
    state: DemoState


Say = Callable[[str], None]


def _load_state(out: Path, preset: DemoPreset) -> DemoState:
    path = out / DEMO_FILE
    if not path.exists():
        return DemoState(preset=asdict(preset))
    data = json.loads(path.read_text())
    recorded = data.get("preset", {})
    if recorded != json.loads(json.dumps(asdict(preset))):
        raise InputError(f"holds a demo made with preset {recorded.get('name')!r} and other sizes", path=path,
                         hint="use another --out, or the same --preset to continue it")
    return DemoState(preset=recorded, steps=data.get("steps", {}))


class Pipeline:
    """Runs the demo's steps in order, skipping those demo.json records as finished."""

    def __init__(self, out: Path, preset: DemoPreset, say: Say) -> None:
        self.out, self.preset, self.say = out, preset, say
        self.state = _load_state(out, preset)
        self.started = time.monotonic()

    def step(self, name: str, number: int, total: int, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        done = self.state.steps.get(name)
        if done is not None and all(Path(p).exists() for p in done.get("paths", [])):
            self.say(f"[{number}/{total}] {name}: reused from an earlier run ({done['seconds']:.0f} s then)")
            return done
        self.say(f"[{number}/{total}] {name} ...")
        begin = time.monotonic()
        record = work()
        record["seconds"] = round(time.monotonic() - begin, 1)
        self.state.steps[name] = record
        self.state.save(self.out / DEMO_FILE)
        self.say(f"[{number}/{total}] {name}: done in {record['seconds']:.0f} s "
                 f"(total {time.monotonic() - self.started:.0f} s)")
        return record


# ------------------------------------------------------------------------------------------------------- steps


def _bootstrap(preset: DemoPreset) -> dict[str, Any]:
    """The tiny policy family (small, medium, large, filter) from darl.embedded. It lives in darl's cache
    (`$DARL_CACHE`, else ~/.cache/darl), so every demo folder and the test suite share one build; an empty cache
    gets the build shipped with darl (copied, not trained)."""
    from darl.embedded.bootstrap import bootstrap

    return family_record(bootstrap(preset=preset.bootstrap))


def family_record(family) -> dict[str, Any]:
    """What the bootstrap step records of an `EmbeddedFamily` (its roles' folders, suite, root, build time)."""
    roles = {role: str(path) for role, path in dict(family).items()}
    return {"family": roles, "suite": family.suite, "root": str(family.root),
            "build_seconds": round(family.build_seconds, 1), "paths": list(roles.values())}


def _problems(out: Path, preset: DemoPreset, suite: str) -> dict[str, Any]:
    from darl.data.io import write_problems
    from darl.embedded.suite import embedded_suite

    problems = []
    for domain in preset.domains:
        selected = embedded_suite(suite, "train", domains=(domain,))
        if preset.problems_per_domain is not None:
            selected = _spread(selected, preset.problems_per_domain)
        problems += selected
    path = write_problems(problems, out / "problems.parquet")
    return {"problems": len(problems), "paths": [str(path)]}


def _spread(problems: list, count: int) -> list:
    """`count` problems taken evenly across the list (the suite is ordered by level, so every level stays)."""
    if count >= len(problems):
        return list(problems)
    step = len(problems) / count
    return [problems[int(i * step)] for i in range(count)]


def policy_scoring(preset: DemoPreset, policy: str) -> tuple[str, float, float]:
    """The name, temperature and top_p the policy is scored under: the demo recipe's first-stage rollout sampling
    (read from the recipe, not copied), so its pass rate on each level is the initial reward of that level.
    The name says the temperature (`policy@T1.0`), so the levels report can tell it from the proxies."""
    first = demo_recipe(preset, policy).stage(0).grpo
    return f"policy@T{first.temperature}", first.temperature, first.top_p


def _score(out: Path, preset: DemoPreset, family: dict[str, str], say: Say) -> dict[str, Any]:
    """Every proxy role at the evaluation settings (K samples, T 0.6, top_p 0.95), then the policy (the small role)
    once more at its training temperature: its pass rate on each level is the initial training reward of that level
    (the paper's 0.58 / 0.50 / 0.17), which the levels report shows (`policy:` in levels.yaml)."""
    from darl.scoring import ModelSpec, ScoreJob
    from darl.scoring.local_pool import run_local_shards

    models = tuple(ModelSpec(name=role, path=path, batch_size=64) for role, path in family.items())
    policy, temperature, top_p = policy_scoring(preset, family["small"])
    jobs = {
        "scores": ScoreJob(problems_path=str(out / "problems.parquet"), models=models, k=preset.score_k,
                           max_new_tokens=preset.score_max_tokens, batch_problems=16),
        "scores-policy": ScoreJob(problems_path=str(out / "problems.parquet"),
                                  models=(ModelSpec(name=policy, path=family["small"], batch_size=64),),
                                  k=preset.score_k, temperature=temperature, top_p=top_p,
                                  max_new_tokens=preset.score_max_tokens, batch_problems=16),
    }
    paths = []
    for name, job in jobs.items():
        progress = _Counter(say, name, every_s=20)
        merged = run_local_shards(job, out / name, scoring_processes(), output=out / f"{name}.parquet",
                                  on_start=progress.start, on_progress=lambda e, p=progress: p.add(e.units))
        paths.append(str(merged))
    return {"paths": paths, "models": [*family, policy]}


def scoring_processes() -> int:
    """One scoring process per core, up to 4: each runs torch on one thread (see `run_demo`), and the shards'
    samples do not depend on how many there are (darl.scoring.local_pool)."""
    import os

    return max(1, min(os.cpu_count() or 1, 4))


def _levels(out: Path, policy: str) -> dict[str, Any]:
    """The paper's level rules (darl.levels defaults: roles small/medium/large/filter are the scored models of those
    names), the levels file training reads and the calibration report, which also shows the policy's pass rate at
    its training temperature on each level (levels.yaml names it)."""
    from darl.levels.pipeline import make_levels

    config = out / "levels.yaml"
    atomic_write_text(config, f"# darl demo: the paper's rules, plus the policy scored at its training temperature\n"
                              f"policy: {policy}\n")
    _, _, paths = make_levels([out / "scores.parquet", out / "scores-policy.parquet"], out / "levels.parquet",
                              config_path=config, problems_path=out / "problems.parquet")
    return {"paths": [str(p) for p in paths.values() if Path(p).exists()]}


def demo_recipe(preset: DemoPreset, policy: str):
    """The shipped embedded two-stage recipe with the preset's sizes and the bootstrapped small model as policy."""
    import yaml

    from darl.training.recipe import Recipe, shipped_recipes

    data = yaml.safe_load(shipped_recipes()[RECIPE_NAME].read_text())
    data["model"] = policy
    data["name"] = f"demo-{preset.name}"
    data["defaults"]["prompts_per_step"] = preset.prompts_per_step
    data["defaults"]["num_generations"] = preset.num_generations
    data["validation"]["per_component"] = preset.validation_per_component
    data["validation"]["batch_size"] = max(preset.validation_per_component, 8)
    data["save_every_steps"] = max(1, min(5, min(preset.train_steps)))
    for stage, steps in zip(data["stages"], preset.train_steps):
        stage["end"]["max_steps"] = steps
        if stage["end"].get("plateau"):
            stage["end"]["plateau"]["every_steps"] = preset.plateau_every
            stage["end"]["plateau"]["min_steps"] = min(stage["end"]["plateau"].get("min_steps", 0), steps)
    return Recipe.model_validate(data)


def training_processes() -> int:
    """Processes the demo trains in: on a CPU-only machine with 2 cores or more, 2; else 1 (with a GPU the demo
    trains in this process, on the GPU: two ranks would share one device). Measured on 2 idle cores (stage 1 of
    the default preset, 8 steps of 32 prompts x 8 rollouts, one torch thread a process): 4.66 s a step in 2
    processes against 8.09 s in one. The recipe's batch is the same either way (the ranks split each step's
    rollouts, docs/training.md "Several processes on a CPU"); more than 2 processes is not what the tests run."""
    import os

    from darl.training.processes import has_accelerator

    return 2 if (os.cpu_count() or 1) >= 2 and not has_accelerator() else 1


def _train(out: Path, preset: DemoPreset, family: dict[str, str], processes: int, say: Say) -> dict[str, Any]:
    from darl.training.recipe import save_resolved
    from darl.training.stages import run_recipe

    recipe = demo_recipe(preset, family["small"])
    run_dir = out / "train"
    save_resolved(recipe, out / "recipe.yaml")
    resume = (run_dir / "recipe.resolved.yaml").is_file()
    if processes > 1:
        say(f"    training in {processes} processes (accelerate launch, one torch thread each)")
        _launch_training(out / "recipe.yaml", out / "levels.parquet", run_dir, processes, resume)
        stages, heldout = _finished_run(recipe, run_dir)
    else:
        result = run_recipe(recipe, out / "levels.parquet", run_dir, resume=resume)
        stages, heldout = [s.manifest for s in result.stages], result.heldout
    final = stages[-1]["final_checkpoint"]
    return {"paths": [final, str(run_dir / "heldout.json")], "final_checkpoint": final,
            "stages": [{"name": name, "steps": m["end_step"], "ended_because": m["ended_because"]}
                       for name, m in zip((s.name for s in recipe.resolved_stages), stages)],
            "heldout": heldout}


def _launch_training(recipe: Path, levels: Path, run_dir: Path, processes: int, resume: bool) -> None:
    """`darl train` under accelerate's launcher (a gloo group on CPU), its output going where ours goes."""
    import os
    import subprocess

    from darl.training.processes import local_launch_command

    cmd = local_launch_command(processes, ["-m", "darl", "train", str(recipe), "--levels", str(levels), "--out",
                                           str(run_dir)])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    code = subprocess.run(cmd + (["--resume"] if resume else []), env=env).returncode
    if code != 0:
        raise DarlError(f"training in {processes} processes ended with exit status {code} (its output is above); "
                        f"`darl demo` again resumes it, `darl demo --train-processes 1` trains in this process")


def _finished_run(recipe, run_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The stage manifests (in order) and heldout.json a finished `darl train` left in `run_dir`."""
    from darl.training.stages import stage_dir

    manifests = [json.loads((stage_dir(run_dir, stage.number, stage.name) / "manifest.json").read_text())
                 for stage in recipe.resolved_stages]
    return manifests, json.loads((run_dir / "heldout.json").read_text())


def eval_benchmarks(preset: DemoPreset, suite: str) -> dict[str, list]:
    """The held-out problems per domain. With `eval_levels` (preset default): `eval_problems` fresh problems spread
    over those generator levels that no role and no policy trained on (darl.comparison.heldout: the suite's held-out
    split extended, deduplicated against the warm start and every train split); levels 5-6, which no embedded model
    solves, are left out, since they only add zeros. Without: the suite's held-out split, `eval_problems` spread
    across its levels."""
    from darl.embedded.suite import embedded_suite

    if preset.eval_levels is not None:
        from darl.comparison.heldout import fresh_heldout

        per_level = preset.eval_problems // len(preset.eval_levels)
        return {f"embedded-{domain}": fresh_heldout(domain, preset.eval_levels, per_level, preset.bootstrap).problems
                for domain in preset.domains}
    return {f"embedded-{domain}": _spread(embedded_suite(suite, "heldout", domains=(domain,)), preset.eval_problems)
            for domain in preset.domains}


def _evaluate(out: Path, preset: DemoPreset, suite: str, label: str, model: str, role: str | None,
              say: Say) -> dict[str, Any]:
    from darl.evaluation.evaluate import EvalSettings, evaluate
    from darl.generation.models import open_generator

    settings = EvalSettings(samples=preset.eval_samples, max_new_tokens=preset.eval_max_tokens, batch_problems=16)
    generator = open_generator(model, "transformers", batch_size=64)
    progress = _Counter(say, f"eval {label}", every_s=20)
    started: set[str] = set()

    def on_progress(name: str, done: int, total: int) -> None:
        if name not in started:
            started.add(name)
            progress.start(total, done)
        else:
            progress.set(done)

    result = evaluate(generator, eval_benchmarks(preset, suite), out / "eval" / label, settings,
                      on_progress=on_progress, extra={"role": role, "label": label} if role else {"label": label})
    return {"paths": [str(result.path)], "pass@1": {k: v["pass@1"]["mean"]
                                                     for k, v in result.data["benchmarks"].items()}}


class _Counter:
    """Prints "<what>: done/total (rate, ETA)" at most every `every_s` seconds: progress that reads well both in a
    terminal and in a log file."""

    def __init__(self, say: Say, what: str, every_s: float) -> None:
        self.say, self.what, self.every_s = say, what, every_s
        self.total = self.done = self.first = 0
        self.begin = self.last = time.monotonic()

    def start(self, total: int, done: int) -> None:
        self.total, self.done, self.first = total, done, done
        self.begin = self.last = time.monotonic()
        self.say(f"    {self.what}: {done}/{total}" + (" (resumed)" if done else ""))

    def add(self, units: int) -> None:
        self.set(self.done + units)

    def set(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self.last < self.every_s and done < self.total:
            return
        self.last = now
        rate = (done - self.first) / max(now - self.begin, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        self.say(f"    {self.what}: {done}/{self.total} ({rate:.1f}/s, about {eta:.0f} s left)")


# --------------------------------------------------------------------------------------------------- the run


def run_demo(out_dir: str | Path = "demo-run", preset: str = "default", say: Say = print,
             torch_threads: int | None = 1, train_processes: int | None = None) -> DemoResult:
    """Run (or continue) the demo into `out_dir`; returns where the report is and the headline numbers.
    `train_processes`: None picks `training_processes()`; 1 trains in this process.

    `torch_threads` (None: leave torch's setting) applies from scoring on: the embedded models are so small that
    intra-op threads only add hand-off cost when generating, and on a busy machine two threads fighting over two
    cores made generation 15x slower than one (40 vs 600 tokens/s, measured under load). The bootstrap's warm start
    chooses its own threads (darl.embedded.bootstrap: all cores when the machine is idle, where 2 threads took
    0.16 s a step against 0.24 s with one; 1 thread under load)."""
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}", field="--preset", hint=f"one of {', '.join(PRESETS)}")
    spec = PRESETS[preset]
    processes = training_processes() if train_processes is None else train_processes
    if processes < 1:  # before any work, not after scoring
        raise InputError(f"train_processes must be at least 1, got {processes}", field="--train-processes")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pipe = Pipeline(out, spec, say)
    total = 8
    say(f"darl demo ({spec.name}) into {out.resolve()}")
    built = pipe.step("bootstrap", 1, total, lambda: _bootstrap(spec))
    family, suite = built["family"], built["suite"]
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    pipe.step("problems", 2, total, lambda: _problems(out, spec, suite))
    pipe.step("score", 3, total, lambda: _score(out, spec, family, say))
    pipe.step("levels", 4, total, lambda: _levels(out, policy_scoring(spec, family["small"])[0]))
    trained = pipe.step("train", 5, total, lambda: _train(out, spec, family, processes, say))
    before = pipe.step("eval-before", 6, total,
                       lambda: _evaluate(out, spec, suite, "before", family["small"], "baseline", say))
    after = pipe.step("eval-after", 7, total,
                      lambda: _evaluate(out, spec, suite, "after", trained["final_checkpoint"], None, say))

    def report() -> dict[str, Any]:
        from darl.report import write_report

        return {"paths": [str(write_report(out, title=f"darl demo ({spec.name})"))]}

    # the report is cheap and should show everything on disk now, so it is always rewritten
    pipe.state.steps.pop("report", None)
    report_path = Path(pipe.step("report", 8, total, report)["paths"][0])
    summary = out / "levels.summary.json"
    headline = headline_lines(before, after, trained, json.loads(summary.read_text()) if summary.exists() else {})
    headline += health_lines(out / "train")
    say("")
    say(f"report: {report_path.resolve()}")
    for line in headline:
        say(line)
    return DemoResult(out, report_path, headline, pipe.state)


def health_lines(run_dir: Path) -> list[str]:
    """darl.training.health's warnings for the demo's training run (held-out: its greedy accuracy before and after)."""
    from darl.training.health import check_health
    from darl.training.metrics import read_jsonl

    records = read_jsonl(run_dir / "metrics.jsonl")
    heldout_path = run_dir / "heldout.json"
    heldout = json.loads(heldout_path.read_text()) if heldout_path.exists() else {}
    series = None
    if "before" in heldout and "after" in heldout:
        last = max((r["train/global_step"] for r in records if isinstance(r.get("train/global_step"), int)), default=0)
        series = [(0, heldout["before"]["accuracy"]), (last, heldout["after"]["accuracy"])]
    return [f"training health: {w.name} from step {w.step}: {w.message}" for w in check_health(records, series)]


def headline_lines(before: dict[str, Any], after: dict[str, Any], trained: dict[str, Any],
                   levels_summary: dict[str, Any] | None = None) -> list[str]:
    """The numbers the demo ends with: the held-out Pass@1 before and after training with its confidence interval,
    the validation accuracy, why each stage ended, and the policy's initial reward per level (from the levels
    summary: its pass rate at the training temperature; the paper saw 0.58 / 0.50 / 0.17)."""
    from darl.evaluation.compare import compare_evals, read_eval

    lines = []
    comparisons = compare_evals(read_eval(after["paths"][0]), read_eval(before["paths"][0]))
    for c in comparisons:
        ci = "" if c.ci_low is None else f", 95% CI [{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}]"
        lines.append(f"{c.benchmark}: Pass@1 {100 * c.baseline_pass1:.1f}% -> {100 * c.new_pass1:.1f}% "
                     f"({100 * c.delta:+.1f} points{ci}, {c.problems_compared} held-out problems)")
    heldout = trained.get("heldout") or {}
    if "before" in heldout and "after" in heldout:
        lines.append(f"held-out greedy accuracy (training's validation set): {100 * heldout['before']['accuracy']:.1f}%"
                     f" -> {100 * heldout['after']['accuracy']:.1f}%")
    for stage in trained.get("stages", []):
        lines.append(f"stage {stage['name']}: {stage['steps']} steps, ended because {stage['ended_because']}")
    rewards = {key.split("/")[2]: value for key, value in (levels_summary or {}).items()
               if key.startswith("levels/policy_pass_rate/") and key.endswith("/math") and value is not None}
    if rewards:
        lines.append("initial reward of the policy by level (math, pass rate at the training temperature): "
                     + ", ".join(f"{name} {value:.2f}" for name, value in sorted(rewards.items())))
    return lines
