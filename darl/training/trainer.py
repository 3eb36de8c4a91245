"""darl's GRPOTrainer: TRL's GRPO loop, unchanged, plus the hooks staged training needs.

TRL does generation, advantages, the clipped loss, KL, the entropy bonus (`entropy_coef`, TRL >= 1.x) and masking of
truncated completions (`mask_truncated_completions`). This subclass only:
- feeds TRL the level/domain sampler (`_get_train_sampler`);
- after TRL scores a step's rollouts (`_calculate_rewards`), updates the online pass-rate tracker, appends the step's
  prompt ids to `consumed.jsonl` and records per-level/domain metrics;
- namespaces every logged key (`log`), so metrics.jsonl, TensorBoard and W&B agree;
- writes `darl_state.json` (sampler position, tracker, validation history) into every checkpoint, last, so that a
  checkpoint without it is known to be incomplete;
- optionally starts from the previous stage's optimizer moments and scheduler position (`create_scheduler`).

One generation batch per optimizer step is assumed (TRL's default `steps_per_generation = gradient_accumulation_steps`
with `num_iterations = 1`, i.e. on-policy as in the paper), so "batch b" and "optimizer step b" are the same number.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from accelerate.utils import gather_object
from transformers import TrainerCallback
from trl import GRPOTrainer

from darl.atomic import atomic_write_text
from darl.training.metrics import namespaced, stream_metrics
from darl.training.online_difficulty import GroupOutcome, OnlineDifficulty
from darl.training.rewards import DomainReward
from darl.training.sampler import LevelDomainSampler

DARL_STATE = "darl_state.json"


class DarlGRPOTrainer(GRPOTrainer):
    def __init__(self, *args: Any, darl_sampler: LevelDomainSampler, tracker: OnlineDifficulty,
                 stage_keys: list[str], consumed_path: Path, carry_from: Path | None = None,
                 carry_optimizer: bool = False, carry_scheduler: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.num_iterations != 1 or self.args.steps_per_generation != self.args.gradient_accumulation_steps:
            raise ValueError("darl's trainer needs one generation per optimizer step "
                             "(num_iterations=1, steps_per_generation=gradient_accumulation_steps)")
        self.darl_sampler = darl_sampler
        self.tracker = tracker
        self.stage_keys = stage_keys
        self.consumed_path = consumed_path
        self.carry_from = carry_from
        self.carry_optimizer = carry_optimizer
        self.carry_scheduler = carry_scheduler
        # dataset row -> problem id: checks that the processes' rollouts are exactly the sampler's batch
        self._row_problem_ids = list(self.train_dataset["problem_id"])
        self.validation_history: list[tuple[int, float]] = []
        self.extra_state: dict[str, Any] = {}
        self._rng_checkpoint: Path | None = None

    # -- data ----------------------------------------------------------------------------------------------------
    def _get_train_sampler(self, dataset: Any = None) -> LevelDomainSampler:
        return self.darl_sampler

    def _generate_and_score_completions(self, inputs):  # noqa: ANN001 (TRL signature)
        if self._rng_checkpoint is not None and self.model.training:
            # HF restores the RNG before it builds the data-loader iterator, which draws a seed from the torch RNG;
            # restoring again right before the first rollouts makes them those of the uninterrupted run.
            self._load_rng_state(str(self._rng_checkpoint))
            self._rng_checkpoint = None
        return super()._generate_and_score_completions(inputs)

    # -- rewards -> tracker, metrics, consumed log -----------------------------------------------------------------
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):  # noqa: ANN001 (TRL signature)
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        if not self.model.training:
            return rewards_per_func
        batch = self.state.global_step
        g = self.num_generations
        passed_local, graded_local = [], []
        for i in range(len(inputs)):
            flags = [f.last_passed[i] for f in self.reward_funcs if isinstance(f, DomainReward) and f.last_passed]
            passed_local.append(any(bool(x) for x in flags))
            graded_local.append(any(x is not None for x in flags))  # None everywhere: the verifier could not run
        # TRL >= 1.15 keeps every end token (generation config's too) in eos_token_ids; before, only the tokenizer's
        eos = {*getattr(self, "eos_token_ids", [self._tokenizer.eos_token_id]), self._tokenizer.pad_token_id}
        ids = gather_object([x["problem_id"] for x in inputs])
        streams = gather_object([x["stream"] for x in inputs])
        passed = np.asarray(gather_object(passed_local), dtype=bool).reshape(-1, g)
        graded = np.asarray(gather_object(graded_local), dtype=bool).reshape(-1, g)
        truncated = np.asarray(gather_object([len(c) == 0 or c[-1] not in eos for c in completion_ids_list]),
                               dtype=bool).reshape(-1, g)
        lengths = np.asarray(gather_object([len(c) for c in completion_ids_list]), dtype=float).reshape(-1, g)
        per_func = rewards_per_func.detach().float().cpu().numpy()
        all_nan = np.isnan(per_func).all(axis=1)
        rewards = np.where(all_nan, np.nan, np.nansum(per_func, axis=1)).reshape(-1, g)
        group_ids = ids[::g]
        if any(ids[k * g:(k + 1) * g] != [group_ids[k]] * g for k in range(len(group_ids))):
            raise RuntimeError("rollout groups are not contiguous: the sampler broke TRL's repeat contract")
        # gather_object concatenates in rank order, so this also says that rank r trained the r-th slice of the
        # batch: no rollout missing, duplicated or moved between ranks by the data loader's sharding.
        drawn = [self._row_problem_ids[row] for row in self.darl_sampler.drawn.get(batch, [])]
        if ids != [key for key in drawn for _ in range(g)]:
            raise RuntimeError(f"the processes' rollouts of step {batch + 1} are not the sampler's batch {batch} "
                               f"(drawn {drawn}, trained {group_ids}): accelerate's data-loader sharding broke "
                               f"TRL's contract")
        group_streams = streams[::g]
        # an ungraded rollout (sandbox failure) is no attempt: the online pass rate counts graded rollouts only
        self.tracker.observe(batch, [GroupOutcome(k, s, int(p.sum()), int(n.sum()))
                                     for k, s, p, n in zip(group_ids, group_streams, passed, graded)])
        for key, value in stream_metrics(group_streams, rewards, passed, truncated, lengths).items():
            self._metrics["train"][key].append(value)
        for key, value in self.tracker.summary(self.stage_keys).items():
            self._metrics["train"][key] = [value]
        events = self.darl_sampler.events
        self._metrics["train"]["stage/retired_total"] = [float(events["retired"])]
        self._metrics["train"]["stage/deferred_total"] = [float(events["deferred"])]
        if self.accelerator.is_main_process:
            with self.consumed_path.open("a") as f:
                f.write(json.dumps({"batch": batch, "ids": group_ids, "streams": group_streams}) + "\n")
        return rewards_per_func

    # -- logging ---------------------------------------------------------------------------------------------------
    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        # HF counts epochs and the summary's mean loss from where this session started; darl's sampler makes one
        # "epoch" the stage's max_steps, so both are set from the step and the logged history instead, and a
        # resumed stage logs what an uninterrupted one logs.
        if self.state.max_steps:
            self.state.epoch = self.state.global_step / self.state.max_steps
        if "train_loss" in logs:
            logs = {**logs, "train_loss": self._stage_mean_loss(logs["train_loss"])}
        for mode in ("train", "eval"):
            renamed: defaultdict[str, list[float]] = defaultdict(list)
            for key, values in self._metrics[mode].items():
                renamed[namespaced(key)].extend(values)
            self._metrics[mode] = renamed
        super().log({namespaced(k): v for k, v in logs.items()}, start_time)

    def _stage_mean_loss(self, session_mean: float) -> float:
        """Mean training loss over every step of the stage (each logged loss is the mean since the previous log),
        from the log history that checkpoints carry; HF's value covers only this session's steps."""
        total, last = 0.0, 0
        for entry in self.state.log_history:
            if "train/loss" in entry and entry["step"] > last:
                total += entry["train/loss"] * (entry["step"] - last)
                last = entry["step"]
        return total / last if last == self.state.global_step and last > 0 else session_mean

    # -- checkpoints -------------------------------------------------------------------------------------------------
    def darl_state(self) -> dict[str, Any]:
        step = self.state.global_step
        return {
            "step": step,
            "sampler": self.darl_sampler.state_at(step),
            "tracker": self.tracker.state_dict(upto_batch=step),
            "validation_history": self.validation_history,
            **self.extra_state,
        }

    def _save_checkpoint(self, model, trial):  # noqa: ANN001 (transformers signature)
        super()._save_checkpoint(model, trial)
        if self.args.should_save:
            folder = Path(self._get_output_dir(trial=trial)) / f"checkpoint-{self.state.global_step}"
            atomic_write_text(folder / DARL_STATE, json.dumps(self.darl_state()))

    def load_darl_state(self, checkpoint: Path) -> None:
        state = json.loads((checkpoint / DARL_STATE).read_text())
        self.darl_sampler.load_state(state["sampler"])
        self.tracker.load_state_dict(state["tracker"])
        self.validation_history = [tuple(x) for x in state["validation_history"]]
        if "plateau_decision" in state:  # the stage had ended on a plateau when this checkpoint was written
            self.extra_state["plateau_decision"] = state["plateau_decision"]
        self._rng_checkpoint = checkpoint

    # -- stage carry-over --------------------------------------------------------------------------------------------
    def create_scheduler(self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None):
        scheduler = super().create_scheduler(num_training_steps, optimizer)
        if self.carry_from is None:
            return scheduler
        if self.carry_optimizer:
            saved = torch.load(self.carry_from / "optimizer.pt", weights_only=True)
            current = self.optimizer.state_dict()
            # Keep this stage's hyper-parameters (lr, betas, ...), take only the moments.
            saved["param_groups"] = [{**new, "params": old["params"]}
                                     for old, new in zip(saved["param_groups"], current["param_groups"])]
            self.optimizer.load_state_dict(saved)
        if self.carry_scheduler:
            base_lrs = list(scheduler.base_lrs)
            scheduler.load_state_dict(torch.load(self.carry_from / "scheduler.pt", weights_only=True))
            scheduler.base_lrs = base_lrs  # continue the schedule's position at this stage's learning rate
        return scheduler


class PeriodicValidation(TrainerCallback):
    """Every `every_steps` steps: run `validate()` (greedy held-out accuracy), record it, ask the plateau test."""

    def __init__(self, trainer: DarlGRPOTrainer, every_steps: int, validate: Callable[[], float],
                 decide: Callable[[list[tuple[int, float]]], Any] | None) -> None:
        self.trainer = trainer
        self.every_steps = every_steps
        self.validate = validate
        self.decide = decide
        self.last_decision: Any = None

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001 (transformers callback signature)
        if state.global_step % self.every_steps:
            return control
        score = self.validate()
        self.trainer.validation_history.append((state.global_step, score))
        metrics = self.trainer._metrics["train"]
        metrics["stage/val_accuracy"] = [score]
        if self.decide is not None:
            decision = self.decide(self.trainer.validation_history)
            self.last_decision = decision
            metrics["stage/plateau_non_improving"] = [float(decision.non_improving)]
            if decision.p_value is not None:
                metrics["stage/plateau_p_value"] = [decision.p_value]
            if decision.stop:
                self.trainer.extra_state["plateau_decision"] = decision.to_dict()
                control.should_training_stop = True
                control.should_save = True
        return control
