"""Greedy held-out accuracy of the live policy: the score the plateau test watches and the before/after number.

It runs inside the training process on the model being trained (no reload, no second copy), greedy so that it
consumes no random numbers and a resumed run draws the same rollouts as an uninterrupted one. The paper validates
with sampled pass@1 on AIME; `darl eval` does that on a checkpoint, this is the cheap in-loop signal.

At paper scale (16k-24k tokens, 8+ processes) two things matter, so the work is split and the fast engine used:
- Sharding: the problems are dealt round-robin over the processes (`shard_indices`); each process generates and
  verifies only its share and the verdicts are gathered (`merge_shards`), so every process ends with the same
  accuracy (the plateau decision must agree on every rank) after 1/N of the work. Processes of one vLLM
  tensor-parallel group share a shard (vLLM needs the same requests on each of them) and only the group's first
  process reports it.
- The engine: where TRL runs vLLM for rollouts, validation uses that engine (`VLLMColocateEngine`, or the server
  in server mode, where the main process asks it for every problem), after pushing the current weights into it
  the way TRL does before a rollout. Without vLLM it is transformers' `generate` (`TransformersEngine`), with the
  ZeRO-3 weights gathered through TRL's `unwrap_model_for_generation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import torch

from darl.prompting import chat_messages, prompt_opens_thinking
from darl.records import Problem
from darl.verifiers import Verifier


@dataclass(frozen=True)
class ValidationResult:
    accuracy: float  # share of problems whose greedy response passes
    mean_score: float  # mean verifier score (code: partial credit)
    count: int  # problems graded
    by_domain: dict[str, float]  # accuracy per domain
    ungraded: int = 0  # problems whose response the verifier could not grade (infrastructure), left out

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "mean_score": self.mean_score, "count": self.count,
                "by_domain": self.by_domain, "ungraded": self.ungraded}


class GreedyEngine(Protocol):
    """Greedy completions (text, special tokens skipped) of rendered prompts given as token ids."""

    def generate(self, prompt_ids: list[list[int]], max_new_tokens: int) -> list[str]: ...


# -- sharding (pure) ----------------------------------------------------------------------------------------------
def shard_indices(count: int, rank: int, world: int, group_size: int = 1) -> list[int]:
    """Indices of the problems process `rank` of `world` validates: round-robin over the `world // group_size`
    groups of consecutive ranks (rank r is in group r // group_size), so the shards differ in size by at most one
    and long and short problems spread evenly. Every rank of a group gets the same indices."""
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"rank {rank} is not in a world of {world}")
    if group_size < 1 or world % group_size:
        raise ValueError(f"group size {group_size} must divide the world size {world}")
    groups = world // group_size
    return list(range(rank // group_size, count, groups))


def reports(rank: int, group_size: int = 1) -> bool:
    """Whether `rank` contributes its group's verdicts (the first rank of each group does)."""
    return rank % group_size == 0


def merge_shards(count: int, pieces: Sequence[tuple[int, Any]]) -> list[Any]:
    """The gathered (index, value) pairs as one list in problem order; every index exactly once."""
    out: list[Any] = [None] * count
    seen = [False] * count
    for index, value in pieces:
        if not 0 <= index < count or seen[index]:
            raise RuntimeError(f"validation shards overlap or are out of range at problem {index} of {count}")
        out[index], seen[index] = value, True
    missing = [i for i, s in enumerate(seen) if not s]
    if missing:
        raise RuntimeError(f"validation shards miss {len(missing)} of {count} problems (first: {missing[0]})")
    return out


def summarize(problems: Sequence[Problem], verdicts: Sequence[tuple[bool, float] | None]) -> ValidationResult:
    """Accuracy, mean score and per-domain accuracy of (passed, score) pairs, one per problem; None (not graded: the
    verifier itself failed) is left out and counted, as evaluation does, never scored 0."""
    graded = [(p, v) for p, v in zip(problems, verdicts) if v is not None]
    if not graded:
        raise RuntimeError(f"validation: none of the {len(problems)} responses could be graded (verifier failures)")
    by_domain: dict[str, float] = {}
    for domain in sorted({p.domain for p, _ in graded}):
        sel = [v[0] for p, v in graded if p.domain == domain]
        by_domain[domain] = sum(sel) / len(sel)
    return ValidationResult(
        accuracy=sum(v[0] for _, v in graded) / len(graded),
        mean_score=sum(v[1] for _, v in graded) / len(graded),
        count=len(graded),
        by_domain=by_domain,
        ungraded=len(problems) - len(graded),
    )


def render_prompts(tokenizer: Any, problems: Sequence[Problem], system_prompt: str | None = None) -> list[list[int]]:
    """Each problem's chat prompt with the assistant turn opened, as token ids (the template adds any BOS); the
    recipe's `system_prompt` first, as in training."""
    texts = [tokenizer.apply_chat_template(chat_messages(p, system_prompt), tokenize=False, add_generation_prompt=True)
             for p in problems]
    return [list(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]


def sharded_accuracy(problems: Sequence[Problem], engine: GreedyEngine, tokenizer: Any, verifier: Verifier,
                     max_new_tokens: int, *, rank: int = 0, world: int = 1, group_size: int = 1,
                     gather: Callable[[list], list] = lambda x: x,
                     system_prompt: str | None = None) -> ValidationResult:
    """Greedy accuracy with the work split over processes. `gather` is a collective that returns every process's
    list concatenated (accelerate's `gather_object`); every process must call this together."""
    if not problems:
        raise ValueError("validation: no problems to validate on")
    mine = shard_indices(len(problems), rank, world, group_size)
    chunk = [problems[i] for i in mine]
    texts = engine.generate(render_prompts(tokenizer, chunk, system_prompt), max_new_tokens) if chunk else []
    pieces: list[tuple[int, tuple[bool, float] | None]] = []
    if reports(rank, group_size) and chunk:
        # A template that opens <think> in the prompt (R1-Distill): an unclosed thought is no answer.
        verdicts = verifier.verify_batch(chunk, texts, thinking=prompt_opens_thinking(tokenizer))
        pieces = [(i, None if v.score is None else (bool(v.passed), float(v.score))) for i, v in zip(mine, verdicts)]
    return summarize(problems, merge_shards(len(problems), gather(pieces)))


# -- engines --------------------------------------------------------------------------------------------------------
class TransformersEngine:
    """transformers `generate`, greedy, left-padded batches of `batch_size` prompts."""

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 32) -> None:
        self.model, self.tokenizer, self.batch_size = model, tokenizer, batch_size

    @torch.no_grad()
    def generate(self, prompt_ids: list[list[int]], max_new_tokens: int) -> list[str]:
        model, tok = self.model, self.tokenizer
        was_training = model.training
        model.eval()
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        texts: list[str] = []
        try:
            for start in range(0, len(prompt_ids), self.batch_size):
                chunk = prompt_ids[start:start + self.batch_size]
                width = max(len(ids) for ids in chunk)
                ids = torch.tensor([[pad_id] * (width - len(x)) + x for x in chunk], device=model.device)
                mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in chunk], device=model.device)
                out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                     max_new_tokens=max_new_tokens, pad_token_id=pad_id)
                texts.extend(tok.batch_decode(out[:, width:], skip_special_tokens=True))
        finally:
            model.train(was_training)
        return texts


