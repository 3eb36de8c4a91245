"""The numeric value of a simple constant answer (`3\\sqrt{13}`, `-\\frac{\\pi}{6}`, `6 - 5i`), without sympy.

Used only to *reject* a wrong answer early: when the reference and the answer are both constants of this small
grammar and their values differ clearly, Math-Verify would say False too (two expressions whose values differ at
one point are different whether `i` and `e` are read as constants or as symbols), but only after parsing both with
its ANTLR grammar and running sympy, which costs tens of milliseconds per new expression. Equal-looking values are
never accepted here; they go to Math-Verify.

Grammar (anything else gives None): integers and decimals; `+ - \\cdot \\times * /`; implicit multiplication
of a number by what follows (`3\\sqrt{2}`, `2\\pi`); `\\frac{a}{b}` (also `\\dfrac`, `\\tfrac`); `\\sqrt{x}`,
`\\sqrt[n]{x}`; `^{...}` and `^` with one digit or letter; `\\pi`, `e`, `i`; parentheses, braces, `\\left( \\right)`.
Constructs that LaTeX and Math-Verify could read differently (`2^10`, `\\sqrt23`, `\\frac12`, two numbers side
by side, a number before a fraction, which Math-Verify reads as a mixed number, implicit products after `/`,
`1e-5`) give None.
"""

from __future__ import annotations

import cmath
import math
import re
from functools import lru_cache

_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+|\\[a-zA-Z]+|[-+*/^(){}\[\],]|[a-zA-Z])")
_DROP = ("\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "\\ ", "\\displaystyle")
_MAX_ABS = 1e100
_MAX_TOKENS = 200


class _Refuse(Exception):
    """The text is outside the grammar."""


def _tokens(text: str) -> list[str]:
    for d in _DROP:
        text = text.replace(d, " ")
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _Refuse
        out.append(m.group(1))
        pos = m.end()
        if len(out) > _MAX_TOKENS:
            raise _Refuse
    for before, after in zip(out, out[1:]):
        if after == "e" and _is_number(before):
            raise _Refuse  # 1e-5: scientific notation to some readers, 1*e - 5 to others
        if after in ("\\frac", "\\dfrac", "\\tfrac") and _is_number(before):
            raise _Refuse  # 1\frac{2}{7}: a mixed number (9/7) to Math-Verify, a product to plain algebra
    return out


# where a letter other than e and i is evaluated: values no contest answer is special at
_SAMPLE_POINT = {c: complex(0.7 + 0.137 * k + 0.0011 * k * k) for k, c in
                 enumerate("abcdfghjklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")}


class _Parser:
    def __init__(self, tokens: list[str], symbols: bool = False) -> None:
        self.t = tokens
        self.i = 0
        self.symbols = symbols
        self.used_letter = False
        self.used_i = False

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise _Refuse
        self.i += 1
        return tok

    def expr(self) -> complex:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self) -> complex:
        value = self.signed()
        divided = False
        while True:
            tok = self.peek()
            if tok in ("*", "\\cdot", "\\times"):
                self.take()
                value *= self.signed()
            elif tok == "/":
                self.take()
                divisor = self.signed()
                if divisor == 0:
                    raise _Refuse
                value /= divisor
                divided = True
            elif tok is not None and self._starts_atom(tok):
                if _is_number(tok):
                    raise _Refuse  # '2 3': a thousands group or a product? leave it to Math-Verify
                if divided:
                    raise _Refuse  # 1/2\pi: pi/2 or 1/(2 pi)? readers differ
                value *= self.power()
            else:
                return value

    def signed(self) -> complex:
        if self.peek() == "-":
            self.take()
            return -self.signed()
        if self.peek() == "+":
            self.take()
            return self.signed()
        return self.power()

    def power(self) -> complex:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            tok = self.peek()
            if tok == "{":
                exponent = self.group("{", "}")
            elif tok is not None and (len(tok) == 1 and (tok.isdigit() or tok.isalpha()) or tok == "\\pi"):
                exponent = self.atom()
            else:
                raise _Refuse  # 2^10, 2^-1: read differently by different parsers
            if self.peek() == "^":
                raise _Refuse  # a^b^c
            if exponent.imag != 0 or abs(exponent.real) > 1000:
                raise _Refuse
            if base.imag == 0 and base.real < 0 and exponent.real != int(exponent.real):
                raise _Refuse
            if base == 0 and exponent.real <= 0:
                raise _Refuse
            value = base ** exponent
            return value
        return base

    def group(self, open_: str, close: str) -> complex:
        self.take(open_)
        value = self.expr()
        self.take(close)
        return value

    def _starts_atom(self, tok: str) -> bool:
        return (_is_number(tok) or tok in ("(", "{", "\\pi", "\\frac", "\\dfrac", "\\tfrac", "\\sqrt", "e", "i")
                or (self.symbols and tok in _SAMPLE_POINT))

    def atom(self) -> complex:
        tok = self.peek()
        if tok is None:
            raise _Refuse
        if _is_number(tok):
            self.take()
            return complex(float(tok))
        if tok == "(":
            return self.group("(", ")")
        if tok == "{":
            return self.group("{", "}")
        if tok == "\\pi":
            self.take()
            return complex(math.pi)
        if tok == "e":
            self.take()
            return complex(math.e)
        if tok == "i":
            self.take()
            self.used_i = True
            if self.used_letter:
                raise _Refuse  # 'sin' with i a symbol to Math-Verify: evaluate letters at real points only
            return 1j
        if self.symbols and tok in _SAMPLE_POINT:
            self.take()
            self.used_letter = True
            if self.used_i:
                raise _Refuse
            if self.peek() == "(":
                raise _Refuse  # f(x): a function, not a product
            return _SAMPLE_POINT[tok]
        if tok in ("\\frac", "\\dfrac", "\\tfrac"):
            self.take()
            if self.peek() != "{":
                raise _Refuse  # \frac12
            numerator = self.group("{", "}")
            if self.peek() != "{":
                raise _Refuse
            denominator = self.group("{", "}")
            if denominator == 0:
                raise _Refuse
            return numerator / denominator
        if tok == "\\sqrt":
            self.take()
            index = complex(2)
            if self.peek() == "[":
                index = self.group("[", "]")
                if index.imag != 0 or index.real < 2 or index.real != int(index.real):
                    raise _Refuse
            if self.peek() == "{":
                radicand = self.group("{", "}")
            else:
                digit = self.peek()
                if digit is None or not (len(digit) == 1 and digit.isdigit()):
                    raise _Refuse  # \sqrt23 or \sqrt x
                radicand = self.atom()
            if radicand.imag != 0 or radicand.real < 0:
                raise _Refuse
            return complex(radicand.real ** (1 / index.real)) if index.real != 2 else complex(math.sqrt(radicand.real))
        raise _Refuse


