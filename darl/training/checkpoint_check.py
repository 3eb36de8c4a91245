"""Is a `checkpoint-N` folder whole? A resume must never load half a checkpoint.

A kill during Hugging Face's checkpoint write leaves `checkpoint-N` without `darl_state.json`, which darl writes
last; that alone was the old completeness test. It does not cover a folder whose files were cut short or removed
after `darl_state.json` was written: a power cut before the page cache reached the disk, a full disk, or a kill
during transformers' rotation of old checkpoints (`save_total_limit`), which deletes a folder file by file. So each
file a resume reads is checked for being whole, cheaply and without loading tensors:

- `darl_state.json` and `trainer_state.json` parse, and both name step N;
- the weights (`model.safetensors`, every shard of `model.safetensors.index.json`, or a LoRA stage's
  `adapter_model.safetensors`): the safetensors header parses and the file is exactly as long as it says (under
  DeepSpeed ZeRO-3 the weights may live only in its `global_step*` folder, which is not inspected);
- `optimizer.pt`, `scheduler.pt`, `rng_state*.pth` (torch's zip format): the zip's central directory, at the end of
  the file, reads; the optimizer state is there (`optimizer.pt`, or DeepSpeed's `global_step*` folder).
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

DARL_STATE = "darl_state.json"  # the same name as darl.training.trainer.DARL_STATE (kept import-light here)


def _safetensors_problem(path: Path) -> str | None:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                return f"{path.name} is cut short ({size} bytes)"
            (length,) = struct.unpack("<Q", head)
            if length > size - 8:
                return f"{path.name} is cut short (header of {length} bytes, file of {size})"
            header = json.loads(fh.read(length))
    except (OSError, ValueError) as exc:
        return f"{path.name} is unreadable ({exc})"
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + length + end != size:
        return f"{path.name} is cut short ({size} bytes, its header needs {8 + length + end})"
    return None


def _weights_problem(folder: Path) -> str | None:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError) as exc:
            return f"{index.name} is unreadable ({exc})"
        files = [folder / s for s in shards]
    else:
        files = [p for p in (folder / "model.safetensors", folder / "adapter_model.safetensors") if p.exists()]
    if not files:
        if any(folder.glob("global_step*")):  # DeepSpeed ZeRO-3 may keep the weights only in its own folder
            return None
        return "no model weights (model.safetensors)"
    for path in files:
        if not path.is_file():
            return f"{path.name} is missing"
        problem = _safetensors_problem(path)
        if problem:
            return problem
    return None


def _step_of(path: Path, key: str) -> int | str:
    try:
        data = json.loads(path.read_text())
        return int(data[key])
    except FileNotFoundError:
        return f"{path.name} is missing"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{path.name} is unreadable ({type(exc).__name__}: {exc})"


def checkpoint_problem(folder: str | Path) -> str | None:
    """Why `folder` (a `checkpoint-N`) cannot be resumed from, or None when it is whole."""
    folder = Path(folder)
    try:
        step = int(folder.name.split("-")[1])
    except (IndexError, ValueError):
        return f"{folder.name} is not named checkpoint-<step>"
    for name, key in ((DARL_STATE, "step"), ("trainer_state.json", "global_step")):
        found = _step_of(folder / name, key)
        if isinstance(found, str):
            return found
        if found != step:
            return f"{name} is for step {found}, not {step}"
    problem = _weights_problem(folder)
    if problem:
        return problem
    if not (folder / "optimizer.pt").is_file() and not any(folder.glob("global_step*")):
        return "optimizer.pt is missing"
    for path in [folder / "optimizer.pt", folder / "scheduler.pt", *sorted(folder.glob("rng_state*.pth"))]:
        if path.exists():
            try:
                with zipfile.ZipFile(path) as archive:
                    archive.namelist()
            except (OSError, zipfile.BadZipFile) as exc:
                return f"{path.name} is cut short or corrupt ({exc})"
    return None
