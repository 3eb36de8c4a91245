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
from typing import Any, Mapping

from darl.errors import InputError
from darl.levels.expr import Condition, compile_condition
from darl.records import DOMAINS

ROLES = ("small", "medium", "large", "filter")
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


_TOP_KEYS = {"roles", "policy", "seed", "constants", "level3_keep_share", "drop", "levels"}


def _shares(value: Any, where: str) -> dict[str, float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {d: float(value) for d in DOMAINS}
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a number or a mapping domain -> share", hint="e.g. {math: 0.5, code: 0.1}")
    unknown = set(value) - set(DOMAINS)
    if unknown:
        raise InputError(f"{where}: unknown domain(s) {sorted(unknown)}; domains are {list(DOMAINS)}")
    out = {}
    for domain, share in value.items():
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise InputError(f"{where}.{domain}: share must be a number in [0, 1], got {share!r}")
        out[domain] = float(share)
    return out


def paper_levels(level3_share: Mapping[str, float], where: str) -> tuple[LevelRule, ...]:
    return (
        LevelRule("level1", compile_condition("never < small < always", f"{where} level1")),
        LevelRule("level2", compile_condition(PAPER_LEVEL2, f"{where} level2")),
        LevelRule("level3", compile_condition("large <= never", f"{where} level3"),
                  KeepShare(compile_condition("large > never", f"{where} level3.keep"), dict(level3_share))),
    )


def build_config(data: Mapping[str, Any] | None = None, *, source: str = "config") -> LevelsConfig:
    """A LevelsConfig from a parsed YAML mapping (None: the paper's defaults). Unknown keys are errors."""
    data = dict(data or {})
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise InputError(f"unknown key(s) {sorted(unknown)}", path=source, hint=f"known keys: {sorted(_TOP_KEYS)}")
    roles = data.get("roles") or {r: r for r in ROLES}
    if not isinstance(roles, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in roles.items()):
        raise InputError("roles must map role names to model names", path=source, field="roles")
    constants = {"never": 0.0, "always": 1.0, **(data.get("constants") or {})}
    for name, value in constants.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"constant {name!r} must be a number, got {value!r}", path=source, field="constants")
    share = _shares(data.get("level3_keep_share", {"math": 0.5, "code": 0.1}), f"{source}: level3_keep_share")
    share = {"math": 0.5, "code": 0.1} | share
    if "levels" in data and data["levels"] is not None:
        if "level3_keep_share" in data:
            raise InputError("level3_keep_share applies to the paper's levels; with your own 'levels' give each "
                             "level its keep.share", path=source, field="level3_keep_share")
        levels = _custom_levels(data["levels"], source)
    else:
        levels = paper_levels(share, source)
    drop_text = data.get("drop", "filter <= never")
    drop = None if drop_text is None else compile_condition(str(drop_text), f"{source}: drop")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"seed must be an integer, got {seed!r}", path=source, field="seed")
    policy = data.get("policy")
    if policy is not None and not isinstance(policy, str):
        raise InputError("policy must be a model name", path=source, field="policy")
    return LevelsConfig(roles=roles, levels=levels, drop=drop, constants=constants, policy=policy, seed=seed,
                        source=source)


def _custom_levels(value: Any, source: str) -> tuple[LevelRule, ...]:
    if not isinstance(value, list) or not value:
        raise InputError("levels must be a non-empty list", path=source, field="levels")
    rules = []
    for i, item in enumerate(value):
        where = f"{source}: levels[{i}]"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected a mapping with 'name' and 'when'")
        unknown = set(item) - {"name", "when", "keep"}
        if unknown or "when" not in item:
            raise InputError(f"{where}: needs 'when' (and optionally 'name', 'keep'); unknown {sorted(unknown)}")
        keep = None
        if item.get("keep") is not None:
            k = item["keep"]
            if not isinstance(k, dict) or set(k) - {"when", "share"} or "when" not in k or "share" not in k:
                raise InputError(f"{where}.keep: needs exactly 'when' and 'share'")
            keep = KeepShare(compile_condition(str(k["when"]), f"{where}.keep.when"),
                             _shares(k["share"], f"{where}.keep.share"))
        rules.append(LevelRule(str(item.get("name", f"level{i + 1}")),
                               compile_condition(str(item["when"]), f"{where}.when"), keep))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise InputError(f"level names repeat: {names}", path=source, field="levels")
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
    """Read a YAML config, given by path or by a packaged config's name (None: the paper's defaults)."""
    if path is None:
        return build_config(None, source="defaults (the paper)")
    import yaml

    path = resolve_config_path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})", path=path) from None
    if data is not None and not isinstance(data, dict):
        raise InputError("the config must be a mapping", path=path)
    return build_config(data, source=str(path))
