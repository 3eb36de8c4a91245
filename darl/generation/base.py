"""The generation contract every back end meets.

A back end takes chat conversations (lists of {"role", "content"} messages, see `darl.prompting`), applies the
model's own chat template, samples `params.n` completions per conversation and reports, for each completion, its
text, how many tokens it used and whether it hit `max_new_tokens` (truncated: the paper masks those in stage 2 and
scoring counts them). The defaults are the paper's evaluation sampling settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

from darl.defaults import PAPER_MAX_NEW_TOKENS, PAPER_TEMPERATURE, PAPER_TOP_P

Messages = Sequence[dict[str, str]]
__all__ = ["PAPER_MAX_NEW_TOKENS", "Completion", "Generator", "Messages", "SamplingParams"]  # the paper's length,
# defined in darl.defaults, stays importable from here


@dataclass(frozen=True)
class SamplingParams:
    """`seed`: the call is reproducible. `seeds`: one seed per conversation of the call (overrides `seed`);
    conversation i is then sampled from `seeds[i]` alone, so its samples do not depend on which other conversations
    share the call (scoring seeds each problem from its id this way, so batching changes nothing)."""

    n: int = 1
    temperature: float = PAPER_TEMPERATURE
    top_p: float = PAPER_TOP_P
    max_new_tokens: int = 1024
    seed: int | None = None
    seeds: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"SamplingParams.n must be >= 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"SamplingParams.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingParams.top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"SamplingParams.max_new_tokens must be >= 1, got {self.max_new_tokens}")

    def conversation_seeds(self, count: int) -> list[int] | None:
        """The seed of each of `count` conversations when `seeds` is set (None otherwise); a length mismatch is an
        error, never a silent reuse."""
        if self.seeds is None:
            return None
        if len(self.seeds) != count:
            raise ValueError(f"SamplingParams.seeds has {len(self.seeds)} seeds for {count} conversations")
        return list(self.seeds)


@dataclass(frozen=True)
class Completion:
    text: str
    num_tokens: int
    truncated: bool


@runtime_checkable
class Generator(Protocol):
    """`name` identifies the model (path or hub id) in every table it helps make."""

    name: str

    def generate(self, conversations: Sequence[Messages], params: SamplingParams) -> list[list[Completion]]:
        """Return, for each conversation in order, `params.n` completions."""
        ...
