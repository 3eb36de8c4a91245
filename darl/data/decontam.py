"""Decontamination: drop training problems that overlap an evaluation problem, reporting each match.

Both sides are normalised (`darl.data.text`) and cut into word `n`-grams (default 8, as Open-R1's decontamination;
markup is ignored). A training problem T matches benchmark problem B when the n-grams they share cover at least
`min_overlap` (default 0.5) of the smaller of the two n-gram sets, so a benchmark problem copied into a longer
training prompt still matches, and so does a training problem copied from inside a longer benchmark statement.
Texts shorter than `n` words are matched by containment of their whole word sequence (at least 3 words).

Numbers must agree too: at least 80% of the numbers (as multisets) of the side with fewer numbers must appear in
the other (a LeetCode copy without its examples still matches the full LiveCodeBench statement). Templated
problems ("the quadratic x^2-20x+36 can be written in the form (x+b)^2+c") share most of their words with a
benchmark problem yet are different problems when their numbers differ. N-grams made only of numbers are ignored
(long digit runs in test data match by chance).

Answers must agree for a weaker match: a math training problem whose overlap is below `strong_overlap` (0.95)
matches a math benchmark problem only if their reference answers agree once formatting is removed; a
near-verbatim copy matches whatever its answer says. Olympiad problems share long preambles ("let a, b, c, d be
positive real numbers. find the minimum value of"), and "arrange the letters of the word RADII" is not "... of the
word ELLIPSE"; a copy of the benchmark problem keeps its answer.

Boilerplate: an n-gram found in more than `max_df` (default 10) benchmark problems ("the input is given from
standard input in the following format" in every AtCoder task) is ignored on both sides, so shared templates do
not flag unrelated problems. Differences from the paper: the paper does not say how its data was decontaminated;
this follows common practice (n-gram overlap) with the coverage rule and the boilerplate filter added.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

from darl.data.text import answer_key, normalize, numbers, words
from darl.records import Problem


@dataclass(frozen=True)
class ContaminationMatch:
    """Training problem `train_id` overlaps `benchmark` problem `benchmark_id`: `shared` n-grams, covering
    `overlap` of the smaller side; `example` is one shared n-gram as text."""

    train_id: str
    benchmark: str
    benchmark_id: str
    overlap: float
    shared: int
    example: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DecontamResult:
    kept: list[Problem]
    removed: list[ContaminationMatch] = field(default_factory=list)  # the best match of each removed problem
    other_matches: list[ContaminationMatch] = field(default_factory=list)  # further matches of removed problems

    def by_benchmark(self) -> dict[str, int]:
        return dict(Counter(m.benchmark for m in self.removed))


def ngrams(word_list: Sequence[str], n: int) -> set[tuple[str, ...]]:
    """Word n-grams with at least one word that is not a number."""
    grams = {tuple(word_list[i:i + n]) for i in range(len(word_list) - n + 1)}
    return {g for g in grams if not all(w[0].isdigit() for w in g)}


def number_agreement(benchmark_numbers: Counter[str], train_numbers: Counter[str]) -> float:
    """The numbers (multisets) the two problems share, as a share of the side with fewer numbers; 1.0 when either
    has none. The smaller side, because one copy may leave out the examples and constraints the other shows."""
    total = min(sum(benchmark_numbers.values()), sum(train_numbers.values()))
    return 1.0 if total == 0 else sum((benchmark_numbers & train_numbers).values()) / total


class EvalIndex:
    """An n-gram index over evaluation problems: `matches(text)` -> the benchmark problems a text overlaps."""

    def __init__(self, eval_sets: Mapping[str, Sequence[Problem]], *, n: int = 8, min_overlap: float = 0.5,
                 max_df: int = 10, min_number_agreement: float = 0.8, strong_overlap: float = 0.95) -> None:
        if n < 2:
            raise ValueError(f"n must be >= 2, got {n}")
        if not 0 < min_overlap <= 1:
            raise ValueError(f"min_overlap must be in (0, 1], got {min_overlap}")
        self.n, self.min_overlap, self.min_number_agreement = n, min_overlap, min_number_agreement
        self.strong_overlap = strong_overlap
        self.keys: list[tuple[str, str]] = []
        self.answers: list[str | None] = []
        self.numbers: list[Counter[str]] = []
        postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self.short: list[tuple[int, str]] = []
        for name, problems in eval_sets.items():
            for problem in problems:
                key = len(self.keys)
                self.keys.append((name, problem.id))
                self.answers.append(answer_key(problem.answer) if problem.answer is not None else None)
                text = normalize(problem.prompt)
                self.numbers.append(Counter(numbers(text)))
                word_list = words(text)
                if len(word_list) < n:
                    if len(word_list) >= 3:
                        self.short.append((key, " " + " ".join(word_list) + " "))
                    continue
                for gram in ngrams(word_list, n):
                    postings[gram].append(key)
        self.boilerplate = {g for g, keys in postings.items() if len(keys) > max_df}
        self.postings = {g: keys for g, keys in postings.items() if g not in self.boilerplate}
        self.size = Counter(k for keys in self.postings.values() for k in keys)

    def _answers_allow(self, key: int, overlap: float, answer: str | None) -> bool:
        bench_answer = self.answers[key]
        return overlap >= self.strong_overlap or answer is None or bench_answer is None or answer == bench_answer

    def matches(self, text: str, answer: str | None = None) -> list[tuple[int, float, int, str]]:
        """(benchmark key, overlap, shared n-grams, example n-gram) for every benchmark problem `text` matches,
        best first. `answer`: the training problem's reference answer (math), checked for weaker matches."""
        answer = answer_key(answer) if answer is not None else None
        text = normalize(text)
        word_list = words(text)
        text_numbers = Counter(numbers(text))
        found: list[tuple[int, float, int, str]] = []
        if len(word_list) >= self.n:
            grams = ngrams(word_list, self.n) - self.boilerplate
            shared: Counter[int] = Counter()
            example: dict[int, tuple[str, ...]] = {}
            for gram in grams:
                for key in self.postings.get(gram, ()):
                    shared[key] += 1
                    example.setdefault(key, gram)
            for key, count in shared.items():
                overlap = count / min(len(grams), self.size[key])
                if overlap >= self.min_overlap and self._answers_allow(key, overlap, answer) and \
                        number_agreement(self.numbers[key], text_numbers) >= self.min_number_agreement:
                    found.append((key, round(overlap, 4), count, " ".join(example[key])))
        if self.short:
            padded = " " + " ".join(word_list) + " "
            for key, needle in self.short:
                if needle in padded and self._answers_allow(key, 0.0, answer) and \
                        number_agreement(self.numbers[key], text_numbers) >= self.min_number_agreement:
                    found.append((key, 1.0, 1, needle.strip()))
        return sorted(found, key=lambda m: (-m[1], -m[2]))


def decontaminate(problems: Sequence[Problem], eval_sets: Mapping[str, Sequence[Problem]], *, n: int = 8,
                  min_overlap: float = 0.5, max_df: int = 10, min_number_agreement: float = 0.8,
                  strong_overlap: float = 0.95, progress: Callable[[int], None] | None = None) -> DecontamResult:
    """Split `problems` into those that overlap no problem of `eval_sets` (benchmark name -> problems) and
    the matches of those that do."""
    index = EvalIndex(eval_sets, n=n, min_overlap=min_overlap, max_df=max_df,
                      min_number_agreement=min_number_agreement, strong_overlap=strong_overlap)
    result = DecontamResult(kept=[])
    for count, problem in enumerate(problems, start=1):
        found = index.matches(problem.prompt, problem.answer)
        if not found:
            result.kept.append(problem)
        else:
            matches = [ContaminationMatch(problem.id, *index.keys[key], overlap, shared, example)
                       for key, overlap, shared, example in found]
            result.removed.append(matches[0])
            result.other_matches.extend(matches[1:])
        if progress is not None and count % 1000 == 0:
            progress(count)
    if progress is not None:
        progress(len(problems))
    return result

