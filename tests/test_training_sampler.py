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
