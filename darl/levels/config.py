"""The levels config: which scored model plays which role, and the rules. The defaults are the paper's
(method.md section 4), written as conditions (`darl.levels.expr`) so a user can change any of them in YAML:

```yaml
roles: {small: r1-1.5b, medium: r1-7b, large: r1-32b, filter: r1}   # role -> model name in the scores file
policy: null            # the model being trained, when it was scored too (calibration report only)
seed: 0                 # Level-3 keep sampling
constants: {never: 0.0, always: 1.0}   # thresholds the paper rules use: p <= never is "never solved"
level3_keep_share: {math: 0.5, code: 0.1}   # share of problems the large model solves that Level 3 keeps
drop: "filter <= never"                 # null keeps everything
levels:                 # omit for the paper's three levels; or list your own
  - name: level1
    when: "never < small < always"
  - name: level3
    when: "large <= never"
    keep: {when: "large > never", share: {math: 0.5, code: 0.1}}
```

Level k (1-based, in list order) becomes the boolean column `level_k` and the number k in the `levels` list of
the output, which is what `darl train` reads. Where our reading of the paper is a choice: "solves" for the
Level-3 share means p_large > 0, and the share is exact (round(share x count) problems, seeded), not a coin per
problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Mapping

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt, ValidationError,
                      field_validator, model_validator)

from darl.defaults import ROLES
from darl.errors import InputError
from darl.levels.expr import Condition, compile_condition
from darl.records import DOMAINS
from darl.yaml_input import read_yaml_mapping, validation_input_error

PAPER_LEVEL2 = ("(small <= never and medium >= always) or (small <= never and never < medium < always) "
                "or (never < small < always and never < medium < always)")


@dataclass(frozen=True)
class KeepShare:
    """Also keep a seeded random `share` (per domain) of the problems matching `when` (and not the level's
    own condition)."""

    when: Condition
    share: Mapping[str, float]


@dataclass(frozen=True)
class LevelRule:
    name: str
    when: Condition
    keep: KeepShare | None = None


@dataclass(frozen=True)
class LevelsConfig:
    roles: Mapping[str, str]
    levels: tuple[LevelRule, ...]
    drop: Condition | None
    constants: Mapping[str, float] = field(default_factory=dict)
    policy: str | None = None
    seed: int = 0
    source: str = "defaults (the paper)"

    def names(self) -> set[str]:
        """Every variable the rules read."""
        out: set[str] = set()
        for rule in self.levels:
            out |= rule.when.names
            if rule.keep is not None:
                out |= rule.keep.when.names
        if self.drop is not None:
            out |= self.drop.names
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "roles": dict(self.roles), "policy": self.policy, "seed": self.seed, "constants": dict(self.constants),
            "drop": None if self.drop is None else self.drop.text,
            "levels": [{"name": r.name, "when": r.when.text,
                        **({"keep": {"when": r.keep.when.text, "share": dict(r.keep.share)}} if r.keep else {})}
                       for r in self.levels],
            "source": self.source,
        }


_PAPER_LEVEL3_SHARE = {"math": 0.5, "code": 0.1}


def _shares(value: Any) -> dict[str, float]:
    """A keep share: one number for every domain, or a mapping domain -> share, each in [0, 1]."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {d: float(value) for d in DOMAINS}
    if not isinstance(value, dict):
        raise ValueError("expected a number or a mapping domain -> share, e.g. {math: 0.5, code: 0.1}")
    unknown = set(value) - set(DOMAINS)
    if unknown:
        raise ValueError(f"unknown domain(s) {sorted(unknown)}; domains are {list(DOMAINS)}")
    out = {}
    for domain, share in value.items():
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise ValueError(f"{domain}: share must be a number in [0, 1], got {share!r}")
        out[domain] = float(share)
    return out


