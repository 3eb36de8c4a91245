"""End-to-end staged training on a tiny random Qwen2 through TRL's GRPOTrainer: two stages, plateau transition,
manifest, namespaced metrics, per-batch mix ratio, and a real run SIGKILLed mid-stage and resumed (no prompt skipped
or repeated; the same rollouts as an uninterrupted run)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from training_tiny import DigitStandIn, make_tiny_policy

from darl.records import Problem
from darl.training.metrics import NAMESPACES, read_jsonl
from darl.training.recipe import parse_recipe

ROOT = Path(__file__).resolve().parents[1]


def write_levels(path: Path, n: int = 48) -> Path:
    rows = []
    for i in range(n):
        domain = "math"
        p = Problem(id=f"p{i}", domain=domain, prompt=f"What is {i}+{i % 7}?", answer=str(i + i % 7))
        row = p.to_row()
        row["levels"] = sorted({1 + i % 3} | ({2} if i % 4 == 0 else set()))
        rows.append(row)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def recipe_text(policy: Path) -> str:
    return f"""
name: tiny
model: {policy}
seed: 3
defaults: {{learning_rate: 1.0e-3, num_generations: 4, prompts_per_step: 3, max_completion_length: 16,
           kl_coef: 0.001, entropy_coef: 0.001}}
