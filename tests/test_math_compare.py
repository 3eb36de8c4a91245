"""The sympy half of math verification called in this process (the verifier runs it in deadline worker processes,
where a mutation tool cannot switch its code): `check` case by case with its exact (passed, error) answer, and the
two shortcuts darl adds to Math-Verify, each against Math-Verify's own verdict."""

from __future__ import annotations

import pytest
from math_verify import verify

from darl.verifiers.math_compare import (_clearly_different, _exact_value, _exactly_different, _parse_boxed, check,
                                         gold_parse)

CASES = [  # (gold, boxed candidates, tail, gold is a number) -> (passed, error)
    (("\\frac{1}{2}", ("0.5",), None, False), (True, None)),
    (("\\frac{1}{2}", ("\\dfrac12",), None, False), (True, None)),
    (("3", ("3",), None, True), (True, None)),
    (("3", ("4",), None, True), (False, None)),
    (("3", ("3 \\text{ apples}",), None, True), (True, None)),
    (("\\frac{1}{2004!}", ("\\frac{1}{2006!}",), None, False), (False, None)),  # Math-Verify issue 14: vetoed
    (("\\frac{1}{2004!}", ("\\frac{1}{2004!}",), None, False), (True, None)),
    (("\\sqrt{2}", ("1.41421",), None, False), (False, None)),
    (("\\sqrt{2}", ("1.5",), None, False), (False, None)),
    (("\\pi", ("3.14159",), None, False), (False, None)),
    (("x^2+2x+1", ("(x+1)^2",), None, False), (True, None)),
    (("10\\%", ("10",), None, False), (True, None)),
    (("\\infty", ("\\infty",), None, False), (True, None)),
    (("5", ("",), None, True), (False, "unparseable answer")),
    (("5", ("7", "5"), None, True), (True, None)),  # candidates are tried in order
    (("5", ("7",), "5", True), (True, None)),  # then the tail
    (("5", (), "so the answer is 5", True), (True, None)),
    (("5", (), "no numbers here", True), (False, "no answer found")),
    (("5", (), "the answer is 6", True), (False, None)),
    (("", ("5",), None, False), (False, "unparseable reference answer")),
]


@pytest.mark.parametrize("payload,expected", CASES, ids=[f"{c[0][0]}|{c[0][1]}|{c[0][2]}" for c in CASES])
def test_check_case_by_case(payload, expected):
    assert check(payload) == expected


def test_gold_is_parsed_as_latex_or_plain_and_cached():
    assert gold_parse("\\frac{1}{2}") and gold_parse("1/2")
    assert gold_parse("3") is gold_parse("3")  # one parse per worker and reference
    assert gold_parse("") == ()


def test_exact_values_are_rationals_only():
    assert _exact_value(_parse_boxed("\\frac{3}{4}")[0]) == pytest.approx(0.75)
    assert _exact_value(_parse_boxed("0.75")[0]) is None  # a float: Math-Verify's own rules decide
    assert _exact_value(_parse_boxed("10\\%")[0]) is None  # a percentage matches its bare number in Math-Verify
    assert _exact_value(_parse_boxed("\\sqrt{2}")[0]) is None
    assert _exact_value("3") is None


def test_exactly_different_vetoes_only_unequal_exact_rationals():
    def parsed(text):
        return _parse_boxed(text)

    assert _exactly_different(parsed("\\frac{1}{2004!}"), parsed("\\frac{1}{2006!}"))
    # Math-Verify's numeric check calls these equal: the veto is what makes check() say False
    assert verify(parsed("\\frac{1}{2004!}"), parsed("\\frac{1}{2006!}"), timeout_seconds=None)
    assert not _exactly_different(parsed("\\frac{1}{2}"), parsed("\\frac{2}{4}"))
    assert not _exactly_different(parsed("\\frac{1}{2}"), parsed("0.5"))
    assert not _exactly_different([], parsed("1")) and not _exactly_different(parsed("1"), [])


@pytest.mark.parametrize("gold,pred,expected", [
    ("\\sqrt{2}", "1.5", True), ("\\pi", "3", True), ("\\frac{1}{3}", "0.3", True),
    ("\\sqrt{2}", "\\sqrt{2}", False),            # same text: left to Math-Verify
    ("\\sqrt{2}", "\\frac{\\sqrt{8}}{2}", False),   # equal values
    ("\\frac{1}{3}", "0.3333333", False),           # within 1e-5: Math-Verify's rounding decides
    ("x+1", "x+2", False),                          # symbols: not constants
    ("\\infty", "5", False),                        # infinities are left to Math-Verify
])
def test_clearly_different_is_a_safe_shortcut(gold, pred, expected):
    """True only where Math-Verify says False as well (the shortcut only skips its slow simplify)."""
    g, p = list(gold_parse(gold)), _parse_boxed(pred)
    assert _clearly_different(g, p) is expected
    if expected:
        assert not verify(g, p, timeout_seconds=None)
    assert not _clearly_different(g[:1], p) and not _clearly_different(g, p[:1])


def test_warm_up_runs_every_pair_and_leaves_no_gold_cached():
    from darl.verifiers.math_compare import warm_up

    gold_parse("7")
    warm_up()
    assert gold_parse.cache_info().currsize == 0
