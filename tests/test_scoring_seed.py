"""Scoring samples each problem from (seed, model, problem id) alone: `--batch-problems` and the back end's row batch
size change no response. Real embedded-family model, real transformers generation, real verifiers."""

from __future__ import annotations

import sys

import pyarrow.parquet as pq
import pytest
import torch

from darl.data.io import write_problems
from darl.generation.base import SamplingParams
from darl.scoring import ModelSpec, ScoreJob, run_shard
from darl.scoring.runner import problem_seed
from darl.verifiers import Verifier


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: torch on one thread in these tests


def test_problem_seed_depends_on_seed_model_and_id_only():
    assert problem_seed(0, "small", "p1") == problem_seed(0, "small", "p1")
    assert len({problem_seed(0, "small", "p1"), problem_seed(1, "small", "p1"), problem_seed(0, "large", "p1"),
                problem_seed(0, "small", "p2")}) == 4
    with pytest.raises(ValueError, match="2 seeds for 3 conversations"):
        SamplingParams(seeds=(1, 2)).conversation_seeds(3)


def _samples(folder) -> dict[tuple[str, int], str]:
    """(problem id, sample index) -> response text, from a shard folder's samples files."""
    rows = [r for part in sorted(next(folder.glob("shard-*")).glob("samples-*.parquet"))
            for r in pq.read_table(part).to_pylist()]
    return {(r["problem_id"], r["sample"]): r["text"] for r in rows}


def test_two_batchings_give_identical_responses(tmp_path, embedded_family):
    problems = embedded_family.problems("train")[::80][:6]  # one per stretch of levels: some the policy is unsure of
    path = write_problems(problems, tmp_path / "p.parquet")
    model = str(embedded_family.path("small"))
    runs = {}
    with Verifier() as verifier:
        for name, batch_problems, batch_size in (("one-by-one", 1, 3), ("all-at-once", 6, 64)):
            job = ScoreJob(str(path), (ModelSpec("small", model, batch_size=batch_size),), k=4, max_new_tokens=64,
                           batch_problems=batch_problems, keep_responses=True)
            assert run_shard(job, tmp_path / name, verifier=verifier).complete
            runs[name] = _samples(tmp_path / name)
    assert len(runs["one-by-one"]) == 24
    assert runs["one-by-one"] == runs["all-at-once"]
    assert len(set(runs["one-by-one"].values())) > 6  # sampled, not greedy: samples of a problem differ


def test_vllm_gets_each_problems_seed(monkeypatch):
    """The vLLM back end (not installable here) maps `seeds` onto its per-request seed (a stand-in module records
    the SamplingParams it is given)."""
    import types

    made = []

    class FakeSamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs
            made.append(kwargs)

    module = types.ModuleType("vllm")
    module.SamplingParams = FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    from darl.generation.vllm_backend import VLLMGenerator

    generator = VLLMGenerator.__new__(VLLMGenerator)
    generator._vllm = module
    params = SamplingParams(n=2, seeds=(11, 7))
    assert [generator.sampling_params(params, i).kwargs["seed"] for i in range(2)] == [11, 7]
    assert generator.sampling_params(SamplingParams(seed=3), 1).kwargs["seed"] == 4


def test_row_sampler_draws_from_transformers_own_distribution():
    """Each row's draws follow exactly what transformers' temperature + top-p warpers give (tokens top-p removed
    never come up), and a row's draws depend on its own seed only."""
    from transformers.generation.logits_process import TemperatureLogitsWarper, TopPLogitsWarper

    from darl.generation.transformers_backend import RowSampler

    torch.manual_seed(0)
    logits = torch.randn(2, 8)
    expected = torch.softmax(TopPLogitsWarper(0.9)(None, TemperatureLogitsWarper(0.7)(None, logits.clone())), -1)
    sampler = RowSampler([5, 9], 0.7, 0.9, "cpu")
    counts = torch.zeros(2, 8)
    for _ in range(4000):
        counts[torch.arange(2), sampler(None, logits.clone()).argmax(-1)] += 1
    assert torch.allclose(counts / 4000, expected, atol=0.03)
    assert (counts[expected == 0] == 0).all()
    alone = RowSampler([9], 0.7, 0.9, "cpu")
    pair = RowSampler([5, 9], 0.7, 0.9, "cpu")
    for _ in range(50):
        assert alone(None, logits[1:].clone()).argmax(-1) == pair(None, logits.clone()).argmax(-1)[1]
