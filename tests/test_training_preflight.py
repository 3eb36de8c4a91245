"""Memory preflight (`darl train --dry-run`): the arithmetic against hand computations, the parameter count against
transformers' own model, the verdicts, and the shipped paper recipes on 8 x 80 GB."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from darl.cli.main import app
from darl.training.preflight import (CUDA_RESERVE, GiB, VLLM_RESERVE, ModelDims, StagePlan, load_model_dims,
                                     parse_memory, shipped_model_config, stage_memory, stage_plans,
                                     training_terms)
from darl.training.recipe import load_recipe, parse_recipe, resolve_recipe_path

# h=4, i=8, L=2, 2 heads of 2, 1 KV head, vocabulary 10, q/k/v biases, untied head
SMALL = ModelDims(name="small", vocab_size=10, hidden_size=4, intermediate_size=8, num_layers=2, num_heads=2,
                  num_kv_heads=1, head_dim=2, tie_word_embeddings=False, qkv_bias=True, max_position_embeddings=64)


def plan(**kw) -> StagePlan:
    base = dict(name="s", devices=2, micro_batch=3, gradient_accumulation_steps=5, prompt_tokens=6,
                completion_tokens=10, bf16=True, zero_stage=None, gradient_checkpointing=True, reference_model=True,
                use_vllm=False)
    return StagePlan(**{**base, **kw})


def terms(dims, p) -> dict[str, int]:
    return {t.name: t.bytes for t in training_terms(dims, p)}


def test_parameter_count_by_hand_and_against_transformers():
    # embedding 10*4 = 40; per layer: q 16 + k 8 + v 8 + o 16 + biases 4+2+2 = 56, MLP 3*4*8 = 96, norms 8 -> 160;
    # 2 layers 320; final norm 4; untied head 40
    assert SMALL.parameters() == 40 + 320 + 4 + 40 == 404
    assert SMALL.kv_bytes_per_token(2) == 2 * 2 * (1 * 2) * 2 == 16
    torch = pytest.importorskip("torch")
    from transformers import AutoConfig, AutoModelForCausalLM

    dims = load_model_dims("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B")  # the config.json darl ships
    assert dims.parameters() == 1_777_088_000  # the published 1.78B
    for hub_id in ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"):
        raw = json.loads(shipped_model_config(hub_id).read_text())
        cfg = AutoConfig.for_model(**raw)
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(cfg)
        assert load_model_dims(hub_id).parameters() == sum(p.numel() for p in model.parameters()), hub_id


def test_training_terms_ddp_by_hand():
    P = 404
    t = terms(SMALL, plan())
    assert (t["weights"], t["gradients"], t["optimizer"], t["reference model"]) == (4 * P, 8 * P, 8 * P, 4 * P)
    # checkpointed activations: L*b*T*h*a + b*T*(6h + 2kv + 4i)*a with b=3, T=16, a=2
    assert t["activations"] == 2 * 3 * 16 * 4 * 2 + 3 * 16 * (24 + 4 + 32) * 2 == 6528
    assert t["logits"] == 3 * 11 * 10 * (2 + 4 + 2) == 2640
    # transformers generate holds 3*5 sequences of 16 tokens: 15 * 16 * 16 bytes
    assert t["generation KV (transformers)"] == 15 * 16 * 16
    assert t["CUDA reserve"] == CUDA_RESERVE
    one = terms(SMALL, plan(devices=1, gradient_checkpointing=False, bf16=False, reference_model=False))
    assert one["gradients"] == 4 * P and "reference model" not in one  # no DDP bucket copy on one device
    assert one["activations"] == 2 * 3 * 16 * 60 * 4  # all layers, fp32
    assert one["logits"] == 3 * 11 * 10 * 12


@pytest.mark.parametrize("stage, weights, grads, opt", [
    (0, 2 * 404, 2 * 404, 12 * 404),
    (1, 2 * 404, 2 * 404, math.ceil(12 * 404 / 4)),
    (2, 2 * 404, math.ceil(2 * 404 / 4), math.ceil(12 * 404 / 4)),
    (3, math.ceil(2 * 404 / 4), math.ceil(2 * 404 / 4), math.ceil(12 * 404 / 4)),
])
def test_zero_stages_shard_like_the_zero_paper(stage, weights, grads, opt):
    t = terms(SMALL, plan(devices=4, zero_stage=stage))
    assert (t["weights"], t["gradients"], t["optimizer"]) == (weights, grads, opt)
    assert t["reference model"] == (math.ceil(2 * 404 / 4) if stage == 3 else 2 * 404)


def test_verdicts_fit_tight_refuse_and_name_the_term():
    p = plan(use_vllm=False, reference_model=False)
    need = sum(terms(SMALL, p).values())
    roomy = stage_memory(SMALL, p, int(need / 0.85))
    assert roomy.fits and not roomy.warnings and not roomy.errors
    exact = stage_memory(SMALL, p, need)
    assert exact.fits and "tight" in exact.warnings[0]  # over 90% of the budget: a warning, not a refusal
    assert not stage_memory(SMALL, p, need - 1).fits
    big = ModelDims(**{**SMALL.__dict__, "vocab_size": 20_000_000})  # logits dominate
    optimizer = stage_memory(SMALL, plan(devices=4, zero_stage=1), 100).errors[0]
    assert "biggest term is" in optimizer
    heavy = ModelDims(**{**SMALL.__dict__, "hidden_size": 4096, "intermediate_size": 4096})
    ddp = stage_memory(heavy, plan(devices=4), 3 * GiB).errors[0]
    assert "set scale.zero_stage: 2" in ddp  # DDP's gradients (with the bucket copy) are the biggest
    zero3 = sum(terms(heavy, plan(devices=4, zero_stage=3)).values())
    assert f"with scale.zero_stage: 3 the training total would be {zero3 / GiB:.1f} GiB" in ddp
    assert "already sharded by ZeRO-3" in stage_memory(heavy, plan(devices=4, zero_stage=3), 10 ** 6).errors[0]
    refused = stage_memory(big, plan(), 3 * GiB)
    assert not refused.fits
    assert "biggest term is logits" in refused.errors[0] and "per_device_train_batch_size (now 3)" in refused.errors[0]
    one = stage_memory(big, plan(micro_batch=1), 2 * GiB + 1000)
    assert "max_completion_length (now 10)" in one.errors[0]


def test_vllm_colocate_takes_its_share_and_needs_one_full_context():
    p = plan(use_vllm=True, vllm_gpu_memory_utilization=0.5, reference_model=False)
    r = stage_memory(SMALL, p, 8 * GiB)
    assert r.training_budget == 4 * GiB and r.vllm_budget == 4 * GiB
    vllm = {t.name: t.bytes for t in r.vllm}
    assert vllm["vLLM weights"] == 2 * 404 and vllm["vLLM KV cache"] == 4 * GiB - 2 * 404 - VLLM_RESERVE
    assert "generation KV (transformers)" not in {t.name for t in r.training}
    server = stage_memory(SMALL, plan(use_vllm=True, vllm_mode="server"), 8 * GiB)
    assert server.training_budget == 8 * GiB
    # a context of 10^9 tokens cannot fit: vLLM would refuse to start
    huge = stage_memory(SMALL, plan(use_vllm=True, vllm_max_model_len=10 ** 9), 8 * GiB)
    assert any("cannot hold one 1,000,000,000-token sequence" in e for e in huge.errors)


def test_stage_plans_derive_the_micro_batch_like_grpo_config():
    recipe = load_recipe(resolve_recipe_path("paper_two_stage"))
    plans = stage_plans(recipe, 8)
    assert [(p.micro_batch, p.gradient_accumulation_steps, p.completion_tokens) for p in plans] == [
        (1, 256, 16384), (1, 256, 24576)]
    assert all(p.zero_stage == 2 and p.use_vllm and p.bf16 and p.reference_model for p in plans)
    with pytest.raises(ValueError, match="do not split"):
        stage_plans(recipe, 7)
    text = recipe.model_dump(mode="json")
    text["scale"]["per_device_train_batch_size"] = None
    text["defaults"]["gradient_accumulation_steps"] = 16
    derived = stage_plans(parse_recipe(json.dumps(text)), 8)
    assert derived[0].micro_batch == 2048 // (16 * 8)


def test_parse_memory():
    assert parse_memory("80GB") == parse_memory("80 GiB") == 80 * GiB
    assert parse_memory("141g") == 141 * GiB and parse_memory("1024") == 1024
    with pytest.raises(ValueError, match="80GB"):
        parse_memory("lots")


@pytest.mark.parametrize("name", ["paper_two_stage", "paper_mixed_math_code"])
def test_paper_recipes_fit_8x80gb_and_a_smaller_card_is_refused(name):
    runner = CliRunner()
    ok = runner.invoke(app, ["train", name, "--dry-run", "--devices", "8", "--device-memory", "80GB"])
    assert ok.exit_code == 0, ok.output
    assert "DOES NOT FIT" not in ok.output and ok.output.count("=> fits") == len(load_recipe(
        resolve_recipe_path(name)).stages)
    assert "preflight: every stage fits" in ok.output
    small = runner.invoke(app, ["train", name, "--dry-run", "--devices", "8", "--device-memory", "40GB"])
    assert small.exit_code == 1
    assert "biggest term is logits" in small.output and "nothing was started" in small.output


def test_dry_run_needs_a_config_for_an_unknown_hub_model(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["train", "paper_two_stage", "--dry-run", "--model", "someone/unknown-7b"])
    assert result.exit_code != 0 and "--model-config" in str(result.exception)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "qwen2", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
                               "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                               "max_position_embeddings": 32768}))
    result = runner.invoke(app, ["train", "paper_two_stage", "--dry-run", "--model", "someone/unknown-7b",
                                 "--model-config", str(cfg)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["train", "paper_two_stage"])
    assert result.exit_code != 0 and "--levels and --out are required" in str(result.exception)


@pytest.fixture
def accelerate_state_reset():
    """accelerate's process state is a per-process singleton: set up while torch pretends to have CUDA, it would
    keep `device = cuda` for every later test in this worker (they then fail with "Torch not compiled with CUDA")."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.mark.usefixtures("accelerate_state_reset")
def test_training_on_gpus_refuses_a_stage_that_cannot_fit_before_any_work(monkeypatch, tmp_path):
    """`darl train` (not --dry-run) on CUDA runs the preflight with the machine's memory first. The GPU is a
    stand-in here: torch reports CUDA and a 40 GiB card; the refusal comes before the levels file is even read."""
    import types

    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: types.SimpleNamespace(total_memory=40 * GiB))
    # the paper recipe for the one process here: 2048 rollouts = 1 x 2048 micro-steps
    text = resolve_recipe_path("paper_two_stage").read_text().replace("gradient_accumulation_steps: 256",
                                                                       "gradient_accumulation_steps: 2048")
    (tmp_path / "r.yaml").write_text(text)
    args = ["train", str(tmp_path / "r.yaml"), "--levels", str(tmp_path / "missing.parquet"),
            "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    message = str(result.exception)
    # one 40 GiB device: ZeRO cannot shard the optimizer state over one process
    assert "memory preflight" in message and "biggest term is optimizer" in message and "--skip-preflight" in message
    assert "more GPUs" in message and "logits" in result.output  # the table was printed
    assert not (tmp_path / "run").exists()