Share = Annotated[dict[str, float], BeforeValidator(_shares)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeepSpec(_Strict):
    when: str = Field(description="Condition of the problems a share of which the level also keeps.")
    share: Share = Field(description="Share kept, per domain (or one number for every domain).")


class LevelSpec(_Strict):
    name: str | None = Field(None, description="Level name (default level<k>).")
    when: str = Field(description="Condition a problem of this level meets.")
    keep: KeepSpec | None = Field(None, description="Also keep a seeded share of the problems matching keep.when.")


class LevelsFile(_Strict):
    """The YAML file as written (module docstring); `build_config` compiles it into a `LevelsConfig`."""

    roles: dict[str, str] | None = Field(None, description="Role -> model name in the scores file (default: each "
                                         "role's model is named after the role).")
    policy: str | None = Field(None, description="The model being trained, when it was scored too (report only).")
    seed: StrictInt = Field(0, description="Seed of the Level-3 keep sampling.")
    constants: dict[str, StrictInt | StrictFloat] = Field(
        default_factory=dict, description="Thresholds the rules read, over never: 0.0 and always: 1.0.")
    level3_keep_share: Share | None = Field(None, description="Share of the problems the large model solves that "
                                            "the paper's Level 3 keeps (default {math: 0.5, code: 0.1}).")
    drop: str | None = Field("filter <= never", description="Problems dropped from every level (null: none).")
    levels: list[LevelSpec] | None = Field(None, min_length=1, description="Your own levels (default: the paper's).")

    @field_validator("roles", mode="before")
    @classmethod
    def _roles_map(cls, value: Any) -> Any:
        if value is not None and not (isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                                       for k, v in value.items())):
            raise ValueError("roles must map role names to model names")
        return value or None

    @field_validator("drop", mode="before")
    @classmethod
    def _drop_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @model_validator(mode="after")
    def _share_or_levels(self) -> LevelsFile:
        if self.levels is not None and self.level3_keep_share is not None:
            raise ValueError("level3_keep_share applies to the paper's levels; with your own 'levels' give each "
                             "level its keep.share")
        names = [level.name or f"level{i + 1}" for i, level in enumerate(self.levels or ())]
        if len(set(names)) != len(names):
            raise ValueError(f"level names repeat: {names}")
        return self


def paper_levels(level3_share: Mapping[str, float], where: str) -> tuple[LevelRule, ...]:
    return (
        LevelRule("level1", compile_condition("never < small < always", f"{where} level1")),
        LevelRule("level2", compile_condition(PAPER_LEVEL2, f"{where} level2")),
        LevelRule("level3", compile_condition("large <= never", f"{where} level3"),
                  KeepShare(compile_condition("large > never", f"{where} level3.keep"), dict(level3_share))),
    )


def build_config(data: Mapping[str, Any] | None = None, *, source: str = "config", text: str | None = None
                 ) -> LevelsConfig:
    """A LevelsConfig from a parsed YAML mapping (None: the paper's defaults), validated by `LevelsFile` like a
    recipe: unknown keys and bad values are errors naming the field (and its YAML line when `text` is given)."""
    try:
        spec = LevelsFile.model_validate(dict(data or {}))
    except ValidationError as exc:
        raise validation_input_error(exc, text or "", source, "unknown key (not a levels config field; known keys: "
                                     f"{sorted(LevelsFile.model_fields)})") from None
    roles = spec.roles or {r: r for r in ROLES}
    constants = {"never": 0.0, "always": 1.0, **spec.constants}
    if spec.levels is not None:
        levels = _custom_levels(spec.levels, source)
    else:
        levels = paper_levels(_PAPER_LEVEL3_SHARE | (spec.level3_keep_share or {}), source)
    drop = None if spec.drop is None else compile_condition(spec.drop, f"{source}: drop")
    return LevelsConfig(roles=roles, levels=levels, drop=drop, constants=constants, policy=spec.policy,
                        seed=spec.seed, source=source)


def _custom_levels(specs: list[LevelSpec], source: str) -> tuple[LevelRule, ...]:
    rules = []
    for i, item in enumerate(specs):
        where = f"{source}: levels[{i}]"
        keep = None if item.keep is None else KeepShare(compile_condition(item.keep.when, f"{where}.keep.when"),
                                                        dict(item.keep.share))
        rules.append(LevelRule(item.name or f"level{i + 1}", compile_condition(item.when, f"{where}.when"), keep))
    return tuple(rules)


def packaged_configs() -> dict[str, Path]:
    """Levels configs that ship with darl (package data under darl/levels/configs/), by name: `paper` is the
    paper's rules with each role's model named after the role, as the README scores them."""
    folder = Path(__file__).resolve().parent / "configs"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A config file as given, or the packaged config of that name (a file of that name wins)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    packaged = packaged_configs()
    if str(name_or_path) in packaged:
        return packaged[str(name_or_path)]
    raise InputError("no such levels config file or packaged config", path=path,
                     hint=f"packaged configs: {', '.join(packaged) or 'none'}")


def load_config(path: str | Path | None) -> LevelsConfig:
    """Read a YAML config, given by path or by a packaged config's name (None: the paper's defaults); errors name
    the file, the YAML line and the field."""
    if path is None:
        return build_config(None, source="defaults (the paper)")
    path = resolve_config_path(path)
    text = path.read_text()
    data = read_yaml_mapping(text, path, "a levels config: a YAML mapping (see darl/levels/config.py)", empty_ok=True)
    return build_config(data, source=str(path), text=text)
