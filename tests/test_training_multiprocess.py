"""darl train under several processes, on CPU: `accelerate launch --multi_gpu --num_processes 2` (accelerate's
torchrun launcher; darl joins a gloo group when no accelerator is present) runs a two-stage recipe on the embedded
family's small policy, end to end, three times: uninterrupted, then killed with SIGKILL (every process of the job)
in the middle of stage 1, then resumed with --resume. Checked:
- each rank trains exactly its slice of the sampler's batch, in order, and the slices together are the batch (the
  batches themselves recomputed here from the sampler), so nothing is missing or duplicated;
- run files are written once (metrics.jsonl lines, manifests, checkpoints, run/final by the main process only);
- the resumed run logs what the uninterrupted one logged, step by step (every metric but wall-clock times, bitwise);
- TensorBoard (and W&B offline, where wandb is installed) hold one run whose global step continues across the
  stage boundary, and the resumed run's TensorBoard equals the uninterrupted run's (the killed steps purged).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from darl.training.metrics import read_jsonl
from darl.training.processes import local_launch_command

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LAUNCHED = Path(__file__).parent / "multiprocess_train.py"
STAGES = ("stage-1-first", "stage-2-second")
STEPS = {"stage-1-first": 4, "stage-2-second": 2}
# Wall-clock measurements: they differ between any two runs, killed or not.
WALL_CLOCK = {"train/step_time", "train/train_runtime", "train/train_samples_per_second",
              "train/train_steps_per_second"}


def _has_wandb() -> bool:
    import importlib.util

    return importlib.util.find_spec("wandb") is not None


def recipe_text(policy: Path) -> str:
    sinks = "[tensorboard, wandb]" if _has_wandb() else "[tensorboard]"
    return f"""
name: two_process
model: {policy}
seed: 0
defaults: {{learning_rate: 1.0e-4, num_generations: 4, prompts_per_step: 4, max_completion_length: 32,
           kl_coef: 0.001, entropy_coef: 0.001, temperature: 1.0}}
validation: {{per_component: 2, batch_size: 8, max_new_tokens: 32}}
save_every_steps: 2
save_total_limit: 3
report_to: {sinks}
stages:
  - name: first
    mix: [{{domain: math, level: 2}}]
    end: {{max_steps: {STEPS["stage-1-first"]}}}
  - name: second
    mix: [{{domain: math, level: 3}}]
    # two micro-steps per step: each rank's 8 rollouts are generated once and trained in two halves
    grpo: {{max_completion_length: 48, mask_truncated_completions: true, entropy_coef: 0.0,
           gradient_accumulation_steps: 2}}
    carry_optimizer: true
    end: {{max_steps: {STEPS["stage-2-second"]}}}
"""


def write_levels(family, path: Path, per_level: int = 24) -> Path:
    """Math problems of the family's suite: suite levels 1-2 as Level 2, suite levels 3-4 as Level 3."""
    rows, counts = [], {2: 0, 3: 0}
    for problem in family.problems("train"):
        level = {1: 2, 2: 2, 3: 3, 4: 3}.get(problem.metadata.get("level"))
        if problem.domain != "math" or level is None or counts[level] >= per_level:
            continue
        counts[level] += 1
        rows.append({**problem.to_row(), "levels": [level]})
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def launch(root: Path, out: Path, resume: bool = False) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "DARL_TEST_RANK_LOG": str(out) + ".ranks", "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    cmd = local_launch_command(2, [str(LAUNCHED), "train", str(root / "recipe.yaml"), "--levels",
                                   str(root / "levels.parquet"), "--out", str(out)] + (["--resume"] if resume else []))
    log = open(str(out) + (".resume.log" if resume else ".log"), "w")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def finish(proc: subprocess.Popen, out: Path, timeout: float = 300) -> float:
    start = time.monotonic()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_job(proc)
        code = "timeout"
    if code != 0:
        logs = [Path(str(out) + s) for s in (".log", ".resume.log")]
        tail = "".join(p.read_text()[-4000:] for p in logs if p.exists())
        pytest.fail(f"accelerate launch ended with {code}:\n{tail}")
    return time.monotonic() - start


