"""The warm start's two batchings: packed rows and length-bucketed single examples (`packing=False`)."""

from __future__ import annotations

import random

from darl.embedded.warm_start import IGNORE, buckets, collate, pack


def _examples(n: int, seed: int = 0) -> list[tuple[list[int], list[int]]]:
    rng = random.Random(seed)
    return [([1] * rng.randint(3, 20), [2] * rng.randint(2, 30)) for _ in range(n)]


def test_buckets_cover_every_example_once_within_the_token_budget():
    examples = _examples(300)
    order = list(range(300))
    random.Random(1).shuffle(order)
    made = buckets(examples, token_budget=256, order=order, pool=64)
    flat = [i for batch in made for i in batch]
    assert sorted(flat) == list(range(300))
    for batch in made:
        longest = max(len(examples[i][0]) + len(examples[i][1]) for i in batch)
        assert len(batch) == 1 or len(batch) * longest <= 256
    # labels cover response tokens only
    tensors = collate([examples[i] for i in made[0]], pad_id=0)
    p, r = examples[made[0][0]]
    assert (tensors["labels"][0, :len(p)] == IGNORE).all() and (tensors["labels"][0, len(p):len(p) + len(r)] == 2).all()


def test_pack_keeps_examples_whole_and_in_order():
    examples = _examples(50)
    rows = pack(examples, row_len=64, order=list(range(50)))
    assert sum(sum(1 for t in labels if t == 2) for _, labels in rows) == sum(len(r) for _, r in examples)
    assert all(len(ids) <= 64 for ids, _ in rows)  # every example here is shorter than a row
