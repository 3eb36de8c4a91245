"""Generation with vLLM on a GPU (optional extra `darl[vllm]`): the fast path for scoring and evaluating real
models. `vllm` is imported only when a `VLLMGenerator` is made.

Same contract as the transformers back end: the tokenizer's chat template with the assistant turn opened (rendered
here and passed as token ids, so vLLM adds no second BOS), exactly the given temperature/top_p (top_k off, no
repetition penalty, whatever the model's generation config says), `n` samples per conversation, `num_tokens` =
generated token ids (the end token included), `truncated` = vLLM's finish reason 'length'. With `params.seed` set,
conversation i gets the per-request seed `seed + i`, which makes a call reproducible independent of batching.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from darl.generation.base import Completion, Messages, SamplingParams
from darl.generation.loading import check_model_source, source_fingerprint


class VLLMGenerator:
    """`model`: a folder or Hub id. `engine_args` go to `vllm.LLM` unchanged (for example
    `gpu_memory_utilization`, `tensor_parallel_size`, `max_model_len`)."""

    def __init__(self, model: str | Path, *, dtype: str = "auto", seed: int = 0, name: str | None = None,
                 **engine_args: Any) -> None:
        check_model_source(model)
        try:
            import vllm
        except ImportError:
            from darl.errors import InputError

            raise InputError("the vLLM back end needs the 'vllm' package and a CUDA GPU",
                             hint="pip install 'darl[vllm]', or use the transformers back end") from None
        self._vllm = vllm
        self.name = name or str(model)
        self._source = str(model)
        self.llm = vllm.LLM(model=str(model), dtype=dtype, seed=seed, **engine_args)
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
            seed=None if params.seed is None else params.seed + index,
            skip_special_tokens=True,
        )

    def generate(self, conversations: Sequence[Messages], params: SamplingParams) -> list[list[Completion]]:
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
