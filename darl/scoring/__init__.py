"""`darl score`: difficulty scores from several proxy models (method.md section 3).

Each model samples K responses per problem at the evaluation settings; the domain verifier checks each; the
result is one row per (problem, model) with K, passes, pass rate, mean score, token statistics, truncations and
the model/verifier versions (`table`). `runner.run_shard` does one shard with generation and verification
overlapped and resumable commits (`store`); `merge.merge_shards` joins shards; `ray_runner` runs shards on Ray.
"""

from darl.scoring.job import ModelSpec, ScoreJob, Shard
from darl.scoring.merge import merge_shards
from darl.scoring.runner import ProgressEvent, ShardResult, run_shard
from darl.scoring.table import read_scores

__all__ = ["ModelSpec", "ProgressEvent", "ScoreJob", "Shard", "ShardResult", "merge_shards", "read_scores",
           "run_shard"]