validation: {{per_component: 3, batch_size: 8}}
online_difficulty: {{defer_unsolved: true, defer_min_rollouts: 4}}
save_every_steps: 2
save_total_limit: 5
stages:
  - name: first
    mix: [{{domain: math, level: 1, weight: 2}}, {{domain: math, level: 2, weight: 1}}]
    end: {{max_steps: 6, plateau: {{every_steps: 1, window: 2, patience: 1, min_steps: 4}}}}
  - name: second
    mix: [{{domain: math, level: 3}}]
    grpo: {{max_completion_length: 24, mask_truncated_completions: true, entropy_coef: 0.0}}
    end: {{max_steps: 2}}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A finished uninterrupted two-stage run (the reference for the kill-and-resume test)."""
    import torch

    from darl.training.stages import run_recipe

    # One thread: on a shared 2-core machine two threads per tiny forward pass are ~15x slower, not faster.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("train")
    policy, levels = make_tiny_policy(root / "policy"), write_levels(root / "levels.parquet")
    (root / "recipe.yaml").write_text(recipe_text(policy))
    try:
        result = run_recipe(parse_recipe(recipe_text(policy)), levels, root / "run", verifier=DigitStandIn())
    finally:
        torch.set_num_threads(threads)
    return policy, levels, root, result


def test_two_stage_run_moves_on_plateau_and_records_everything(tiny):
    from transformers import AutoModelForCausalLM

    policy, levels, root, result = tiny
    first, second = (s.manifest for s in result.stages)
    # A random policy's greedy accuracy on held-out problems stays flat: stage 1 ends on the plateau test.
    assert first["end_step"] == 4 and first["ended_because"].startswith("plateau at step 4")
    assert second["ended_because"] == "reached end.max_steps = 2" and second["started_from"] == first["final_checkpoint"]
    assert second["carried_optimizer_from"] == first["final_checkpoint"]
    assert second["global_start_step"] == first["end_step"]
    # stage 2 starts from stage 1's final weights
    import torch
    a = AutoModelForCausalLM.from_pretrained(first["final_checkpoint"]).state_dict()
    b = AutoModelForCausalLM.from_pretrained(policy).state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)
    # every metric is namespaced; per-level keys, truncation, zero-variance, entropy, lr and stage are there
    rows = read_jsonl(root / "run" / "metrics.jsonl")
    step_rows = [r for r in rows if "train/reward" in r]
    assert len(step_rows) == first["end_step"] + 2
    assert all(k.startswith(NAMESPACES) for r in rows for k in r)
    keys = set().union(*step_rows)
    for key in ("levels/math/L1/reward_mean", "levels/math/L2/zero_variance_share", "levels/math/L3/truncation_rate",
                "train/zero_variance_share", "train/entropy", "train/kl", "train/clip_ratio/region_mean",
                "train/completions/clipped_ratio", "train/learning_rate", "stage/val_accuracy", "stage/index"):
        assert key in keys, key
    # 3 prompts per batch at 2 : 1 -> exactly 2 level-1 and 1 level-2 prompts in every stage-1 batch
    consumed = read_jsonl(root / "run" / "stage-1-first" / "consumed.jsonl")
    assert [r["streams"].count("math/L1") for r in consumed] == [2] * first["end_step"]
    assert json.loads((root / "run" / "heldout.json").read_text())["after"]["count"] == 9


def _train_cmd(recipe: Path, levels: Path, out: Path, resume: bool = False) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).parent / "training_tiny.py"), str(recipe), str(levels), str(out)]
    return cmd + (["--resume"] if resume else [])


@pytest.mark.slow
def test_sigkill_anywhere_then_resume_matches_an_uninterrupted_run(tiny):
    policy, levels, root, _ = tiny
    recipe, ref, killed = root / "recipe.yaml", root / "run", root / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(_train_cmd(recipe, levels, killed), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    stage = killed / "stage-1-first"
    deadline = time.time() + 240
    try:  # kill after the step-2 checkpoint, while step 4 (batch 3) is being trained
        while time.time() < deadline:
            rows = read_jsonl(stage / "consumed.jsonl") if (stage / "consumed.jsonl").exists() else []
            if (stage / "checkpoint-2" / "darl_state.json").exists() and any(r["batch"] >= 3 for r in rows):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never reached step 4")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not (stage / "manifest.json").exists()
    before = [r["batch"] for r in read_jsonl(stage / "consumed.jsonl")]
    assert before[-1] >= 3  # batches after the checkpoint were consumed and will be undone
    resumed = subprocess.run(_train_cmd(recipe, levels, killed, resume=True), env=env, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for name in ("stage-1-first", "stage-2-second"):
        ref_rows = read_jsonl(ref / name / "consumed.jsonl")
        got_rows = read_jsonl(killed / name / "consumed.jsonl")
        assert [r["batch"] for r in got_rows] == list(range(len(ref_rows)))  # nothing skipped or repeated
        assert [r["ids"] for r in got_rows] == [r["ids"] for r in ref_rows]  # same prompts in the same order
    # same rollouts, losses and validations after the resume: RNG, weights and optimizer came back exactly
    assert comparable_metrics(killed) == comparable_metrics(ref)
    assert_same_tensors(killed / "stage-2-second", ref / "stage-2-second")


# Wall-clock readings differ between any two runs; everything else a run logs must come back identical.
_CLOCK_WORDS = ("time", "runtime", "per_second", "seconds", "elapsed", "eta")


def comparable_metrics(run: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if not any(w in k for w in _CLOCK_WORDS)}
            for row in read_jsonl(run / "metrics.jsonl")]


def assert_same_tensors(stage_a: Path, stage_b: Path) -> None:
    """The last checkpoint of two stage folders: identical weights, optimizer moments and scheduler."""
    import torch
    from safetensors.torch import load_file

    last = max((p.name for p in stage_b.glob("checkpoint-*")), key=lambda n: int(n.split("-")[1]))
    a, b = stage_a / last, stage_b / last
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa), last
    oa = torch.load(a / "optimizer.pt", weights_only=True)["state"]
    ob = torch.load(b / "optimizer.pt", weights_only=True)["state"]
    assert oa.keys() == ob.keys()
    for key in oa:
        assert all(torch.equal(oa[key][name], ob[key][name]) for name in oa[key]), (last, key)
    assert torch.load(a / "scheduler.pt", weights_only=True) == torch.load(b / "scheduler.pt", weights_only=True)


def test_resume_after_the_plateau_checkpoint_ends_the_stage_without_training_more(tiny):
    """Killed after stage 1 ended on a plateau (checkpoint written) but before its manifest: the resumed run must
    not train stage 1 further, must give the same reason, and must run stage 2 as the uninterrupted run did."""
    import shutil

    import torch

    from darl.training.stages import run_recipe

    policy, levels, root, result = tiny
    copy = root / "plateau_resume"
    shutil.copytree(root / "run", copy)
    (copy / "stage-1-first" / "manifest.json").unlink()
    shutil.rmtree(copy / "stage-2-second")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        again = run_recipe(parse_recipe(recipe_text(policy)), levels, copy, resume=True, verifier=DigitStandIn())
    finally:
        torch.set_num_threads(threads)
    first, second = (s.manifest for s in again.stages)
    ref_first, ref_second = (s.manifest for s in result.stages)
    assert first["end_step"] == ref_first["end_step"] and first["ended_because"] == ref_first["ended_because"]
    assert read_jsonl(copy / "stage-1-first" / "consumed.jsonl") == read_jsonl(root / "run" / "stage-1-first" /
                                                                               "consumed.jsonl")
    assert [r["ids"] for r in read_jsonl(copy / "stage-2-second" / "consumed.jsonl")] == \
        [r["ids"] for r in read_jsonl(root / "run" / "stage-2-second" / "consumed.jsonl")]
    assert second["end_step"] == ref_second["end_step"]


TEARS = {  # what a kill, a power cut or a rotation cut short leaves in a checkpoint folder
    "no darl_state.json (killed during the Hugging Face write)": lambda c: (c / "darl_state.json").unlink(),
    "model.safetensors cut in half": lambda c: _truncate(c / "model.safetensors"),
    "model.safetensors gone (rotation)": lambda c: (c / "model.safetensors").unlink(),
    "trainer_state.json gone": lambda c: (c / "trainer_state.json").unlink(),
    "trainer_state.json torn": lambda c: _truncate(c / "trainer_state.json"),
    "optimizer.pt cut short": lambda c: _truncate(c / "optimizer.pt"),
    "optimizer.pt gone": lambda c: (c / "optimizer.pt").unlink(),
    "darl_state.json of another step": lambda c: (c / "darl_state.json").write_text(
        (c / "darl_state.json").read_text().replace('"step": 4', '"step": 2', 1)),
}


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("tear", sorted(TEARS))
def test_a_torn_checkpoint_is_never_resumed_from(tiny, tmp_path, tear):
    """Each way a checkpoint can be left half-written makes the resume fall back to the previous whole one."""
    import shutil
    import warnings

    from darl.training.checkpoint_check import checkpoint_problem
    from darl.training.stages import latest_checkpoint

    _, _, root, _ = tiny
    stage = tmp_path / "stage"
    shutil.copytree(root / "run" / "stage-1-first", stage)
    assert checkpoint_problem(stage / "checkpoint-4") is None and latest_checkpoint(stage) == stage / "checkpoint-4"
    TEARS[tear](stage / "checkpoint-4")
    assert checkpoint_problem(stage / "checkpoint-4") is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert latest_checkpoint(stage) == stage / "checkpoint-2"
    if (stage / "checkpoint-4" / "darl_state.json").exists():
        assert any("checkpoint-4: not resuming from this checkpoint" in str(w.message) for w in caught)


def test_resume_after_a_torn_final_checkpoint_redoes_its_steps_exactly(tiny):
    """Stage 1's last checkpoint (step 4) cut short after darl_state.json was written: the resumed run must take
    checkpoint 2, train steps 3 and 4 again and end exactly as the uninterrupted run did: the same prompts, every
    logged metric, and the same weights, optimizer moments and scheduler in stage 2's last checkpoint."""
    import shutil

    import torch

    from darl.training.stages import run_recipe

    policy, levels, root, result = tiny
    copy = root / "torn_resume"
    shutil.copytree(root / "run", copy)
    (copy / "stage-1-first" / "manifest.json").unlink()
    shutil.rmtree(copy / "stage-2-second")
    _truncate(copy / "stage-1-first" / "checkpoint-4" / "model.safetensors")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.warns(UserWarning, match="checkpoint-4: not resuming from this checkpoint: model.safetensors is "
                                             "cut short"):
            again = run_recipe(parse_recipe(recipe_text(policy)), levels, copy, resume=True, verifier=DigitStandIn())
    finally:
        torch.set_num_threads(threads)
    assert [s.manifest["end_step"] for s in again.stages] == [s.manifest["end_step"] for s in result.stages]
    for name in ("stage-1-first", "stage-2-second"):
        assert read_jsonl(copy / name / "consumed.jsonl") == read_jsonl(root / "run" / name / "consumed.jsonl")
    assert comparable_metrics(copy) == comparable_metrics(root / "run")
    assert_same_tensors(copy / "stage-1-first", root / "run" / "stage-1-first")
    assert_same_tensors(copy / "stage-2-second", root / "run" / "stage-2-second")
