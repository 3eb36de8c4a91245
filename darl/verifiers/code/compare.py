"""Output comparison with LiveCodeBench's semantics (lcb_runner/evaluation/testing_util.py), done on the host.

stdin tests: both texts are stripped, split on newlines and each line stripped (so `\\r\\n` line ends and trailing
spaces never matter); the line counts must agree; each pair of lines must be equal as text or, failing that, as
lists of `decimal.Decimal` numbers (so `1.0` equals `1` and `2.50` equals `2.5`, without the float tolerance
that would make 50000000000000000 equal 50000000000000001). Like LiveCodeBench there is no case folding: a
problem that accepts "yes" and "YES" is graded by its expected text.

functional tests: the JSON-decoded expected output must `==` the returned value, rebuilt from the harness's tagged
JSON (`harness.encode_value`) into the same Python types. A returned tuple was already turned into a list in the
sandbox (LiveCodeBench does this); nested tuples, sets and dicts with non-string keys stay what they were, so they
compare exactly as they would have in LiveCodeBench's own process.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _as_decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def stdout_matches(actual: str, expected: str) -> bool:
    """True when a program's stdout matches the expected output under LiveCodeBench's rules."""
    got, want = stripped_lines(actual), stripped_lines(expected)
    if len(got) != len(want):
        return False
    for got_line, want_line in zip(got, want):
        if got_line == want_line:
            continue
        got_numbers, want_numbers = _as_decimals(got_line), _as_decimals(want_line)
        if got_numbers is None or want_numbers is None or got_numbers != want_numbers:
            return False
    return True


class Opaque:
    """A returned value with no JSON form (an object of the program's own class): it equals nothing."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


def decode_value(data: Any) -> Any:
    """Inverse of the harness's `encode_value`: tagged JSON back to the Python value the program returned."""
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    if isinstance(data, dict):
        if "$tuple" in data:
            return tuple(decode_value(v) for v in data["$tuple"])
        if "$dict" in data:
            return {decode_value(k): decode_value(v) for k, v in data["$dict"]}
        if "$set" in data:
            return {decode_value(v) for v in data["$set"]}
        if "$frozenset" in data:
            return frozenset(decode_value(v) for v in data["$frozenset"])
        return Opaque(str(data.get("$opaque", "unknown")))
    return data


def value_matches(returned: Any, expected: Any) -> bool:
    """`returned` (already decoded) against the JSON-decoded expected output."""
    try:
        return bool(returned == expected)
    except RecursionError:
        return False
