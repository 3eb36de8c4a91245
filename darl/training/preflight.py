"""Memory preflight: what each device holds in each stage of a recipe, before any model is loaded.

`darl train RECIPE --dry-run --devices 8 --device-memory 80GB` prints this table and refuses (exit 1) when a stage
cannot fit, naming the term that is too big and the recipe field that changes it. The arithmetic is here, in pure
functions of the model's config.json numbers and the resolved stage; nothing here touches a GPU.

It is an estimate made to catch the settings that cannot work (a 16-rollout micro-batch at 24k tokens needs
hundreds of GB of logits), not a profiler: the terms are the standard accounting below, each a little
conservative; allocator fragmentation and framework buffers beyond `CUDA_RESERVE` are not modelled, so "tight"
(over `TIGHT_SHARE` of the budget) is a warning.

Notation: P parameters, N devices (processes), b rollouts per device micro-step
(`scale.per_device_train_batch_size`), T = prompt + completion tokens, C completion tokens, V vocabulary, h hidden
size, i MLP intermediate size, L layers, kv = key/value heads x head size. Bytes per activation value a = 2 with
`scale.bf16`, else 4.

Training terms (per device):
- weights, gradients, optimizer: without DeepSpeed (DDP with bf16 autocast): fp32 weights 4P, fp32 gradients 4P
  (plus DDP's bucket copy, another 4P when N > 1), AdamW's two fp32 moments 8P. With DeepSpeed ZeRO stage z and bf16
  (the ZeRO paper's 2 + 2 + 12 bytes per parameter): bf16 weights 2P, bf16 gradients 2P, fp32 master weights and
  moments 12P; stage >= 1 divides the optimizer by N, >= 2 the gradients too, 3 the weights too.
- reference model (KL coefficient > 0; TRL builds a second copy): 4P without DeepSpeed (TRL loads it in the policy's
  dtype, fp32), 2P with DeepSpeed bf16 (divided by N at ZeRO-3).
- activations of one micro-step: one layer keeps about b*T*(6h + 2kv + 4i) values (norm inputs/outputs, q/k/v, the
  attention output with flash attention's O(T) memory, gate/up/act/product of the MLP). With gradient checkpointing:
  L layer inputs b*T*h plus one layer recomputed; without: L layers.
- logits: b*(C+1)*V values (TRL keeps only the completion positions): the logits (a bytes), the fp32 log-softmax
  kept for backward (4 bytes) and the logits' gradient (a bytes).
- generation KV cache without vLLM (transformers `generate` for the whole generation batch of this device,
  b * gradient_accumulation_steps sequences): 2*L*kv*a bytes per token, T tokens each.
- `CUDA_RESERVE`: CUDA context, NCCL buffers and allocator slack.

vLLM (TRL `use_vllm`): colocate mode takes `vllm_gpu_memory_utilization` of every training GPU (training gets the
rest): its weights 2P / tensor-parallel size, and the remainder (less `VLLM_RESERVE` for its activations and graphs)
is KV cache. vLLM refuses to start when that KV cache cannot hold one sequence of its context length (the model's
`max_position_embeddings` unless a smaller one is set), so that is an error; when it holds fewer than the
generation batch's sequences at once, generation runs in waves (a note, not an error). Server mode: the training
GPUs are whole; the server's GPUs are reported on their own line.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

GiB = 1024 ** 3
CUDA_RESERVE = 2 * GiB
VLLM_RESERVE = 1 * GiB
TIGHT_SHARE = 0.9
CONFIGS_DIR = Path(__file__).resolve().parent.parent / "model_configs"


@dataclass(frozen=True)
class ModelDims:
    """The numbers of a decoder-only transformer (Llama / Qwen2 family) that memory depends on."""

    name: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    tie_word_embeddings: bool
    qkv_bias: bool
    max_position_embeddings: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], name: str = "model") -> ModelDims:
        """From a config.json mapping. Mixture-of-experts and multimodal configs are refused (not modelled)."""
        if "text_config" in config:
            raise ValueError(f"{name}: a multimodal config; the preflight models text decoders only")
        if any(k in config for k in ("num_experts", "n_routed_experts", "num_local_experts")):
            raise ValueError(f"{name}: a mixture-of-experts config; the preflight models dense decoders only")
        missing = [k for k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                               "num_attention_heads") if k not in config]
        if missing:
            raise ValueError(f"{name}: config.json lacks {missing}")
        heads = int(config["num_attention_heads"])
        hidden = int(config["hidden_size"])
        model_type = str(config.get("model_type", ""))
        return cls(
            name=name, vocab_size=int(config["vocab_size"]), hidden_size=hidden,
            intermediate_size=int(config["intermediate_size"]), num_layers=int(config["num_hidden_layers"]),
            num_heads=heads, num_kv_heads=int(config.get("num_key_value_heads") or heads),
            head_dim=int(config.get("head_dim") or hidden // heads),
            tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),
            qkv_bias=bool(config.get("attention_bias", model_type == "qwen2")),
            max_position_embeddings=int(config.get("max_position_embeddings") or 0),
        )

    @property
    def kv_width(self) -> int:
        return self.num_kv_heads * self.head_dim

    def parameters(self) -> int:
        """Embedding, per layer q/k/v/o projections (+ q/k/v biases for Qwen2), gated MLP and two RMSNorms, the final
        norm, and the LM head unless tied to the embedding."""
        h, i, q = self.hidden_size, self.intermediate_size, self.num_heads * self.head_dim
        attn = h * q + 2 * h * self.kv_width + q * h + ((q + 2 * self.kv_width) if self.qkv_bias else 0)
        layer = attn + 3 * h * i + 2 * h
        head = 0 if self.tie_word_embeddings else self.vocab_size * h
        return self.vocab_size * h + self.num_layers * layer + h + head

    def kv_bytes_per_token(self, value_bytes: int = 2) -> int:
        """Key and value of every layer for one token."""
        return 2 * self.num_layers * self.kv_width * value_bytes


@dataclass(frozen=True)
class StagePlan:
    """What one stage asks of each device (from the resolved recipe and the device count)."""

    name: str
    devices: int
    micro_batch: int  # b: rollouts per device per micro-step
    gradient_accumulation_steps: int
    prompt_tokens: int
    completion_tokens: int
    bf16: bool
    zero_stage: int | None  # None: no DeepSpeed (DDP)
    gradient_checkpointing: bool
    reference_model: bool  # KL coefficient > 0
    use_vllm: bool
    vllm_mode: Literal["colocate", "server"] = "colocate"
    vllm_gpu_memory_utilization: float = 0.3
    vllm_tensor_parallel_size: int = 1
    vllm_max_model_len: int | None = None  # None: the model's max_position_embeddings

    @property
    def sequence_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def generation_sequences(self) -> int:
        """Sequences one device generates per optimizer step (TRL generates the whole batch at once)."""
        return self.micro_batch * self.gradient_accumulation_steps


@dataclass(frozen=True)
class Term:
    name: str
    bytes: int
    field: str  # the recipe field that changes it
    detail: str


@dataclass
class StageMemory:
    plan: StagePlan
    device_bytes: int
    training: list[Term]
    training_budget: int  # device memory left to training (less vLLM's share in colocate mode)
    vllm: list[Term] = field(default_factory=list)
    vllm_budget: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def training_total(self) -> int:
        return sum(t.bytes for t in self.training)

    @property
    def fits(self) -> bool:
        return not self.errors


def _shard(nbytes: float, devices: int, sharded: bool) -> int:
    return int(math.ceil(nbytes / devices)) if sharded else int(nbytes)


def training_terms(dims: ModelDims, plan: StagePlan) -> list[Term]:
    """Every training term of one device (see the module docstring for each formula)."""
    P, N, b = dims.parameters(), plan.devices, plan.micro_batch
    a = 2 if plan.bf16 else 4
    z = plan.zero_stage
    T, C, V = plan.sequence_tokens, plan.completion_tokens, dims.vocab_size
    h, i, L = dims.hidden_size, dims.intermediate_size, dims.num_layers
    terms: list[Term] = []
    if z is None:
        grads = 4 * P * (2 if N > 1 else 1)
        terms += [Term("weights", 4 * P, "scale.zero_stage", "fp32 master weights (bf16 via autocast)"),
                  Term("gradients", grads, "scale.zero_stage",
                       "fp32" + (" + DDP bucket copy" if N > 1 else "")),
                  Term("optimizer", 8 * P, "scale.zero_stage", "AdamW fp32 moments")]
    else:
        w = 2 if plan.bf16 else 4
        terms += [Term("weights", _shard(w * P, N, z >= 3), "scale.zero_stage",
                       f"{'bf16' if w == 2 else 'fp32'}" + (f", ZeRO-3 / {N}" if z >= 3 else "")),
                  Term("gradients", _shard(w * P, N, z >= 2), "scale.zero_stage",
                       f"{'bf16' if w == 2 else 'fp32'}" + (f", ZeRO-{z} / {N}" if z >= 2 else "")),
                  Term("optimizer", _shard((12 if w == 2 else 8) * P, N, z >= 1), "scale.zero_stage",
                       ("fp32 master + AdamW moments" if w == 2 else "AdamW fp32 moments")
                       + (f", ZeRO-{z} / {N}" if z >= 1 else ""))]
    if plan.reference_model:
        ref = _shard(2 * P, N, z is not None and z >= 3) if (z is not None and plan.bf16) else 4 * P
        terms.append(Term("reference model", ref, "kl_coef",
                          "KL reference copy" + (f", ZeRO-3 / {N}" if z is not None and z >= 3 else "")))
    layer = b * T * (6 * h + 2 * dims.kv_width + 4 * i) * a
    if plan.gradient_checkpointing:
        activations = L * b * T * h * a + layer
        detail = f"checkpointed: {L} layer inputs + 1 layer, b={b}, T={T}"
    else:
        activations = L * layer
        detail = f"all {L} layers, b={b}, T={T}"
    terms.append(Term("activations", activations, "scale.gradient_checkpointing" if not plan.gradient_checkpointing
                      else "scale.per_device_train_batch_size", detail))
    terms.append(Term("logits", b * (C + 1) * V * (a + 4 + a), "scale.per_device_train_batch_size",
                      f"{b} x {C + 1} x {V} x ({a} + 4 fp32 log-softmax + {a} grad) bytes"))
    if not plan.use_vllm:
        seqs = plan.generation_sequences
        terms.append(Term("generation KV (transformers)", seqs * T * dims.kv_bytes_per_token(a), "scale.use_vllm",
                          f"{seqs} sequences x {T} tokens"))
    terms.append(Term("CUDA reserve", CUDA_RESERVE, "-", "context, NCCL buffers, allocator slack"))
    return terms


def vllm_terms(dims: ModelDims, plan: StagePlan, budget: int) -> tuple[list[Term], list[str], list[str]]:
    """vLLM's weights and KV cache inside `budget` bytes of one GPU; returns (terms, errors, notes)."""
    tp = plan.vllm_tensor_parallel_size
    weights = int(math.ceil(2 * dims.parameters() / tp))
    kv_budget = budget - weights - VLLM_RESERVE
    per_token = dims.kv_bytes_per_token(2) // tp
    context = plan.vllm_max_model_len or dims.max_position_embeddings or plan.sequence_tokens
    terms = [Term("vLLM weights", weights, "scale.vllm_tensor_parallel_size", f"bf16 / TP {tp}"),
             Term("vLLM activations", VLLM_RESERVE, "-", "profiling run, CUDA graphs"),
             Term("vLLM KV cache", max(kv_budget, 0), "scale.vllm_gpu_memory_utilization",
                  f"{max(kv_budget, 0) // per_token:,} tokens at {per_token:,} B/token")]
    errors, notes = [], []
    if kv_budget < context * per_token:
        errors.append(f"vLLM's KV cache ({_gb(max(kv_budget, 0))}) cannot hold one {context:,}-token sequence "
                      f"({_gb(context * per_token)}): vLLM would refuse to start. Raise "
                      f"scale.vllm_gpu_memory_utilization or scale.vllm_tensor_parallel_size")
    else:
        at_once = kv_budget // (plan.sequence_tokens * per_token)
        wanted = plan.generation_sequences * (tp if plan.vllm_mode == "colocate" else plan.devices)
        if at_once < wanted:
            notes.append(f"vLLM holds {at_once} of the {wanted} sequences it generates per step at full length; "
                         f"the rest wait their turn (slower, not an error)")
    return terms, errors, notes


