"""Level conditions as small expressions over pass rates, so that users change the rules in a config file
without touching code: `"0 < small < 1"`, `"small <= never and medium >= always"`, `"p('qwen-7b') > 0.5"`.

Grammar (a safe subset of Python expressions, parsed with `ast` and never `eval`ed): numbers and strings;
names (a role such as `small`, a scored model whose name is an identifier, a constant from the config, or
`domain`); `p('any model name')`; comparisons `< <= > >= == !=`, chained as in Python; `and`, `or`, `not`;
parentheses. Anything else is an error that quotes the expression.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from darl.errors import InputError

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]

_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}


@dataclass(frozen=True)
class Condition:
    """A compiled condition. `names` are the variables it reads (roles/models/constants/domain)."""

    text: str
    names: frozenset[str]
    _fn: Compiled

    def __call__(self, env: Env) -> bool:
        return bool(self._fn(env))


def compile_condition(text: str, where: str) -> Condition:
    """Compile `text`; InputError naming `where` (for example 'levels.yaml: levels[1].when') when it is not
    in the grammar above."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise InputError(f"{where}: cannot parse {text!r} ({exc.msg})",
                         hint="write conditions such as \"0 < small < 1 and medium == 1\"") from None
    names: set[str] = set()
    fn = _compile(tree.body, text, where, names)
    return Condition(text=text, names=frozenset(names), _fn=fn)


def _compile(node: ast.AST, text: str, where: str, names: set[str]) -> Compiled:
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, text, where, names) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(part(env) for part in parts)
        return lambda env: any(part(env) for part in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _compile(node.operand, text, where, names)
        return lambda env: not inner(env)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = -node.operand.value
        return lambda env: value
    if isinstance(node, ast.Compare):
        left = _compile(node.left, text, where, names)
        ops = []
        for op, right in zip(node.ops, node.comparators):
            if type(op) not in _COMPARE:
                break
            ops.append((_COMPARE[type(op)], _compile(right, text, where, names)))
        else:
            def compare(env: Env) -> bool:
                a = left(env)
                for fn, right_fn in ops:
                    b = right_fn(env)
                    if not fn(a, b):
                        return False
                    a = b
                return True

            return compare
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) and not isinstance(node.value,
                                                                                                        bool):
        value = node.value
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id
        names.add(name)
        return lambda env: env[name]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "p" and not node.keywords
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        name = node.args[0].value
        names.add(name)
        return lambda env: env[name]
    piece = ast.get_source_segment(text, node) or type(node).__name__
    raise InputError(f"{where}: {piece!r} is not allowed in a condition ({text!r})",
                     hint="use names, numbers, p('model name'), comparisons, and/or/not, parentheses")
