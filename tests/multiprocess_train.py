"""`darl train` as test_training_multiprocess.py launches it under `accelerate launch`: the real command line
(darl.cli.main), plus a record of the rollouts each rank scored at each step, so the test can check how the
sampler's batches were split over the ranks.

Every rank appends {"stage", "step", "rank", "ids"} (the problem id of each of its rollouts, in order) to
`$DARL_TEST_RANK_LOG.rank<k>.jsonl`. The record is taken where darl's trainer receives the rollouts TRL scored
(`_calculate_rewards`), i.e. after accelerate's data loader handed each rank its part of the generation batch.
"""

from __future__ import annotations

import json
import os

from darl.training.trainer import DarlGRPOTrainer

_calculate_rewards = DarlGRPOTrainer._calculate_rewards


def _recording(self, inputs, prompts, completions, completion_ids_list):  # noqa: ANN001 (TRL signature)
    if self.model.training:
        rank = self.accelerator.process_index
        record = {"stage": self.consumed_path.parent.name, "step": self.state.global_step, "rank": rank,
                  "ids": [x["problem_id"] for x in inputs]}
        with open(f"{os.environ['DARL_TEST_RANK_LOG']}.rank{rank}.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
    return _calculate_rewards(self, inputs, prompts, completions, completion_ids_list)


DarlGRPOTrainer._calculate_rewards = _recording

if __name__ == "__main__":
    from darl.cli.main import main

    main()
