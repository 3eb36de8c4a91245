"""A tiny Qwen2 model and byte-level tokenizer built from nothing, for tests of every layer that generates.

Why: tests must run the real transformers code path (chat template, padding, `generate`, save/load) in well under
a second, offline. `build_tiny_model` writes a folder that `AutoModelForCausalLM`/`AutoTokenizer` load like any
Hub checkpoint: a random 2-layer Qwen2 (hidden size 32 by default) and a byte-level BPE tokenizer without merges
(every byte is a token, so any text round-trips) with a ChatML template. `memorize_replies` then fits the model
for a few hundred steps so that it answers given prompts with given replies: a model whose outputs a test can
predict (a "policy" that solves some problems and not others). This is not the embedded policy family
(`darl.embedded`), which is trained on real tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

SPECIAL_TOKENS = ("<|pad|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>")
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE with the 256 byte tokens and no merges, plus ChatML specials; EOS is `<|im_end|>`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for ch in sorted(alphabet):
        vocab[ch] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    core.add_special_tokens(list(SPECIAL_TOKENS))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<|pad|>", eos_token="<|im_end|>", bos_token=None, unk_token=None,
        additional_special_tokens=["<|im_start|>", "<|endoftext|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    return tokenizer


def build_tiny_model(tokenizer: PreTrainedTokenizerFast, *, hidden_size: int = 32, layers: int = 2,
                     seed: int = 0) -> PreTrainedModel:
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id)
    model.eval()
    return model


def memorize_replies(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast,
                     pairs: Sequence[tuple[str, str]], *, steps: int = 150, lr: float = 2e-2, seed: int = 0) -> float:
    """Fit `model` so that the user turn `prompt` is answered with `reply` + EOS, for each (prompt, reply).
    Loss only on the reply tokens. Returns the final mean loss (nats per token). Runs on one CPU thread: for a
    model this small, thread hand-off costs more than it saves (10x slower with 2 busy threads, measured)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit(model, tokenizer, pairs, steps=steps, lr=lr, seed=seed)
    finally:
        torch.set_num_threads(threads)


def _fit(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast, pairs: Sequence[tuple[str, str]], *,
         steps: int, lr: float, seed: int) -> float:
    import torch

    torch.manual_seed(seed)
    rows, masks = [], []
    for prompt, reply in pairs:
        head = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                             tokenize=False)
        head_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
        reply_ids = tokenizer(reply, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append(head_ids + reply_ids)
        masks.append([0] * len(head_ids) + [1] * len(reply_ids))
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    attention = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    loss_mask = torch.tensor([m + [0] * (width - len(m)) for m in masks], dtype=torch.float32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    loss_value = float("nan")
    for _ in range(steps):
        logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1]
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                                reduction="none").view(ids.shape[0], -1)
        mask = loss_mask[:, 1:]
        loss = (nll * mask).sum() / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_value = float(loss.detach())
    model.eval()
    return loss_value


def save_tiny_model(out_dir: str | Path, *, pairs: Sequence[tuple[str, str]] = (), steps: int = 150,
                    hidden_size: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """Build (and, given `pairs`, fit) a tiny model and save model + tokenizer to `out_dir`; returns the path."""
    out = Path(out_dir)
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(tokenizer, hidden_size=hidden_size, layers=layers, seed=seed)
    if pairs:
        memorize_replies(model, tokenizer, pairs, steps=steps, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
