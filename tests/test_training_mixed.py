"""Mixed math + code GRPO through TRL's GRPOTrainer with the real verifiers: Math-Verify for math and the code
sandbox for code, as `darl train` runs them (no stand-in). The policy is the embedded family's small model, which
writes code that sometimes passes, so the code reward really comes out of the sandbox. Three optimizer steps of 3
prompts (math L1 : code L3 = 2 : 1) with 8 rollouts each keep it small enough for CI: the small model passes about
a quarter of its samples on these easiest code problems at T = 1.0 (11 of 48 on a family built here), so 24 code
samples all failing has a chance of about 0.2%, where 8 (the earlier 2 steps x 4 rollouts) failed on a rebuilt family."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from darl.training.metrics import read_jsonl
from darl.training.recipe import parse_recipe


def mixed_levels(problems, path):
    rows = []
    for p in problems:
        row = p.to_row()
        row["levels"] = [1] if p.domain == "math" else [3]
        rows.append(row)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.slow
def test_mixed_math_and_code_grpo_with_the_real_verifiers(tmp_path, embedded_family):
    import torch

    from darl.training.stages import run_recipe

    problems = embedded_family.problems("train")
    math_problems = [p for p in problems if p.domain == "math"][:12]
    code_problems = [p for p in problems if p.domain == "code"][:12]
    levels = mixed_levels(math_problems + code_problems, tmp_path / "levels.parquet")
    recipe = parse_recipe(f"""
name: mixed-ci
model: {embedded_family.path("small")}
seed: 0
defaults: {{learning_rate: 1.0e-4, num_generations: 8, prompts_per_step: 3, max_completion_length: 96,
           temperature: 1.0, kl_coef: 0.001}}
validation: {{per_component: 2, batch_size: 8}}
save_every_steps: 2
stages:
  - name: mixed
    mix: [{{domain: math, level: 1, weight: 2}}, {{domain: code, level: 3, weight: 1}}]
    end: {{max_steps: 3}}
""")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_recipe(recipe, levels, tmp_path / "run")  # verifier=None: the real Verifier, sandbox included
    finally:
        torch.set_num_threads(threads)
    assert result.stages[0].manifest["end_step"] == 3
    consumed = read_jsonl(tmp_path / "run" / "stage-1-mixed" / "consumed.jsonl")
    assert [sorted(r["streams"]) for r in consumed] == [["code/L3", "math/L1", "math/L1"]] * 3
    steps = [r for r in read_jsonl(tmp_path / "run" / "metrics.jsonl") if "train/reward" in r]
    assert len(steps) == 3
    code_rewards = [r["levels/code/L3/reward_mean"] for r in steps]
    math_rewards = [r["levels/math/L1/reward_mean"] for r in steps]
    assert all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in code_rewards + math_rewards), (code_rewards, math_rewards)
    # the small model's code passes some tests: a reward above 0 can only come from programs run in the sandbox
    assert max(code_rewards) > 0.0, code_rewards