def stage_memory(dims: ModelDims, plan: StagePlan, device_bytes: int) -> StageMemory:
    """The verdict for one stage on devices of `device_bytes` each."""
    colocate = plan.use_vllm and plan.vllm_mode == "colocate"
    vllm_budget = int(device_bytes * plan.vllm_gpu_memory_utilization) if plan.use_vllm else 0
    budget = device_bytes - vllm_budget if colocate else device_bytes
    result = StageMemory(plan, device_bytes, training_terms(dims, plan), budget, vllm_budget=vllm_budget)
    if plan.use_vllm:
        result.vllm, errors, notes = vllm_terms(dims, plan, vllm_budget)
        result.errors += errors
        result.notes += notes
    total = result.training_total
    biggest = max((t for t in result.training if t.field != "-"), key=lambda t: t.bytes)
    where = f"{_gb(total)} of training memory per device, {_gb(budget)} available" + (
        f" ({_gb(device_bytes)} less vLLM's {plan.vllm_gpu_memory_utilization:.0%})" if colocate else "")
    if total > budget:
        message = f"does not fit: {where}; the biggest term is {biggest.name} ({_gb(biggest.bytes)}): " \
                  f"{_advice(biggest, plan)}"
        if plan.devices > 1 and plan.zero_stage != 3:  # the other lever: shard everything
            zero3 = sum(t.bytes for t in training_terms(dims, dataclasses.replace(plan, zero_stage=3)))
            message += f" (with scale.zero_stage: 3 the training total would be {_gb(zero3)})"
        result.errors.append(message)
    elif total > TIGHT_SHARE * budget:
        result.warnings.append(f"tight: {where} (over {TIGHT_SHARE:.0%}); the biggest term is {biggest.name} "
                               f"({_gb(biggest.bytes)}): {_advice(biggest, plan)}")
    return result


