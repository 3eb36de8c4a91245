"""Generation with a transformers model, on a CPU or a GPU: the back end the embedded default, the tests and
small real models use (vLLM is faster on a GPU; see `vllm_backend`).

How: each conversation goes through the tokenizer's own chat template (`add_generation_prompt=True`); the
`n` samples of every conversation become `n` rows; rows are sorted by prompt length (less padding, so less wasted
compute), cut into batches of `batch_size` rows, left-padded and passed to `model.generate`. A completion ends at
the first end token (the tokenizer's EOS and every EOS id in the model's generation config, such as a chat
model's end-of-turn token); `num_tokens` counts the end token as vLLM does, and `truncated` means the
completion used all `max_new_tokens` without one.

Sampling uses exactly the given temperature and top_p (top_k off, no repetition penalty), whatever the
model's own generation config suggests, so that scores from two back ends mean the same thing; temperature 0 is
greedy. With `params.seed` set, each batch runs under `torch.manual_seed(seed + batch index)` inside a forked RNG
state, so a call is reproducible for the same inputs and batch size and leaves the global RNG untouched.

With `params.seeds` set (one per conversation), every row draws its tokens from a generator of its own, seeded from
its conversation's seed and its sample index (`RowSampler`), so a conversation's samples do not depend on which other
conversations share the call or the batch, or on `batch_size`, and batching stays as wide as before. Measured with
bench/bench_seeded_sampling.py on the embedded small model (16 problems x 4 samples, one thread): 1.00x the time of
one global-RNG call, where generating each conversation alone (the other way to the guarantee) takes 4.1x. The
limit: the logits themselves may differ in the last bits between batch shapes (padding, kernel blocking); a token
changes only if that moves a cumulative probability across the row's uniform draw, which the tests did not see.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from darl.generation.base import Completion, Messages, SamplingParams
from darl.generation.loading import load_model_and_tokenizer, model_revision, prepare_tokenizer

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


class TransformersGenerator:
    """A `Generator` over a transformers causal LM.

    `model` is a folder, a Hub id, a `.gguf` file, or an already loaded model (then `tokenizer` is required).
    `batch_size` counts rows (prompt x sample) per `generate` call. `name` defaults to the path or Hub id.
    `revision` names the exact weights (see `loading.model_revision`)."""

    def __init__(
        self,
        model: str | Path | PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase | None = None,
        *,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        batch_size: int = 32,
        gguf_file: str | None = None,
        name: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        if isinstance(model, (str, Path)):
            loaded, loaded_tok = load_model_and_tokenizer(model, gguf_file, device=device, dtype=dtype)
            self.model = loaded
            self.tokenizer = tokenizer if tokenizer is not None else loaded_tok
            source: str | Path | None = model if gguf_file is None else Path(model) / gguf_file
            self.name = name or str(model if gguf_file is None else source)
        else:
            if tokenizer is None:
                raise ValueError("TransformersGenerator: pass the tokenizer together with a loaded model")
            self.model = model
            self.tokenizer = tokenizer
            if device is not None:
                self.model.to(device)
            self.model.eval()
            source = None
            self.name = name or str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
        prepare_tokenizer(self.tokenizer)
        self._source = source
        self._revision: str | None = None
        self.device = next(self.model.parameters()).device
        self.eos_token_ids = self._end_token_ids()

    @property
    def revision(self) -> str:
        if self._revision is None:
            self._revision = model_revision(self.model, self._source)
        return self._revision

    def _end_token_ids(self) -> list[int]:
        ids: list[int] = []
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        for value in (self.tokenizer.eos_token_id, gen_eos):
            if value is None:
                continue
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if int(v) not in ids:
                    ids.append(int(v))
        if not ids:
            raise ValueError(f"{self.name}: neither the tokenizer nor the generation config names an EOS token")
        return ids

    def render(self, conversation: Messages) -> list[int]:
        """Token ids of the prompt: the chat template with the assistant turn opened."""
        text = self.tokenizer.apply_chat_template(list(conversation), add_generation_prompt=True, tokenize=False)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def generate(self, conversations: Sequence[Messages], params: SamplingParams) -> list[list[Completion]]:
        import torch

        prompts = [self.render(c) for c in conversations]
        seeds = params.conversation_seeds(len(prompts))
        rows = [(i, j) for i in range(len(prompts)) for j in range(params.n)]
        # Longest first: the slowest batch runs while memory is free and ETA estimates start pessimistic.
        rows.sort(key=lambda r: (-len(prompts[r[0]]), r))
        results: list[list[Completion | None]] = [[None] * params.n for _ in prompts]
        for b, start in enumerate(range(0, len(rows), self.batch_size)):
            batch = rows[start:start + self.batch_size]
            ids = [prompts[i] for i, _ in batch]
            seed = None if params.seed is None else params.seed + b
            row_seeds = None if seeds is None else [row_seed(seeds[i], j) for i, j in batch]
            for (i, j), completion in zip(batch, self._generate_batch(ids, params, seed, row_seeds)):
                results[i][j] = completion
        return results  # type: ignore[return-value]

    def _generate_batch(self, prompts: list[list[int]], params: SamplingParams, seed: int | None,
                        row_seeds: list[int] | None = None) -> list[Completion]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        width = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], dtype=torch.long)
        attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], dtype=torch.long)
        greedy = params.temperature == 0
        processors = LogitsProcessorList()
        if greedy:
            sampling: dict[str, Any] = {"do_sample": False}
        elif row_seeds is not None:  # RowSampler draws the token; generate's own greedy pick then takes it
            sampling = {"do_sample": False}
            processors.append(RowSampler(row_seeds, params.temperature, params.top_p, self.device))
        else:
            sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p, "top_k": 0}
        config = GenerationConfig(
            max_new_tokens=params.max_new_tokens,
            eos_token_id=self.eos_token_ids,
            pad_token_id=pad,
            repetition_penalty=1.0,
            **sampling,
        )
        devices = [self.device] if self.device.type == "cuda" else []
        # transformers fills every field left unset in `config` from the model's own generation config (a Hub
        # model's top_k=20, min_p, repetition_penalty, ...); a neutral one in its place during the call keeps the
        # sampling exactly what `params` says.
        saved = self.model.generation_config
        self.model.generation_config = GenerationConfig(eos_token_id=self.eos_token_ids, pad_token_id=pad,
                                                        bos_token_id=getattr(saved, "bos_token_id", None))
        try:
            with torch.random.fork_rng(devices=devices, enabled=seed is not None), torch.inference_mode():
                if seed is not None:
                    torch.manual_seed(seed)
                out = self.model.generate(input_ids=input_ids.to(self.device),
                                          attention_mask=attention.to(self.device), generation_config=config,
                                          logits_processor=processors)
        finally:
            self.model.generation_config = saved
        new_tokens = out[:, width:].tolist()
        return [self._completion(tokens, params.max_new_tokens) for tokens in new_tokens]

    def _completion(self, tokens: list[int], max_new_tokens: int) -> Completion:
        end = next((k for k, t in enumerate(tokens) if t in self.eos_token_ids), None)
        if end is None:
            # No end token: generate only stops early at an end token, so every row without one used the budget
            # (right padding after other rows finished is only added to rows that did end).
            body = tokens
            return Completion(text=self._decode(body), num_tokens=len(body), truncated=len(body) >= max_new_tokens)
        return Completion(text=self._decode(tokens[:end]), num_tokens=end + 1, truncated=False)

    def _decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True)


def row_seed(conversation_seed: int, sample: int) -> int:
    """The seed of sample `sample` of a conversation seeded `conversation_seed` (a hash, so that neighbouring
    conversation seeds never share rows)."""
    import hashlib

    digest = hashlib.sha256(f"{conversation_seed}\0{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class RowSampler:
    """A logits processor that samples the next token of each row from that row's own `torch.Generator` (one uniform
    per row and step, inverse CDF), with the same temperature and top-p filtering as transformers' sampling (its own `TemperatureLogitsWarper` and
    `TopPLogitsWarper`, top-k off), and returns scores that make `generate`'s greedy pick take the drawn token.
    Why: `generate`'s sampling draws every row from one global RNG stream, so a row's sample depends on the rows
    beside it; here it depends only on its own seed and logits.

    Shapes: `__call__(input_ids (B, T), scores (B, V)) -> (B, V)`; B = len(seeds)."""

    def __init__(self, seeds: list[int], temperature: float, top_p: float, device: Any) -> None:
        import torch
        from transformers.generation.logits_process import TemperatureLogitsWarper, TopPLogitsWarper

        self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]
        self.warpers = [TemperatureLogitsWarper(temperature)] + ([TopPLogitsWarper(top_p)] if top_p < 1.0 else [])

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if scores.shape[0] != len(self.generators):
            raise RuntimeError(f"RowSampler: {scores.shape[0]} rows but {len(self.generators)} seeds")
        scores = scores.float()
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        # Inverse-CDF draw: one uniform per row from the row's generator, scaled by the row's total mass so that
        # float rounding can never pick a token top-p removed (probability 0 never has cdf[j] > u >= cdf[j-1]).
        # About 10x cheaper per step than one torch.multinomial call per row.
        cdf = torch.softmax(scores, dim=-1).cumsum(dim=-1)
        uniforms = torch.cat([torch.rand(1, generator=g, device=scores.device) for g in self.generators])
        tokens = torch.searchsorted(cdf, (uniforms * cdf[:, -1]).unsqueeze(1), right=True).squeeze(1)
        tokens = tokens.clamp_(max=scores.shape[-1] - 1)
        chosen = torch.full_like(scores, float("-inf"))
        chosen[torch.arange(scores.shape[0], device=scores.device), tokens] = 0.0
        return chosen