class VLLMColocateEngine:
    """The trainer's own colocated vLLM (`trainer.vllm_generation.llm`), greedy."""

    def __init__(self, llm: Any, sampling_params_cls: Any) -> None:
        self.llm, self.sampling_params_cls = llm, sampling_params_cls

    def generate(self, prompt_ids: list[list[int]], max_new_tokens: int) -> list[str]:
        params = self.sampling_params_cls(n=1, temperature=0.0, max_tokens=max_new_tokens, skip_special_tokens=True)
        outputs = self.llm.generate([{"prompt_token_ids": ids} for ids in prompt_ids], sampling_params=params,
                                    use_tqdm=False)
        return [o.outputs[0].text for o in outputs]


class VLLMServerEngine:
    """TRL's vLLM server, through the main process's client; the other processes get no texts (they do not report:
    the whole world is one group, led by the main process)."""

    def __init__(self, client: Any | None, tokenizer: Any) -> None:
        self.client, self.tokenizer = client, tokenizer

    def generate(self, prompt_ids: list[list[int]], max_new_tokens: int) -> list[str]:
        if self.client is None:
            return [""] * len(prompt_ids)
        out = self.client.generate(prompts=prompt_ids, n=1, temperature=0.0, max_tokens=max_new_tokens)
        return self.tokenizer.batch_decode(out["completion_ids"], skip_special_tokens=True)


