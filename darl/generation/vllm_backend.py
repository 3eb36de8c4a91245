"""Generation with vLLM on a GPU (optional extra `darl[vllm]`): the fast path for scoring and evaluating real
models. `vllm` is imported only when a `VLLMGenerator` is made.

Same contract as the transformers back end: the tokenizer's chat template with the assistant turn opened (rendered
here and passed as token ids, so vLLM adds no second BOS), exactly the given temperature/top_p (top_k off, no
repetition penalty, whatever the model's generation config says), `n` samples per conversation, `num_tokens` =
generated token ids (the end token included), `truncated` = vLLM's finish reason 'length'. With `params.seeds` set,
conversation i gets the per-request seed `seeds[i]`; with only `params.seed`, `seed + i`. Either makes a call
reproducible independent of how vLLM batches the requests.

Engine settings (`tensor_parallel_size`, `pipeline_parallel_size`, `max_model_len`, `gpu_memory_utilization`, or
any other `vllm.LLM` / `EngineArgs` keyword) reach the engine unchanged. On the command line they are
`--engine-arg KEY=VALUE` (VALUE read as JSON when it parses, else as text; `NAME:KEY=VALUE` for one `darl score`
model only), parsed here by `parse_engine_arg` so `darl score` and `darl eval` spell them the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from darl.errors import InputError
from darl.generation.base import Completion, Messages, SamplingParams
from darl.generation.loading import check_model_source, source_fingerprint

# Set by darl from its own options (the model path, --dtype, --seed); an engine argument may not set them twice.
RESERVED_ENGINE_KEYS = ("model", "dtype", "seed")


@dataclass(frozen=True)
class EngineArg:
    """One `vllm.LLM` keyword argument from the command line; `model` = the `darl score` model NAME it is for
    (None: every model)."""

    key: str
    value: Any
    model: str | None = None


def parse_engine_arg(text: str, field: str = "--engine-arg") -> EngineArg:
    """`KEY=VALUE` or `NAME:KEY=VALUE`. VALUE is JSON when it parses (`8`, `0.9`, `true`, `{"a": 1}`), else the
    text itself (`fp8`), so numbers and mappings reach vLLM with their types."""
    head, sep, raw = text.partition("=")
    model, _, key = head.rpartition(":")
    key, model = key.strip(), model.strip() or None
    if not sep or not key.isidentifier():
        raise InputError(f"bad engine argument {text!r}", field=field,
                         hint="write KEY=VALUE (e.g. tensor_parallel_size=8) or NAME:KEY=VALUE for one model")
    if key in RESERVED_ENGINE_KEYS:
        raise InputError(f"engine argument {key!r} is set by darl", field=field,
                         hint="use the model argument, --dtype or --seed instead")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return EngineArg(key, value, model)


def engine_kwargs(args: Sequence[EngineArg], model: str | None = None) -> dict[str, Any]:
    """The keyword arguments for `model`: arguments for every model first, then the ones named for this model
    (which win); a later argument of the same key wins over an earlier one."""
    out = {a.key: a.value for a in args if a.model is None}
    out.update({a.key: a.value for a in args if a.model is not None and a.model == model})
    return out


def engine_args_from_options(tensor_parallel_size: int | None = None, max_model_len: int | None = None,
                             gpu_memory_utilization: float | None = None,
                             engine_arg: Sequence[str] | None = None) -> list[EngineArg]:
    """The command line's vLLM options as one list: the named options first (they apply to every model), then each
    `--engine-arg` (which can override them, or name one model)."""
    named = {"tensor_parallel_size": tensor_parallel_size, "max_model_len": max_model_len,
             "gpu_memory_utilization": gpu_memory_utilization}
    out = [EngineArg(k, v) for k, v in named.items() if v is not None]
    return out + [parse_engine_arg(t) for t in engine_arg or ()]


class VLLMGenerator:
    """`model`: a folder or Hub id. `engine_args` go to `vllm.LLM` unchanged (for example
    `gpu_memory_utilization`, `tensor_parallel_size`, `pipeline_parallel_size`, `max_model_len`)."""

    def __init__(self, model: str | Path, *, dtype: str = "auto", seed: int = 0, name: str | None = None,
                 **engine_args: Any) -> None:
        check_model_source(model)
        reserved = sorted(set(engine_args) & set(RESERVED_ENGINE_KEYS))
        if reserved:
            raise InputError(f"engine argument(s) {reserved} are set by darl", field="engine_args")
        try:
            import vllm
        except ImportError:
            raise InputError("the vLLM back end needs the 'vllm' package and a CUDA GPU",
                             hint="pip install 'darl[vllm]', or use the transformers back end") from None
        self._vllm = vllm
        self.name = name or str(model)
        self._source = str(model)
        from darl.generation.adapters import is_adapter, merged_checkpoint

        # vLLM loads whole models: a LoRA/PEFT adapter folder is merged into its base once (cached) and that loaded
        location = str(merged_checkpoint(model)) if is_adapter(model) else str(model)
        self.llm = vllm.LLM(model=location, dtype=dtype, seed=seed, **engine_args)
        self.tokenizer = self.llm.get_tokenizer()
        self._revision: str | None = None

    @property
    def revision(self) -> str:
        if self._revision is None:
            self._revision = source_fingerprint(self._source) or f"hub:{self._source}"
        return self._revision

    def render(self, conversation: Messages) -> list[int]:
        text = self.tokenizer.apply_chat_template(list(conversation), add_generation_prompt=True, tokenize=False)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def sampling_params(self, params: SamplingParams, index: int) -> Any:
        """The vLLM SamplingParams for conversation `index` (public so the mapping can be tested)."""
        greedy = params.temperature == 0
        return self._vllm.SamplingParams(
            n=params.n,
            temperature=0.0 if greedy else params.temperature,
            top_p=1.0 if greedy else params.top_p,
            top_k=-1,
            repetition_penalty=1.0,
            max_tokens=params.max_new_tokens,
            seed=params.seeds[index] if params.seeds is not None else None if params.seed is None
            else params.seed + index,
            skip_special_tokens=True,
        )

    def generate(self, conversations: Sequence[Messages], params: SamplingParams) -> list[list[Completion]]:
        params.conversation_seeds(len(conversations))  # checks one seed per conversation when seeds are given
        prompts = [{"prompt_token_ids": self.render(c)} for c in conversations]
        sampling = [self.sampling_params(params, i) for i in range(len(conversations))]
        outputs = self.llm.generate(prompts, sampling, use_tqdm=False)
        results = []
        for request in outputs:
            results.append([
                Completion(text=o.text, num_tokens=len(o.token_ids), truncated=o.finish_reason == "length")
                for o in request.outputs
            ])
        if len(results) != len(conversations) or any(len(r) != params.n for r in results):
            raise RuntimeError(f"vLLM returned {len(results)} requests for {len(conversations)} conversations")
        return results