def _advice(term: Term, plan: StagePlan) -> str:
    if term.name == "logits" or term.name == "activations" and plan.gradient_checkpointing:
        if plan.micro_batch > 1:
            return (f"lower scale.per_device_train_batch_size (now {plan.micro_batch}) and raise "
                    f"gradient_accumulation_steps to keep the batch, or lower max_completion_length")
        share = (f", or lower scale.vllm_gpu_memory_utilization (now {plan.vllm_gpu_memory_utilization}) to leave "
                 f"training more of the GPU" if plan.use_vllm and plan.vllm_mode == "colocate" else "")
        return (f"one rollout per micro-step is already the least; lower max_completion_length (now "
                f"{plan.completion_tokens}) in this stage's grpo{share}, or use GPUs with more memory")
    if term.name == "activations":
        return "set scale.gradient_checkpointing: true"
    if term.name in ("weights", "gradients", "optimizer"):
        if plan.devices == 1:
            return "one device cannot shard it: launch on more GPUs (accelerate launch --num_processes N)"
        needed = {"optimizer": 1, "gradients": 2, "weights": 3}[term.name]
        if plan.zero_stage is None or plan.zero_stage < needed:
            return f"set scale.zero_stage: {needed} (DeepSpeed shards it over the {plan.devices} devices)"
        return f"it is already sharded by ZeRO-{plan.zero_stage}: use more GPUs"
    if term.name == "reference model":
        return "set scale.zero_stage: 3 to shard it, or kl_coef: 0 to drop it"
    if term.name.startswith("generation KV"):
        return "set scale.use_vllm: true (transformers generate holds the whole generation batch's KV cache)"
    return f"change {term.field}"


