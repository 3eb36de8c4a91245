"""The level/domain sampler: ratio inside every batch, TRL's repeat layout, passes without replacement,
resume from a saved position, and the online-difficulty policy."""

from __future__ import annotations

import itertools

from darl.training.sampler import LevelDomainSampler, Stream, apportion


def _streams(n_math=50, n_code=30, w=(2.1, 1.0)):
    math = Stream("math/L1", w[0], tuple(range(n_math)), tuple(f"m{i}" for i in range(n_math)))
    code = Stream("code/L3", w[1], tuple(range(n_math, n_math + n_code)), tuple(f"c{i}" for i in range(n_code)))
    return [math, code]


def _batches(sampler, prompts, g, repeat):
    flat = list(sampler)
    size = prompts * g * repeat
    return [flat[i:i + size] for i in range(0, len(flat), size)]


def test_apportion_hits_ratio_in_every_batch_and_exactly_in_the_long_run():
    carry = [0.0, 0.0]
    totals = [0, 0]
    for _ in range(300):
        counts, carry = apportion(128, [2.1, 1.0], carry)
        assert sum(counts) == 128
        assert counts[0] in (86, 87) and counts[1] in (41, 42)  # 128 * 2.1/3.1 = 86.7
        totals = [t + c for t, c in zip(totals, counts)]
    assert abs(totals[0] / totals[1] - 2.1) < 0.01


def test_repeat_contract_and_ratio_per_batch():
    sampler = LevelDomainSampler(_streams(), prompts_per_batch=6, num_generations=4, repeat_count=2,
                                 total_batches=10, seed=1)
    assert len(sampler) == 10 * 6 * 4 * 2
    for batch in _batches(sampler, 6, 4, 2):
        half = len(batch) // 2
        assert batch[:half] == batch[half:]  # whole generation batch repeated repeat_count times
        groups = [batch[i:i + 4] for i in range(0, half, 4)]
        assert all(len(set(g)) == 1 for g in groups)  # each prompt num_generations times in a row
        prompts = [g[0] for g in groups]
        assert len(set(prompts)) == 6
        n_math = sum(p < 50 for p in prompts)
        assert n_math in (4, 5)  # 6 * 2.1/3.1 = 4.06


def test_each_pass_draws_every_prompt_once():
    sampler = LevelDomainSampler(_streams(n_math=12, n_code=8, w=(1.0, 1.0)), prompts_per_batch=4,
                                 num_generations=2, repeat_count=1, total_batches=4, seed=0)
    drawn = [b[::2] for b in _batches(sampler, 4, 2, 1)]
    math = [p for b in drawn for p in b if p < 12]
    code = [p for b in drawn for p in b if p >= 12]
    assert sorted(math[:8]) == sorted(set(math[:8])) and sorted(code) == sorted(set(code))


def test_resume_from_saved_state_continues_the_same_sequence():
    def make():
        return LevelDomainSampler(_streams(n_math=7, n_code=5), prompts_per_batch=3, num_generations=2,
                                  repeat_count=1, total_batches=12, seed=5)
    full = list(make())
    first = make()
    it = iter(first)
    consumed = list(itertools.islice(it, 5 * 3 * 2 + 3))  # 5 batches consumed, loader one batch ahead
    saved = first.state_at(5)
    resumed = make()
    resumed.load_state(saved)
    assert consumed[:30] + list(resumed) == full


def test_policy_retires_and_defers_at_pass_start_with_a_lag():
    calls = []

    def policy(keys, upto_batch):
        calls.append(upto_batch)
        return ["retired" if k == "m0" else "deferred" if k == "m1" else "active" for k in keys]

    stream = Stream("math/L1", 1.0, tuple(range(5)), tuple(f"m{i}" for i in range(5)))
    sampler = LevelDomainSampler([stream], prompts_per_batch=2, num_generations=2, repeat_count=1,
                                 total_batches=6, seed=0, policy=policy)
    prompts = [p for b in _batches(sampler, 2, 2, 1) for p in b[::2]]
    assert 0 not in prompts
    # the deferred prompt closes each pass of 4 (3 active + 1 deferred): it is in the second batch of 2
    assert 1 in prompts[2:4] and 1 not in prompts[:2]
    assert calls[0] == -2  # the first pass sees no observations (lag 2 behind batch 0)
    assert sampler.state_at(sampler.next_batch)["events"]["retired"] >= 2