def kill_job(proc: subprocess.Popen) -> None:
    """SIGKILL the launcher and every process under it. torchrun starts each rank in a session of its own, so
    killing the launcher's process group alone would leave the ranks running."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for child in children:
        try:
            child.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    psutil.wait_procs(children, timeout=30)


@pytest.fixture(scope="module")
def runs(embedded_family, tmp_path_factory):
    """(root, uninterrupted run dir, killed-and-resumed run dir, timings)."""
    root = tmp_path_factory.mktemp("two_process")
    write_levels(embedded_family, root / "levels.parquet")
    (root / "recipe.yaml").write_text(recipe_text(embedded_family.path("small")))
    timings = {}

    start = time.monotonic()
    finish(launch(root, root / "ref"), root / "ref")
    timings["uninterrupted"] = time.monotonic() - start

    killed = root / "killed"
    start = time.monotonic()
    proc = launch(root, killed)
    stage = killed / STAGES[0]
    deadline = time.time() + 300
    try:  # kill after the step-2 checkpoint, while step 3 or 4 is being trained
        while time.time() < deadline and proc.poll() is None:
            rows = read_jsonl(stage / "consumed.jsonl") if (stage / "consumed.jsonl").exists() else []
            if (stage / "checkpoint-2" / "darl_state.json").exists() and any(r["batch"] >= 2 for r in rows):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run ended or timed out before it could be killed in step 3 or 4")
    finally:
        kill_job(proc)
    timings["until_killed"] = time.monotonic() - start
    assert not (stage / "manifest.json").exists()
    killed_at = max(r["batch"] for r in read_jsonl(stage / "consumed.jsonl"))
    start = time.monotonic()
    finish(launch(root, killed, resume=True), killed)
    timings["resume"] = time.monotonic() - start
    print(f"two-process CPU runs: {timings} (killed while training batch {killed_at})")
    return root, root / "ref", killed, timings


def _rank_records(run: Path) -> dict[tuple[str, int, int], list[str]]:
    """(stage, step, rank) -> problem id of each rollout that rank scored; the last record wins (a resumed run
    trains the steps after its checkpoint again)."""
    out = {}
    for rank in (0, 1):
        for row in read_jsonl(Path(f"{run}.ranks.rank{rank}.jsonl")):
            out[(row["stage"], row["step"], rank)] = row["ids"]
    return out


def _sampler_batches(root: Path) -> dict[str, list[list[str]]]:
    """Each stage's batches as the sampler draws them in one process (problem ids, in order)."""
    from darl.training.data import heldout_split, load_levels, stage_data
    from darl.training.recipe import load_recipe
    from darl.training.sampler import LevelDomainSampler

    recipe = load_recipe(root / "recipe.yaml")
    items = load_levels(root / "levels.parquet")
    split = heldout_split(recipe, items, root / "levels.parquet")
    batches = {}
    for index, name in enumerate(STAGES):
        data = stage_data(recipe, index, items, split, root / "levels.parquet")
        g = recipe.stage_settings(index)
        sampler = LevelDomainSampler(data.streams, g.prompts_per_step, g.num_generations, 1, STEPS[name],
                                     seed=recipe.seed + index)
        batches[name] = [[data.rows[r]["problem_id"] for r in sampler.draw_batch()] for _ in range(STEPS[name])]
    return batches


def test_each_rank_trains_its_slice_of_the_samplers_batch(runs):
    root, ref, killed, _ = runs
    expected = _sampler_batches(root)
    for run in (ref, killed):
        ranks = _rank_records(run)
        for name in STAGES:
            consumed = [r["ids"] for r in read_jsonl(run / name / "consumed.jsonl")]
            assert consumed == expected[name]
            for step, batch in enumerate(expected[name]):
                assert len(set(batch)) == 4  # distinct prompts in a batch
                rollouts = [pid for pid in batch for _ in range(4)]  # G = 4 rollouts per prompt, contiguous
                # 16 rollouts over 2 ranks: rank 0 the first 8, rank 1 the last 8, nothing else
                assert ranks[(name, step, 0)] == rollouts[:8], (run.name, name, step)
                assert ranks[(name, step, 1)] == rollouts[8:], (run.name, name, step)
        assert {k[:2] for k in ranks} == {(n, s) for n in STAGES for s in range(STEPS[n])}


