"""Tiny offline policies for the training tests: a random 2-layer Qwen2 (hidden 32) and a character tokenizer
with a ChatML-style chat template, saved as a normal Hugging Face checkpoint directory."""

from __future__ import annotations

import string
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<s>{{ m['role'] }}:{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<s>assistant:{% endif %}"
)


def make_tiny_policy(folder: Path, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    chars = sorted(set(string.printable) - {"\x0b", "\x0c"})
    vocab = {tok: i for i, tok in enumerate(specials + chars)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    core.decoder = decoders.Fuse()
    core.add_special_tokens(specials)
    # model_input_names as Qwen2's own tokenizer: no token_type_ids (TRL 1.8 passes them on to generate, which
    # transformers 4.56 refuses for a Qwen2 model)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                  bos_token=None, model_input_names=["input_ids", "attention_mask"])
    tok.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
                         eos_token_id=vocab["</s>"], pad_token_id=vocab["<pad>"], bos_token_id=None,
                         tie_word_embeddings=True)
    model = Qwen2ForCausalLM(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


class DigitStandIn:
    """A random tiny policy never writes a correct \\boxed{} answer, so the real verifier would give every rollout 0
    and no group any variance. This stand-in (used only in tests) passes a response that contains the answer's last
    digit, which a random policy does now and then; the shipped code always uses darl.verifiers.Verifier."""

    def verify_batch(self, problems, responses, thinking=False):
        from darl.records import Verdict

        return [Verdict(score=float(p.answer[-1] in r), passed=p.answer[-1] in r) for p, r in zip(problems, responses)]

    def close(self):
        pass


def run_with_stand_in(recipe_path: str, levels: str, out: str, resume: bool) -> None:
    """`darl train` with the stand-in verifier (what the kill-and-resume test runs in a subprocess)."""
    from darl.training.recipe import load_recipe
    from darl.training.stages import run_recipe

    run_recipe(load_recipe(recipe_path), levels, out, resume=resume, verifier=DigitStandIn())


if __name__ == "__main__":
    import sys

    run_with_stand_in(sys.argv[1], sys.argv[2], sys.argv[3], resume=sys.argv[4:] == ["--resume"])
