"""In-loop validation split over processes: each process generates and verifies 1/N of the problems (vLLM
tensor-parallel groups share a shard), the verdicts are gathered, and every process ends with the single-process
result. Processes are threads here with a barrier standing in for accelerate's `gather_object`; the engine is a
recording fake (vLLM cannot run here); the tokenizer, chat template and math verifier are real."""

from __future__ import annotations

import threading

import pytest

from darl.generation.tiny_random import save_tiny_model
from darl.records import Problem
from darl.training.validation import (VLLMColocateEngine, merge_shards, render_prompts, shard_indices,
                                      sharded_accuracy)
from darl.verifiers import Verifier


def test_shards_partition_evenly_and_groups_share():
    for count, world in [(10, 4), (3, 8), (0, 2), (17, 1)]:
        shards = [shard_indices(count, r, world) for r in range(world)]
        assert sorted(i for s in shards for i in s) == list(range(count))
        assert max(map(len, shards)) - min(map(len, shards)) <= 1
    tp = [shard_indices(10, r, 4, group_size=2) for r in range(4)]
    assert tp[0] == tp[1] == [0, 2, 4, 6, 8] and tp[2] == tp[3] == [1, 3, 5, 7, 9]
    with pytest.raises(ValueError, match="divide"):
        shard_indices(10, 0, 4, group_size=3)
    with pytest.raises(ValueError, match="not in a world"):
        shard_indices(10, 4, 4)


def test_merge_shards_refuses_overlap_and_gaps():
    assert merge_shards(3, [(2, "c"), (0, "a"), (1, "b")]) == ["a", "b", "c"]
    with pytest.raises(RuntimeError, match="overlap"):
        merge_shards(2, [(0, "a"), (0, "a"), (1, "b")])
    with pytest.raises(RuntimeError, match="miss 1 of 2"):
        merge_shards(2, [(0, "a")])


class RecordingEngine:
    """Answers each rendered prompt from a table keyed by the problem text found in it; records every call."""

    def __init__(self, tokenizer, answers: dict[str, str]):
        self.tokenizer, self.answers, self.calls = tokenizer, answers, []

    def generate(self, prompt_ids, max_new_tokens):
        self.calls.append((len(prompt_ids), max_new_tokens))
        texts = [self.tokenizer.decode(ids) for ids in prompt_ids]
        return [next(a for q, a in self.answers.items() if q in t) for t in texts]


def run_world(world, group_size, problems, tokenizer, answers, verifier):
    """`sharded_accuracy` on `world` threads at once; gather = every thread's pieces, concatenated."""
    barrier, pieces, results, engines = threading.Barrier(world), [None] * world, [None] * world, []

    def worker(rank):
        def gather(mine):
            pieces[rank] = mine
            barrier.wait()
            return [x for p in pieces for x in p]

        engine = RecordingEngine(tokenizer, answers)
        engines.append((rank, engine))
        results[rank] = sharded_accuracy(problems, engine, tokenizer, verifier, 64, rank=rank, world=world,
                                         group_size=group_size, gather=gather)

    threads = [threading.Thread(target=worker, args=(r,)) for r in range(world)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, dict(engines), pieces


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(save_tiny_model(tmp_path_factory.mktemp("val") / "m"))
    problems = [Problem(id=f"p{i}", domain="math", prompt=f"Q{i} add", answer=str(i), metadata={"raw_prompt": True})
                for i in range(10)]
    answers = {f"Q{i} ": f"\\boxed{{{i if i % 3 else i + 1}}}" for i in range(10)}  # 0, 3, 6, 9 wrong
    with Verifier() as verifier:
        yield problems, tokenizer, answers, verifier


def test_each_process_does_its_share_and_all_agree(setup):
    problems, tokenizer, answers, verifier = setup
    [single], _, _ = run_world(1, 1, problems, tokenizer, answers, verifier)
    assert single.accuracy == pytest.approx(6 / 10) and single.count == 10
    results, engines, pieces = run_world(4, 1, problems, tokenizer, answers, verifier)
    assert all(r == single for r in results)  # every rank: the same numbers as one process
    assert [engines[r].calls for r in range(4)] == [[(3, 64)], [(3, 64)], [(2, 64)], [(2, 64)]]
    assert sorted(i for p in pieces for i, _ in p) == list(range(10))


def test_tensor_parallel_groups_generate_together_and_report_once(setup):
    problems, tokenizer, answers, verifier = setup
    results, engines, pieces = run_world(4, 2, problems, tokenizer, answers, verifier)
    assert all(r.accuracy == pytest.approx(0.6) for r in results)
    # ranks 0 and 1 (one vLLM engine) get the same 5 prompts; only rank 0 of each group reports verdicts
    assert engines[0].calls == engines[1].calls == [(5, 64)] and engines[2].calls == [(5, 64)]
    assert [len(p) for p in pieces] == [5, 0, 5, 0]


def test_colocate_engine_asks_vllm_for_greedy_completions(setup):
    problems, tokenizer, _, _ = setup
    seen = {}

    class Params:
        def __init__(self, **kw):
            seen["params"] = kw

    class LLM:
        def generate(self, prompts, sampling_params, use_tqdm):
            seen["prompts"] = prompts
            return [type("R", (), {"outputs": [type("O", (), {"text": f"t{k}"})()]})() for k in range(len(prompts))]

    ids = render_prompts(tokenizer, problems[:2])
    assert VLLMColocateEngine(LLM(), Params).generate(ids, 99) == ["t0", "t1"]
    assert seen["params"] == {"n": 1, "temperature": 0.0, "max_tokens": 99, "skip_special_tokens": True}
    assert seen["prompts"] == [{"prompt_token_ids": x} for x in ids]
