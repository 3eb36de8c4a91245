"""Step time of darl's trainer against plain TRL GRPOTrainer, same model, same batch, one run, side by side.

darl's trainer is TRL's GRPOTrainer plus the level/domain sampler, the online pass-rate tracker, per-level metrics,
the consumed-prompt log and namespaced logging; this measures what those hooks cost per optimizer step (target:
<= 1.1x). Both trainers get the same reward functions (the project's Verifier), the same prompts per step, and
`min_new_tokens = max_completion_length` so every rollout has the same length and both do the same compute.
Runs alternate (plain, darl, plain, darl, ...) so that load drift on a shared machine hits both alike; the first
steps of each run are warm-up and not counted. Periodic validation and checkpointing are off in both (they are
separate, optional costs of a run, not of a step).

    .venv/bin/python bench/bench_trainer.py                 # tiny random Qwen2 (hidden 32)
    .venv/bin/python bench/bench_trainer.py --model PATH    # any local HF checkpoint (e.g. the embedded policy)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self._t = 0.0

    def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        self._t = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        self.times.append(time.perf_counter() - self._t)


def build_problems(n: int):
    from darl.records import Problem

    return [Problem(id=f"b{i}", domain="math", prompt=f"Compute {i} + {i % 9} * 2.", answer=str(i + (i % 9) * 2))
            for i in range(n)]


def run_once(kind: str, model_path: str, problems, steps: int, prompts: int, g: int, length: int, out: Path,
             verifier) -> list[float]:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from darl.prompting import chat_messages
    from darl.training.online_difficulty import OnlineDifficulty
    from darl.training.recipe import OnlineDifficultySettings
    from darl.training.rewards import reward_functions
    from darl.training.sampler import LevelDomainSampler, Stream
    from darl.training.trainer import DarlGRPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    rows = [{"prompt": chat_messages(p), "problem_id": p.id, "stream": "math/L2"} for p in problems]
    config = GRPOConfig(output_dir=str(out), seed=0, learning_rate=1e-5, num_generations=g,
                        per_device_train_batch_size=prompts * g, max_steps=steps, max_completion_length=length,
                        generation_kwargs={"min_new_tokens": length}, beta=0.001, save_strategy="no",
                        logging_steps=1, report_to="none", remove_unused_columns=False, ignore_data_skip=True,
                        disable_tqdm=True, bf16=False)
    rewards = reward_functions({p.id: p for p in problems}, verifier, ["math"])
    timer = StepTimer()
    common = dict(model=model, processing_class=tokenizer, args=config, reward_funcs=rewards,
                  train_dataset=Dataset.from_list(rows), callbacks=[timer])
    if kind == "plain":
        trainer = GRPOTrainer(**common)
    else:
        stream = Stream("math/L2", 1.0, tuple(range(len(rows))), tuple(p.id for p in problems))
        sampler = LevelDomainSampler([stream], prompts, g, repeat_count=1, total_batches=steps, seed=0)
        trainer = DarlGRPOTrainer(**common, darl_sampler=sampler,
                                  tracker=OnlineDifficulty(OnlineDifficultySettings()),
                                  stage_keys=[p.id for p in problems], consumed_path=out / "consumed.jsonl")
    trainer.train()
    return timer.times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="local HF checkpoint (default: a tiny random Qwen2)")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per run")
    parser.add_argument("--warmup", type=int, default=2, help="steps per run not counted")
    parser.add_argument("--rounds", type=int, default=3, help="alternating plain/darl rounds")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--length", type=int, default=32, help="tokens per rollout (forced)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared 2-core box)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from darl.verifiers import Verifier

    tmp = Path(tempfile.mkdtemp(prefix="bench_trainer_"))
    model_path = args.model
    if model_path is None:
        from training_tiny import make_tiny_policy

        model_path = str(make_tiny_policy(tmp / "policy"))
    problems = build_problems(64)
    times: dict[str, list[float]] = {"plain": [], "darl": []}
    with Verifier() as verifier:
        for r in range(args.rounds):
            for kind in ("plain", "darl"):
                t = run_once(kind, model_path, problems, args.steps, args.prompts, args.generations, args.length,
                             tmp / f"{kind}{r}", verifier)
                times[kind].extend(t[args.warmup:])
    plain, darl = statistics.median(times["plain"]), statistics.median(times["darl"])
    table = Table(title=f"GRPO step time, {args.prompts} prompts x {args.generations} rollouts x {args.length} "
                        f"tokens, model {Path(model_path).name}, {args.rounds} alternating rounds")
    for col in ("trainer", "steps timed", "median s/step", "mean s/step", "ratio to plain"):
        table.add_column(col)
    for kind, med in (("plain TRL GRPOTrainer", plain), ("darl DarlGRPOTrainer", darl)):
        key = "plain" if kind.startswith("plain") else "darl"
        table.add_row(kind, str(len(times[key])), f"{med:.3f}", f"{statistics.mean(times[key]):.3f}",
                      f"{med / plain:.3f}x")
    Console().print(table)
    print(f"darl/plain median step-time ratio: {darl / plain:.3f} (target <= 1.1)")


if __name__ == "__main__":
    main()