def _gb(nbytes: float) -> str:
    return f"{nbytes / GiB:.1f} GiB"


def parse_memory(text: str) -> int:
    """'80GB', '80GiB', '141 GB' or a number of bytes. GB is read as GiB (what nvidia-smi shows as 80 GB is
    81,920 MiB), a slightly cautious reading of a card's size."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(gib|gb|g|mib|mb|m|tib|tb|t)?\s*", text.lower())
    if not match:
        raise ValueError(f"cannot read memory size {text!r}; write e.g. 80GB")
    number, unit = float(match.group(1)), match.group(2)
    scale = {None: 1, "g": GiB, "gb": GiB, "gib": GiB, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2,
             "t": 1024 ** 4, "tb": 1024 ** 4, "tib": 1024 ** 4}[unit]
    return int(number * scale)


def shipped_model_config(model: str) -> Path | None:
    """The config.json shipped with darl for a hub id (`deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B`), if any, so the
    paper recipes preflight offline."""
    path = CONFIGS_DIR / (model.replace("/", "--") + ".json")
    return path if path.is_file() else None


def load_model_dims(model: str, config_path: str | Path | None = None) -> ModelDims:
    """Dimensions from `config_path` (a config.json or a folder with one), else the model folder's config.json,
    else the config shipped with darl for that hub id. Raises FileNotFoundError naming what to pass."""
    candidates = [Path(config_path)] if config_path is not None else [Path(model), shipped_model_config(model)]
    for candidate in candidates:
        if candidate is None:
            continue
        path = candidate / "config.json" if candidate.is_dir() else candidate
        if path.is_file() and path.suffix == ".json":
            return ModelDims.from_config(json.loads(path.read_text()), name=model)
    raise FileNotFoundError(f"no config.json for {model!r}")


def format_report(stages: list[StageMemory]) -> str:
    """The table `darl train --dry-run` prints: one block per stage, GiB per device."""
    lines: list[str] = []
    for s in stages:
        p = s.plan
        lines.append(f"stage {p.name}: {p.devices} devices x {_gb(s.device_bytes)}; micro-batch {p.micro_batch} x "
                     f"{p.gradient_accumulation_steps} accumulation x {p.devices} devices = "
                     f"{p.micro_batch * p.gradient_accumulation_steps * p.devices} rollouts/step; "
                     f"T = {p.prompt_tokens} prompt + {p.completion_tokens} completion tokens; "
                     f"{'ZeRO-' + str(p.zero_stage) if p.zero_stage is not None else 'DDP'}, "
                     f"{'bf16' if p.bf16 else 'fp32'}, checkpointing {'on' if p.gradient_checkpointing else 'off'}")
        for t in s.training:
            lines.append(f"  {t.name:<30} {t.bytes / GiB:8.1f} GiB   {t.detail}")
        lines.append(f"  {'training total':<30} {s.training_total / GiB:8.1f} GiB   of {_gb(s.training_budget)}")
        if s.vllm:
            where = "same GPU" if p.vllm_mode == "colocate" else "each vLLM server GPU"
            lines.append(f"  vLLM ({p.vllm_mode}, {where}, {_gb(s.vllm_budget)} = "
                         f"{p.vllm_gpu_memory_utilization:.0%} of the device):")
            for t in s.vllm:
                lines.append(f"    {t.name:<28} {t.bytes / GiB:8.1f} GiB   {t.detail}")
        for kind, messages in (("ERROR", s.errors), ("WARNING", s.warnings), ("note", s.notes)):
            lines += [f"  {kind}: {m}" for m in messages]
        lines.append(f"  => {'fits' if s.fits else 'DOES NOT FIT'}")
    return "\n".join(lines)


DEFAULT_PROMPT_TOKENS = 1024  # when a stage sets no max_prompt_length: math and code prompts are far shorter


def stage_plans(recipe: Any, devices: int, prompt_tokens: int | None = None) -> list[StagePlan]:
    """Each stage of a `darl.training.recipe.Recipe` resolved for `devices` processes (one per GPU). The micro-batch
    is `scale.per_device_train_batch_size`, or what `grpo_config` derives: rollouts / (accumulation x devices).
    ValueError when the batch does not split over the devices (the same check `grpo_config` makes)."""
    if devices < 1:
        raise ValueError(f"devices must be >= 1, got {devices}")
    scale = recipe.scale
    plans = []
    for stage in recipe.resolved_stages:
        g, index = stage.grpo, stage.index
        rollouts = stage.rollouts_per_step
        micro = scale.per_device_train_batch_size or rollouts // (g.gradient_accumulation_steps * devices)
        if micro < 1 or micro * g.gradient_accumulation_steps * devices != rollouts:
            raise ValueError(f"stages.{index}.grpo.gradient_accumulation_steps: {rollouts} rollouts per step do not "
                             f"split into {g.gradient_accumulation_steps} micro-steps x {devices} devices x "
                             f"{max(micro, 1)} (set gradient_accumulation_steps = {rollouts} / ({devices} x "
                             f"scale.per_device_train_batch_size))")
        plans.append(StagePlan(
            name=f"{index + 1} {stage.name}", devices=devices, micro_batch=micro,
            gradient_accumulation_steps=g.gradient_accumulation_steps,
            prompt_tokens=prompt_tokens or g.max_prompt_length or DEFAULT_PROMPT_TOKENS,
            completion_tokens=g.max_completion_length, bf16=scale.bf16,
            zero_stage=scale.zero_stage, gradient_checkpointing=scale.gradient_checkpointing,
            reference_model=g.kl_coef > 0, use_vllm=scale.use_vllm, vllm_mode=scale.vllm_mode,
            vllm_gpu_memory_utilization=scale.vllm_gpu_memory_utilization,
            vllm_tensor_parallel_size=scale.vllm_tensor_parallel_size))
    return plans
