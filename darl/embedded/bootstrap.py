"""Build the embedded family (tokenizer + one checkpoint per role), cached and reused.

Where: `<cache>/<key>/` with `<cache>` = the `cache_dir` argument, else `$DARL_CACHE/embedded`, else
`~/.cache/darl/embedded`, and `<key>` a hash of the family config and `CODE_VERSION` (a changed recipe never
reuses a stale build).

Safe under concurrency and crashes:
- a file lock (`<cache>/<key>.lock`) makes parallel processes (pytest-xdist workers) build once; the others wait
  and then load the result;
- every part is written to a temporary folder and renamed into place only when complete, so a crash never
  leaves a half-written model that a later run takes as done; a rerun resumes at the first missing part
  (tokenizer, then each role in order);
- `manifest.json`, written last, marks the build complete and records sizes, steps and times.

Shipped build: the package carries one finished build of each preset (`darl/embedded/prebuilt/<preset>-<key>/`, 10 MB,
made by `scripts/ship_family.py`). When the cache lacks a build and the package has one with the same key, it is
copied into the cache instead of trained: a fresh clone's `darl demo` skips minutes of warm start, and every user
starts from the very weights the documentation's numbers were measured on (a build is deterministic for a given
torch thread count, but not across thread counts). `from_source=True` (`darl bootstrap --from-source`) trains
the family here instead.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from darl.atomic import atomic_folder, atomic_write_text
from darl.embedded.family import ROLES, STANDS_FOR, FamilyConfig, RoleSpec, preset_config
from darl.records import Problem

MANIFEST = "manifest.json"
ROLE_INFO = "darl_role.json"
PREBUILT = Path(__file__).resolve().parent / "prebuilt"


@dataclass(frozen=True)
class RoleModel:
    """One built role: `path` is a Hugging Face checkpoint folder (model + tokenizer)."""

    role: str
    stands_for: str
    path: Path
    params: int
    steps: int  # warm-start steps in total, counting those of the role it continues
    train_seconds: float
    final_loss: float


@dataclass(frozen=True)
class EmbeddedFamily:
    """A built family. `build_seconds` is the time this call spent building (0 when everything was cached)."""

    root: Path
    preset: str
    suite: str
    tokenizer_path: Path
    roles: dict[str, RoleModel]
    build_seconds: float
    origin: str = "built"  # "built": trained by bootstrap on some machine; "shipped": copied from the package

    def keys(self) -> list[str]:
        """With `__getitem__`, lets `dict(family)` give {role: checkpoint path}."""
        return list(self.roles)

    def __getitem__(self, role: str) -> Path:
        return self.path(role)

    def path(self, role: str) -> Path:
        if role not in self.roles:
            raise KeyError(f"no role {role!r} in the embedded family; roles are {list(self.roles)}")
        return self.roles[role].path

    def problems(self, split: str = "train") -> list[Problem]:
        """The problems of this family's suite (see darl.embedded.suite)."""
        from darl.embedded.suite import embedded_suite

        return embedded_suite(self.suite, split)  # type: ignore[arg-type]


def default_cache_dir() -> Path:
    env = os.environ.get("DARL_CACHE")
    return (Path(env) if env else Path.home() / ".cache" / "darl") / "embedded"


def _write_json_atomic(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str))


def _load_manifest(root: Path) -> EmbeddedFamily | None:
    path = root / MANIFEST
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    roles = {}
    for name in ROLES:
        r = data["roles"][name]
        roles[name] = RoleModel(role=name, stands_for=r["stands_for"], path=root / r["path"], params=r["params"],
                                steps=r["steps"], train_seconds=r["train_seconds"], final_loss=r["final_loss"])
    if any(not (m.path / ROLE_INFO).exists() for m in roles.values()):
        return None
    return EmbeddedFamily(root=root, preset=data["preset"], suite=data["suite"],
                          tokenizer_path=root / data["tokenizer"], roles=roles, build_seconds=0.0,
                          origin=data.get("origin", "built"))


