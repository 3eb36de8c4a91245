"""Procedural math problems with worked, step-by-step solutions ending in `\\boxed{answer}`.

Three kinds, each with explicit difficulty knobs (`MathKnobs`):
- `expression`: evaluate an arithmetic expression (terms, digits, operators, parenthesis nesting); the solution
  rewrites the expression one operation at a time, in the usual order of operations.
- `equation`: solve a linear equation in x (`a*x+b=c`, or x on both sides); one algebra move per line.
- `word`: a short story of events changing a count (buys, gives away, boxes of N); one line per event.

Each problem is a pure function of (knobs, seed): the same pair always gives the same text, answer and solution.
Solutions are kept short (a few dozen tokens) so the tiny embedded models can be trained and sampled on a CPU;
they are a stand-in for the long chains of thought the paper's models write, not an imitation of them.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass
from typing import Literal

from darl.records import Problem

MathKind = Literal["expression", "equation", "word"]
MAX_TRIES = 1000


@dataclass(frozen=True)
class MathKnobs:
    """Difficulty knobs of one math problem.

    kind: which template. terms: operands of an expression, or events of a word problem (steps = terms - 1 for an
    expression). digits: most digits of an operand. mul_digits: most digits of a factor (multiplication is the
    hardest step for a tiny model). operators: the binary operators an expression may use (subset of "+-*").
    nesting: parenthesis pairs in an expression (nested when > 1). both_sides: an equation with x on both sides.
    max_value: when set, every operand (and coefficient) is drawn from 1..max_value instead of by digits: the
    easiest levels use tiny ranges, where even a model that has only half learned the task is sometimes right.
    """

    kind: MathKind = "expression"
    terms: int = 2
    digits: int = 1
    mul_digits: int = 1
    operators: str = "+-"
    nesting: int = 0
    both_sides: bool = False
    max_value: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("expression", "equation", "word"):
            raise ValueError(f"MathKnobs.kind: {self.kind!r} is not expression, equation or word")
        if self.terms < 1 or self.digits < 1 or self.mul_digits < 1:
            raise ValueError("MathKnobs: terms, digits and mul_digits must be >= 1")
        if not self.operators or set(self.operators) - set("+-*"):
            raise ValueError(f"MathKnobs.operators: {self.operators!r} must be a non-empty subset of '+-*'")
        if self.nesting < 0:
            raise ValueError("MathKnobs.nesting must be >= 0")
        if self.max_value is not None and self.max_value < 2:
            raise ValueError("MathKnobs.max_value must be >= 2")


def _number(rng: random.Random, digits: int, max_value: int | None = None) -> int:
    """A number in 1..max_value when that is set, else one with 1..digits digits, biased toward the full width so
    that 'digits' means something."""
    if max_value is not None:
        return rng.randint(1, max_value)
    width = digits if rng.random() < 0.7 else rng.randint(1, digits)
    low = 0 if width == 1 else 10 ** (width - 1)
    return rng.randint(max(low, 1), 10**width - 1)


def _multiplier(rng: random.Random, knobs: MathKnobs) -> int:
    """A small factor (an equation's coefficient, a number of boxes): 2..9, or 2..max_value when that is set."""
    return rng.randint(2, 9 if knobs.max_value is None else knobs.max_value)


# ---------------------------------------------------------------- expressions
# An expression is a flat token list: ints, operator strings and "(" / ")".

Token = int | str


def _render(tokens: list[Token]) -> str:
    return "".join(str(t) for t in tokens)


def _innermost_group(tokens: list[Token]) -> tuple[int, int]:
    """Bounds [start, end) of the innermost parenthesised group's contents, or the whole list when there is none."""
    start = 0
    for i, t in enumerate(tokens):
        if t == "(":
            start = i + 1
        elif t == ")":
            return start, i
    return 0, len(tokens)


def _one_step(tokens: list[Token]) -> list[Token]:
    """Carry out the next operation in the usual order: innermost parentheses first, then * before + and -,
    left to right. A group reduced to one number loses its parentheses in the same step."""
    start, end = _innermost_group(tokens)
    group = tokens[start:end]
    ops = [i for i, t in enumerate(group) if t in ("+", "-", "*")]
    mul = [i for i in ops if group[i] == "*"]
    at = (mul or ops)[0]
    a, op, b = group[at - 1], group[at], group[at + 1]
    value = a * b if op == "*" else a + b if op == "+" else a - b
    new_group = group[: at - 1] + [value] + group[at + 2:]
    if len(new_group) == 1 and start > 0:
        return tokens[: start - 1] + new_group + tokens[end + 1:]
    return tokens[:start] + new_group + tokens[end:]


def _expression_tokens(rng: random.Random, knobs: MathKnobs) -> list[Token]:
    ops = [rng.choice(knobs.operators) for _ in range(knobs.terms - 1)]
    nums = [_number(rng, knobs.digits, knobs.max_value) for _ in range(knobs.terms)]
    for i, op in enumerate(ops):  # keep factors short: multiplication is where tiny models fail
        if op == "*":
            nums[i + 1] = _number(rng, min(knobs.digits, knobs.mul_digits), knobs.max_value)
    # Parentheses: each pair wraps a run of >= 2 operands, inside the previous pair (nesting), never everything.
    opens, closes = [0] * knobs.terms, [0] * knobs.terms
    lo, hi = 0, knobs.terms - 1
    for _ in range(knobs.nesting):
        if hi - lo < 2:  # room for a strictly smaller run of >= 2 operands
            break
        while True:
            a = rng.randint(lo, hi - 1)
            b = rng.randint(a + 1, hi)
            if (a, b) != (lo, hi):  # a strictly smaller run than the enclosing one (or than the whole)
                break
        opens[a] += 1
        closes[b] += 1
        lo, hi = a, b
    tokens: list[Token] = []
    for i, n in enumerate(nums):
        if i > 0:
            tokens.append(ops[i - 1])
        tokens += ["("] * opens[i] + [n] + [")"] * closes[i]
    return tokens


def _expression(rng: random.Random, knobs: MathKnobs) -> tuple[str, str, str]:
    for _ in range(MAX_TRIES):
        tokens = _expression_tokens(rng, knobs)
        steps = [tokens]
        while len(steps[-1]) > 1:
            steps.append(_one_step(steps[-1]))
        values = [t for s in steps for t in s if isinstance(t, int)]
        if min(values) >= 0 and max(values) < 10 ** (knobs.digits + 2):  # no negatives, no huge numbers
            answer = str(steps[-1][0])
            lines = [f"= {_render(s)}" for s in steps[1:]] + [f"\\boxed{{{answer}}}"]
            return f"Compute {_render(tokens)}.", "\n".join(lines), answer
    raise RuntimeError(f"no valid expression for {knobs} after {MAX_TRIES} tries")


# ---------------------------------------------------------------- equations


def _equation(rng: random.Random, knobs: MathKnobs) -> tuple[str, str, str]:
    x = _number(rng, knobs.digits, knobs.max_value)
    a = _multiplier(rng, knobs)
    b = _number(rng, knobs.digits, knobs.max_value)
    if not knobs.both_sides:
        c = a * x + b
        lines = [f"{a}*x = {c}-{b}", f"{a}*x = {c - b}", f"x = {c - b}/{a}", f"x = {x}"]
        text = f"{a}*x+{b}={c}"
    else:
        d = rng.randint(1, a - 1)
        # a*x + b = d*x + e  ->  e = (a-d)*x + b
        e = (a - d) * x + b
        lines = [f"{a}*x-{d}*x = {e}-{b}", f"{a - d}*x = {e - b}"]
        lines += [f"x = {e - b}/{a - d}"] if a - d > 1 else []
        lines += [f"x = {x}"]
        text = f"{a}*x+{b}={d}*x+{e}"
    answer = str(x)
    return f"Solve {text} for x.", "\n".join(lines + [f"\\boxed{{{answer}}}"]), answer


# ---------------------------------------------------------------- word problems

NAMES = ("Ann", "Ben", "Mia", "Leo", "Zoe", "Sam", "Ivy", "Max", "Eva", "Tom", "Ada", "Kai")
ITEMS = ("apples", "pens", "coins", "cards", "books", "shells", "stamps", "marbles", "stickers", "cookies")


def _word(rng: random.Random, knobs: MathKnobs) -> tuple[str, str, str]:
    for _ in range(MAX_TRIES):
        name, item = rng.choice(NAMES), rng.choice(ITEMS)
        count = _number(rng, knobs.digits, knobs.max_value)
        sentences = [f"{name} has {count} {item}."]
        lines = []
        ok = True
        for _ in range(knobs.terms):
            kinds = ["gain", "lose"] + (["boxes"] if "*" in knobs.operators else [])
            kind = rng.choice(kinds)
            if kind == "gain":
                n = _number(rng, knobs.digits, knobs.max_value)
                sentences.append(rng.choice([f"{name} buys {n} more.", f"{name} finds {n} more.", f"{name} gets {n} more."]))
                lines.append(f"{count}+{n} = {count + n}")
                count += n
            elif kind == "lose":
                n = _number(rng, knobs.digits, knobs.max_value)
                if n > count:
                    ok = False
                    break
                sentences.append(rng.choice([f"{name} gives {n} away.", f"{name} loses {n}.", f"{name} sells {n}."]))
                lines.append(f"{count}-{n} = {count - n}")
                count -= n
            else:
                boxes = _multiplier(rng, knobs)
                per = _number(rng, min(knobs.digits, knobs.mul_digits), knobs.max_value)
                sentences.append(f"{name} buys {boxes} boxes of {per}.")
                lines.append(f"{boxes}*{per} = {boxes * per}")
                lines.append(f"{count}+{boxes * per} = {count + boxes * per}")
                count += boxes * per
        if ok:
            sentences.append(f"How many {item} does {name} have now?")
            answer = str(count)
            return " ".join(sentences), "\n".join(lines + [f"\\boxed{{{answer}}}"]), answer
    raise RuntimeError(f"no valid word problem for {knobs} after {MAX_TRIES} tries")


_MAKERS = {"expression": _expression, "equation": _equation, "word": _word}


def math_problem(knobs: MathKnobs, seed: int, problem_id: str, level: int | None = None,
                 source: str = "darl-embedded-math") -> tuple[Problem, str]:
    """One math problem and its worked solution (the text a model should answer with).

    The prompt carries its own short instruction-free question; `metadata.raw_prompt` tells `darl.prompting` to
    send it as it is, so the embedded models see exactly the text they were trained on.
    """
    rng = random.Random(f"math:{seed}")
    prompt, solution, answer = _MAKERS[knobs.kind](rng, knobs)
    metadata = {"raw_prompt": True, "seed": seed, "knobs": asdict(knobs), "level": level, "solution": solution}
    return Problem(id=problem_id, domain="math", prompt=prompt, answer=answer, source=source,
                   metadata=metadata), solution


def premature_answer(solution: str) -> str:
    """`solution` cut after its first line, with the last number of that line boxed as the answer: the answer a
    hasty solver gives before the work is done (an intermediate result, or an operand of the next step). A one-step
    solution (one line, then the box) is its own first line and comes back unchanged, so on one-step problems the
    habit costs nothing and on longer ones it is almost always wrong.

    Why it exists: a family can have part of its warm start written this way (`RoleSpec.premature_answer_share`),
    so that its policy starts RL with two ways of answering, one of them reliable, as the paper's distilled models
    start with careful and hasty reasoning. docs/embedded.md ("Two ways of answering") has what that did."""
    lines = solution.split("\n")
    if len(lines) <= 2:
        return solution
    return lines[0] + "\n\\boxed{" + re.findall(r"\d+", lines[0])[-1] + "}"
