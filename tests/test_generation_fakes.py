"""The scripted fake generator, and the vLLM back end's parameter mapping with a stand-in `vllm` module
(the real vLLM needs a GPU; `test_vllm_real` runs it where one exists)."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from darl.generation import Completion, Generator, SamplingParams
from darl.generation.fake import FakeGenerator
from darl.generation.tiny_random import save_tiny_model


def conv(text):
    return [{"role": "user", "content": text}]


def test_fake_from_table_cycles_lists_and_truncates():
    gen = FakeGenerator({"a": ["one two", "three"], "b": "x y z w"}, name="m")
    assert isinstance(gen, Generator)
    out = gen.generate([conv("a"), conv("b")], SamplingParams(n=3, max_new_tokens=3))
    assert [c.text for c in out[0]] == ["one two", "three", "one two"]
    assert out[0][0] == Completion("one two", 3, False)
    assert out[1][0] == Completion("x y z", 3, True)
    assert gen.prompts_seen == ["a", "b"] and gen.calls[0][0] == 2
    with pytest.raises(KeyError, match="no scripted reply"):
        gen.generate([conv("c")], SamplingParams())
    assert FakeGenerator({}, default="d").generate([conv("c")], SamplingParams())[0][0].text == "d"


def test_fake_from_function_sees_sample_index():
    gen = FakeGenerator(lambda c, j: f"{c[-1]['content']}-{j}")
    assert [c.text for c in gen.generate([conv("q")], SamplingParams(n=2))[0]] == ["q-0", "q-1"]


class _Out:
    def __init__(self, text, token_ids, finish_reason):
        self.text, self.token_ids, self.finish_reason = text, token_ids, finish_reason


def _fake_vllm_module(record):
    module = types.ModuleType("vllm")

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    class LLM:
        def __init__(self, **kwargs):
            record["engine"] = kwargs
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(kwargs["model"])

        def get_tokenizer(self):
            return self._tokenizer

        def generate(self, prompts, sampling, use_tqdm=True):
            record["prompts"], record["sampling"] = prompts, sampling
            outs = []
            for p, s in zip(prompts, sampling):
                n = s.kwargs["n"]
                outs.append(types.SimpleNamespace(outputs=[
                    _Out(f"r{k}", [1] * (k + 2), "length" if k == 0 else "stop") for k in range(n)]))
            return outs

    module.LLM, module.SamplingParams = LLM, SamplingParams
    return module


def test_vllm_parameter_mapping(tmp_path, monkeypatch):
    record = {}
    monkeypatch.setitem(sys.modules, "vllm", _fake_vllm_module(record))
    from darl.generation.vllm_backend import VLLMGenerator

    path = save_tiny_model(tmp_path / "m")
    gen = VLLMGenerator(path, gpu_memory_utilization=0.5)
    assert record["engine"] == {"model": str(path), "dtype": "auto", "seed": 0, "gpu_memory_utilization": 0.5}
    out = gen.generate([conv("a"), conv("bb")], SamplingParams(n=2, temperature=0.6, top_p=0.95,
                                                               max_new_tokens=9, seed=4))
    assert out[0] == [Completion("r0", 2, True), Completion("r1", 3, False)]
    first, second = (s.kwargs for s in record["sampling"])
    assert first == {"n": 2, "temperature": 0.6, "top_p": 0.95, "top_k": -1, "repetition_penalty": 1.0,
                     "max_tokens": 9, "seed": 4, "skip_special_tokens": True}
    assert second["seed"] == 5
    # the chat template is applied here and passed as token ids (no second BOS from vLLM)
    assert gen.tokenizer.decode(record["prompts"][1]["prompt_token_ids"]).endswith("bb<|im_end|>\n<|im_start|>assistant\n")
    gen.generate([conv("a")], SamplingParams(temperature=0))
    greedy = record["sampling"][0].kwargs
    assert (greedy["temperature"], greedy["top_p"], greedy["seed"]) == (0.0, 1.0, None)
    assert gen.revision.startswith("sha256:")


def test_vllm_missing_is_a_clear_error(tmp_path, monkeypatch):
    from darl.errors import InputError
    from darl.generation.vllm_backend import VLLMGenerator

    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(InputError, match="vllm"):
        VLLMGenerator(save_tiny_model(tmp_path / "m"))


@pytest.mark.gpu
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm not installed")
def test_vllm_real(tmp_path):
    from darl.generation.vllm_backend import VLLMGenerator

    path = save_tiny_model(tmp_path / "m", pairs=[("Say hi", "hello")], steps=300)
    gen = VLLMGenerator(path, gpu_memory_utilization=0.2, enforce_eager=True)
    [[c]] = gen.generate([conv("Say hi")], SamplingParams(temperature=0, max_new_tokens=16))
    assert c == Completion("hello", 6, False)
    out = gen.generate([conv("Say hi")] * 2, SamplingParams(n=3, temperature=1.0, max_new_tokens=4, seed=1))
    assert all(len(o) == 3 and all(x.num_tokens <= 4 for x in o) for o in out)