def test_run_files_are_written_once(runs):
    root, ref, _, _ = runs
    rows = read_jsonl(ref / "metrics.jsonl")
    steps = [(r["stage/index"], r["stage/step"]) for r in rows if "train/reward" in r]
    assert steps == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2)]  # one line per step, not one per rank
    assert len(rows) == len(steps) + 2  # and one end-of-stage summary per stage
    for name in STAGES:
        manifest = json.loads((ref / name / "manifest.json").read_text())
        assert manifest["end_step"] == STEPS[name]
        assert manifest["data"]["levels_file"] == str((root / "levels.parquet").resolve())  # darl report reads it
        checkpoints = sorted(p.name for p in (ref / name).glob("checkpoint-*"))
        assert checkpoints == [f"checkpoint-{s}" for s in range(2, STEPS[name] + 1, 2)]
        for checkpoint in checkpoints:  # one model, one trainer state; each rank's own RNG state
            files = sorted(p.name for p in (ref / name / checkpoint).iterdir())
            assert files.count("model.safetensors") == 1 and {"rng_state_0.pth", "rng_state_1.pth"} <= set(files)
    final = json.loads((ref / "final" / "darl_final.json").read_text())
    assert final["checkpoint"] == str((ref / STAGES[1] / "checkpoint-2").resolve())
    assert not (ref / "final" / "optimizer.pt").exists() and (ref / "final" / "tokenizer.json").exists()
    assert list((ref / "tensorboard").iterdir()) and not list(ref.glob("stage-*/runs"))
    log = Path(f"{ref}.log").read_text()  # the command's output: header and summary once, the final model's path
    assert log.count("darl train two_process: 2 stage(s)") == 1
    assert log.count("final model: ") == 1 and f"final model: {ref / 'final'}   evaluate it with: darl eval" in log


def test_killed_and_resumed_run_logs_what_the_uninterrupted_run_logged(runs):
    _, ref, killed, _ = runs
    a, b = read_jsonl(ref / "metrics.jsonl"), read_jsonl(killed / "metrics.jsonl")
    assert [(r["stage/index"], r["stage/step"]) for r in a] == [(r["stage/index"], r["stage/step"]) for r in b]
    for x, y in zip(a, b):
        assert set(x) == set(y)
        same = {k: x[k] for k in x if k not in WALL_CLOCK}
        assert same == {k: y[k] for k in same}, [(k, x[k], y[k]) for k in same if x[k] != y[k]]
    # gloo all-reduces in a fixed order on CPU: the gradients, hence the weights, came back bit for bit
    from safetensors.torch import load_file

    x = load_file(ref / "final" / "model.safetensors")
    y = load_file(killed / "final" / "model.safetensors")
    assert all((x[k] == y[k]).all() for k in x)


def _tensorboard_scalars(run: Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_tensorboard_is_one_run_whose_step_continues_across_stages(runs):
    _, ref, killed, _ = runs
    rewards = _tensorboard_scalars(ref, "train/reward")  # darl's own names: not "train/train/reward"
    assert [step for step, _ in rewards] == [1, 2, 3, 4, 5, 6]  # stage 2's steps follow stage 1's
    jsonl = [(r["train/global_step"], r["train/reward"]) for r in read_jsonl(ref / "metrics.jsonl")
             if "train/reward" in r]
    assert rewards == [(s, pytest.approx(v)) for s, v in jsonl]
    # the steps the killed session logged after its checkpoint are purged: the same series, once
    assert _tensorboard_scalars(killed, "train/reward") == rewards
    assert [s for s, _ in _tensorboard_scalars(ref, "stage/index")][-2:] == [6, 6]


def test_wandb_offline_is_one_run_whose_step_continues_across_stages(runs):
    pytest.importorskip("wandb")
    from wandb_records import history_rows, wait_finished  # noqa: PLC0415 (test helper beside this file)

    _, ref, killed, _ = runs
    run_id = json.loads((ref / "wandb.json").read_text())["id"]
    files = sorted((ref / "wandb").glob("offline-run-*/run-*.wandb"))
    assert [f.name for f in files] == [f"run-{run_id}.wandb"]  # one W&B run for both stages
    wait_finished(files[0])
    rows = [r for r in history_rows(files[0]) if "train/reward" in r]
    assert [r["train/global_step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    jsonl = [r["train/reward"] for r in read_jsonl(ref / "metrics.jsonl") if "train/reward" in r]
    assert [r["train/reward"] for r in rows] == pytest.approx(jsonl)
    # the resumed session logs into the same W&B run id
    killed_id = json.loads((killed / "wandb.json").read_text())["id"]
    sessions = sorted((killed / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(sessions) == 2 and {f.name for f in sessions} == {f"run-{killed_id}.wandb"}
