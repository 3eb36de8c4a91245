"""A plain TRL GRPO script that uses darl's verifiers as its reward functions (no levels file, no problem map).

Run it as it is on the embedded default (darl's tiny model family, built offline on first use; a few minutes on a
laptop CPU, then cached), or point it at your own model and dataset:

    python examples/trl_grpo.py                         # embedded small policy, 3 GRPO steps on a math+code mix
    python examples/trl_grpo.py --model Qwen/Qwen2.5-0.5B-Instruct --steps 50

The dataset is an ordinary `datasets.Dataset`; darl's reward functions read three of its columns:
`answer` (math reference), `tests` (code tests, JSON) and `domain` ('math' or 'code'). Everything else is TRL.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

from darl.trl import code_reward, math_reward


def embedded_rows(n_math: int, n_code: int) -> tuple[str, list[dict]]:
    """The embedded family's small policy and some of its training problems as plain dataset rows."""
    from darl.embedded.bootstrap import bootstrap
    from darl.prompting import chat_messages

    family = bootstrap("default")
    problems = family.problems("train")
    math_rows = [p for p in problems if p.domain == "math"][:n_math]
    code_rows = [p for p in problems if p.domain == "code"][:n_code]
    rows = [{"prompt": chat_messages(p), "domain": p.domain, "answer": p.answer,
             "tests": json.dumps(p.tests.to_dict()) if p.tests else None} for p in math_rows + code_rows]
    return str(family.path("small")), rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="policy (default: the embedded family's small role)")
    parser.add_argument("--steps", type=int, default=3, help="GRPO optimizer steps")
    parser.add_argument("--output-dir", default=None, help="TRL output_dir (default: a temporary folder)")
    args = parser.parse_args(argv)

    embedded_model, rows = embedded_rows(n_math=24, n_code=8)
    model_path = args.model or embedded_model
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path)

    config = GRPOConfig(
        output_dir=args.output_dir or tempfile.mkdtemp(prefix="trl-grpo-"),
        max_steps=args.steps, learning_rate=3e-4, per_device_train_batch_size=16, num_generations=8,
        max_completion_length=64, temperature=1.0, logging_steps=1, save_strategy="no", report_to="none",
        use_cpu=True, seed=0,
    )
    trainer = GRPOTrainer(model=model, processing_class=tokenizer, args=config,
                          reward_funcs=[math_reward, code_reward], train_dataset=Dataset.from_list(rows))
    trainer.train()
    logs = [h for h in trainer.state.log_history if "reward" in h]
    for h in logs:  # a domain's mean is None in a step that drew none of its prompts
        parts = [f"{name} {h.get(f'rewards/{name}_reward/mean')}" for name in ("math", "code")]
        print(f"step {h['step']}: reward {h['reward']:.3f}  (per reward function: " + ", ".join(parts) + ")")
    return logs


if __name__ == "__main__":
    main(sys.argv[1:])
