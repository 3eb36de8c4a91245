"""Procedural programming problems with tests and a worked reference program in a ```python block.

Both LiveCodeBench test kinds are produced: `functional` (write a function; each test calls it with JSON
arguments) and `stdin` (read the input, print the answer). A problem is a chain of small steps described in
words; the reference program does one step per line, which is the code analogue of a worked solution.

Difficulty knobs (`CodeKnobs`): `ops` (length of the arithmetic chain), `loop` (aggregate over a list),
`condition` (filter inside the loop), `two_args` (a second argument the chain may use) and `kind` (functional
or stdin). The expected outputs are computed by evaluating the same chain in Python here, never by running the
reference program, so the reference program is itself checked by the tests (see tests/test_embedded_tasks.py).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from typing import Literal

from darl.records import CodeTests, IOTest, Problem

CodeKind = Literal["functional", "stdin"]
NUM_TESTS = 4

# One function name and fixed argument names: the tiny models then spend their capacity on the steps (what the
# difficulty knobs control), not on copying identifiers. LiveCodeBench's functional problems also name one method.
FUNC_NAME = "solve"


@dataclass(frozen=True)
class CodeKnobs:
    """Difficulty knobs of one code problem.

    kind: functional (a named function, tests call it) or stdin (a program reading standard input).
    ops: steps in the arithmetic chain applied to the value (after the loop when there is one).
    loop: the value starts as an aggregate (sum, count or maximum) over a list argument.
    condition: the loop only takes elements that pass a test (greater than k, even, ...); needs loop.
    two_args: a second integer argument that chain steps may use.
    operators: the step kinds the chain draws from ("+-*%/", "/" meaning floor division).
    max_const: the largest constant in a step; small ranges make the easiest levels easy to half-solve.
    """

    kind: CodeKind = "functional"
    ops: int = 1
    loop: bool = False
    condition: bool = False
    two_args: bool = False
    operators: str = "+-*%/"
    max_const: int = 9

    def __post_init__(self) -> None:
        if self.kind not in ("functional", "stdin"):
            raise ValueError(f"CodeKnobs.kind: {self.kind!r} is not functional or stdin")
        if self.ops < 0 or (self.ops == 0 and not self.loop):
            raise ValueError("CodeKnobs.ops must be >= 1 (>= 0 with a loop)")
        if self.condition and not self.loop:
            raise ValueError("CodeKnobs.condition needs loop=True")
        if not self.operators or set(self.operators) - set("+-*%/"):
            raise ValueError(f"CodeKnobs.operators: {self.operators!r} must be a non-empty subset of '+-*%/'")
        if self.max_const < 2:
            raise ValueError("CodeKnobs.max_const must be >= 2")


# A chain step: (python operator, operand) where operand is an int or "b" (the second argument) or "r" (square).
Step = tuple[str, int | str]

_STEP_WORDS = {"+": "add {o}", "-": "subtract {o}", "*": "multiply by {o}", "%": "take the remainder modulo {o}",
               "//": "divide by {o} rounding down"}


def _step_text(step: Step) -> str:
    op, o = step
    if o == "r":
        return "square it"
    return _STEP_WORDS[op].format(o=o)


def _step_code(step: Step) -> str:
    op, o = step
    return f"r = r {op} {o}"


def _apply(step: Step, r: int, b: int) -> int:
    op, o = step
    v = r if o == "r" else b if isinstance(o, str) else o  # a name other than "r" is the second argument
    if op == "+":
        return r + v
    if op == "-":
        return r - v
    if op == "*":
        return r * v
    if op == "%":
        return r % v
    return r // v


def _chain(rng: random.Random, knobs: CodeKnobs, b_name: str) -> list[Step]:
    steps: list[Step] = []
    for _ in range(knobs.ops):
        op = rng.choice([{"/": "//"}.get(o, o) for o in knobs.operators])
        if op in ("%", "//"):
            steps.append((op, rng.randint(2, max(2, knobs.max_const))))
        elif op == "*" and rng.random() < 0.15 and not any(o == "r" for _, o in steps):
            steps.append(("*", "r"))
        elif knobs.two_args and rng.random() < 0.4:
            steps.append((op, b_name))
        else:
            steps.append((op, rng.randint(1, knobs.max_const)))
    if knobs.two_args and steps and not any(o == b_name for _, o in steps):  # the second argument is always used
        at = rng.randrange(len(steps))
        steps[at] = (rng.choice([o for o in ("+", "-", "*") if o in knobs.operators] or ["+"]), b_name)
    return steps


_CONDITIONS = {
    "gt": ("greater than {k}", "x > {k}", lambda x, k: x > k),
    "lt": ("less than {k}", "x < {k}", lambda x, k: x < k),
    "even": ("even", "x % 2 == 0", lambda x, k: x % 2 == 0),
    "odd": ("odd", "x % 2 == 1", lambda x, k: x % 2 == 1),
    "div": ("divisible by {k}", "x % {k} == 0", lambda x, k: x % k == 0),
}
_AGGREGATES = ("sum", "count", "max")


def code_problem(knobs: CodeKnobs, seed: int, problem_id: str, level: int | None = None,
                 source: str = "darl-embedded-code") -> tuple[Problem, str]:
    """One code problem (prompt, tests) and its reference solution (a ```python block)."""
    rng = random.Random(f"code:{seed}")
    functional = knobs.kind == "functional"
    a_name = "xs" if knobs.loop else "x"
    b_name = "y"
    chain = _chain(rng, knobs, b_name if knobs.two_args else "")
    agg = rng.choice(_AGGREGATES) if knobs.loop else None
    cond_key = rng.choice(sorted(_CONDITIONS)) if knobs.condition else None
    cond_k = rng.randint(2, 7)
    if agg == "max" and cond_key is not None:
        agg = "sum"  # the maximum of a filtered list may not exist; keep every test well defined

    # --- the words
    if knobs.loop:
        what = {"sum": "the sum of the elements", "count": "the number of elements", "max": "the largest element"}[agg]
        start = f"{what} of {a_name}" if functional else f"{what} of the line"
        if cond_key is not None:
            start += " that are " + _CONDITIONS[cond_key][0].format(k=cond_k)
    else:
        start = a_name
    step_words = [_step_text(s) for s in chain]
    if functional:
        args = f"{a_name}, {b_name}" if knobs.two_args else a_name
        name = FUNC_NAME
        head = f"Write a function {name}({args}) that starts from {start}"
    else:
        name = None
        if knobs.loop:
            reads = "Read a line of integers" + (f", then an integer {b_name} on the next line" if knobs.two_args else "")
        elif knobs.two_args:
            reads = f"Read two integers {a_name} and {b_name} from one line"
        else:
            reads = f"Read an integer {a_name}"
        head = f"{reads}. Start from {start}"
    tail = "returns the result." if functional else "print the result."
    prompt = head + (", then " + ", then ".join(step_words) if step_words else "") + (
        ", and " if functional else ". Then ") + tail
    if not functional:
        prompt = prompt.replace(". Then print", ", then print") if step_words else prompt

    # --- the reference program, one step per line
    body: list[str] = []
    if knobs.loop:
        if agg == "max":
            body.append(f"r = {a_name}[0]")
        else:
            body.append("r = 0")
        body.append(f"for x in {a_name}:")
        indent = "    "
        if cond_key is not None:
            body.append(f"    if {_CONDITIONS[cond_key][1].format(k=cond_k)}:")
            indent = "        "
        body.append(indent + {"sum": "r = r + x", "count": "r = r + 1", "max": "r = max(r, x)"}[agg])
    else:
        body.append(f"r = {a_name}")
    body += [_step_code(s) for s in chain]
    if functional:
        lines = [f"def {name}({args}):"] + ["    " + line for line in body] + ["    return r"]
    else:
        if knobs.loop:
            reads_code = [f"{a_name} = list(map(int, input().split()))"]
            if knobs.two_args:
                reads_code.append(f"{b_name} = int(input())")
        elif knobs.two_args:
            reads_code = [f"{a_name}, {b_name} = map(int, input().split())"]
        else:
            reads_code = [f"{a_name} = int(input())"]
        lines = reads_code + body + ["print(r)"]
    solution = "```python\n" + "\n".join(lines) + "\n```"

    # --- tests, from evaluating the chain here
    io: list[IOTest] = []
    seen: set[str] = set()
    for _ in range(100):
        if len(io) == NUM_TESTS:
            break
        xs = [rng.randint(0, 20) for _ in range(rng.randint(1, 7))] if knobs.loop else None
        a = rng.randint(0, 30)
        b = rng.randint(1, 9)
        if knobs.loop:
            keep = [x for x in xs if cond_key is None or _CONDITIONS[cond_key][2](x, cond_k)]
            r = {"sum": sum(keep), "count": len(keep), "max": max(xs)}[agg]
        else:
            r = a
        for s in chain:
            r = _apply(s, r, b)
        first = xs if knobs.loop else a
        if functional:
            args_in = [first, b] if knobs.two_args else [first]
            test = IOTest(input="\n".join(json.dumps(v) for v in args_in), output=json.dumps(r), testtype="functional")
        else:
            if knobs.loop:
                text = " ".join(map(str, xs)) + (f"\n{b}" if knobs.two_args else "")
            else:
                text = f"{a} {b}" if knobs.two_args else str(a)
            test = IOTest(input=text + "\n", output=f"{r}\n", testtype="stdin")
        if test.input not in seen:
            seen.add(test.input)
            io.append(test)
    tests = CodeTests(io=tuple(io), func_name=name)
    metadata = {"raw_prompt": True, "seed": seed, "knobs": asdict(knobs), "level": level, "solution": solution}
    return Problem(id=problem_id, domain="code", prompt=prompt, tests=tests, source=source,
                   metadata=metadata), solution
