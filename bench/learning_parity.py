"""Does darl's trainer learn as fast as plain TRL? Both on the same fixed prompts, side by side, in one run.

darl's GRPO trainer is TRL's GRPOTrainer plus a sampler, per-level metrics and reward bookkeeping
(darl/training/trainer.py); any of those could misroute rewards and slow learning without failing a test of the
plumbing. This trains the embedded policy on `--problems` fixed math problems of one generator level (every step
draws all of them, G rollouts each; lr high enough to move the tiny policy in a few dozen steps) with plain
`GRPOTrainer` and with `DarlGRPOTrainer`, same seed and settings, and prints the logged training reward of each
(mean of the first 3 steps and of the last 6) and their ratio of gains. tests/test_training_learns.py checks the
darl side alone inside the suite.

    .venv/bin/python bench/learning_parity.py            # 8 problems of level 2, 24 steps, lr 3e-4: about 3 minutes
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def train(kind: str, problems, model_path: str, steps: int, lr: float, generations: int) -> list[float]:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from darl.prompting import chat_messages
    from darl.training.online_difficulty import OnlineDifficulty
    from darl.training.recipe import OnlineDifficultySettings
    from darl.training.rewards import reward_functions
    from darl.training.sampler import LevelDomainSampler, Stream
    from darl.training.trainer import DarlGRPOTrainer
    from darl.verifiers import Verifier

    out = Path(tempfile.mkdtemp(prefix=f"parity-{kind}-"))
    rows = [{"prompt": chat_messages(p), "problem_id": p.id, "stream": "math/fixed"} for p in problems]
    config = GRPOConfig(output_dir=str(out), seed=0, learning_rate=lr, num_generations=generations,
                        per_device_train_batch_size=len(problems) * generations, max_steps=steps,
                        max_completion_length=64, beta=0.001, loss_type="dapo", temperature=1.0,
                        lr_scheduler_type="constant", warmup_steps=0, save_strategy="no", logging_steps=1,
                        report_to="none", remove_unused_columns=False, disable_tqdm=True, bf16=False,
                        dataloader_pin_memory=False)
    with Verifier() as verifier:
        common = dict(model=AutoModelForCausalLM.from_pretrained(model_path),
                      processing_class=AutoTokenizer.from_pretrained(model_path), args=config,
                      reward_funcs=reward_functions({p.id: p for p in problems}, verifier, ["math"]),
                      train_dataset=Dataset.from_list(rows))
        if kind == "plain TRL":
            trainer = GRPOTrainer(**common)
        else:
            stream = Stream("math/fixed", 1.0, tuple(range(len(rows))), tuple(p.id for p in problems))
            trainer = DarlGRPOTrainer(**common, darl_sampler=LevelDomainSampler(
                [stream], len(problems), generations, repeat_count=1, total_batches=steps, seed=0),
                tracker=OnlineDifficulty(OnlineDifficultySettings()), stage_keys=[p.id for p in problems],
                consumed_path=out / "consumed.jsonl")
        trainer.train()
    key = "reward" if kind == "plain TRL" else "train/reward"  # darl namespaces its logs
    return [float(h[key]) for h in trainer.state.log_history if key in h]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--level", type=int, default=2)
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--generations", type=int, default=8)
    args = parser.parse_args()

    import torch
    from rich.console import Console
    from rich.table import Table

    from darl.embedded.bootstrap import bootstrap
    from darl.embedded.suite import make_problem

    torch.set_num_threads(1)
    model = str(bootstrap("default").path("small"))
    problems = [make_problem("math", args.level, 700_000 + i, f"parity-{i}", "bench")[0] for i in range(args.problems)]
    table = Table(title=f"{args.problems} fixed level-{args.level} problems x {args.generations} rollouts, "
                        f"{args.steps} steps, lr {args.lr}")
    for column in ("trainer", "reward, first 3 steps", "reward, last 6 steps", "gain"):
        table.add_column(column)
    gains = {}
    for kind in ("plain TRL", "darl"):
        rewards = train(kind, problems, model, args.steps, args.lr, args.generations)
        first, last = sum(rewards[:3]) / 3, sum(rewards[-6:]) / 6
        gains[kind] = last - first
        table.add_row(kind, f"{first:.3f}", f"{last:.3f}", f"{last - first:+.3f}")
    Console().print(table)
    print(f"darl gain / plain TRL gain: {gains['darl'] / gains['plain TRL']:.2f}")


if __name__ == "__main__":
    main()
