"""GRPO through darl raises the reward it is given: the one end-to-end check that the whole training path (levels
file -> held-out split -> sampler -> rollouts -> the real math verifier -> advantages -> TRL's loss) pushes the
policy the right way.

Every other training test checks plumbing (files, resumes, metrics, stages), and those pass just as well when the
rewards reach the wrong completions or the advantage has the wrong sign: the run completes, the loss is finite,
only the learning is gone. Here the embedded policy trains on 8 fixed moderate problems (every step draws all 8,
8 rollouts each) at a learning rate high enough to move it in 24 steps, and two things must rise: the training
reward the run logs, and the policy's pass rate on the same problems measured afterwards by sampling with the real
verifier, outside the trainer (a bug that corrupts the logged reward as well cannot fool the second).

Measured (2026-12-01, one torch thread): logged reward 0.19 (mean of the first 3 steps) -> 0.56 (last 6); pass
rate at T = 1.0, 16 samples, 0.19 -> 0.52. Bugs planted by hand in `DarlGRPOTrainer._calculate_rewards`: rewards
shuffled among the completions, logged reward 0.15 -> 0.04 (the first assertion fails); rewards flipped (1 - r),
logged reward 0.87 -> 1.00 but pass rate 0.19 -> 0.00 (the second fails). A step's logged reward over 64 rollouts
varies by about 0.05, so the bars (+0.12, +0.15) leave a wide margin on both sides.
"""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def test_training_reward_rises_on_a_fixed_prompt_set(tmp_path, embedded_family):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from darl.embedded.suite import make_problem
    from darl.training.recipe import Recipe
    from darl.training.stages import run_recipe

    rows = []
    for i in range(9):  # 8 to train on, 1 held out for validation (the split needs at least 1)
        problem, _ = make_problem("math", 2, 700_000 + i, f"learns-{i}", "test")
        rows.append({**problem.to_row(), "levels": [2]})
    levels = tmp_path / "levels.parquet"
    pq.write_table(pa.Table.from_pylist(rows), levels)
    recipe = Recipe.model_validate({
        "name": "learns", "model": str(embedded_family.path("small")), "seed": 0,
        "defaults": {"learning_rate": 3e-4, "lr_scheduler_type": "constant", "warmup_steps": 0,
                     "num_generations": 8, "prompts_per_step": 8, "kl_coef": 0.001, "entropy_coef": 0.0,
                     "loss_type": "dapo", "temperature": 1.0, "max_completion_length": 64},
        "validation": {"per_component": 1, "batch_size": 8},
        "save_every_steps": 24,
        "stages": [{"name": "fixed", "mix": [{"domain": "math", "level": 2}], "end": {"max_steps": 24}}],
    })
    result = run_recipe(recipe, levels, tmp_path / "run")
    rewards = [row["train/reward"] for row in map(json.loads, (tmp_path / "run" / "metrics.jsonl").open())
               if "train/reward" in row]
    assert len(rewards) == 24
    first, last = sum(rewards[:3]) / 3, sum(rewards[-6:]) / 6
    assert last > first + 0.12, f"training reward {first:.2f} (first 3 steps) -> {last:.2f} (last 6): {rewards}"

    from darl.embedded.calibrate import pass_rates
    from darl.records import Problem
    from darl.verifiers import Verifier

    problems = [Problem.from_row(row) for row in rows]
    final = result.stages[-1].manifest["final_checkpoint"]
    with Verifier() as verifier:
        before, after = (sum(rates) / len(rates) for rates in (
            pass_rates(model, problems, verifier, k=16, temperature=1.0, max_new_tokens=64)
            for model in (embedded_family.path("small"), final)))
    assert after > before + 0.15, f"pass rate on the training problems {before:.2f} -> {after:.2f}"
