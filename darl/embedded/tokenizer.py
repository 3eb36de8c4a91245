"""A small byte-level BPE tokenizer trained offline on the embedded suite text, saved as a standard Hugging Face
tokenizer with a chat template, so `AutoTokenizer.from_pretrained` and `apply_chat_template` work as they do for a
real model.

Choices: digits are always split one per token (arithmetic is learned digit by digit, as in Llama and Qwen
tokenizers); byte-level pre-tokenization makes decoding exact (whitespace in code survives); the chat template
is ChatML, the format Qwen2 models use, with `<|im_end|>` as the end-of-turn (eos) token and a separate
`<|endoftext|>` padding token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

IM_START, IM_END, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
SPECIAL_TOKENS = (PAD, IM_START, IM_END)

# ChatML, as Qwen2 uses it (without the default system prompt, which would only cost tokens here).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def chat_text(user: str, assistant: str | None = None) -> str:
    """The text a one-turn conversation renders to (the training corpus of the tokenizer uses it)."""
    text = f"{IM_START}user\n{user}{IM_END}\n{IM_START}assistant\n"
    return text if assistant is None else text + assistant + IM_END + "\n"


def train_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path) -> Path:
    """Train the BPE tokenizer on `texts` and save it (tokenizer.json + config) in `out_dir`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(pattern="<\\|[a-z_]+\\|>", behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=IM_END,
        pad_token=PAD,
        bos_token=None,
        unk_token=None,
        additional_special_tokens=[IM_START],
        model_max_length=512,
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    out = Path(out_dir)
    fast.save_pretrained(out)
    return out
