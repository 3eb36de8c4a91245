"""What a scoring job is: the proxy models, K, the sampling settings and which shard of the problems to do.

A job is plain data so that it can be written into the output folder's manifest, compared on resume (a folder
holding a different job is an error, not a silent mix), and shipped to a Ray worker.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from darl.errors import InputError
from darl.defaults import PAPER_MAX_NEW_TOKENS, PAPER_TEMPERATURE, PAPER_TOP_P
from darl.generation.base import SamplingParams

Backend = Literal["transformers", "vllm"]


@dataclass(frozen=True)
class ModelSpec:
    """One proxy model. `name` labels its rows (and is what a levels config names in its roles); `path` is a
    folder, a `.gguf` file or a Hub id. `engine_args`: keyword arguments for `vllm.LLM` (tensor_parallel_size, ...;
    vllm back end only); they change speed and memory, not the job, so resuming with others is allowed."""

    name: str
    path: str
    backend: Backend = "transformers"
    batch_size: int = 32
    dtype: str | None = None
    device: str | None = None
    engine_args: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def parse(cls, text: str, **defaults: Any) -> ModelSpec:
        """'NAME=PATH' or just 'PATH' (then the name is the folder or file name, or the Hub id)."""
        if "=" in text:
            name, path = text.split("=", 1)
            name, path = name.strip(), path.strip()
        else:
            path = text.strip()
            name = Path(path).name if Path(path).expanduser().exists() else path
            name = name.removesuffix(".gguf") or path
        if not name or not path:
            raise InputError(f"bad --model value {text!r}", field="--model", hint="write NAME=PATH or PATH")
        return cls(name=name, path=path, **defaults)


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based). A problem belongs to the shard `sha256(id) mod count`, so the split
    does not depend on the order of the file, and every machine computes it alone."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise InputError(f"shard {self.index}/{self.count} is out of range", field="--shard",
                             hint="write i/N with 0 <= i < N")

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index, count = (int(x) for x in text.split("/"))
        except ValueError:
            raise InputError(f"bad shard {text!r}", field="--shard", hint="write i/N, for example 0/4") from None
        return cls(index, count)

    def owns(self, problem_id: str) -> bool:
        return shard_of(problem_id, self.count) == self.index

    @property
    def label(self) -> str:
        return f"shard-{self.index:04d}-of-{self.count:04d}"


def shard_of(problem_id: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(problem_id.encode()).digest()[:8], "big") % count


@dataclass(frozen=True)
class ScoreJob:
    """K samples per (problem, model) at the evaluation sampling settings (temperature 0.6, top_p 0.95 and up to
    32768 new tokens, as the paper evaluates; the embedded default and the demo pass a few hundred, and a CPU cannot
    reach 32k with a real model in reasonable time). `batch_problems` is how many problems
    go to the generator per call (each call then makes batch_problems x k samples) and to the verifier thread
    per flush; `keep_responses` also stores every sample's text and verdict."""

    problems_path: str
    models: tuple[ModelSpec, ...]
    k: int = 4
    temperature: float = PAPER_TEMPERATURE
    top_p: float = PAPER_TOP_P
    max_new_tokens: int = PAPER_MAX_NEW_TOKENS
    seed: int = 0
    batch_problems: int = 8
    shard: Shard = field(default_factory=Shard)
    keep_responses: bool = False

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InputError(f"k must be >= 1, got {self.k}", field="-k")
        if self.batch_problems < 1:
            raise InputError(f"batch size must be >= 1, got {self.batch_problems}", field="--batch-problems")
        if not self.models:
            raise InputError("no model to score with", field="--model", hint="give --model NAME=PATH at least once")
        names = [m.name for m in self.models]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise InputError(f"model name(s) {doubled} given twice", field="--model",
                             hint="name each model: --model small=PATH")
        self.sampling()  # validates temperature, top_p and max_new_tokens now, not after the first model loads

    def sampling(self, seeds: tuple[int, ...] = ()) -> SamplingParams:
        """Sampling settings for one generation call; `seeds` holds one seed per conversation of the call."""
        return SamplingParams(n=self.k, temperature=self.temperature, top_p=self.top_p,
                              max_new_tokens=self.max_new_tokens, seed=self.seed, seeds=tuple(seeds) or None)

    def settings(self) -> dict[str, Any]:
        """What must match for a folder's partial results to be resumed: not the shard (checked separately), the
        problems path (its content hash is checked instead) or the batch size (it changes speed, not results)."""
        data = asdict(self)
        for key in ("shard", "problems_path", "batch_problems"):
            data.pop(key)
        data["models"] = [{"name": m.name, "path": m.path, "backend": m.backend} for m in self.models]
        return data

