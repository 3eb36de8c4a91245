"""Every way to name a model, resolved in one place, and the one way to open a generator over it.

A model name is one of:
- a local folder that `save_pretrained` wrote (a checkpoint, `run/final`, ...);
- a `.gguf` file (transformers dequantizes it at load; `darl.generation.loading`);
- a Hugging Face Hub id (`org/name`), loaded from the Hub or its local cache;
- `embedded:<role>` or `embedded:<preset>/<role>`: a policy of the embedded family (`darl.embedded`), built and cached
  on first use (`darl bootstrap`), e.g. `embedded:small` or `embedded:quick/small`.

Why one place: `darl score`, `darl eval`, `darl train`, the demo, the comparison runner and the embedded family's
calibration all take a model name from a user; each resolving it its own way meant `embedded:small` worked in
`darl train` and not in `darl score` or `darl eval`, and a GGUF file meant something else in each.

`resolve_model` gives what transformers or vLLM load; `trainable_model` also turns a GGUF file into an ordinary
folder (training's reference model, checkpoints and resume need one); `open_generator` builds the generator that
scoring, evaluation, the demo and calibration sample from, its `name` the name the user gave.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from darl.errors import InputError
from darl.generation.base import Generator

EMBEDDED_PREFIX = "embedded:"
Backend = Literal["auto", "transformers", "vllm"]


def is_embedded_name(name: str | Path) -> bool:
    return str(name).startswith(EMBEDDED_PREFIX)


def resolve_model(name: str | Path) -> str:
    """The location to load for model `name`: an `embedded:` name becomes its family folder (the family is built on
    first use, minutes on a CPU, then cached); a folder, a `.gguf` file or a Hub id is returned as it is."""
    if not is_embedded_name(name):
        return str(name)
    spec = str(name).removeprefix(EMBEDDED_PREFIX)
    preset, _, role = spec.rpartition("/")
    from darl.embedded.bootstrap import bootstrap  # the family builder; imports nothing above darl.records

    family = bootstrap(preset or "default")
    try:
        return str(family.path(role))
    except KeyError as exc:
        raise InputError(str(exc.args[0]), field="model", hint="e.g. embedded:small or embedded:quick/small") from None


def trainable_model(name: str | Path) -> str:
    """`resolve_model`, and a `.gguf` file dequantized once into a cached Hugging Face folder
    (`darl.generation.loading.gguf_checkpoint`): TRL's reference model, checkpoints and resume need a folder."""
    location = resolve_model(name)
    if location.endswith(".gguf"):
        from darl.generation.loading import gguf_checkpoint

        return str(gguf_checkpoint(location))
    return location


def vllm_usable() -> bool:
    """vLLM is installed and a CUDA GPU is present (what `--backend auto` picks vLLM on)."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def open_generator(model: str | Path, backend: Backend = "auto", *, batch_size: int = 32, dtype: str | None = None,
                   device: str | None = None, max_model_len: int | None = None, seed: int = 0,
                   engine_args: dict[str, Any] | None = None, name: str | None = None) -> Generator:
    """A generator over `model` (any name above). `backend`: 'auto' is vLLM where it is installed and a CUDA GPU is
    present, else transformers. `batch_size` is rows per forward pass for transformers; `max_model_len` bounds
    vLLM's context (prompt + response); `engine_args` go to `vllm.LLM` (tensor_parallel_size,
    gpu_memory_utilization, ...); `seed` seeds vLLM's engine. vLLM settings with the transformers back end are an
    error, not silently ignored. `name` (default: `model` as given) labels the generator's rows and results."""
    if backend not in ("auto", "transformers", "vllm"):
        raise InputError(f"unknown back end {backend!r}", field="--backend", hint="auto, transformers or vllm")
    engine: dict[str, Any] = dict(engine_args or {})
    if max_model_len is not None:
        engine["max_model_len"] = max_model_len
    label = str(model) if name is None else name
    if backend == "vllm" or (backend == "auto" and vllm_usable()):
        from darl.generation.vllm_backend import VLLMGenerator

        return VLLMGenerator(resolve_model(model), dtype=dtype or "auto", seed=seed, name=label, **engine)
    if engine:
        raise InputError(f"vLLM settings {sorted(engine)} were given, but the back end is transformers"
                         + (" (vLLM is not installed or there is no CUDA GPU)" if backend == "auto" else ""),
                         field="--engine-arg", hint="use --backend vllm on a GPU machine, or drop the vLLM options")
    from darl.generation.transformers_backend import TransformersGenerator

    return TransformersGenerator(resolve_model(model), batch_size=batch_size, dtype=dtype, device=device, name=label)
