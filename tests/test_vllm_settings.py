"""vLLM engine settings from `darl score` and `darl eval` reach `vllm.LLM(...)` with their types, per model, and
the sampling settings reach `vllm.SamplingParams`. vLLM cannot install or run here (no CUDA), so a stand-in `vllm`
module records the calls; everything around it (CLI, scoring runner, evaluation, verifiers, tokenizer) is real."""

from __future__ import annotations

import json
import sys
import types

import pytest
from typer.testing import CliRunner

from darl.cli.main import app
from darl.data.io import write_problems
from darl.errors import InputError
from darl.generation.tiny_random import save_tiny_model
from darl.generation.vllm_backend import EngineArg, engine_args_from_options, engine_kwargs, parse_engine_arg
from darl.records import Problem


def recording_vllm(calls: list) -> types.ModuleType:
    """A `vllm` stand-in: `LLM(**kwargs)` and every `SamplingParams(**kwargs)` are appended to `calls`."""
    module = types.ModuleType("vllm")

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs
            calls.append(("SamplingParams", kwargs))

    class LLM:
        def __init__(self, **kwargs):
            calls.append(("LLM", kwargs))
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(kwargs["model"])

        def get_tokenizer(self):
            return self._tokenizer

        def generate(self, prompts, sampling, use_tqdm=True):
            return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text="\\boxed{4}", token_ids=[1, 2],
                                                                         finish_reason="stop")
                                                   for _ in range(s.kwargs["n"])]) for s in sampling]

    module.LLM, module.SamplingParams = LLM, SamplingParams
    return module


@pytest.fixture()
def fake_vllm(monkeypatch):
    calls: list = []
    monkeypatch.setitem(sys.modules, "vllm", recording_vllm(calls))
    return calls


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("vllm") / "m")


def test_engine_arg_parsing_types_scopes_and_errors():
    assert parse_engine_arg("tensor_parallel_size=8") == EngineArg("tensor_parallel_size", 8)
    assert parse_engine_arg("gpu_memory_utilization=0.85").value == 0.85
    assert parse_engine_arg("enforce_eager=true").value is True
    assert parse_engine_arg("quantization=fp8").value == "fp8"  # not JSON: kept as text
    assert parse_engine_arg('hf_overrides={"a": "b=c"}').value == {"a": "b=c"}  # '=' inside the value
    assert parse_engine_arg("filter:pipeline_parallel_size=2") == EngineArg("pipeline_parallel_size", 2, "filter")
    for bad in ("tensor_parallel_size", "=3", "not a key=1"):
        with pytest.raises(InputError, match="KEY=VALUE"):
            parse_engine_arg(bad)
    with pytest.raises(InputError, match="set by darl"):
        parse_engine_arg("dtype=float16")
    args = engine_args_from_options(tensor_parallel_size=2, max_model_len=None, gpu_memory_utilization=0.9,
                                    engine_arg=["filter:tensor_parallel_size=8", "enforce_eager=true"])
    assert engine_kwargs(args, "small") == {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.9,
                                            "enforce_eager": True}
    assert engine_kwargs(args, "filter")["tensor_parallel_size"] == 8  # the named model's value wins


