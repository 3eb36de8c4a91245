"""GPU-only settings of the paper recipes, exercised as far as a CPU allows: the GRPOConfig kwargs darl builds
(bf16, vLLM, batch split, DeepSpeed), the real GRPOConfig from them (bf16 accepted on CPU with use_cpu), and the
DeepSpeed config validated by DeepSpeed's own config class where `deepspeed` imports (it needs no GPU to import;
the test is skipped where it is not installed)."""

from __future__ import annotations

import importlib.util
import json

import pytest

import darl.training.stages as stages
from darl.training.deepspeed_config import deepspeed_config
from darl.training.recipe import load_recipe, resolve_recipe_path


def captured_kwargs(monkeypatch, recipe, index, tmp_path, world):
    seen = {}
    monkeypatch.setattr(stages, "build_grpo_config", lambda kwargs, where: seen.setdefault("kwargs", kwargs))
    stages.grpo_config(recipe, recipe.stage(index), tmp_path, world)
    return seen["kwargs"]


@pytest.mark.parametrize("name", ["paper_two_stage", "paper_mixed_math_code"])
def test_paper_recipe_settings_reach_grpo_config(monkeypatch, tmp_path, name):
    from trl import GRPOConfig

    recipe = load_recipe(resolve_recipe_path(name))
    for index in range(len(recipe.stages)):
        kw = captured_kwargs(monkeypatch, recipe, index, tmp_path, world=8)
        g = recipe.stage_settings(index)
        assert (kw["bf16"], kw["use_vllm"], kw["vllm_mode"], kw["vllm_gpu_memory_utilization"],
                kw["vllm_tensor_parallel_size"], kw["gradient_checkpointing"]) == (True, True, "colocate", 0.3, 1, True)
        assert (kw["per_device_train_batch_size"], kw["gradient_accumulation_steps"], kw["num_generations"]) == (
            1, 256, 16)
        assert kw["deepspeed"] == deepspeed_config(2, True)
        assert (kw["entropy_coef"], kw["mask_truncated_completions"], kw["max_completion_length"]) == (
            g.entropy_coef, g.mask_truncated_completions, g.max_completion_length)
        # The real GRPOConfig accepts them (DeepSpeed left out: transformers imports deepspeed for it; bf16 on a CPU
        # needs use_cpu). One process here, so TRL's generation batch is 1 x 256 micro-steps.
        args = {k: v for k, v in kw.items() if k != "deepspeed"} | {"use_cpu": True}
        config = GRPOConfig(**args)
        assert config.bf16 and config.use_vllm and config.vllm_gpu_memory_utilization == 0.3
        assert config.steps_per_generation == 256 and config.generation_batch_size == 256
        assert config.gradient_checkpointing and config.beta == g.kl_coef
    two = load_recipe(resolve_recipe_path("paper_two_stage"))
    kw1 = captured_kwargs(monkeypatch, two, 1, tmp_path, world=8)
    assert (kw1["entropy_coef"], kw1["mask_truncated_completions"], kw1["max_completion_length"]) == (0.0, True, 24576)


def test_deepspeed_config_shape_for_every_stage():
    for stage in range(4):
        cfg = deepspeed_config(stage, bf16=True)
        assert cfg["zero_optimization"]["stage"] == stage and cfg["bf16"] == {"enabled": True}
        # sizes come from the trainer's arguments (transformers fills "auto"), so the recipe is their one source
        assert all(cfg[k] == "auto" for k in ("train_batch_size", "train_micro_batch_size_per_gpu",
                                              "gradient_accumulation_steps", "gradient_clipping"))
        json.dumps(cfg)  # a file accelerate can read, too
    assert deepspeed_config(3, bf16=False)["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"]
    with pytest.raises(ValueError, match="zero_stage"):
        deepspeed_config(4, bf16=True)


@pytest.mark.skipif(importlib.util.find_spec("deepspeed") is None, reason="deepspeed not installed")
def test_deepspeed_accepts_the_config():
    from deepspeed.runtime.config import DeepSpeedConfig

    for stage in range(4):
        cfg = json.loads(json.dumps(deepspeed_config(stage, bf16=True)))
        # what transformers' HfTrainerDeepSpeedConfig fills in for one process of the paper recipe
        cfg.update(train_micro_batch_size_per_gpu=1, gradient_accumulation_steps=256, train_batch_size=256,
                   gradient_clipping=1.0)
        parsed = DeepSpeedConfig(cfg)
        assert parsed.zero_optimization_stage == stage and parsed.train_batch_size == 256
    bad = json.loads(json.dumps(deepspeed_config(2, bf16=True)))
    bad.update(train_micro_batch_size_per_gpu=1, gradient_accumulation_steps=256, train_batch_size=256,
               gradient_clipping=1.0)
    bad["zero_optimization"]["overlap_comn"] = True  # a typo: DeepSpeed's schema refuses it, so the check is real
    with pytest.raises(Exception, match="overlap_comn"):
        DeepSpeedConfig(bad)


def test_building_a_grpo_config_raises_no_upstream_rename_warning(tmp_path):
    """transformers 5 warns that TrainingArguments' `gradient_checkpointing` is renamed; TRL's defaults trigger it on
    every run. darl filters exactly that message (trl_support.quiet_upstream_renames), nothing else."""
    import warnings

    from darl.training.trl_args import build_grpo_config

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_grpo_config({"output_dir": str(tmp_path), "use_cpu": True, "bf16": False}, "stages.0")
        warnings.warn("an unrelated FutureWarning", FutureWarning)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "gradient_checkpointing" in m], messages
    assert "an unrelated FutureWarning" in messages