# ------------------------------------------------------------------------------ properties and exact contracts
import math  # noqa: E402

import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(deadline=None)
@given(st.integers(1, 64), st.lists(st.floats(0.05, 20), min_size=1, max_size=5), st.integers(1, 40))
def test_apportion_quota_and_long_run_exactness(prompts, weights, batches):
    """Every batch: counts sum to `prompts` and each is its quota (share + carried remainder) rounded down or up;
    over any number of batches each stream's total is within one prompt of its exact share."""
    carry = [0.0] * len(weights)
    totals = [0] * len(weights)
    share = [prompts * w / sum(weights) for w in weights]
    for b in range(1, batches + 1):
        quotas = [s + c for s, c in zip(share, carry)]
        counts, carry = apportion(prompts, weights, carry)
        assert sum(counts) == prompts and all(n >= 0 for n in counts)
        assert all(abs(n - q) < 1 + 1e-9 for n, q in zip(counts, quotas))
        assert carry == pytest.approx([q - n for q, n in zip(quotas, counts)])
        totals = [t + n for t, n in zip(totals, counts)]
        assert all(abs(t - b * s) < 1 + 1e-6 for t, s in zip(totals, share)), (b, totals)


def test_apportion_ties_go_to_the_earlier_stream_and_over_allocation_is_taken_back():
    assert apportion(3, [1.0, 1.0], [0.0, 0.0]) == ([2, 1], [-0.5, 0.5])
    assert apportion(1, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])[0] == [1, 0, 0]
    assert apportion(5, [1.0, 3.0], [0.0, 0.0]) == ([1, 4], [0.25, -0.25])
    # carries that sum above 0 (never produced by apportion itself) over-allocate; the most over-served stream,
    # the earlier one on a tie, gives the prompt back
    counts, carry = apportion(1, [1.0, 1.0], [0.9, 0.9])
    assert counts == [0, 1] and carry == pytest.approx([1.4, 0.4])
    counts, _ = apportion(2, [1.0, 1.0, 2.0], [0.0, 0.95, 0.0])
    assert counts == [0, 1, 1] and sum(counts) == 2
    assert apportion(1, [1.0, 1.0], [0.9, 0.6])[0] == [1, 0]  # the stream most above its quota gives it back
    # the largest remainder wins, not the largest quota: 1.5 and 2.5 tie on .5, so the earlier stream gets it
    assert apportion(4, [1.5, 2.5], [0.0, 0.0]) == ([2, 2], [-0.5, 0.5])


def _split(prompts: int) -> st.SearchStrategy[int]:
    return st.sampled_from([d for d in range(1, prompts + 1) if prompts % d == 0])


@settings(deadline=None)
@given(st.integers(1, 24).flatmap(lambda p: st.tuples(st.just(p), _split(p))),
       st.lists(st.floats(0.2, 5), min_size=1, max_size=4), st.integers(0, 10_000))