def trainer_validation(trainer: Any, tokenizer: Any, problems: Sequence[Problem], verifier: Verifier,
                       max_new_tokens: int, batch_size: int, system_prompt: str | None = None) -> ValidationResult:
    """Validate the policy `trainer` (TRL's GRPOTrainer) is training, on every process at once (call it on all)."""
    from accelerate.utils import gather_object

    acc = trainer.accelerator
    args = trainer.args
    vg = getattr(trainer, "vllm_generation", None) if args.use_vllm else None
    if vg is not None and trainer.state.global_step != getattr(trainer, "_last_loaded_step", None) \
            and trainer.state.global_step > 0:
        # As TRL does before a rollout: push the weights of this step into vLLM (all processes take part).
        vg.sync_weights()
        trainer._last_loaded_step = trainer.state.global_step
    common = dict(rank=acc.process_index, world=acc.num_processes, gather=gather_object, system_prompt=system_prompt)
    if vg is not None and args.vllm_mode == "colocate" and not getattr(args, "vllm_enable_sleep_mode", False):
        from vllm import SamplingParams

        engine: GreedyEngine = VLLMColocateEngine(vg.llm, SamplingParams)
        return sharded_accuracy(problems, engine, tokenizer, verifier, max_new_tokens,
                                group_size=args.vllm_tensor_parallel_size, **common)
    if vg is not None and args.vllm_mode == "server":
        engine = VLLMServerEngine(getattr(vg, "vllm_client", None) if acc.is_main_process else None, tokenizer)
        return sharded_accuracy(problems, engine, tokenizer, verifier, max_new_tokens,
                                group_size=acc.num_processes, **common)
    from trl.models import unwrap_model_for_generation

    with unwrap_model_for_generation(trainer.model_wrapped, acc) as model:
        return sharded_accuracy(problems, TransformersEngine(model, tokenizer, batch_size), tokenizer, verifier,
                                max_new_tokens, **common)


@torch.no_grad()
def greedy_accuracy(model: Any, tokenizer: Any, problems: Sequence[Problem], verifier: Verifier,
                    max_new_tokens: int, batch_size: int = 32, *, rank: int = 0, world: int = 1,
                    gather: Callable[[list], list] = lambda x: x,
                    system_prompt: str | None = None) -> ValidationResult:
    """Greedy accuracy of a plain transformers model (outside a trainer), split over `world` processes when given
    their rank and a gather collective."""
    return sharded_accuracy(problems, TransformersEngine(model, tokenizer, batch_size), tokenizer, verifier,
                            max_new_tokens, rank=rank, world=world, gather=gather, system_prompt=system_prompt)


def distributed_greedy_accuracy(model: Any, tokenizer: Any, problems: Sequence[Problem], verifier: Verifier,
                                max_new_tokens: int, batch_size: int = 32,
                                system_prompt: str | None = None) -> ValidationResult:
    """`greedy_accuracy` split over the processes of an `accelerate launch` (one process: all problems). Every
    process must call it; all get the same result."""
    from accelerate import PartialState
    from accelerate.utils import gather_object

    state = PartialState()
    gather = gather_object if state.num_processes > 1 else (lambda x: x)
    return greedy_accuracy(model, tokenizer, problems, verifier, max_new_tokens, batch_size,
                           rank=state.process_index, world=state.num_processes, gather=gather,
                           system_prompt=system_prompt)
