"""A competent tiny policy in minutes, for showing GRPO training on 2 CPU cores when no embedded family is at hand.

Not the embedded default (darl/embedded): a character-level Qwen2 (~0.2M parameters) warm-started for a few minutes
on procedural arithmetic (math: "What is 37 + 45?" with a worked line and \\boxed{}) and tiny stdin programs
(code: read two integers, print a combination), the shape of issue 3's quick trial. It writes a problems file of
fresh problems (never in the warm start) that `darl score` / `darl levels` / `darl train` then use.

    .venv/bin/python bench/showcase_policy.py --out /tmp/showcase --seconds 300
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

MATH_OPS = ("+", "-", "*")
CODE_OPS = {"sum": "a + b", "difference": "a - b", "product": "a * b", "larger": "max(a, b)",
            "smaller": "min(a, b)", "sum doubled": "2 * (a + b)"}


def math_item(rng: random.Random, digits: int, terms: int) -> tuple[str, str, str]:
    nums = [rng.randint(1, 10 ** digits - 1) for _ in range(terms)]
    ops = [rng.choice(MATH_OPS[:2] if digits > 1 else MATH_OPS) for _ in range(terms - 1)]
    expr = str(nums[0])
    for op, n in zip(ops, nums[1:]):
        expr += f" {op} {n}"
    value = eval(expr)  # noqa: S307 (our own digits and + - *)
    return f"What is {expr}?", f"{expr} = {value}\n\\boxed{{{value}}}", str(value)


def code_item(rng: random.Random) -> tuple[str, str, list[tuple[str, str]]]:
    name, body = rng.choice(sorted(CODE_OPS.items()))
    prompt = f"Read two integers a and b from one line and print their {name}."
    program = f"```python\na, b = map(int, input().split())\nprint({body})\n```"
    tests = []
    for _ in range(4):
        a, b = rng.randint(-20, 99), rng.randint(-20, 99)
        tests.append((f"{a} {b}\n", f"{eval(body, {'a': a, 'b': b, 'max': max, 'min': min})}\n"))  # noqa: S307
    return prompt, program, tests


def difficulty(rng: random.Random) -> tuple[int, int]:
    return rng.choice([(1, 2), (1, 3), (2, 2), (2, 3)])


def build_tokenizer(folder: Path):
    """One token per printable character (ids: 4 specials, then the characters in sorted order), written as a
    byte-level BPE without merges so that `AutoTokenizer.from_pretrained` reloads it exactly (a WordLevel tokenizer
    with a character Split pre-tokenizer comes back from transformers 5 as Qwen2Tokenizer without its whitespace)."""
    import string

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    byte_to_unicode = {}  # the byte-level alphabet: printable ASCII maps to itself, space to 'Ġ', newline to 'Ċ'
    visible = [b for b in range(256) if chr(b) in alphabet and (33 <= b <= 126 or 161 <= b <= 172 or b >= 174)]
    extra = 0
    for b in range(256):
        if b in visible:
            byte_to_unicode[b] = chr(b)
        else:
            byte_to_unicode[b] = chr(256 + extra)
            extra += 1
    specials = ["<pad>", "<|im_start|>", "<|im_end|>", "<unk>"]
    chars = sorted(set(string.printable) - {"\x0b", "\x0c", "\r"})
    vocab = {t: i for i, t in enumerate(specials)}
    for c in chars:
        vocab[byte_to_unicode[ord(c)]] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    core.add_special_tokens(specials)
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="<|im_end|>", unk_token="<unk>")
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                         "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    return tok


def main() -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from darl.data.io import write_problems
    from darl.prompting import chat_messages
    from darl.records import CodeTests, IOTest, Problem

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=300, help="warm-start budget")
    ap.add_argument("--problems", type=int, default=400, help="fresh problems per domain in problems.parquet")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = random.Random(0)
    tok = build_tokenizer(args.out)

    def sample(r: random.Random) -> tuple[Problem, str]:
        if r.random() < 0.6:
            d, t = difficulty(r)
            prompt, solution, answer = math_item(r, d, t)
            return Problem(id="x", domain="math", prompt=prompt, answer=answer, metadata={"raw_prompt": False}), solution
        prompt, program, tests = code_item(r)
        return Problem(id="x", domain="code", prompt=prompt,
                       tests=CodeTests(io=tuple(IOTest(i, o) for i, o in tests))), program

    # fresh evaluation/training problems: prompts never seen in the warm start
    eval_rng = random.Random(12345)
    problems, seen = [], set()
    counts = {"math": 0, "code": 0}
    while min(counts.values()) < args.problems:
        p, _ = sample(eval_rng)
        key = (p.domain, p.prompt, p.answer, str(p.tests))
        if key in seen or counts[p.domain] >= args.problems:
            continue
        seen.add(key)
        problems.append(Problem(id=f"show-{p.domain}-{counts[p.domain]:04d}", domain=p.domain, prompt=p.prompt,
                                answer=p.answer, tests=p.tests, source="darl-showcase"))
        counts[p.domain] += 1
    held_prompts = {p.prompt for p in problems if p.domain == "math"}

    config = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=192, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    model = Qwen2ForCausalLM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.0)
    start, step = time.time(), 0
    while time.time() - start < args.seconds:
        ids, labels = [], []
        while len(ids) < 32:
            p, sol = sample(rng)
            if p.domain == "math" and p.prompt in held_prompts:
                continue
            prompt = tok.apply_chat_template(chat_messages(p), tokenize=False, add_generation_prompt=True)
            a = tok(prompt, add_special_tokens=False)["input_ids"]
            b = tok(sol, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            ids.append(a + b)
            labels.append([-100] * len(a) + b)
        width = max(map(len, ids))
        x = torch.tensor([s + [tok.pad_token_id] * (width - len(s)) for s in ids])
        y = torch.tensor([s + [-100] * (width - len(s)) for s in labels])
        loss = model(input_ids=x, attention_mask=(x != tok.pad_token_id).long(), labels=y).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            print(f"step {step} loss {loss.item():.3f} {time.time() - start:.0f}s", flush=True)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out / "policy")
    tok.save_pretrained(args.out / "policy")
    write_problems(problems, args.out / "problems.parquet")
    print(f"warm start: {step} steps in {time.time() - start:.0f} s; policy in {args.out / 'policy'}; "
          f"{len(problems)} problems in {args.out / 'problems.parquet'}")


if __name__ == "__main__":
    main()
