"""The evaluation statistics, as pure functions: the unbiased pass@k estimator and Pass@1 with its standard error.

Pass@1 the paper's way (method.md section 6) is the mean correctness over n samples per problem, averaged over
problems. Two standard errors describe it and answer different questions:

- `stderr` treats the problems as a sample from a larger population of problems and the n samples of one problem as
  one cluster: the standard error of the mean of the per-problem pass rates, std(p_i) / sqrt(P). It is the honest
  error bar for "how good is this model at problems like these" and the one `compare` pairs on.
- `sampling_stderr` holds the problem set fixed and counts only the noise from drawing n samples per problem:
  sqrt(sum_i p_i (1 - p_i) / (n_i - 1)) / P. It says how much a re-run with other seeds would move the number.

The paper reports neither; it gives Pass@1 averaged over 16 (AIME, MATH-500) or 4 (LiveCodeBench) samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k for one problem from `n` samples of which `c` passed (Chen et al. 2021):
    1 - C(n - c, k) / C(n, k), the chance that at least one of k samples drawn without replacement from the n passes.

    Computed as 1 - prod_{i = n-c+1..n} (1 - k / i), which avoids huge binomials. Requires 0 <= c <= n and
    1 <= k <= n (k > n has no unbiased estimate from n samples: raise rather than guess)."""
    if n < 1:
        raise ValueError(f"pass_at_k: n must be >= 1, got {n}")
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: c must be in [0, n={n}], got {c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: k must be in [1, n={n}], got {k}")
    if n - c < k:
        return 1.0
    failing_all = 1.0
    for i in range(n - c + 1, n + 1):
        failing_all *= 1.0 - k / i
    return 1.0 - failing_all


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float | None:
    """Mean of `pass_at_k` over problems given `(n, c)` per problem; None when no problem has at least k samples
    (the estimate does not exist, which is not the same as 0). Problems with fewer than k samples are an error:
    averaging over a subset would silently change what the number means."""
    if not counts:
        return None
    short = [n for n, _ in counts if n < k]
    if short:
        raise ValueError(f"mean_pass_at_k: {len(short)} problem(s) have fewer than k={k} samples")
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


@dataclass(frozen=True)
class MeanWithError:
    """A mean over problems with its two standard errors (see the module docstring). `stderr` is None for a single
    problem; `sampling_stderr` is None when some problem has only one sample."""

    mean: float
    stderr: float | None
    sampling_stderr: float | None
    problems: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {"mean": self.mean, "stderr": self.stderr, "sampling_stderr": self.sampling_stderr,
                "problems": self.problems}


def mean_correctness(per_problem: Sequence[Sequence[float]]) -> MeanWithError | None:
    """Pass@1 as mean correctness: `per_problem[i]` holds the correctness (0/1, or a score in [0, 1]) of each sample
    of problem i. Each problem weighs the same whatever its number of samples. None for no problems.

    Shapes: per_problem is a ragged list of P lists of n_i >= 1 values."""
    if not per_problem:
        return None
    if any(len(values) == 0 for values in per_problem):
        raise ValueError("mean_correctness: a problem has no samples")
    rates = [sum(values) / len(values) for values in per_problem]
    count = len(rates)
    mean = sum(rates) / count
    stderr = None
    if count > 1:
        variance = sum((r - mean) ** 2 for r in rates) / (count - 1)
        stderr = math.sqrt(variance / count)
    sampling_stderr = None
    if all(len(values) > 1 for values in per_problem):
        within = 0.0
        for values, rate in zip(per_problem, rates):
            n = len(values)
            # unbiased within-problem variance of the sample mean: s^2 / n with s^2 = sum (x - rate)^2 / (n - 1)
            within += sum((x - rate) ** 2 for x in values) / (n - 1) / n
        sampling_stderr = math.sqrt(within) / count
    return MeanWithError(mean=mean, stderr=stderr, sampling_stderr=sampling_stderr, problems=count)


def majority_vote(votes: Sequence[tuple[str | None, float]]) -> float:
    """maj@n for one problem: the correctness of the answer given most often among its samples, each vote being
    (final answer, correctness of that sample); a sample without an answer (None) does not vote, and a problem
    where none answered scores 0. Ties count fractionally (the mean correctness over the tied answers, what a
    random tie-break gives on average), and an answer's correctness is the mean over the samples that gave it.

    Why it is reported: GRPO mostly sharpens a policy onto answers it already gives; maj@n over the starting
    policy's samples is what that sharpening alone could reach, so a Pass@1 bar above it asks the policy to learn."""
    tally: dict[str, list[float]] = {}
    for answer, correct in votes:
        if answer is not None:
            tally.setdefault(answer, []).append(correct)
    if not tally:
        return 0.0
    top = max(len(v) for v in tally.values())
    tied = [sum(v) / len(v) for v in tally.values() if len(v) == top]
    return sum(tied) / len(tied)