def _split_top_level(tokens: list[str]) -> list[list[str]]:
    """Tokens split at commas outside any bracket (commas are tokens only in lists)."""
    parts: list[list[str]] = [[]]
    depth = 0
    for tok in tokens:
        if tok in ("(", "[", "{"):
            depth += 1
        elif tok in (")", "]", "}"):
            depth -= 1
        if tok == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def _evaluate(tokens: list[str], symbols: bool) -> complex:
    parser = _Parser(tokens, symbols)
    value = parser.expr()
    if parser.peek() is not None or not (cmath.isfinite(value) and abs(value) < _MAX_ABS):
        raise _Refuse
    return value


@lru_cache(maxsize=65536)
def sampled_value(text: str) -> tuple[str, tuple[complex, ...]] | None:
    """What `text` evaluates to, with each letter other than e and i replaced by a fixed sample value:
    ('value', (v,)) for one expression, ('list', (v1, v2, ...)) for a comma-separated list or tuple (with or
    without brackets), ('x=', (v,)) for an assignment to the single letter x; None outside the grammar.

    Sound for *rejection* only: two expressions that differ at one point differ as functions, and two lists whose
    sets of values differ are different sets, tuples or intervals, however Math-Verify reads the brackets."""
    if not text or len(text) > 300:
        return None
    try:
        tokens = _tokens(text.replace(",", " , ").replace("\\{", "(").replace("\\}", ")"))
        if "=" in text:
            return None
        parts = _split_top_level(tokens)
        if len(parts) == 1 and len(tokens) >= 3 and tokens[0] in ("(", "[") and tokens[-1] in (")", "]"):
            inner = _split_top_level(tokens[1:-1])
            if len(inner) > 1:
                parts = inner
        if len(parts) > 1:
            return "list", tuple(_evaluate(part, True) for part in parts)
        return "value", (_evaluate(tokens, True),)
    except (_Refuse, ArithmeticError, ValueError, RecursionError):
        return None


_ASSIGNMENT = re.compile(r"\s*([a-zA-Z])\s*=\s*([^=<>]+)")


@lru_cache(maxsize=65536)
def assignment(text: str) -> tuple[str, complex] | None:
    """('x', value) for `x = <expression>` whose right side is in the grammar (letters sampled), else None."""
    m = _ASSIGNMENT.fullmatch(text)
    if m is None:
        return None
    value = sampled_value(m.group(2))
    if value is None or value[0] != "value":
        return None
    return m.group(1), value[1][0]


def sampled_differ(a: str, b: str) -> bool:
    """True when answers `a` and `b` can be shown different by evaluation (see `sampled_value`)."""
    eq_a, eq_b = assignment(a), assignment(b)
    if eq_a is not None or eq_b is not None:
        return (eq_a is not None and eq_b is not None and eq_a[0] == eq_b[0]
                and clearly_different(eq_a[1], eq_b[1]))
    va, vb = sampled_value(a), sampled_value(b)
    if va is None or vb is None or va[0] != vb[0]:
        return False
    if va[0] == "value":
        return clearly_different(va[1][0], vb[1][0])
    unmatched_a = any(all(clearly_different(x, y) for y in vb[1]) for x in va[1])
    unmatched_b = any(all(clearly_different(y, x) for x in va[1]) for y in vb[1])
    return unmatched_a or unmatched_b


def _is_number(tok: str) -> bool:
    return tok[0].isdigit() or (tok[0] == "." and len(tok) > 1)


def constant_value(text: str) -> complex | None:
    """The value of `text` when it is a constant of the grammar above, else None."""
    if not text or len(text) > 300:
        return None
    try:
        parser = _Parser(_tokens(text))
        value = parser.expr()
        if parser.peek() is not None:
            return None
    except (_Refuse, ArithmeticError, ValueError, RecursionError):
        return None
    if not (cmath.isfinite(value) and abs(value) < _MAX_ABS):
        return None
    return value


def clearly_different(a: complex, b: complex) -> bool:
    """True when two values differ beyond any rounding Math-Verify applies (6 decimal places for floats)."""
    gap = abs(a - b)
    return gap > 1e-5 and gap > 1e-6 * max(1.0, abs(a), abs(b))
