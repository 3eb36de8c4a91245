"""The comparison spec: one YAML file says which arms to train, on which levels file, with how many seeds, for how
many rollouts, evaluated on which held-out set, against which baseline arm.

```yaml
name: two_stage_vs_random
levels: levels.parquet            # relative paths are relative to this file
scores: [scores.parquet]          # optional: proxy-scoring rollouts, counted on the learning curves' x axis
seeds: [0, 1, 2]
budget: {rollouts: 8192}          # training rollouts per arm and seed; every arm stops there
heldout: {embedded: {domain: math, levels: [1, 2, 3, 4], per_level: 64}}   # or {problems: heldout.parquet}
eval: {samples: 4, ks: [1, 4], max_new_tokens: 96, curve_every_steps: 8}
baseline: random
arms:
  - name: two_stage
    recipe: embedded_two_stage
  - name: random
    recipe: embedded_two_stage
    stages: 1                     # keep only the first stage
    overrides:                    # merged into the recipe: mappings key by key, `stages` entry by entry, a `mix` replaced
      stages: [{mix: [{domain: math, level: null}]}]
```

An arm is a recipe (a shipped name or a file) or a variant of one; the variants that matter for the paper's claims
(levels used, stages, data mix, online selection) are all recipe fields, so `overrides` reaches every one of them and
the resolved recipe of each arm is saved in its run folder like any `darl train` run.

Unknown keys are errors naming the file, the YAML line and the field (as recipes are).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from darl.defaults import PAPER_TEMPERATURE, PAPER_TOP_P
from darl.errors import InputError
from darl.yaml_input import read_yaml_mapping, validation_input_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BudgetSettings(_Strict):
    rollouts: int = Field(ge=1, description="Training rollouts (prompts x generations summed over steps) per arm and "
                          "seed. Each arm's stages are cut to fit: a stage gets the share of the budget its max_steps "
                          "had of the recipe's total, rounded down to whole steps.")
    count_scoring: bool = Field(False, description="Also charge the proxy-scoring rollouts (from `scores`) to arms that "
                                "use levels: their training budget is `rollouts` minus the scoring rollouts. The "
                                "learning curves count scoring rollouts either way.")


class EmbeddedHeldout(_Strict):
    domain: Literal["math", "code"] = Field("math", description="Domain of the embedded suite.")
    levels: list[int] = Field(default_factory=lambda: [1, 2, 3, 4], min_length=1,
                              description="Generator levels of the embedded suite (1-6).")
    per_level: int = Field(64, ge=1, description="Problems per generator level (fewer if a level runs out).")
    preset: str = Field("default", description="Embedded family preset whose training data is excluded.")


class HeldoutSettings(_Strict):
    embedded: EmbeddedHeldout | None = Field(None, description="Fresh embedded-suite problems that no role and no "
                                             "policy trained on (darl.comparison.heldout).")
    problems: str | None = Field(None, description="A problems file (darl data's Parquet/JSONL); it must not share a "
                                 "prompt with the levels file.")

    @model_validator(mode="after")
    def _one_source(self) -> HeldoutSettings:
        if (self.embedded is None) == (self.problems is None):
            raise ValueError("give exactly one of 'embedded' and 'problems'")
        return self


class EvalSpec(_Strict):
    samples: int = Field(4, ge=1, description="Samples per held-out problem (Pass@1 = mean correctness over them).")
    ks: list[int] = Field(default_factory=lambda: [1, 4], description="k of pass@k (unbiased estimator); k <= samples.")
    temperature: float = Field(PAPER_TEMPERATURE, gt=0,
                               description=f"Sampling temperature (the paper's evaluation: {PAPER_TEMPERATURE}).")
    top_p: float = Field(PAPER_TOP_P, gt=0, le=1,
                         description=f"Nucleus sampling (the paper's evaluation: {PAPER_TOP_P}).")
    max_new_tokens: int = Field(128, ge=1, description="Longest response.")
    curve_every_steps: int = Field(0, ge=0, description="Also evaluate checkpoints every this many global steps for "
                                   "the learning curves (0: only the start and each stage's end).")
    backend: Literal["auto", "transformers", "vllm"] = Field("auto", description="Generation back end.")
    batch_size: int = Field(64, ge=1, description="Rows per forward pass (transformers back end).")
    seed: int = Field(0, description="Sampling seed of every evaluation (the same for every arm and seed).")

    @model_validator(mode="after")
    def _ks_fit(self) -> EvalSpec:
        bad = [k for k in self.ks if k < 1 or k > self.samples]
        if bad:
            raise ValueError(f"every k must be in 1..samples ({self.samples}), got {bad}")
        return self


class ArmSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Arm name (a folder name: letters, digits, _ . -).")
    recipe: str = Field(description="A shipped recipe name or a recipe file (relative to the spec).")
    stages: int | None = Field(None, ge=1, description="Keep only the first this many stages of the recipe.")
    overrides: dict[str, Any] = Field(default_factory=dict, description="Merged into the recipe (mappings key by key, "
                                      "the `stages` list entry by entry, other lists, a stage's `mix` included, replaced).")


class ComparisonSpec(_Strict):
    name: str = Field(description="Comparison name, recorded in the report.")
    levels: str = Field(description="The levels file every arm trains from (darl levels' output).")
    scores: list[str] = Field(default_factory=list, description="Scores files of the proxy models that made the "
                              "levels; their rollouts (sum of k) are what leveling cost.")
    model: str | None = Field(None, description="Starting policy of every arm (default: each recipe's own).")
    seeds: list[int] = Field(min_length=1, description="Seeds; every arm runs once per seed.")
    budget: BudgetSettings
    heldout: HeldoutSettings
    eval: EvalSpec = Field(default_factory=EvalSpec)
    baseline: str = Field(description="The arm every other arm is compared with (paired by seed and problem).")
    arms: list[ArmSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> ComparisonSpec:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must be unique, got {names}")
        if self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not an arm (arms: {names})")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be unique, got {self.seeds}")
        return self

    def arm(self, name: str) -> ArmSpec:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise InputError(f"no arm named {name!r}", field="--only", hint=f"arms: {', '.join(a.name for a in self.arms)}")


def merge(base: Any, override: Any, key: str | None = None) -> Any:
    """`override` merged into `base`: mappings key by key (recursively); the `stages` list entry by entry (so one
    stage can change without restating the others); other values replaced, a stage's `mix` included: an arm names
    every stream it trains on, so an arm can also train on fewer streams than its recipe (merging the mix by
    position could never drop one, and would carry a dropped stream's weight into the one kept)."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = merge(base[k], v, k) if k in base else copy.deepcopy(v)
        return out
    if key == "stages" and isinstance(base, list) and isinstance(override, list):
        out_list = [copy.deepcopy(x) for x in base]
        for i, v in enumerate(override):
            if i < len(out_list):
                out_list[i] = merge(out_list[i], v)
            else:
                out_list.append(copy.deepcopy(v))
        return out_list
    return copy.deepcopy(override)


def load_spec(path: str | Path) -> tuple[ComparisonSpec, Path]:
    """Read a comparison spec; returns it with relative paths resolved against the spec's folder."""
    path = Path(path)
    if not path.is_file():
        raise InputError("comparison spec not found", path=path, hint="pass a YAML file (see docs/benchmarks.md)")
    text = path.read_text()
    data = read_yaml_mapping(text, path, "a comparison spec: a YAML mapping with 'name', 'levels', 'seeds', "
                             "'arms', ...")
    try:
        spec = ComparisonSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_input_error(exc, text, path, "unknown key (not a comparison field; see "
                                     "darl/comparison/spec.py)") from None
    folder = path.resolve().parent

    def resolve(p: str) -> str:
        return p if Path(p).is_absolute() else str(folder / p)

    heldout = spec.heldout
    if heldout.problems is not None:
        heldout = heldout.model_copy(update={"problems": resolve(heldout.problems)})
    arms = [a.model_copy(update={"recipe": resolve(a.recipe)}) if (folder / a.recipe).is_file() else a
            for a in spec.arms]
    spec = spec.model_copy(update={"levels": resolve(spec.levels), "scores": [resolve(s) for s in spec.scores],
                                   "heldout": heldout, "arms": arms})
    return spec, path
