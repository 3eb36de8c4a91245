"""Finding and tidying a math response's final answer, in plain Python (no sympy), so that it is cheap and safe.

Everything here runs in the calling process before any sympy work, on text of any size, in time linear in the
text: the boxed answer is found by scanning backwards from the end, never with a regex over the whole response.
What Math-Verify cannot be trusted with is decided here:

- `last_boxed` takes the last `\\boxed{...}` (also `\\boxed x`, `\\fbox{}`, `\\framebox{}`), plus boxes right
  before it that are joined only by commas, 'and' or 'or' ("\\boxed{2} and \\boxed{3}").
- `tidy` rewrites forms Math-Verify misreads: thousands separated by `\\,` or spaces, a trailing period, a number
  written inside `\\text{}` with its unit, unicode degrees and minus, number words, a choice letter followed by
  its value ("\\textbf{(C) } 12").
- `too_costly` refuses answers that would make sympy run for seconds or exhaust memory (power towers such as
  `9^{9^{9^9}}`, huge literal powers and factorials) before they reach it.
- `exact_number` and `choice_letters` let the caller decide the most common cases (integer, decimal and fraction
  answers; multiple-choice letters) without sympy at all.

How this differs from the paper: the paper only names Math-Verify; these rules are darl's, measured against the
cases in tests/test_math_verifier.py, where plain Math-Verify's verdict is shown beside ours.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

BOX_COMMANDS = ("\\boxed", "\\fbox", "\\framebox")
MAX_ANSWER_CHARS = 1000   # a boxed answer longer than this is not a final answer but a runaway
MAX_BOXES_JOINED = 8
MAX_DIGITS = 10_000       # a power or factorial with more digits than this is refused before sympy sees it
MAX_EXPONENT_DEPTH = 2    # a^{b^{c}} is allowed; a^{b^{c^{d}}} is a tower
MAX_NESTING = 30          # brackets nested deeper than this: Math-Verify spent 19 s on 450 nested parentheses


# ----------------------------------------------------------------------------------------------------------------
# Finding the boxed answer


def _box_start_before(text: str, end: int) -> tuple[int, str] | None:
    """The start and command of the last box command starting before `end`, or None."""
    best: tuple[int, str] | None = None
    for cmd in BOX_COMMANDS:
        pos = text.rfind(cmd, 0, end)
        while pos >= 0:
            after = pos + len(cmd)
            # `\boxedx` is not `\boxed`; `\fboxsep` is not `\fbox`
            if after < len(text) and text[after].isalpha():
                pos = text.rfind(cmd, 0, pos)
                continue
            break
        if pos >= 0 and (best is None or pos > best[0]):
            best = (pos, cmd)
    return best


def _box_content(text: str, start: int, cmd: str) -> tuple[str, int] | None:
    """The content of the box command at `start` and the index just after it, or None when it never closes."""
    i = start + len(cmd)
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    if i >= n:
        return None
    if text[i] == "{":
        depth = 0
        j = i
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1:j], j + 1
            j += 1
        return None
    if i == start + len(cmd):
        return None  # `\boxed5` without a space or brace is not a box
    # `\boxed 5`: the argument runs to the next space, `$` or end of line
    j = i
    while j < n and text[j] not in " \t\n$":
        j += 1
    return text[i:j], j


# What may stand between two boxes that together are one multi-part answer (`\\boxed{1} and \\boxed{-2}`,
# `\\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}`, `y_1 = \\boxed{..} \\) and \\( y_2 = \\boxed{..}`):
# separators, math delimiters, spacing commands, the words and/or (plain or in \\text{}, also "for part (a) and"),
# and a variable being assigned just before the next box. Prose beyond that (`\\boxed{40}. Let me recheck:
# \\boxed{42}`, a self-correction) keeps only the last box.
_JOIN_WORD = r"(?:(?:and|or|for|part|parts)\b|\([a-e]\))"
_JOINER = re.compile(
    r"(?:[\s$,;]|\\[()\[\]]|\\q?quad\b|\\[,;:! ]|" + _JOIN_WORD + r"|"
    r"\\text\s*\{(?:\s|,|" + _JOIN_WORD + r")*\})*"
    r"(?:[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?\s*=\s*)?", re.IGNORECASE)


def last_boxed(text: str) -> str | None:
    """The content of the last box in `text`, joined with the boxes just before it when only commas, 'and' or
    'or' separate them; None when there is no box or the last one never closes. Time linear in `len(text)`."""
    found = _box_start_before(text, len(text))
    if found is None:
        return None
    start, cmd = found
    parsed = _box_content(text, start, cmd)
    if parsed is None:
        return None
    parts = [parsed[0]]
    for _ in range(MAX_BOXES_JOINED - 1):
        prev = _box_start_before(text, start)
        if prev is None:
            break
        prev_parsed = _box_content(text, prev[0], prev[1])
        if prev_parsed is None or prev_parsed[1] > start:
            break
        between = text[prev_parsed[1]:start]
        if len(between) > 60 or _JOINER.fullmatch(between) is None:
            break
        parts.append(prev_parsed[0])
        start = prev[0]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(p for p in reversed(parts) if p.strip())


def has_unclosed_box(text: str) -> bool:
    """True when the last box command in `text` never closes its brace."""
    found = _box_start_before(text, len(text))
    return found is not None and _box_content(text, found[0], found[1]) is None


# ----------------------------------------------------------------------------------------------------------------
# Guards before sympy


def _brace_arg(s: str, i: int) -> tuple[str, int]:
    """The argument of a `^` or `_` at index i: a braced group or a single token (digits, a command or a char)."""
    n = len(s)
    while i < n and s[i] == " ":
        i += 1
    if i >= n:
        return "", i
    if s[i] == "{":
        depth = 0
        j = i
        while j < n:
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    return s[i + 1:j], j + 1
            j += 1
        return s[i + 1:], n
    if s[i].isdigit():
        # LaTeX reads one digit as the exponent of `2^10`; Math-Verify reads all of them: be as cautious as it
        j = i
        while j < n and s[j].isdigit():
            j += 1
        return s[i:j], j
    if s[i] == "\\":
        j = i + 1
        while j < n and s[j].isalpha():
            j += 1
        return s[i:j], j
    return s[i], i + 1


_INT = re.compile(r"\d{1,400}")


def _log10_value(expr: str, depth: int) -> float | None:
    """log10 of the value of `expr` when it is an integer literal or a power tower of them, else None.
    Returns inf when the tower is deeper than MAX_EXPONENT_DEPTH."""
    expr = expr.strip()
    if depth > MAX_EXPONENT_DEPTH:
        return math.inf
    m = _INT.fullmatch(expr)
    if m:
        value = int(expr)
        return math.log10(value) if value > 0 else -math.inf
    caret = expr.find("^")
    if caret > 0 and _INT.fullmatch(expr[:caret].strip().strip("{}()")):
        base = int(expr[:caret].strip().strip("{}()"))
        exponent, end = _brace_arg(expr, caret + 1)
        if expr[end:].strip():
            return None
        exp_log = _log10_value(exponent, depth + 1)
        if exp_log is None:
            return None
        if base <= 1:
            return 0.0
        if exp_log > 300:
            return math.inf
        return (10 ** exp_log) * math.log10(base)
    return None


def _power_depth(s: str) -> int:
    """How many powers are stacked in `s`: `2^3` is 1, `9^{9^{9^9}}` is 3."""
    best = 0
    i = s.find("^")
    while i >= 0:
        arg, end = _brace_arg(s, i + 1)
        best = max(best, 1 + _power_depth(arg))
        if best > MAX_EXPONENT_DEPTH:
            return best
        i = s.find("^", end)
    return best


_FACTORIAL = re.compile(r"(\d+)\s*!")


def _max_nesting(s: str) -> int:
    """The deepest nesting of (), [] and {} together (unbalanced text counts what it opens)."""
    depth = best = 0
    for c in s:
        if c in "([{":
            depth += 1
            best = max(best, depth)
        elif c in ")]}" and depth > 0:
            depth -= 1
    return best


def too_costly(answer: str) -> str | None:
    """Why sympy should not see `answer` (a short reason), or None when it is safe to hand over.

    Refused: answers over MAX_ANSWER_CHARS, brackets nested deeper than MAX_NESTING, power towers deeper than
    MAX_EXPONENT_DEPTH, literal powers and factorials with more than MAX_DIGITS digits. These are what make
    Math-Verify spend its whole timeout (it spends 5 s on `9^{9^{9^9}}`); no contest answer needs them.
    """
    if len(answer) > MAX_ANSWER_CHARS or answer.count("{") > 200:
        return "answer too long" if len(answer) > MAX_ANSWER_CHARS else "answer nested too deeply"
    if _max_nesting(answer) > MAX_NESTING:
        return "answer nested too deeply"
    if "^" in answer:
        if _power_depth(answer) > MAX_EXPONENT_DEPTH:
            return "power tower too large"
        i = answer.find("^")
        while i >= 0:
            # find the base: the digits (or braced digits) right before the caret
            j = i
            while j > 0 and answer[j - 1] in "{}() ":
                j -= 1
            k = j
            while k > 0 and answer[k - 1].isdigit():
                k -= 1
            if k < j:
                exponent, _ = _brace_arg(answer, i + 1)
                exp_log = _log10_value(exponent, 1)
                base = int(answer[k:j])
                if exp_log is not None and base > 1:
                    digits = math.inf if exp_log > 300 else (10 ** exp_log) * math.log10(base)
                    if digits > MAX_DIGITS:
                        return "number too large"
            i = answer.find("^", i + 1)
    for m in _FACTORIAL.finditer(answer):
        if len(m.group(1)) > 6 or int(m.group(1)) > 3000:
            return "number too large"
    return None


# ----------------------------------------------------------------------------------------------------------------
# Tidying an answer before Math-Verify reads it

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}

_TEXT_CMD = r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mbox|operatorname)"
# a number written inside text together with its unit: \text{5 cm}, \text{1.5 hours}
_TEXT_NUMBER_UNIT = re.compile(_TEXT_CMD + r"\s*\{\s*(-?\d[\d,]*(?:\.\d+)?)\s+([A-Za-z][A-Za-z .]*?)\s*\}")
# thousands grouped by thin spaces, spaces or `{,}`: 1\,000\,000, 10 000, 1{,}000, 1,\!000
# (a plain comma followed by a space separates list items: `32, 349` is two numbers, as Math-Verify reads it)
_GROUP_SEP = r"(?:(?:\\,|\\;|\\:|\\!|\\ |~|\{,\}|,\\!)\s?|,|\s)"
_GROUPED_NUMBER = re.compile(r"(?<![\d.])(\d{1,3})((?:" + _GROUP_SEP + r"\d{3})+)(?![\d])")
# A leading prose prefix a model sometimes puts in the box
_ANSWER_PREFIX = re.compile(
    r"^\s*(?:" + _TEXT_CMD + r"\s*\{\s*)?(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)\s*:?\s*\}?\s*", re.IGNORECASE)
_DRESSED_NUMBER = re.compile(r"(?:" + _TEXT_CMD + r"\s*\{\s*)?\(?\s*(-?\d+(?:\.\d+)?)\s*\)?\s*\}?")
_TRAILING_STOP = re.compile(r"(?:\\[,;:! ]|\s)*\.\s*(\}?)\s*$")
_CHOICE = r"[A-Ea-e]"
# (C) 12  /  \textbf{(C) } 12  /  \text{(C)}\ 12  /  C) 12
_CHOICE_WITH_VALUE = re.compile(
    r"^\s*(?:" + _TEXT_CMD + r"\s*\{\s*)?\(?(" + _CHOICE + r")\)\s*\}?\s*(?:\\[ ,;:!]|~|\s)*(.*?)\s*$", re.DOTALL)
_CHOICE_ONLY = re.compile(
    r"^\s*(?:" + _TEXT_CMD + r"\s*\{\s*)?\(?\s*(" + _CHOICE + r")\s*\)?\s*\}?\s*\.?\s*$")
_CHOICE_LIST = re.compile(
    r"^\s*(?:" + _TEXT_CMD + r"\s*\{\s*)?((?:\(?" + _CHOICE + r"\)?\s*(?:,|\\text\{\s*and\s*\}|and|&|\s)\s*)+"
    r"\(?" + _CHOICE + r"\)?)\s*\}?\s*\.?\s*$")


def _group_digits(m: re.Match[str]) -> str:
    groups = re.split(_GROUP_SEP, m.group(2))
    # only regular groups of three digits count as thousands ("1,5" and "12,34" are lists, not numbers)
    if not all(len(g) == 3 for g in groups if g):
        return m.group(0)
    return m.group(1) + "".join(groups)


def ungroup_thousands(s: str, allow_plain_comma: bool) -> str:
    """`1\\,000\\,000` -> `1000000`. A plain comma is a separator only when `allow_plain_comma` (the caller knows
    the reference is a single number); otherwise `1,000` could be the pair (1, 000)."""
    def repl(m: re.Match[str]) -> str:
        if not allow_plain_comma and re.search(r"(?<![\\{]),(?!\\!)", m.group(2)):
            return m.group(0)
        return _group_digits(m)
    return _GROUPED_NUMBER.sub(repl, s)


def tidy(answer: str, *, reference_is_number: bool) -> str:
    """Rewrite the forms of `answer` that Math-Verify misreads into ones it reads correctly (see module doc).
    `reference_is_number` says the gold answer is one plain number, which makes unit text safe to drop."""
    s = answer.strip()
    s = s.replace("\u2212", "-").replace("\u00b0", "^\\circ").replace("\u2009", " ").replace("\u00a0", " ")
    s = _ANSWER_PREFIX.sub("", s)
    s = _TEXT_NUMBER_UNIT.sub(lambda m: m.group(1) + "\\text{ " + m.group(2) + "}", s)
    s = ungroup_thousands(s, allow_plain_comma=reference_is_number)
    # a trailing full stop (inside text or not) ends the sentence, not the number
    s = _TRAILING_STOP.sub(r"\1", s)
    if reference_is_number:
        # \textbf{(073)}, \mathbf{127}, (25): a lone number dressed in bold or parentheses
        dressed = _DRESSED_NUMBER.fullmatch(s)
        if dressed:
            s = dressed.group(1)
        word = re.fullmatch(r"(?:" + _TEXT_CMD + r"\s*\{\s*)?([A-Za-z]+)\s*\}?", s)
        if word and word.group(1).lower() in _NUMBER_WORDS:
            s = str(_NUMBER_WORDS[word.group(1).lower()])
    return s.strip()


def choice_letters(answer: str) -> frozenset[str] | None:
    """The multiple-choice letters `answer` consists of (`C`, `(C)`, `\\textbf{(C)}`, `A, C`), or None when it is
    not only choice letters."""
    m = _CHOICE_ONLY.match(answer)
    if m:
        return frozenset(m.group(1).upper())
    m = _CHOICE_LIST.match(answer)
    if m:
        return frozenset(x.upper() for x in re.findall(_CHOICE, re.sub(r"\\text|and", "", m.group(1))))
    return None


def split_choice(answer: str) -> tuple[str, str] | None:
    """(letter, value) for an answer written as a choice label followed by its value, like `\\textbf{(C) } 12`
    or `(C)\\ 12`; None otherwise (a bare `(C)` is `choice_letters`' job)."""
    if choice_letters(answer) is not None:
        return None
    m = _CHOICE_WITH_VALUE.match(answer)
    if not m or m.group(2).lstrip().startswith((",", ";", "&", "and")) or not m.group(2).strip() or m.group(2).strip() in ("}", "."):
        return None
    value = m.group(2).strip()
    if value.startswith("}"):
        value = value[1:].strip()
    return m.group(1).upper(), value


# ----------------------------------------------------------------------------------------------------------------
# Numbers decided without sympy

_BASE_NUMBER = re.compile(r"\s*([0-9A-F]*\d[0-9A-F]*)\s*_\s*\{?\s*(\d{1,2})\s*\}?\s*")


def base_number(answer: str) -> tuple[str, int] | None:
    """(digits, base) for a number written in a base, like `204_5` or `1011_{2}`; None otherwise.
    Math-Verify drops the subscript, so it calls 204_5 equal to 204_9."""
    m = _BASE_NUMBER.fullmatch(answer)
    if not m or not 2 <= int(m.group(2)) <= 36:
        return None
    return m.group(1).lstrip("0") or "0", int(m.group(2))

_PLAIN_NUMBER = re.compile(r"[+-]?\d{1,300}(?:\.\d{1,300})?|[+-]?\.\d{1,300}")
_FRACTION = re.compile(r"([+-]?)\s*\\[dt]?frac\s*\{\s*([+-]?\d{1,300})\s*\}\s*\{\s*(\d{1,300})\s*\}")
_SLASH = re.compile(r"([+-]?\d{1,300})\s*/\s*(\d{1,300})")
_DECORATION = re.compile(r"^\\\$|^\$|\\%$|%$|\\!|\\,|\\;|\\ |\{,\}|\s+|^\{|\}$")


def exact_number(answer: str) -> tuple[Fraction, bool] | None:
    """(value, is_exact) when `answer` is one plain number: an integer (leading zeros allowed, as AIME writes
    025), a decimal, `\\frac{a}{b}` or `a/b` with integers; None for anything else (including percentages,
    which Math-Verify treats specially). `is_exact` is False for decimals, which compare with a tolerance."""
    s = answer.strip()
    if not s or len(s) > 300:
        return None
    s = s.replace("\\left", "").replace("\\right", "")
    if s.startswith("\\$"):
        s = s[2:]
    s = s.replace("{,}", "").replace("\\!", "").strip()
    if "%" in s:
        return None
    if _PLAIN_NUMBER.fullmatch(s):
        return Fraction(s), "." not in s
    m = _FRACTION.fullmatch(s)
    if m:
        den = int(m.group(3))
        if den == 0:
            return None
        value = Fraction(int(m.group(2)), den)
        return (-value if m.group(1) == "-" else value), True
    m = _SLASH.fullmatch(s)
    if m:
        den = int(m.group(2))
        if den == 0:
            return None
        return Fraction(int(m.group(1)), den), True
    return None


_DEGREES = re.compile(r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\(?:text|mbox)\{\s*degrees?\s*\})\s*$")


def number_in_degrees(answer: str) -> tuple[Fraction, bool] | None:
    """`exact_number` of an answer that may end in a degree sign (`90^\\circ`, `90 \\text{ degrees}`), which
    Math-Verify ignores when it compares numbers."""
    return exact_number(_DEGREES.sub("", answer))


def is_plain_number(answer: str) -> bool:
    """True when `answer` is one number, possibly written with thousands separators, a unit or a dollar sign."""
    s = ungroup_thousands(answer, allow_plain_comma=True)
    s = re.sub(r"\^\s*\{?\\circ\}?|\\%|%|\\text\{[^{}]*\}|\\mbox\{[^{}]*\}", "", s).strip()
    return exact_number(s) is not None


# ----------------------------------------------------------------------------------------------------------------
# Hedges, echoes and decimal commas

# Markers of an answer that offers alternatives instead of one answer: `41 \\lor 42`, `x = 41 \\vee x = 42`,
# `41 \\text{ or } 42`, `41 or 42`, `41 \\pm 1`, `41 / 42 \\text{ (either)}`.
_ALTERNATIVES = re.compile(r"\\(?:lor|vee|pm|mp)(?![A-Za-z])|(?<![A-Za-z\\])or(?![A-Za-z])|\\text\s*\{[^{}]*\b(?:either|or)\b",
                           re.IGNORECASE)


def alternatives(answer: str) -> frozenset[str]:
    """The alternative markers (`\\lor`, `\\vee`, `or`, `\\pm`, `\\mp`) in an answer."""
    return frozenset(m.group(0).lower().replace(" ", "") for m in _ALTERNATIVES.finditer(answer))


def hedges(answer: str, gold: str) -> bool:
    """True when `answer` offers alternatives (`41 \\lor 42`, `41 \\pm 1`) where the reference is one answer: one
    of them may be right, but an answer that is several answers is not one. Against a reference that lists
    several values (`2, 3`: every solution) the alternatives enumerate them and Math-Verify compares the sets; a
    reference that itself reads `3 \\pm \\sqrt{2}` allows `\\pm`."""
    if _top_level_comma(gold):
        return False
    return bool(alternatives(answer) - alternatives(gold))


def _top_level_comma(text: str) -> bool:
    depth = 0
    for i, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth <= 0 and not (i > 0 and text[i - 1] == "{"):
            return True
    return False


_SQUASH = re.compile(r"\s+|\\left|\\right|\\[,;:! ]|\$|\\displaystyle")
_OPERATION = re.compile(r"[-+*/^=<>!]|\\(?:times|cdot|div|d?t?frac|sqrt|binom|sum|prod|int|log|ln|sin|cos|tan|"
                        r"choose|pmod|bmod|mod)(?![A-Za-z])")


def _squash(text: str) -> str:
    return _SQUASH.sub("", text).rstrip(".,;").replace("{}", "")


def echoes_question(prompt: str, answer: str, gold: str) -> bool:
    """True when `answer` is an expression copied from the question rather than its value: `6 \\times 7` for "Compute
    $6 \\times 7$" (Math-Verify evaluates it and calls it 42). Only an unevaluated expression counts (it has an
    operation, it is not a plain number or fraction) and never the reference's own text, so an answer that the
    question happens to mention (a multiple-choice value, `\\frac{1}{2}`) is not affected."""
    squashed = _squash(answer)
    if len(squashed) < 3 or exact_number(answer) is not None or _OPERATION.search(answer) is None:
        return False
    if squashed == _squash(gold):
        return False
    return squashed in _squash(prompt)


_DECIMAL_COMMA = re.compile(r"\s*(-?)(\d{1,300}),(\d{1,300})\s*")


def decimal_comma(answer: str) -> str | None:
    """`1,5` -> `1.5` when the comma can only be a decimal comma (not three digits after it, or a zero before it:
    `1,000` stays a thousand); None when `answer` is not such a number. Used only when the reference is one plain
    number, so that a list such as `1,2` is never read as 1.2 against a list reference."""
    m = _DECIMAL_COMMA.fullmatch(answer)
    if m is None:
        return None
    whole, fraction = m.group(2), m.group(3)
    if len(fraction) == 3 and whole != "0":
        return None
    return f"{m.group(1)}{whole}.{fraction}"
