"""Text normalisation shared by deduplication and decontamination, so that formatting never hides a copy.

Two problems that differ only in case, spacing, `$` delimiters, LaTeX spacing commands (`\\,` `\\!` `\\quad`),
thousands separators (`1,000`, `1{,}000`) or trailing zeros (`2.50`) normalise to the same text. Numbers are kept
as they are otherwise: templated problems that differ only in their numbers are different problems.
"""

from __future__ import annotations

import re
import unicodedata

_LATEX_SPACING = re.compile(r"\\(?:[,;:! ]|quad|qquad|displaystyle|textstyle|left|right)(?![a-zA-Z])")
_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3})((?:(?:,|\{,\})\d{3})+)(?![\d])")
_TRAILING_ZEROS = re.compile(r"(?<![\d.])(\d+)\.(\d*?)0+(?!\d)")
_TOKEN = re.compile(r"\\[a-z]+|\d+(?:\.\d+)?|[a-z]+|[^\sa-z\d]")
_WORD = re.compile(r"\d+(?:\.\d+)?|[a-z]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalize(text: str) -> str:
    """Lower-cased text with formatting-only differences removed and whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _LATEX_SPACING.sub(" ", text)
    text = text.replace("$", " ").replace("\\(", " ").replace("\\)", " ").replace("\\[", " ").replace("\\]", " ")
    text = _THOUSANDS.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), text)
    text = _TRAILING_ZEROS.sub(lambda m: m.group(1) + ("." + m.group(2) if m.group(2) else ""), text)
    return " ".join(text.split())


def tokens(normalized: str) -> list[str]:
    """Words, numbers, LaTeX commands and single symbols of normalised text (for shingles)."""
    return _TOKEN.findall(normalized)


def words(normalized: str) -> list[str]:
    """Words and numbers only (for n-gram overlap, which should not depend on markup)."""
    return _WORD.findall(normalized)


def numbers(normalized: str) -> tuple[str, ...]:
    """The numbers of normalised text, sorted: two problems with different numbers are different problems."""
    return tuple(sorted(_NUMBER.findall(normalized)))


_ANSWER_NOISE = re.compile(r"\\(?:left|right|displaystyle|!|,|;|:)|[{}\s$]|\\text|\\mathrm|\\mathbf")


def answer_key(answer: str) -> str:
    """A reference answer with its formatting removed, so that `\\frac{1}{3}`, `\\dfrac13` and `\\frac 13` agree.
    Equal keys mean equal answers; different keys may still be equal values (0.5 and 1/2): callers use this only
    to confirm a match, never to tell two problems apart on its own."""
    text = normalize(answer).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return _ANSWER_NOISE.sub("", text).rstrip(".")
