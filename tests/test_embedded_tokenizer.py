"""The embedded tokenizer is a standard Hugging Face tokenizer: it loads with AutoTokenizer, has the chat template,
eos and pad tokens, splits digits one by one, and decodes code exactly (whitespace included)."""

from __future__ import annotations

from darl.embedded.suite import suite_pairs
from darl.embedded.tokenizer import IM_END, PAD, chat_text, train_tokenizer


def test_tokenizer_round_trip_and_chat_template(tmp_path):
    from transformers import AutoTokenizer

    pairs = suite_pairs("quick", "train")
    train_tokenizer([chat_text(p.prompt, s) for p, s in pairs], vocab_size=400, out_dir=tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert tok.eos_token == IM_END and tok.pad_token == PAD and tok.eos_token_id != tok.pad_token_id
    problem, solution = next((p, s) for p, s in pairs if p.domain == "code" and "for x in" in s)
    text = tok.apply_chat_template([{"role": "user", "content": problem.prompt}], tokenize=False,
                                   add_generation_prompt=True)
    assert text == chat_text(problem.prompt)
    ids = tok(solution, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == solution  # indentation and newlines survive
    digits = tok.convert_ids_to_tokens(tok("12345", add_special_tokens=False)["input_ids"])
    assert digits == ["1", "2", "3", "4", "5"]
    assert tok.convert_tokens_to_ids(IM_END) == tok.eos_token_id
