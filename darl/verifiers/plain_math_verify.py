"""Math graded by plain Math-Verify, exactly as open-r1's `accuracy_reward` calls it (`darl eval --grader
math-verify`), so a user can put darl's numbers next to open-r1's and lighteval-based ones and see what darl's
stricter checks change.

What open-r1 does (src/open_r1/rewards.py, `accuracy_reward`), and this grader with it:
- the reference is `math_verify.parse(answer, extraction_mode="first_match")` with Math-Verify's default extraction;
  a reference that parses to nothing leaves the sample ungraded (open-r1 returns None and skips it; here the
  Verdict's score is None, which darl leaves out of Pass@1 and counts as `ungraded_samples`);
- the response is parsed with one `LatexExtractionConfig` (boxed answers first, `boxed="all"`, units, equations, no
  malformed operators, no extraction without an anchor), `extraction_mode="first_match"`, over the *whole*
  response (no `</think>` split, no length guard);
- `math_verify.verify(gold, answer)` decides; an exception there is ungraded, as open-r1's None.

What darl's own math verifier adds and this grader leaves out on purpose (darl.verifiers.math): only the final
answer after `</think>` counts, the *last* `\\boxed{}` rather than the first match, tidy-ups for forms Math-Verify
misreads, refusal of answers that make sympy run away, and a hard per-check deadline in worker processes. Code
problems have no Math-Verify counterpart and are graded by darl's code verifier (the sandbox) either way.

Math-Verify's own timeouts use `signal.alarm`, so this grader must run in the main thread (darl eval grades there).
"""

from __future__ import annotations

import logging
from typing import Sequence

from darl.records import Problem, Verdict


class _Once(logging.Filter):
    """Lets each distinct message through once: open-r1's `equations=True` makes latex2sympy2 log the same
    deprecation line on every parse, which would bury everything else."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def _warn_once(logger: logging.Logger) -> None:
    if not any(isinstance(f, _Once) for f in logger.filters):
        logger.addFilter(_Once())


class PlainMathVerifyGrader:
    """`verify_batch(problems, responses, thinking=...)` like `darl.verifiers.Verifier`; `thinking` is accepted and
    ignored for math (open-r1 grades the whole response) and passed on to the code verifier."""

    name = "math-verify"

    def __init__(self) -> None:
        from darl.verifiers import Verifier

        self._code = Verifier()  # code problems only; its math pool never starts
        from latex2sympy2_extended import NormalizationConfig
        from math_verify import LatexExtractionConfig

        _warn_once(logging.getLogger("latex2sympy2_extended.math_normalization"))
        self._answer_config = [LatexExtractionConfig(
            normalization_config=NormalizationConfig(nits=False, malformed_operators=False, basic_latex=True,
                                                     equations=True, boxed="all", units=True),
            boxed_match_priority=0, try_extract_without_anchor=False)]

    def grade_math(self, answer: str, response: str) -> Verdict:
        from math_verify import parse, verify

        gold = parse(answer, extraction_mode="first_match")
        if len(gold) == 0:
            return Verdict(None, False, "unparseable reference answer (Math-Verify)")
        parsed = parse(response, extraction_config=self._answer_config, extraction_mode="first_match")
        if len(parsed) == 0:
            return Verdict(0.0, False, "no answer found")
        try:
            ok = bool(verify(gold, parsed))
        except Exception as exc:  # noqa: BLE001 (open-r1 turns any verify failure into a skipped sample)
            return Verdict(None, False, f"Math-Verify failed ({type(exc).__name__})")
        return Verdict(1.0 if ok else 0.0, ok, None)

    def verify(self, problem: Problem, response: str, *, thinking: bool = False) -> Verdict:
        return self.verify_batch([problem], [response], thinking=thinking)[0]

    def verify_batch(self, problems: Sequence[Problem], responses: Sequence[str], *,
                     thinking: bool = False) -> list[Verdict]:
        if len(problems) != len(responses):
            raise ValueError(f"verify_batch: {len(problems)} problems but {len(responses)} responses")
        verdicts: list[Verdict | None] = [None] * len(problems)
        code = [i for i, p in enumerate(problems) if p.domain == "code"]
        if code:
            for i, v in zip(code, self._code.verify_batch([problems[i] for i in code], [responses[i] for i in code],
                                                          thinking=thinking)):
                verdicts[i] = v
        for i, (p, r) in enumerate(zip(problems, responses)):
            if p.domain == "math":
                verdicts[i] = self.grade_math(str(p.answer), r if isinstance(r, str) else "")
        return verdicts  # type: ignore[return-value]

    def close(self) -> None:
        self._code.close()

    def __enter__(self) -> PlainMathVerifyGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


GRADERS = ("darl", "math-verify")


def open_grader(name: str):  # noqa: ANN201 (Verifier or PlainMathVerifyGrader)
    """The grader `darl eval --grader NAME` uses: 'darl' (darl.verifiers.Verifier) or 'math-verify' (this module)."""
    if name == "darl":
        from darl.verifiers import Verifier

        return Verifier()
    if name == "math-verify":
        return PlainMathVerifyGrader()
    from darl.errors import InputError

    raise InputError(f"unknown grader {name!r}", field="--grader", hint=f"one of {', '.join(GRADERS)}")
