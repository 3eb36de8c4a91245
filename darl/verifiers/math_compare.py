"""The sympy half of math verification: Math-Verify's parse and verify, run inside a deadline worker process.

This module is imported by the worker processes of `darl.verifiers.deadline.DeadlinePool` (and preloaded by its
forkserver), never at import time of `darl.verifiers.math`. Math-Verify's own signal-based timeouts are switched
off here (`parsing_timeout=None`, `timeout_seconds=None`) because the pool enforces a hard deadline by killing
the worker, which also works off the main thread, where `signal.alarm` fails.

Gold answers are parsed once per worker and cached (`gold_parse`), since every problem is checked against many
sampled responses.

Differences from calling Math-Verify directly:
- A match that Math-Verify finds numerically between two *exact* rationals that differ is vetoed: its
  15-digit numeric check calls 1/2004! equal to 1/2006! (Math-Verify issue 14).
- Two constants whose values clearly differ are rejected by one numeric evaluation, before Math-Verify's
  `simplify` (the slowest step of checking a wrong answer); its verdict would be the same.
- A prediction gets a second chance with trailing unit text dropped, only when the gold is one plain number.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
from sympy import Basic, Expr, Float, Rational, UnevaluatedExpr, nan, oo, zoo

logging.getLogger("math_verify").setLevel(logging.CRITICAL)
logging.getLogger("latex2sympy2_extended").setLevel(logging.CRITICAL)

_CONFIG = (LatexExtractionConfig(), ExprExtractionConfig())
_TRAILING_TEXT = re.compile(r"\s*(?:\\(?:text|mbox|mathrm)\s*\{[^{}]*\}\s*(?:\^\s*\{?\d\}?)?\s*)+$")


def _parse_boxed(answer: str) -> list[Any]:
    return parse("\\boxed{" + answer + "}", extraction_config=_CONFIG, parsing_timeout=None)  # type: ignore[arg-type]


@lru_cache(maxsize=8192)
def gold_parse(gold: str) -> tuple[Any, ...]:
    """Math-Verify's parse of a reference answer (LaTeX or plain), cached per worker process."""
    parsed = _parse_boxed(gold)
    if not parsed:
        parsed = parse("$" + gold + "$", extraction_config=_CONFIG, parsing_timeout=None)  # type: ignore[arg-type]
    return tuple(parsed)


def _exact_value(expr: Any) -> Rational | None:
    """The exact rational value of `expr`, or None (not a number, a float, or a percentage, which Math-Verify
    deliberately matches with its bare number)."""
    if not isinstance(expr, Basic) or expr.has(UnevaluatedExpr) or expr.has(Float):
        return None
    try:
        value = expr.doit() if not expr.is_Rational else expr
    except Exception:
        return None
    return value if isinstance(value, Basic) and value.is_Rational else None


def _exactly_different(gold: list[Any], pred: list[Any]) -> bool:
    """True when the first parsed gold and prediction are both exact rationals and not equal."""
    if not gold or not pred:
        return False
    g, p = _exact_value(gold[0]), _exact_value(pred[0])
    return g is not None and p is not None and g != p


def _is_constant(expr: Any) -> bool:
    return (isinstance(expr, Expr) and not expr.free_symbols and not expr.has(UnevaluatedExpr)
            and not expr.has(oo, -oo, zoo, nan))


def _clearly_different(gold: list[Any], pred: list[Any]) -> bool:
    """True when the first parsed gold and prediction are constant expressions whose values differ by more than
    1e-5, and their texts differ: Math-Verify would then answer False too (its float rule rounds to 6 places,
    its exact rule needs a zero difference), but only after a sympy `simplify` that costs tens of milliseconds.
    Anything else (symbols, equations, sets, tuples, matrices, percentages, infinities) is left to it."""
    if len(gold) < 2 or len(pred) < 2 or gold[1] == pred[1]:
        return False
    g, p = gold[0], pred[0]
    if not (_is_constant(g) and _is_constant(p)):
        return False
    try:
        difference = complex((g - p).evalf(30))
    except Exception:  # any failure of this shortcut leaves the question to Math-Verify
        return False
    return abs(difference) > 1e-5  # nan compares False: left to Math-Verify


def _matches(gold: list[Any], pred: list[Any]) -> bool:
    if not pred:
        return False
    if _clearly_different(gold, pred):
        return False
    if not verify(gold, pred, timeout_seconds=None):  # type: ignore[arg-type]
        return False
    return not _exactly_different(gold, pred)


def check(payload: tuple[str, tuple[str, ...], str | None, bool]) -> tuple[bool, str | None]:
    """(passed, error) for one comparison. `payload` is (gold, candidates, tail, gold_is_number):
    `candidates` are tidied forms of the boxed answer, tried in order; `tail` is the end of the final answer,
    parsed the way Math-Verify parses a whole response, when no box was found."""
    gold_text, candidates, tail, gold_is_number = payload
    gold = list(gold_parse(gold_text))
    if not gold:
        return False, "unparseable reference answer"
    any_parsed = False
    for candidate in candidates:
        pred = _parse_boxed(candidate)
        any_parsed = any_parsed or bool(pred)
        if _matches(gold, pred):
            return True, None
        if gold_is_number:
            stripped = _TRAILING_TEXT.sub("", candidate)
            if stripped and stripped != candidate:
                pred = _parse_boxed(stripped)
                if _matches(gold, pred):
                    return True, None
    if tail is not None:
        pred = parse(tail, extraction_config=_CONFIG, parsing_timeout=None)  # type: ignore[arg-type]
        if not pred:
            return False, "no answer found"
        any_parsed = True
        if _matches(gold, pred):
            return True, None
    if not any_parsed:
        return False, "unparseable answer"
    return False, None


# Answers of the shapes contest problems have, to exercise the LaTeX grammar's common paths once per worker
_WARM_UP_PAIRS = (
    ("\\frac{\\sqrt{3}}{2}", "\\dfrac{\\sqrt 3}{2}"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi/2)"),
    ("[-2, 7)", "x \\in [-2, 7)"),
    ("\\{1, 2\\}", "1, 2"),
    ("x^2 + 2x + 1", "(x+1)^2"),
    ("y = 2x - 3", "2x-3"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ("\\text{(C)}", "C"),
    ("10\\%", "10"),
    ("2\\sqrt{5} + \\log_2 8", "3 + 2\\sqrt5"),
    ("\\infty", "\\infty"),
    ("\\sin^2 x + \\cos^2 x", "1"),
)


def warm_up() -> None:
    """Fill the ANTLR parser's prediction cache: a fresh process parses LaTeX several times slower than a warm
    one (about 70 ms against 15 ms per check here), and worker processes are long-lived."""
    for gold, pred in _WARM_UP_PAIRS:
        check((gold, (pred,), None, False))
    gold_parse.cache_clear()
