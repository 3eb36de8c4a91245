"""Greedy held-out accuracy of the live policy: the score the plateau test watches and the before/after number.

It runs inside the training process on the model being trained (no reload, no second copy), greedy so that it
consumes no random numbers and a resumed run draws the same rollouts as an uninterrupted one. The paper validates
with sampled pass@1 on AIME; `darl eval` does that on a checkpoint, this is the cheap in-loop signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from darl.prompting import chat_messages, prompt_opens_thinking
from darl.records import Problem
from darl.verifiers import Verifier


@dataclass(frozen=True)
class ValidationResult:
    accuracy: float  # share of problems whose greedy response passes
    mean_score: float  # mean verifier score (code: partial credit)
    count: int
    by_domain: dict[str, float]  # accuracy per domain

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "mean_score": self.mean_score, "count": self.count,
                "by_domain": self.by_domain}


@torch.no_grad()
def greedy_accuracy(model: Any, tokenizer: Any, problems: Sequence[Problem], verifier: Verifier,
                    max_new_tokens: int, batch_size: int = 32) -> ValidationResult:
    if not problems:
        raise ValueError("greedy_accuracy: no problems to validate on")
    was_training = model.training
    model.eval()
    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    texts: list[str] = []
    try:
        for start in range(0, len(problems), batch_size):
            chunk = problems[start:start + batch_size]
            prompts = [tokenizer.apply_chat_template(chat_messages(p), tokenize=False, add_generation_prompt=True)
                       for p in chunk]
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=pad_id)
            texts.extend(tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True))
    finally:
        tokenizer.padding_side = padding_side
        model.train(was_training)
    # A template that opens <think> in the prompt (R1-Distill): an unclosed thought is no answer. An ungraded
    # verdict (score None: the checker could not run) is not a pass and is left out of mean_score.
    verdicts = verifier.verify_batch(list(problems), texts, thinking=prompt_opens_thinking(tokenizer))
    graded = [float(v.score) for v in verdicts if v.score is not None]
    by_domain: dict[str, float] = {}
    for domain in sorted({p.domain for p in problems}):
        sel = [v.passed for p, v in zip(problems, verdicts) if p.domain == domain]
        by_domain[domain] = sum(sel) / len(sel)
    return ValidationResult(
        accuracy=sum(v.passed for v in verdicts) / len(verdicts),
        mean_score=sum(graded) / len(graded) if graded else float("nan"),
        count=len(verdicts),
        by_domain=by_domain,
    )
