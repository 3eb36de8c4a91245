"""A level/domain sampler for TRL's GRPOTrainer: every batch mixes the recipe's streams at the recipe's ratio.

TRL's contract (see `trl.trainer.utils.RepeatSampler`): the sampler yields a *generation batch* of distinct prompt
indices, each index `num_generations` times in a row (one rollout group), and the whole generation batch
`repeat_count` times in a row (TRL generates once and slices the buffered rollouts for the micro-steps). This sampler
keeps that contract and replaces the uniform shuffle with:

- a per-batch apportionment of `prompts_per_batch` over the streams (e.g. math L1 : code L3 = 2.1 : 1) with a carried
  remainder, so each batch is as close to the ratio as integers allow and the long-run ratio is exact;
- per stream, passes over its prompts in a seeded order (sampling without replacement inside a pass);
- an optional online-difficulty policy applied when a stream starts a new pass: retired prompts are left out of the
  pass, deferred prompts go to its end. The policy is asked with `upto_batch = b - 2` when drawing batch `b`, because
  the data loader draws one batch ahead of training; this lag makes the draw the same whether or not the run was
  killed and resumed in between.

Resumable: `state_at(b)` is the state before batch `b` was drawn (the loader may already be one batch further), so a
checkpoint after `b` optimizer steps stores `state_at(b)` and a resumed run continues with batch `b`: no prompt is
skipped or repeated. HF Trainer's own batch skipping must be off (`ignore_data_skip=True`).

Differences from the paper: the paper says only that math and code are mixed "within each batch" at about 2.1 : 1;
the apportionment rule and the pass structure are ours.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal, Sequence

import numpy as np
from torch.utils.data import Sampler

Status = Literal["active", "retired", "deferred"]
# policy(keys, upto_batch) -> one status per key; None means every prompt stays active.
Policy = Callable[[Sequence[str], int], list[Status]]


@dataclass(frozen=True)
class Stream:
    """Prompts of one mix component: dataset row indices and the matching prompt keys (problem ids)."""

    name: str
    weight: float
    rows: tuple[int, ...]
    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.rows:
            raise ValueError(f"stream {self.name!r} has no prompts")
        if len(self.rows) != len(self.keys):
            raise ValueError(f"stream {self.name!r}: rows and keys differ in length")
        if not self.weight > 0:
            raise ValueError(f"stream {self.name!r}: weight must be > 0")


def apportion(prompts: int, weights: Sequence[float], carry: Sequence[float]) -> tuple[list[int], list[float]]:
    """Split `prompts` slots over streams by `weights`, adding the remainders `carry` of earlier batches.

    Returns (counts, new_carry). Largest-remainder rounding; ties go to the earlier stream. sum(counts) == prompts.
    """
    total = float(sum(weights))
    quotas = [prompts * w / total + c for w, c in zip(weights, carry)]
    counts = [max(0, math.floor(q + 1e-9)) for q in quotas]
    left = prompts - sum(counts)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: max(left, 0)]:
        counts[i] += 1
    while sum(counts) > prompts:  # only when carries were negative enough to over-allocate
        i = max(range(len(counts)), key=lambda j: (counts[j] - quotas[j], -j))
        counts[i] -= 1
    return counts, [q - n for q, n in zip(quotas, counts)]


class LevelDomainSampler(Sampler[int]):
    """Yields dataset row indices for `total_batches` generation batches, in TRL's repeat layout."""

    def __init__(self, streams: Sequence[Stream], prompts_per_batch: int, num_generations: int,
                 repeat_count: int, total_batches: int, seed: int, policy: Policy | None = None,
                 policy_lag: int = 2) -> None:
        if not streams:
            raise ValueError("LevelDomainSampler needs at least one stream")
        self.streams = list(streams)
        self.prompts_per_batch = prompts_per_batch
        self.num_generations = num_generations
        self.repeat_count = repeat_count
        self.total_batches = total_batches
        self.seed = seed
        self.policy = policy
        self.policy_lag = policy_lag
        self._state: dict[str, Any] = {
            "batch": 0,
            "carry": [0.0] * len(self.streams),
            "streams": {s.name: {"pass": -1, "order": [], "cursor": 0} for s in self.streams},
            "events": {"retired": 0, "deferred": 0, "reset": 0},
        }
        self._snapshots: dict[int, dict[str, Any]] = {}
        self.drawn: dict[int, list[int]] = {}  # batch index -> rows, kept for the last few batches

    # -- state ---------------------------------------------------------------------------------------------------
    @property
    def next_batch(self) -> int:
        return self._state["batch"]

    @property
    def events(self) -> dict[str, int]:
        """Cumulative policy events: prompts retired / deferred at pass starts, passes restarted (all retired)."""
        return dict(self._state["events"])

    def state_at(self, batch: int) -> dict[str, Any]:
        """The state before batch `batch` was drawn (batch <= next_batch, and at most a few batches back)."""
        if batch == self._state["batch"]:
            return copy.deepcopy(self._state)
        if batch not in self._snapshots:
            raise KeyError(f"sampler state before batch {batch} is no longer kept (next batch {self.next_batch})")
        return copy.deepcopy(self._snapshots[batch])

    def load_state(self, state: dict[str, Any]) -> None:
        names = {s.name for s in self.streams}
        if set(state["streams"]) != names:
            raise ValueError(f"sampler state has streams {sorted(state['streams'])}, this stage has {sorted(names)}")
        self._state = copy.deepcopy(state)
        self._snapshots.clear()

    # -- drawing -------------------------------------------------------------------------------------------------
    def _new_pass(self, index: int, batch: int, in_batch: Sequence[int] = ()) -> None:
        """Start the stream's next pass in a seeded order. `in_batch` are the prompts (positions in the stream) the
        batch being drawn already took from the end of the previous pass: they go to the end of the new pass, so
        that a batch crossing a pass boundary still holds distinct prompts (as long as the stream has enough)."""
        stream = self.streams[index]
        st = self._state["streams"][stream.name]
        st["pass"] += 1
        rng = np.random.default_rng([self.seed, index, st["pass"]])
        order = [int(i) for i in rng.permutation(len(stream.rows))]
        if self.policy is not None:
            status = self.policy([stream.keys[i] for i in order], batch - self.policy_lag)
            active = [i for i, s in zip(order, status) if s == "active"]
            deferred = [i for i, s in zip(order, status) if s == "deferred"]
            self._state["events"]["retired"] += sum(s == "retired" for s in status)
            self._state["events"]["deferred"] += len(deferred)
            order = active + deferred
            if not order:  # every prompt retired: start over rather than starve the stream's share
                self._state["events"]["reset"] += 1
                order = [int(i) for i in rng.permutation(len(stream.rows))]
        if in_batch:
            taken = set(in_batch)
            order = [i for i in order if i not in taken] + [i for i in order if i in taken]
        st["order"], st["cursor"] = order, 0

    def _take(self, index: int, count: int, batch: int) -> list[int]:
        stream = self.streams[index]
        st = self._state["streams"][stream.name]
        positions: list[int] = []
        while len(positions) < count:
            if st["cursor"] >= len(st["order"]):
                self._new_pass(index, batch, positions)
            positions.append(st["order"][st["cursor"]])
            st["cursor"] += 1
        return [stream.rows[i] for i in positions]

    def draw_batch(self) -> list[int]:
        """Draw the next generation batch (distinct prompts unless a stream has fewer prompts than its share)."""
        batch = self._state["batch"]
        self._snapshots[batch] = copy.deepcopy(self._state)
        for old in [b for b in self._snapshots if b < batch - 4]:
            del self._snapshots[old]
        counts, self._state["carry"] = apportion(
            self.prompts_per_batch, [s.weight for s in self.streams], self._state["carry"])
        rows: list[int] = []
        for index, count in enumerate(counts):
            rows.extend(self._take(index, count, batch))
        # Interleave streams so that each process's slice of the batch holds every stream.
        rng = np.random.default_rng([self.seed, 1_000_003, batch])
        rows = [rows[i] for i in rng.permutation(len(rows))]
        self._state["batch"] = batch + 1
        self.drawn[batch] = rows
        for old in [b for b in self.drawn if b < batch - 4]:
            del self.drawn[old]
        return rows

    def __iter__(self) -> Iterator[int]:
        while self._state["batch"] < self.total_batches:
            rows = self.draw_batch()
            for _ in range(self.repeat_count):
                for row in rows:
                    for _ in range(self.num_generations):
                        yield row

    def __len__(self) -> int:
        return self.total_batches * self.repeat_count * self.prompts_per_batch * self.num_generations