def shipped_build(cfg: FamilyConfig) -> Path | None:
    """The package's finished build of exactly this config (same cache key), or None."""
    folder = PREBUILT / f"{cfg.preset}-{cfg.cache_key()}"
    return folder if (folder / MANIFEST).exists() else None


def bootstrap(preset: str = "default", cache_dir: str | Path | None = None, config: FamilyConfig | None = None,
              show_progress: bool = True, *, out_dir: str | Path | None = None,
              from_source: bool = False) -> EmbeddedFamily:
    """Build (or load from the cache) the embedded family of `preset` (or of an explicit `config`).
    `cache_dir` (alias `out_dir`) is the folder that holds cached builds; see `default_cache_dir`. A cache miss
    copies the package's shipped build of the same config when there is one, unless `from_source`: then the family
    is trained here (and a cache that already holds the shipped copy is refused, so the caller knows it did not get
    a build of its own)."""
    from filelock import FileLock

    cfg = config or preset_config(preset)
    folder = cache_dir if cache_dir is not None else out_dir
    base = Path(folder) if folder is not None else default_cache_dir()
    base.mkdir(parents=True, exist_ok=True)
    root = base / f"{cfg.preset}-{cfg.cache_key()}"
    cached = _load_manifest(root)
    if cached is not None:
        return _refuse_shipped(cached) if from_source else cached
    with FileLock(str(base / f"{root.name}.lock")):
        cached = _load_manifest(root)  # another process may have finished while we waited
        if cached is not None:
            return _refuse_shipped(cached) if from_source else cached
        shipped = None if from_source else shipped_build(cfg)
        if shipped is not None:
            with atomic_folder(root) as tmp:  # replaces any part of an interrupted build of the same config
                shutil.copytree(shipped, tmp, dirs_exist_ok=True)
            family = _load_manifest(root)
            assert family is not None, f"the shipped build {shipped} has every role"
            return family
        start = time.perf_counter()
        root.mkdir(parents=True, exist_ok=True)
        _build(cfg, root, show_progress)
        family = _load_manifest(root)
        assert family is not None, "manifest written by _build"
        return EmbeddedFamily(**{**family.__dict__, "build_seconds": time.perf_counter() - start})


def _refuse_shipped(family: EmbeddedFamily) -> EmbeddedFamily:
    from darl.errors import InputError

    if family.origin == "shipped":
        raise InputError(f"the cache at {family.root} holds the build shipped with darl, not one trained here",
                         field="--from-source", hint="pass --cache-dir with an empty folder to train the family "
                                                     "from source there")
    return family


def _training_threads() -> int | None:
    """Threads for the warm start: `DARL_TRAIN_THREADS` when set; else 1 when the CPU is already busier than it
    has cores (measured here: a 0.3M model took 4.3 s per step with 2 threads but 0.87 s with 1 thread at load
    12 on 2 cores, as oversubscribed intra-op threads wait on each other); else None (torch's default)."""
    env = os.environ.get("DARL_TRAIN_THREADS")
    if env:
        return max(1, int(env))
    cores = os.cpu_count() or 1
    return 1 if cores > 1 and os.getloadavg()[0] > cores else None


def _build(cfg: FamilyConfig, root: Path, show_progress: bool) -> None:
    import torch

    threads = _training_threads()
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        _build_parts(cfg, root, show_progress)
    finally:
        torch.set_num_threads(before)


