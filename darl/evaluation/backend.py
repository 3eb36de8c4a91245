"""Open the generator an evaluation samples from: vLLM where it is installed and a CUDA GPU is present, else
transformers (CPU or GPU). The same back ends, with the same sampling contract, as scoring."""

from __future__ import annotations

from typing import Any, Literal

from darl.errors import InputError
from darl.generation.base import Generator

Backend = Literal["auto", "transformers", "vllm"]


def vllm_usable() -> bool:
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def open_generator(model: str, backend: Backend = "auto", *, batch_size: int = 32, dtype: str | None = None,
                   device: str | None = None, max_model_len: int | None = None, seed: int = 0,
                   engine_args: dict[str, Any] | None = None) -> Generator:
    """A generator over `model` (a folder, a `.gguf` file or a Hub id). `batch_size` is rows per forward pass for
    transformers; `max_model_len` bounds vLLM's context (prompt + response); `engine_args` go to `vllm.LLM`
    (tensor_parallel_size, gpu_memory_utilization, ...). vLLM settings with the transformers back end are an error,
    not silently ignored."""
    if backend not in ("auto", "transformers", "vllm"):
        raise InputError(f"unknown back end {backend!r}", field="--backend", hint="auto, transformers or vllm")
    engine: dict[str, Any] = dict(engine_args or {})
    if max_model_len is not None:
        engine["max_model_len"] = max_model_len
    if backend == "vllm" or (backend == "auto" and vllm_usable()):
        from darl.generation.vllm_backend import VLLMGenerator

        return VLLMGenerator(model, dtype=dtype or "auto", seed=seed, **engine)
    if engine:
        raise InputError(f"vLLM settings {sorted(engine)} were given, but the back end is transformers"
                         + (" (vLLM is not installed or there is no CUDA GPU)" if backend == "auto" else ""),
                         field="--engine-arg", hint="use --backend vllm on a GPU machine, or drop the vLLM options")
    from darl.generation.transformers_backend import TransformersGenerator

    return TransformersGenerator(model, batch_size=batch_size, dtype=dtype, device=device)