def test_every_batch_holds_the_apportioned_prompts_and_slices_cover_it(batch_and_procs, weights, seed):
    """For any batch size and process count (TRL needs the batch to divide evenly): each generation batch has
    exactly the apportioned number of prompts of each stream, and the processes' contiguous slices together are
    the batch."""
    prompts, procs = batch_and_procs
    streams = [Stream(f"s{i}", w, tuple(range(100 * i, 100 * i + 30)), tuple(f"k{i}-{j}" for j in range(30)))
               for i, w in enumerate(weights)]
    sampler = LevelDomainSampler(streams, prompts, num_generations=1, repeat_count=1, total_batches=6, seed=seed)
    carry = [0.0] * len(streams)
    for _ in range(6):
        rows = sampler.draw_batch()
        counts, carry = apportion(prompts, weights, carry)
        assert [sum(r // 100 == i for r in rows) for i in range(len(streams))] == counts
        size = prompts // procs
        assert [r for p in range(procs) for r in rows[p * size:(p + 1) * size]] == rows


@pytest.mark.parametrize("prompts,procs,weights", [(6, 2, (2.1, 1.0)), (8, 4, (1.0, 1.0, 2.0)), (12, 3, (5.0, 1.0))])
def test_each_process_slice_gets_every_stream_at_its_share(prompts, procs, weights):
    """The interleaving: over 400 batches the prompts of each stream spread evenly over the processes' slices
    (within 5 standard deviations of a uniformly random placement). Without it the first process would train
    only on the first stream."""
    streams = [Stream(f"s{i}", w, tuple(range(1000 * i, 1000 * i + 50)), tuple(f"k{i}-{j}" for j in range(50)))
               for i, w in enumerate(weights)]
    batches = 400
    sampler = LevelDomainSampler(streams, prompts, num_generations=1, repeat_count=1, total_batches=batches, seed=7)
    size = prompts // procs
    observed = [[0] * len(streams) for _ in range(procs)]
    variance = [0.0] * len(streams)
    for _ in range(batches):
        rows = sampler.draw_batch()
        for i in range(len(streams)):
            k = sum(r // 1000 == i for r in rows)
            # hypergeometric variance of one slice's count of a stream with k of the batch's prompts
            variance[i] += size * (k / prompts) * (1 - k / prompts) * (prompts - size) / max(prompts - 1, 1)
            for p in range(procs):
                observed[p][i] += sum(r // 1000 == i for r in rows[p * size:(p + 1) * size])
    totals = [sum(observed[p][i] for p in range(procs)) for i in range(len(streams))]
    for p in range(procs):
        for i in range(len(streams)):
            expected = totals[i] / procs
            assert abs(observed[p][i] - expected) <= 5 * math.sqrt(variance[i]), (p, i, observed, expected)


def test_each_pass_is_a_new_order():
    stream = Stream("math/L1", 1.0, tuple(range(20)), tuple(f"m{i}" for i in range(20)))
    sampler = LevelDomainSampler([stream], prompts_per_batch=20, num_generations=1, repeat_count=1,
                                 total_batches=3, seed=0)
    passes = [sampler.draw_batch() for _ in range(3)]
    assert all(sorted(p) == list(range(20)) for p in passes)
    assert len({tuple(p) for p in passes}) == 3


def test_policy_events_are_counted_exactly():
    def policy(keys, upto_batch):
        return ["retired" if k == "m0" else "deferred" if k in ("m1", "m2") else "active" for k in keys]

    stream = Stream("math/L1", 1.0, tuple(range(5)), tuple(f"m{i}" for i in range(5)))
    sampler = LevelDomainSampler([stream], prompts_per_batch=4, num_generations=1, repeat_count=1,
                                 total_batches=3, seed=0, policy=policy)
    assert sampler.events == {"retired": 0, "deferred": 0, "reset": 0}
    for _ in range(3):  # 4 prompts per pass (m0 retired): one pass per batch
        sampler.draw_batch()
    assert sampler.events == {"retired": 3, "deferred": 6, "reset": 0}
    sampler.events["retired"] = 99  # a copy
    assert sampler.events["retired"] == 3

    everything_retired = LevelDomainSampler([stream], prompts_per_batch=5, num_generations=1, repeat_count=1,
                                            total_batches=2, seed=0, policy=lambda keys, b: ["retired"] * len(keys))
    rows = [everything_retired.draw_batch() for _ in range(2)]
    assert [sorted(r) for r in rows] == [list(range(5))] * 2  # starts over rather than starving the stream
    assert everything_retired.events == {"retired": 10, "deferred": 0, "reset": 2}


def test_saved_states_are_copies_and_kept_for_four_batches_back():
    sampler = LevelDomainSampler(_streams(), prompts_per_batch=3, num_generations=1, repeat_count=1,
                                 total_batches=20, seed=2)
    for _ in range(10):
        sampler.draw_batch()
    assert sampler.next_batch == 10
    assert sorted(sampler.drawn) == [5, 6, 7, 8, 9]
    for b in range(5, 11):
        assert sampler.state_at(b)["batch"] == b
    with pytest.raises(KeyError, match=r"sampler state before batch 4 is no longer kept \(next batch 10\)"):
        sampler.state_at(4)
    state = sampler.state_at(10)
    state["streams"]["math/L1"]["order"].clear()
    state["carry"][0] = 99.0
    assert sampler.state_at(10)["streams"]["math/L1"]["order"] and sampler.state_at(10)["carry"][0] != 99.0
    old = sampler.state_at(7)
    old["streams"]["code/L3"]["order"].clear()
    assert sampler.state_at(7)["streams"]["code/L3"]["order"]
    fresh = LevelDomainSampler(_streams(), prompts_per_batch=3, num_generations=1, repeat_count=1,
                               total_batches=20, seed=2)
    saved = sampler.state_at(10)
    fresh.load_state(saved)
    saved["streams"]["math/L1"]["cursor"] = 999
    assert fresh.state_at(10)["streams"]["math/L1"]["cursor"] != 999
    last = sampler.draw_batch()
    assert fresh.draw_batch() == last  # the state before batch 10 draws batch 10 again
    assert sampler.drawn[10] == last and sorted(sampler.drawn) == [6, 7, 8, 9, 10]  # what the trainer checks


def test_bad_streams_and_states_are_refused_with_their_names():
    with pytest.raises(ValueError, match="stream 'a' has no prompts"):
        Stream("a", 1.0, (), ())
    with pytest.raises(ValueError, match="stream 'a': rows and keys differ in length"):
        Stream("a", 1.0, (1, 2), ("x",))
    with pytest.raises(ValueError, match="stream 'a': weight must be > 0"):
        Stream("a", 0.0, (1,), ("x",))
    with pytest.raises(ValueError, match="^LevelDomainSampler needs at least one stream$"):
        LevelDomainSampler([], 1, 1, 1, 1, 0)
    sampler = LevelDomainSampler(_streams(), 3, 1, 1, 2, 0)
    other = LevelDomainSampler([Stream("math/L2", 1.0, (1,), ("x",))], 3, 1, 1, 2, 0)
    with pytest.raises(ValueError, match=r"sampler state has streams \['math/L2'\], this stage has "
                                         r"\['code/L3', 'math/L1'\]"):
        sampler.load_state(other.state_at(0))


def test_a_batch_across_a_pass_boundary_has_distinct_prompts():
    # 30 prompts, 7 a batch: batches 4, 8, 12, ... cross a pass boundary (the end of one pass, the start of the next)
    stream = Stream("math/L1", 1.0, tuple(range(30)), tuple(f"m{i}" for i in range(30)))
    sampler = LevelDomainSampler([stream], prompts_per_batch=7, num_generations=1, repeat_count=1,
                                 total_batches=60, seed=0)
    drawn: list[int] = []
    for _ in range(60):
        rows = sampler.draw_batch()
        assert len(set(rows)) == len(rows), rows
        drawn += sorted(rows)  # a batch's own order is shuffled; passes are counted in whole batches below
    # still without replacement inside a pass: every 30 prompts drawn in a row hold each prompt once, counted at
    # the batches that end exactly on a pass boundary (every 30 batches: 210 prompts, 7 passes)
    assert sorted(drawn[:210]) == sorted(list(range(30)) * 7)


def test_a_stream_smaller_than_its_share_repeats_prompts_rather_than_starving():
    stream = Stream("math/L1", 1.0, (0, 1, 2), ("a", "b", "c"))
    sampler = LevelDomainSampler([stream], prompts_per_batch=5, num_generations=1, repeat_count=1,
                                 total_batches=3, seed=0)
    for _ in range(3):
        rows = sampler.draw_batch()
        assert len(rows) == 5 and set(rows) == {0, 1, 2}
