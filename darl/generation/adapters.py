"""LoRA/PEFT adapter checkpoints as models: a folder with `adapter_config.json` (what a `peft:` stage of `darl train`,
TRL with a `peft_config`, or peft's `save_pretrained` writes) holds only the adapter; its base model is named inside.

Why merge into a cached folder rather than load base + adapter at each use: the merged model generates at the base
model's speed (an unmerged LoRA layer adds two matmuls per projection), and vLLM, which loads plain folders only,
takes the same folder; scoring, evaluation and training then see one ordinary checkpoint. The merge is done once
per adapter (keyed by the adapter's files and its config, so a retrained adapter gets a new folder) and reused.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from darl.errors import InputError

ADAPTER_CONFIG = "adapter_config.json"
SOURCE_RECORD = "darl_adapter_source.json"


def is_adapter(path: str | Path) -> bool:
    """Whether `path` is a folder holding a PEFT adapter (adapter_config.json) instead of a whole model."""
    return (Path(path) / ADAPTER_CONFIG).is_file()


def base_model_of(path: str | Path) -> str:
    """The base model the adapter at `path` was trained on, as its adapter_config.json names it."""
    config_path = Path(path) / ADAPTER_CONFIG
    try:
        base = json.loads(config_path.read_text()).get("base_model_name_or_path")
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"unreadable adapter config: {exc}", path=config_path) from None
    if not base:
        raise InputError("the adapter names no base model", path=config_path, field="base_model_name_or_path",
                         hint="set base_model_name_or_path to the folder or Hub id the adapter was trained on")
    return str(base)


def load_merged(path: str | Path, dtype: Any = None) -> Any:
    """The base model with the adapter at `path` merged in (a plain transformers model, no peft wrapper)."""
    try:
        from peft import AutoPeftModelForCausalLM
    except ImportError:
        raise InputError("loading a LoRA/PEFT adapter needs the peft package", path=str(path),
                         hint="pip install 'darl[peft]'") from None
    try:
        model = AutoPeftModelForCausalLM.from_pretrained(str(path), **({} if dtype is None else {"dtype": dtype}))
    except OSError as exc:
        raise InputError(f"cannot load the adapter or its base model {base_model_of(path)!r}: "
                         f"{str(exc).splitlines()[0]}", path=str(path),
                         hint="the base model must be a local folder or a reachable Hub id") from None
    return model.merge_and_unload()


def _cache_root(cache_dir: str | Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("DARL_CACHE")
    return (Path(env) if env else Path.home() / ".cache" / "darl") / "adapters"


def adapter_fingerprint(path: str | Path) -> str:
    """16 hex digits over the adapter's weights, config and tokenizer files (a retrained adapter differs)."""
    from darl.generation.loading import source_fingerprint

    digest = hashlib.sha256(str(source_fingerprint(path)).encode())
    digest.update((Path(path) / ADAPTER_CONFIG).read_bytes())
    return digest.hexdigest()[:16]


def merged_checkpoint(path: str | Path, cache_dir: str | Path | None = None) -> Path:
    """A Hugging Face folder with the adapter at `path` merged into its base, and a tokenizer: the adapter's own
    when it saved one (TRL saves it with every checkpoint), else the base model's. Written on first use under
    `<cache>/<adapter folder name>-<fingerprint>/` (`<cache>` = `cache_dir`, else `$DARL_CACHE/adapters`, else
    `~/.cache/darl/adapters`), published whole by a rename, and reused afterwards."""
    from darl.atomic import atomic_folder
    from darl.generation.loading import load_tokenizer

    path = Path(path).expanduser()
    if not is_adapter(path):
        raise InputError("not a PEFT adapter folder (no adapter_config.json)", path=str(path))
    final = _cache_root(cache_dir) / f"{path.resolve().name}-{adapter_fingerprint(path)}"
    if (final / "config.json").is_file():
        return final
    import torch

    model = load_merged(path, dtype=torch.float32)
    has_tokenizer = any((path / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))
    tokenizer = load_tokenizer(path if has_tokenizer else base_model_of(path), padding_side=None)
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(final, replace=False) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / SOURCE_RECORD).write_text(json.dumps({"adapter": str(path.resolve()), "base": base_model_of(path),
                                                     "fingerprint": adapter_fingerprint(path)}, indent=2) + "\n")
    return final
