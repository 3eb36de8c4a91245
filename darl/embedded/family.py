"""The embedded policy family: which tiny Qwen2 models stand in for the paper's proxy roles, and how much each
is trained.

Roles (method.md section 3-4): `small` ~ DeepSeek-R1-Distill-Qwen-1.5B (the policy RL trains), `medium` ~ 7B,
`large` ~ 32B, `filter` ~ DeepSeek-R1 (the strongest; problems it never solves are dropped). Here the roles differ
in warm-start steps (and may differ in width): in the preset every role continues the previous one
(`init_from`) for more steps, so competence grows monotonically small < medium < large < filter at the cost of
a single training run. Why one chain: what a tiny model needs most is examples seen (it must learn to copy
operands from the prompt before it solves anything), and separate models would split the budget. Every role is a standard Hugging
Face checkpoint (`Qwen2ForCausalLM`), so everything downstream runs the same code it would run on a real model.

Budgets are step counts (deterministic), sized so that the build takes a few minutes on an idle 2-core CPU. There is
one preset: the tests, the benchmarks and `darl demo` all use the same family, so every test run checks the models
the README describes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from darl.defaults import ROLES

STANDS_FOR = {
    "small": "DeepSeek-R1-Distill-Qwen-1.5B (the policy)",
    "medium": "DeepSeek-R1-Distill-Qwen-7B",
    "large": "DeepSeek-R1-Distill-Qwen-32B",
    "filter": "DeepSeek-R1",
}
# Bump when a change to the generators, tokenizer or training code changes what a build produces, so that old
# caches are not reused (the cache key hashes this together with the config).
CODE_VERSION = "4"


@dataclass(frozen=True)
class ModelSize:
    """Qwen2 shape: hidden width, layers, attention heads, key/value heads (grouped-query attention, as Qwen2)
    and MLP width."""

    hidden: int
    layers: int
    heads: int = 4
    kv_heads: int = 2
    intermediate: int | None = None  # default 4 * hidden

    def qwen2_config(self, vocab_size: int, eos_id: int, pad_id: int, max_positions: int):
        from transformers import Qwen2Config

        return Qwen2Config(
            vocab_size=vocab_size,
            hidden_size=self.hidden,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            num_key_value_heads=self.kv_heads,
            intermediate_size=self.intermediate or 4 * self.hidden,
            max_position_embeddings=max_positions,
            tie_word_embeddings=True,
            eos_token_id=eos_id,
            pad_token_id=pad_id,
            bos_token_id=None,
        )


@dataclass(frozen=True)
class RoleSpec:
    """One role: its size, its warm-start steps and peak lr, `init_from` (a role whose trained weights it starts
    from; then `size` must match that role's), and `premature_answer_share`: the share of this role's math
    warm-start solutions cut after their first line and boxed there (`darl.embedded.tasks_math.premature_answer`),
    a habit RL can unlearn. Per role because the habit belongs to the policy: the proxies that score its problems
    are other models, which finish their work (docs/embedded.md, "Two ways of answering")."""

    role: str
    size: ModelSize
    steps: int
    lr: float = 3e-3
    init_from: str | None = None
    premature_answer_share: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.premature_answer_share <= 1.0:
            raise ValueError(f"role {self.role!r}: premature_answer_share must be in [0, 1], "
                             f"got {self.premature_answer_share}")


@dataclass(frozen=True)
class FamilyConfig:
    """Everything that decides what a build produces (and so its cache key).

    suite: the embedded suite whose prompts the warm start must avoid and whose text trains the tokenizer.
    vocab_size: BPE target (the corpus may give fewer). max_len: longest prompt+response in tokens.
    warm_start_per_domain: supervised examples per domain; level_weights: how often each level appears in them.
    batch_size: packed rows of `row_len` tokens per warm-start step. packing: pack several examples per row (True,
    measured better) or length-bucketed batches of single examples of the same token budget (False).
    seed: model initialisation and data order.
    """

    preset: str
    suite: str
    roles: tuple[RoleSpec, ...]
    vocab_size: int = 1024
    max_len: int = 256
    warm_start_per_domain: int = 6000
    level_weights: dict[int, float] = field(default_factory=lambda: {1: 2.0, 2: 2.0, 3: 1.5, 4: 1.0, 5: 0.5, 6: 0.25})
    batch_size: int = 8
    row_len: int = 256
    packing: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        names = [r.role for r in self.roles]
        if sorted(names) != sorted(ROLES):
            raise ValueError(f"FamilyConfig.roles: need exactly the roles {ROLES}, got {names}")
        for i, r in enumerate(self.roles):
            if r.init_from is not None:
                parent = next((p for p in self.roles[:i] if p.role == r.init_from), None)
                if parent is None:
                    raise ValueError(f"role {r.role!r}: init_from {r.init_from!r} must be a role listed before it")
                if parent.size != r.size:
                    raise ValueError(f"role {r.role!r}: size must equal that of {r.init_from!r}, which it continues")

    def role(self, name: str) -> RoleSpec:
        return next(r for r in self.roles if r.role == name)

    def to_dict(self) -> dict:
        return asdict(self)

    def cache_key(self) -> str:
        """A short hash of the config and CODE_VERSION: the name of the cache folder."""
        text = json.dumps({"config": self.to_dict(), "code_version": CODE_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# Width 96 learned more per step than width 128 at the same lr and data (measured: math mean pass of the small
# role 0.21 vs 0.14 after 600 steps, code 0.56 vs 0.17) and each step is 20% cheaper; 8 packed rows a step beat
# 16 rows with half the steps (more updates for the same examples). The filter trains longest: the paper's R1 is far
# stronger than the 32B proxy, and with a filter barely above `large` (200 more steps, measured) almost every
# problem the large role never solved was dropped, so Level 3 held mostly the random share of easy solved ones.
# The policy (small) warm-starts 1,200 steps with half its math solutions cut after the first line, a habit the
# proxies that continue it (on complete solutions) do not share: the paper's distilled policy comes to RL with a
# careful and a hasty way of answering, and with 600 steps, or with the proxies sharing the habit, GRPO found little
# to gain (docs/embedded.md, "Two ways of answering", has the measurements).
_CHAIN = ModelSize(hidden=96, layers=4)

PRESETS: dict[str, FamilyConfig] = {
    "default": FamilyConfig(
        preset="default",
        suite="default",
        roles=(
            RoleSpec("small", _CHAIN, steps=1200, lr=4e-3, premature_answer_share=0.5),
            RoleSpec("medium", _CHAIN, steps=200, lr=2e-3, init_from="small"),
            RoleSpec("large", _CHAIN, steps=200, lr=2e-3, init_from="medium"),
            RoleSpec("filter", _CHAIN, steps=500, lr=2e-3, init_from="large"),
        ),
        batch_size=8,
        warm_start_per_domain=20000,
    ),
}


def preset_config(name: str) -> FamilyConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown embedded preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
