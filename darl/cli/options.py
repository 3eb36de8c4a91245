"""The options several commands share, spelled once: the same flag for the same thing everywhere.

`-o/--output` (where results go), `--max-new-tokens` (response length), `-n/--samples` (samples per problem),
`--backend` (auto, transformers or vllm; default auto), `--device`, `--threads`, `--dtype`. Earlier spellings
(`--out`, `--max-tokens`, `-k`) stay as hidden aliases so existing scripts keep working: `alias()` merges them.
Choice lists (back ends, dtypes) are here so that `--help` shows them and a wrong value is a usage error before
any work starts.
"""

from __future__ import annotations

import enum
from typing import Any

import typer

BACKENDS = ("auto", "transformers", "vllm")
DTYPES = ("auto", "float32", "bfloat16", "float16")


def choices(name: str, values: tuple[str, ...] | list[str]) -> type[enum.Enum]:
    """A str Enum for a typer option, so `--help` lists the values and click refuses any other."""
    return enum.Enum(name, {v: v for v in values}, type=str)  # type: ignore[return-value]


Backend = choices("Backend", BACKENDS)
Dtype = choices("Dtype", DTYPES)


def value(option: Any) -> Any:
    """The plain value of a choice option (its Enum's value), or the option as it is."""
    return option.value if isinstance(option, enum.Enum) else option


def alias(new: Any, old: Any, new_flag: str, old_flag: str, *, required: bool = False, default: Any = None) -> Any:
    """The value given under the current flag or its hidden old spelling; both with different values is a usage
    error, and so is neither when the option is required."""
    if new is not None and old is not None and new != old:
        raise typer.BadParameter(f"given twice with different values ({old_flag} is the old spelling of {new_flag})",
                                 param_hint=new_flag)
    picked = new if new is not None else old
    if picked is None:
        if required:
            raise typer.BadParameter("missing (required)", param_hint=new_flag)
        return default
    return picked


def resolve_backend(name: str) -> str:
    """'auto' as the back end that will run: vLLM where it is installed and a CUDA GPU is present, else
    transformers (darl.generation.models.vllm_usable); 'transformers' and 'vllm' as they are."""
    if name != "auto":
        return name
    from darl.generation.models import vllm_usable

    return "vllm" if vllm_usable() else "transformers"