def test_score_cli_passes_engine_args_per_model(tmp_path, tiny, fake_vllm):
    problems = write_problems([Problem(id=f"m{i}", domain="math", prompt=f"Q{i}", answer="4",
                                       metadata={"raw_prompt": True}) for i in range(3)], tmp_path / "p.parquet")
    args = ["score", str(problems), "--backend", "vllm", "--model", f"small={tiny}", "--model", f"filter={tiny}",
            "-k", "2", "--max-new-tokens", "64", "--max-model-len", "4096", "--gpu-memory-utilization", "0.9",
            "--engine-arg", "filter:tensor_parallel_size=8", "--engine-arg", "filter:pipeline_parallel_size=2",
            "-o", str(tmp_path / "scores")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    engines = [kw for kind, kw in fake_vllm if kind == "LLM"]
    assert engines == [
        {"model": str(tiny), "dtype": "auto", "seed": 0, "max_model_len": 4096, "gpu_memory_utilization": 0.9},
        {"model": str(tiny), "dtype": "auto", "seed": 0, "max_model_len": 4096, "gpu_memory_utilization": 0.9,
         "tensor_parallel_size": 8, "pipeline_parallel_size": 2},
    ]
    sampling = [kw for kind, kw in fake_vllm if kind == "SamplingParams"]
    assert sampling and all(s["n"] == 2 and s["max_tokens"] == 64 for s in sampling)
    # the responses went through the real math verifier
    from darl.scoring import read_scores

    rows = read_scores(tmp_path / "scores" / "scores.parquet")
    assert len(rows) == 6 and all(r["pass_rate"] == 1.0 for r in rows)


def test_score_cli_refuses_vllm_options_it_cannot_apply(tmp_path, tiny):
    problems = write_problems([Problem(id="m0", domain="math", prompt="Q", answer="4")], tmp_path / "p.parquet")
    base = ["score", str(problems), "--model", f"small={tiny}", "-o", str(tmp_path / "s")]
    result = CliRunner().invoke(app, base + ["--tensor-parallel-size", "2"])
    assert result.exit_code != 0 and "back end is not vLLM" in str(result.exception or result.output)
    result = CliRunner().invoke(app, base + ["--backend", "vllm", "--engine-arg", "big:tensor_parallel_size=8"])
    assert result.exit_code != 0 and "names model(s) ['big']" in str(result.exception or result.output)


def test_eval_cli_passes_engine_args(tmp_path, tiny, fake_vllm):
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps(Problem(id="b/0", domain="math", prompt="Q", answer="4",
                                        metadata={"raw_prompt": True}).to_row()) + "\n")
    args = ["eval", str(tiny), "-b", str(bench), "-n", "3", "--max-tokens", "128", "--backend", "vllm",
            "--tensor-parallel-size", "8", "--max-model-len", "40960", "--engine-arg", "pipeline_parallel_size=2",
            "--engine-arg", "enable_expert_parallel=true", "-o", str(tmp_path / "e")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    [engine] = [kw for kind, kw in fake_vllm if kind == "LLM"]
    assert engine == {"model": str(tiny), "dtype": "auto", "seed": 0, "tensor_parallel_size": 8,
                      "max_model_len": 40960, "pipeline_parallel_size": 2, "enable_expert_parallel": True}
    [sampling] = [kw for kind, kw in fake_vllm if kind == "SamplingParams"]
    assert (sampling["n"], sampling["max_tokens"], sampling["temperature"], sampling["top_p"]) == (3, 128, 0.6, 0.95)
    data = json.loads((tmp_path / "e" / "eval.json").read_text())
    assert data["benchmarks"]["b"]["pass@1"]["mean"] == 1.0


def test_eval_cli_refuses_vllm_options_on_transformers(tmp_path, tiny):
    result = CliRunner().invoke(app, ["eval", str(tiny), "-b", "aime24", "--backend", "transformers", "--limit", "1",
                                      "--max-model-len", "4096", "-o", str(tmp_path / "e")])
    assert result.exit_code != 0
    assert "back end is transformers" in str(result.exception or result.output)


def test_vllm_loads_an_adapter_merged_into_its_base(tmp_path, tiny, fake_vllm, monkeypatch):
    """vLLM loads whole models: a LoRA adapter folder reaches vllm.LLM as the cached merged folder, while the
    generator keeps the adapter's path as its name."""
    peft = pytest.importorskip("peft")
    from pathlib import Path

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from darl.generation.vllm_backend import VLLMGenerator

    monkeypatch.setenv("DARL_CACHE", str(tmp_path / "cache"))
    adapter = tmp_path / "adapter"
    model = peft.get_peft_model(AutoModelForCausalLM.from_pretrained(tiny),
                                peft.LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(adapter)
    AutoTokenizer.from_pretrained(tiny).save_pretrained(adapter)
    generator = VLLMGenerator(adapter)
    loaded = [kwargs["model"] for name, kwargs in fake_vllm if name == "LLM"]
    assert generator.name == str(adapter)
    assert len(loaded) == 1 and loaded[0].startswith(str(tmp_path / "cache" / "adapters"))
    assert (Path(loaded[0]) / "config.json").is_file()  # a whole model folder, not the adapter
