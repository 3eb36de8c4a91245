"""`darl eval` on a LoRA/PEFT adapter checkpoint and with a system prompt.

The adapter is a real peft LoRA adapter on the embedded family's small policy (random, non-zero LoRA weights, so
the adapted model differs from its base), saved the way TRL saves a `peft_config` run's checkpoint (adapter +
tokenizer). The system prompt is checked through the conversations a scripted generator receives.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from darl.errors import InputError
from darl.evaluation.evaluate import EvalSettings, evaluate
from darl.generation.fake import FakeGenerator
from darl.records import Problem

peft = pytest.importorskip("peft")


def build_adapter(base: Path, out: Path) -> Path:
    """A LoRA adapter (r=4 on q/v projections, non-zero weights) on `base`, saved with the base's tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    adapted = peft.get_peft_model(model, peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                         init_lora_weights=False))
    adapted.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


def logits(model_or_path, ids):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_or_path) if isinstance(model_or_path, Path) else model_or_path
    with torch.no_grad():
        return model(ids).logits


@pytest.mark.usefixtures("one_torch_thread")
def test_an_adapter_is_merged_once_into_its_base(embedded_family, tmp_path):
    import torch
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    from darl.generation.adapters import SOURCE_RECORD, is_adapter, merged_checkpoint

    base = Path(embedded_family.path("small"))
    adapter = build_adapter(base, tmp_path / "adapter")
    assert is_adapter(adapter) and not is_adapter(base)
    merged = merged_checkpoint(adapter, cache_dir=tmp_path / "cache")
    ids = AutoTokenizer.from_pretrained(adapter)("12 + 30 =", return_tensors="pt").input_ids
    with_adapter = logits(AutoPeftModelForCausalLM.from_pretrained(str(adapter)), ids)
    assert torch.allclose(logits(merged, ids), with_adapter, atol=1e-5)
    assert not torch.allclose(logits(base, ids), with_adapter, atol=1e-3)  # the adapter changes the model
    assert json.loads((merged / SOURCE_RECORD).read_text())["base"] == str(base)
    stamp = (merged / "config.json").stat().st_mtime_ns
    assert merged_checkpoint(adapter, cache_dir=tmp_path / "cache") == merged  # reused, not merged again
    assert (merged / "config.json").stat().st_mtime_ns == stamp


@pytest.mark.usefixtures("one_torch_thread")
def test_darl_eval_takes_an_adapter_folder(embedded_family, tmp_path, monkeypatch):
    from darl.cli.main import app

    monkeypatch.setenv("DARL_CACHE", str(tmp_path / "cache"))
    adapter = build_adapter(Path(embedded_family.path("small")), tmp_path / "adapter")
    problems = tmp_path / "sums.jsonl"
    rows = [Problem(id=f"s/{i}", domain="math", prompt=f"{i} + {i} =", answer=str(2 * i), metadata={"raw_prompt": True})
            for i in range(2)]
    problems.write_text("".join(json.dumps(p.to_row()) + "\n" for p in rows))
    result = CliRunner().invoke(app, ["eval", str(adapter), "-b", str(problems), "-n", "1", "--max-new-tokens", "8",
                                      "--backend", "transformers", "--device", "cpu", "--system-prompt", "Be brief.",
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "eval.json").read_text())
    assert data["complete"] and data["model"] == str(adapter)
    assert data["model_revision"].startswith("sha256:")  # the adapter's own files name the weights
    assert data["settings"]["system_prompt"] == "Be brief."
    assert list((tmp_path / "cache" / "adapters").iterdir())  # merged once into the cache


def test_the_system_prompt_comes_first_and_is_part_of_the_evaluation(tmp_path):
    seen = []

    def reply(conversation, index):
        seen.append(list(conversation))
        return "\\boxed{4}"

    problems = {"sums": [Problem(id="a", domain="math", prompt="2 + 2?", answer="4")]}
    evaluate(FakeGenerator(reply), problems, tmp_path, EvalSettings(samples=1, system_prompt="Think."))
    assert seen[0][0] == {"role": "system", "content": "Think."} and seen[0][1]["role"] == "user"
    assert json.loads((tmp_path / "eval.json").read_text())["settings"]["system_prompt"] == "Think."
    # resuming into the same folder without it would mix two different questions: refused, naming the field
    with pytest.raises(InputError, match="system_prompt"):
        evaluate(FakeGenerator(reply), problems, tmp_path, EvalSettings(samples=1))
    seen.clear()
    evaluate(FakeGenerator(reply), problems, tmp_path / "plain", EvalSettings(samples=1))
    assert [m["role"] for m in seen[0]] == ["user"]  # no system prompt unless asked (the paper's setting)
