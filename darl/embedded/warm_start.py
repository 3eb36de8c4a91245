"""The supervised warm start: teach a freshly initialised model to answer suite-style prompts with worked
solutions, so that it starts RL solving a fair share of moderate problems (a policy that almost never samples a
correct answer gets no signal from GRPO; that is the reason the paper starts from a distilled model).

A plain torch loop, top to bottom: tokenize every (prompt, solution) pair once with the model's chat template,
then for a fixed number of steps (a step budget, never a clock, so runs are deterministic) draw a batch of packed
rows (several examples per row, see `pack`), compute
the next-token loss on the response tokens only (prompt tokens are masked with -100), and take an AdamW step
with linear warm-up and cosine decay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

IGNORE = -100


@dataclass(frozen=True)
class WarmStartConfig:
    """steps: optimizer steps (the budget). batch_size: packed rows of `row_len` tokens per step. lr: peak
    learning rate. warmup_frac: share of steps with a linear warm-up. min_lr_frac: the cosine floor, as a share of lr.
    weight_decay, grad_clip: the usual. seed: drives the data order."""

    steps: int
    batch_size: int = 16  # packed rows per step
    row_len: int = 256  # tokens per packed row
    lr: float = 3e-3
    warmup_frac: float = 0.05
    min_lr_frac: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0
    packing: bool = True


def encode_pairs(tokenizer, pairs: Sequence[tuple[str, str]], max_len: int) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, response ids) for each (user text, assistant text) pair; the response ends with eos so that
    the model learns to stop. Pairs longer than `max_len` tokens are an error: the caller sized them."""
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": u}], tokenize=False,
                                             add_generation_prompt=True) for u, _ in pairs]
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    response_ids = tokenizer([a + tokenizer.eos_token for _, a in pairs], add_special_tokens=False)["input_ids"]
    out = []
    for (u, _), p, r in zip(pairs, prompt_ids, response_ids):
        if len(p) + len(r) > max_len:
            raise ValueError(f"warm-start example of {len(p) + len(r)} tokens exceeds max_len={max_len}: {u[:60]!r}")
        out.append((p, r))
    return out


def pack(examples: Sequence[tuple[list[int], list[int]]], row_len: int, order: Sequence[int]) -> list[tuple[list[int], list[int]]]:
    """Concatenate examples (in `order`) into rows of at most `row_len` tokens; an example never spans two rows.
    Returns (input ids, labels) per row, labels -100 on prompt tokens. Why: a batch of padded single examples
    here was about 40% padding and saw 32 examples a step; packed rows of 256 tokens see about 4 per row with
    almost no padding, so the same compute trains on 2-3x more examples. Examples in a row attend to the ones
    before them (no block-diagonal mask on a CPU); with the chat markers between them this does no harm here."""
    rows: list[tuple[list[int], list[int]]] = []
    ids: list[int] = []
    labels: list[int] = []
    for i in order:
        p, r = examples[i]
        if ids and len(ids) + len(p) + len(r) > row_len:
            rows.append((ids, labels))
            ids, labels = [], []
        ids = ids + p + r
        labels = labels + [IGNORE] * len(p) + r
    if ids:
        rows.append((ids, labels))
    return rows


def buckets(examples: Sequence[tuple[list[int], list[int]]], token_budget: int, order: Sequence[int],
            pool: int = 512) -> list[list[int]]:
    """Batches of example indices without packing: `order` is cut into pools of `pool` examples, each pool is
    sorted by length and cut into batches whose padded size (examples x longest) stays within `token_budget`.
    Each example then attends only to itself (as at inference), and similar lengths keep padding small."""
    out: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda i: len(examples[i][0]) + len(examples[i][1]))
        batch: list[int] = []
        for i in chunk:
            n = len(examples[i][0]) + len(examples[i][1])
            if batch and (len(batch) + 1) * n > token_budget:
                out.append(batch)
                batch = []
            batch.append(i)
        if batch:
            out.append(batch)
    return out


def collate_rows(rows: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad packed rows into input_ids, attention_mask and labels, each (rows, longest)."""
    longest = max(len(ids) for ids, _ in rows)
    ids_t = torch.full((len(rows), longest), pad_id, dtype=torch.long)
    labels_t = torch.full((len(rows), longest), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    for i, (ids, labels) in enumerate(rows):
        ids_t[i, :len(ids)] = torch.tensor(ids)
        labels_t[i, :len(ids)] = torch.tensor(labels)
        mask[i, :len(ids)] = 1
    return {"input_ids": ids_t, "attention_mask": mask, "labels": labels_t}


def collate(examples: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch of single (prompt ids, response ids) examples: `collate_rows` with each example as its own
    row, labels -100 on the prompt so the loss covers response tokens only."""
    return collate_rows([(p + r, [IGNORE] * len(p) + r) for p, r in examples], pad_id)


def lr_at(step: int, cfg: WarmStartConfig) -> float:
    """Linear warm-up to cfg.lr, then cosine decay to cfg.lr * cfg.min_lr_frac at the last step."""
    warmup = max(1, int(cfg.steps * cfg.warmup_frac))
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, cfg.steps - warmup)
    floor = cfg.lr * cfg.min_lr_frac
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def warm_start(model, examples: Sequence[tuple[list[int], list[int]]], pad_id: int, cfg: WarmStartConfig,
               on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Train `model` in place for `cfg.steps` steps on `examples` (from `encode_pairs`); returns the loss of
    every step. The data order is a seeded permutation per epoch, so a run is a function of its inputs."""
    if not examples:
        raise ValueError("warm_start: no examples")
    model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    order = torch.Generator().manual_seed(cfg.seed)
    rows: list[tuple[list[int], list[int]]] = []
    batches: list[list[int]] = []
    losses: list[float] = []
    for step in range(cfg.steps):
        if cfg.packing:
            if len(rows) < cfg.batch_size:  # a new epoch: reshuffle and repack
                rows += pack(examples, cfg.row_len, torch.randperm(len(examples), generator=order).tolist())
            batch = collate_rows(rows[: cfg.batch_size], pad_id)
            rows = rows[cfg.batch_size:]
        else:
            if not batches:  # a new epoch
                perm = torch.randperm(len(examples), generator=order).tolist()
                made = buckets(examples, cfg.batch_size * cfg.row_len, perm)
                batches = [made[i] for i in torch.randperm(len(made), generator=order).tolist()]
            batch = collate([examples[i] for i in batches.pop()], pad_id)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, losses[-1])
    model.eval()
    return losses
