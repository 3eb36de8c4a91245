"""The math verifier: is the final answer of a response equal to the reference answer? (score 1 or 0)

The paper grades math with Math-Verify. darl keeps Math-Verify as the judge of equivalence and puts three things
around it:

1. Extraction and guards in the calling process, in plain Python (darl.verifiers.math_answer): the final-answer
   part (text after `</think>`), its last `\\boxed{}`, tidy-ups for forms Math-Verify misreads, and refusal of
   answers that would make sympy run away (power towers, megabyte boxes). Only the boxed answer, a few hundred
   characters at most, ever reaches sympy; a response without a box has no answer (the paper's rule).
2. Answers decided without sympy: two plain numbers (integers with or without leading zeros, decimals,
   fractions) and multiple-choice letters, which most contest answers are; and wrong answers whose values
   clearly differ (darl.verifiers.math_constant evaluates constants, letters at a sample point, and lists),
   which Math-Verify would reject only after parsing both and running sympy's simplify.
3. Everything else runs Math-Verify in a `DeadlinePool` (darl.verifiers.deadline): worker processes with a hard
   per-check deadline that works from any thread; a check past it has its worker killed and replaced and is
   reported as 'timeout'. Gold answers are parsed once per worker and cached.

Verdicts: passed -> Verdict(1.0, True, None); a wrong answer -> Verdict(0.0, False, None) (a wrong answer is an
outcome, not an error); otherwise error is one of 'no final answer (thinking not closed)', 'no boxed answer',
'no answer found', 'unparseable answer', 'answer too long', 'power tower too large', 'number too large', 'answer nested too deeply',
'timeout', 'verifier crashed', 'unparseable reference answer'.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

from darl.records import Problem, Verdict
from darl.verifiers import math_answer as ans
from darl.verifiers.math_constant import sampled_differ
from darl.verifiers.deadline import DeadlinePool, default_workers
from darl.verifiers.extract import NO_FINAL_ANSWER, final_answer_part

NO_BOXED_ANSWER = "no boxed answer"
DECIMAL_PLACES = 6  # as Math-Verify's float_rounding: 0.3333333 equals 1/3, 0.333 does not


@dataclass(frozen=True)
class GoldAnswer:
    """A reference answer prepared once: its tidied text, its plain-number value and its choice letters."""

    text: str
    number: tuple[Fraction, bool] | None
    choices: frozenset[str] | None
    choice_value: str | None  # the value part of a gold like '\\textbf{(E) } 8'
    is_number: bool


@lru_cache(maxsize=65536)
def prepare_gold(answer: str) -> GoldAnswer:
    """Tidy a reference answer (AIME '025', AMC '27.0', MATH LaTeX) and classify it; cached per process."""
    text = answer.strip()
    boxed = ans.last_boxed(text)
    if boxed is not None:
        text = boxed.strip()
    if text.startswith("$") and text.endswith("$") and len(text) > 1:
        text = text.strip("$").strip()
    is_number = ans.is_plain_number(text)
    text = ans.tidy(text, reference_is_number=is_number)
    split = ans.split_choice(text)
    choices = ans.choice_letters(text)
    if split is not None:
        choices = frozenset(split[0])
    return GoldAnswer(text=text, number=ans.number_in_degrees(text), choices=choices,
                      choice_value=split[1] if split else None, is_number=is_number)


def _numbers_decide(gold: tuple[Fraction, bool], pred: tuple[Fraction, bool]) -> bool | None:
    """True/False when two plain numbers settle the question, None to leave it to Math-Verify."""
    (g, g_exact), (p, p_exact) = gold, pred
    if g == p:
        return True
    if g_exact and p_exact:
        return False
    if round(g, DECIMAL_PLACES) == round(p, DECIMAL_PLACES):
        return True
    if abs(g - p) > Fraction(2, 10**DECIMAL_PLACES):
        return False
    return None  # decimals that differ in rounding: Math-Verify's own rule decides


@dataclass(frozen=True)
class _Plan:
    """Either a verdict decided in the calling process, or a payload for the worker pool."""

    verdict: Verdict | None = None
    payload: tuple[str, tuple[str, ...], str | None, bool] | None = None


_PASS = Verdict(1.0, True, None)
_WRONG = Verdict(0.0, False, None)


def plan_check(gold_answer: str, response: str, thinking: bool = False, prompt: str | None = None) -> _Plan:
    """Decide what can be decided without sympy, and build the worker payload for the rest. Pure and linear in
    the length of `response`; never raises on any string. `thinking`: the prompt opened a `<think>` block
    (darl.verifiers.extract). `prompt`: the question, so that an answer that only echoes it scores 0."""
    final = final_answer_part(response, thinking)
    if final is None:
        return _Plan(Verdict(0.0, False, NO_FINAL_ANSWER))
    gold = prepare_gold(gold_answer)
    boxed = ans.last_boxed(final)
    if boxed is None:
        # The paper's rule: the answer is the last box. A response without one has no answer, even when it ends
        # in a number: free-text extraction graded the last number of responses cut off at the token limit.
        if ans.has_unclosed_box(final):
            return _Plan(Verdict(0.0, False, "unparseable answer"))
        return _Plan(Verdict(0.0, False, NO_BOXED_ANSWER if final.strip() else "no answer found"))
    if not boxed.strip():
        return _Plan(Verdict(0.0, False, "no answer found"))
    reason = ans.too_costly(boxed)
    if reason is not None:
        return _Plan(Verdict(0.0, False, reason))
    pred = ans.tidy(boxed, reference_is_number=gold.is_number)
    if gold.number is not None:
        pred = ans.decimal_comma(pred) or pred  # `1,5` for 1.5 (a list would be wrong against one number anyway)
    if pred == gold.text:  # Math-Verify compares the texts too: identical texts always match
        return _Plan(_PASS)
    if ans.hedges(pred, gold.text):
        return _Plan(_WRONG)  # `41 \\lor 42`, `41 \\pm 1`: alternatives where one answer is expected
    if prompt and ans.echoes_question(prompt, pred, gold.text):
        return _Plan(_WRONG)  # `\\boxed{6 \\times 7}` for "Compute $6 \\times 7$"

    if gold.choices is not None:
        letters = ans.choice_letters(pred)
        split = ans.split_choice(pred) if letters is None else None
        if split is not None:
            letters = frozenset(split[0])
        if letters is not None:
            return _Plan(_PASS if letters == gold.choices else _WRONG)
        if gold.choice_value is None:
            return _Plan(payload=(gold.text, (pred,), None, gold.is_number))
        pred_number = ans.exact_number(pred)
        gold_number = ans.exact_number(gold.choice_value)
        if pred_number is not None and gold_number is not None:
            decided = _numbers_decide(gold_number, pred_number)
            if decided is not None:
                return _Plan(_PASS if decided else _WRONG)
        return _Plan(payload=(gold.choice_value, (pred,), None, gold_number is not None))

    gold_base, pred_base = ans.base_number(gold.text), ans.base_number(pred)
    if gold_base is not None and pred_base is not None:
        return _Plan(_PASS if gold_base == pred_base else _WRONG)

    candidates = [pred]
    split = ans.split_choice(pred)
    if split is not None:  # '\textbf{(C)}\ 27' against the value 27: compare the value
        candidates.insert(0, split[1])
    if gold.number is not None:
        for candidate in candidates:
            pred_number = ans.number_in_degrees(candidate)
            if pred_number is not None:
                decided = _numbers_decide(gold.number, pred_number)
                if decided is True:
                    return _Plan(_PASS)
                if decided is False and len(candidates) == 1:
                    return _Plan(_WRONG)
    if all(sampled_differ(gold.text, c) for c in candidates):
        return _Plan(_WRONG)  # values differ (math_constant): Math-Verify would reject it, after far more work
    return _Plan(payload=(gold.text, tuple(candidates), None, gold.is_number))


class MathVerifier:
    """verify(problem, response) -> Verdict for math problems, safe on any input and from any thread.

    workers: processes for the sympy checks (default: one per CPU); deadline_s: hard limit per check;
    memory_bytes: address-space cap per worker; cache_size: settled sympy verdicts kept per (gold, answer)
    pair. The pool starts on first use; call close() (or use `with`) to stop it.
    """

    def __init__(self, workers: int | None = None, deadline_s: float = 5.0,
                 memory_bytes: int | None = 4 << 30, cache_size: int = 200_000) -> None:
        self.workers = workers or default_workers()
        self.cache_size = cache_size
        self._cache: dict[tuple, Verdict] = {}
        self.deadline_s = deadline_s
        self.memory_bytes = memory_bytes
        self._pool: DeadlinePool | None = None
        self._pool_lock = threading.Lock()

    def _get_pool(self) -> DeadlinePool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = DeadlinePool("darl.verifiers.math_compare", "check", warm_up="warm_up",
                                          workers=self.workers, deadline_s=self.deadline_s,
                                          memory_bytes=self.memory_bytes)
            return self._pool

    def start(self) -> None:
        """Start the worker processes now and wait until they are warm, instead of on the first sympy check."""
        self._get_pool().start()

    def verify(self, problem: Problem, response: str, *, thinking: bool = False) -> Verdict:
        return self.verify_batch([problem], [response], thinking=thinking)[0]

    def verify_batch(self, problems: Sequence[Problem], responses: Sequence[str], *,
                     thinking: bool = False) -> list[Verdict]:
        if len(problems) != len(responses):
            raise ValueError(f"verify_batch: {len(problems)} problems but {len(responses)} responses")
        for p in problems:
            if p.domain != "math" or p.answer is None:
                raise ValueError(f"problem {p.id!r}: MathVerifier needs a math problem with an answer")
        return self.verify_answers([str(p.answer) for p in problems], responses, thinking=thinking,
                                   prompts=[p.prompt for p in problems])

    def verify_answers(self, answers: Sequence[str], responses: Sequence[str], *,
                       thinking: bool = False, prompts: Sequence[str | None] | None = None) -> list[Verdict]:
        """verify_batch on bare reference answers (for `darl verify` rows that are not Problems); `prompts`, when
        given, lets an answer that echoes its question score 0."""
        verdicts: list[Verdict | None] = [None] * len(answers)
        waiting: dict[tuple, list[int]] = {}  # one sympy check per distinct (gold, answer) in the batch
        for i, (gold, response) in enumerate(zip(answers, responses, strict=True)):
            if not isinstance(response, str):
                verdicts[i] = Verdict(0.0, False, "no answer found")
                continue
            plan = plan_check(str(gold), response, thinking, prompts[i] if prompts is not None else None)
            if plan.verdict is not None:
                verdicts[i] = plan.verdict
                continue
            assert plan.payload is not None
            cached = self._cache.get(plan.payload)
            if cached is not None:
                verdicts[i] = cached
            else:
                waiting.setdefault(plan.payload, []).append(i)
        if waiting:
            payloads = list(waiting)
            for payload, outcome in zip(payloads, self._get_pool().run(payloads)):
                if outcome.status == "ok":
                    passed, error = outcome.value
                    verdict = Verdict(1.0 if passed else 0.0, bool(passed), error)
                    self._remember(payload, verdict)
                elif outcome.status == "timeout":
                    verdict = Verdict(0.0, False, "timeout")
                elif outcome.status == "error":
                    verdict = Verdict(0.0, False, "unparseable answer")
                else:
                    verdict = Verdict(0.0, False, "verifier crashed")
                for i in waiting[payload]:
                    verdicts[i] = verdict
        return verdicts  # type: ignore[return-value]

    def _remember(self, payload: tuple, verdict: Verdict) -> None:
        """Keep a settled sympy verdict: sampled responses to one problem repeat the same boxed answer often.
        Timeouts and crashes are not kept (a busy machine may have caused them)."""
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[payload] = verdict

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def __enter__(self) -> MathVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