def _build_parts(cfg: FamilyConfig, root: Path, show_progress: bool) -> None:
    from darl.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from transformers import AutoTokenizer

    from darl.embedded.suite import suite_pairs, warm_start_pairs
    from darl.embedded.tokenizer import chat_text, train_tokenizer
    from darl.embedded.warm_start import encode_pairs

    # One warm-start stream per premature-answer share the roles use: the same problems in the same order, only
    # the written-out math solutions differ (a role's share is its own; docs/embedded.md, "Two ways of answering").
    pairs = {share: warm_start_pairs(cfg.suite, cfg.warm_start_per_domain, cfg.level_weights,
                                     premature_answer_share=share)
             for share in sorted({r.premature_answer_share for r in cfg.roles})}
    tok_dir = root / "tokenizer"
    if not tok_dir.exists():
        # The tokenizer sees the first role's warm-start text (every later role continues it, so one text decides
        # the vocabulary) and the suite prompts (never the suite's solutions).
        texts = [chat_text(p.prompt, s) for p, s in pairs[cfg.roles[0].premature_answer_share]]
        texts += [chat_text(p.prompt) for split in ("train", "heldout") for p, _ in suite_pairs(cfg.suite, split)]
        with atomic_folder(tok_dir) as tmp:
            train_tokenizer(texts, cfg.vocab_size, tmp)
    tokenizer = AutoTokenizer.from_pretrained(tok_dir)
    examples = {share: encode_pairs(tokenizer, [(p.prompt, s) for p, s in stream], cfg.max_len)
                for share, stream in pairs.items()}

    roles_dir = root / "roles"
    roles_dir.mkdir(exist_ok=True)
    info: dict[str, dict] = {}
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(), disable=not show_progress,
                  transient=False) as progress:
        for index, spec in enumerate(cfg.roles):
            final = roles_dir / spec.role
            if (final / ROLE_INFO).exists():
                info[spec.role] = json.loads((final / ROLE_INFO).read_text())
                continue
            task = progress.add_task(f"{spec.role:<6} (~{STANDS_FOR[spec.role].split(' ')[0]})", total=spec.steps,
                                     loss="-")
            info[spec.role] = _train_role(cfg, spec, index, tokenizer, examples[spec.premature_answer_share],
                                          roles_dir, info, progress, task)

    manifest = {
        "preset": cfg.preset,
        "suite": cfg.suite,
        "tokenizer": "tokenizer",
        "config": cfg.to_dict(),
        "roles": {name: {**info[name], "path": f"roles/{name}"} for name in ROLES},
    }
    _write_json_atomic(root / MANIFEST, manifest)


def _train_role(cfg: FamilyConfig, spec: RoleSpec, index: int, tokenizer, examples, roles_dir: Path,
                done: dict[str, dict], progress, task) -> dict:
    """Initialise (or load the parent role), warm-start, save atomically; returns the role's info record."""
    import torch
    from transformers import Qwen2ForCausalLM

    from darl.embedded.warm_start import WarmStartConfig, warm_start

    torch.manual_seed(cfg.seed + index)
    if spec.init_from is None:
        model_config = spec.size.qwen2_config(len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id,
                                              2 * cfg.max_len)  # room for long generations
        model = Qwen2ForCausalLM(model_config)
        prior_steps, prior_seconds = 0, 0.0
    else:
        model = Qwen2ForCausalLM.from_pretrained(roles_dir / spec.init_from)
        prior_steps = done[spec.init_from]["steps"]
        prior_seconds = done[spec.init_from]["train_seconds"]
    start = time.perf_counter()

    def on_step(step: int, loss: float) -> None:
        progress.update(task, completed=step + 1, loss=f"{loss:.3f}")

    ws = WarmStartConfig(steps=spec.steps, batch_size=cfg.batch_size, row_len=cfg.row_len, lr=spec.lr,
                         seed=cfg.seed + index, packing=cfg.packing)
    losses = warm_start(model, examples, tokenizer.pad_token_id, ws, on_step=on_step)
    seconds = time.perf_counter() - start
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    record = {
        "role": spec.role,
        "stands_for": STANDS_FOR[spec.role],
        "params": sum(p.numel() for p in model.parameters()),
        "steps": prior_steps + spec.steps,
        "train_seconds": round(prior_seconds + seconds, 2),
        "final_loss": round(sum(losses[-10:]) / len(losses[-10:]), 4),
        "init_from": spec.init_from,
        "premature_answer_share": spec.premature_answer_share,
    }
    with atomic_folder(roles_dir / spec.role) as tmp:  # only complete folders are ever renamed into place
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / ROLE_INFO).write_text(json.dumps(record, indent=2))
    return record
