"""LeetCode rows as in DeepCoder's rllm copy of LeetCodeDataset: `problem` (statement + starter code), `solutions`
(a reference `class Solution`) and `tests = {"functional": "def check(candidate): ... check(Solution().m)"}`.

The whole `check` program is one test. Its source assumes LeetCodeDataset's prelude (star imports of the standard
modules, `inf`, `ListNode`/`TreeNode` and the helpers that build and compare them); `LEETCODE_PRELUDE` below is
darl's own version of it, run before the candidate. DeepCoder's leading instruction sentence is removed from the
statement because darl adds its own (see `darl.prompting`). Rows carry no id: ids are the 0-based row index.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from darl.data.formats.base import RowContext, RowError, RowFormat, stable_id, text_field
from darl.records import CodeTests, Problem

DEEPCODER_INSTRUCTION = ("Please solve the programming task below using a self-contained code snippet in a markdown "
                         "code block.")

LEETCODE_PRELUDE = '''\
from typing import *
from collections import *
from heapq import *
from bisect import *
from itertools import *
from functools import *
from math import *
from string import *
from operator import *
import datetime
import math
import heapq
import bisect
import collections
import itertools
import functools
import string
import re

inf = float("inf")


class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next


class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right


def list_node(values):
    """A linked list holding `values` in order; None for an empty list."""
    head = None
    for value in reversed(list(values)):
        head = ListNode(value, head)
    return head


def tree_node(values):
    """A binary tree from its level-order listing, None marking a missing child."""
    values = list(values)
    if not values or values[0] is None:
        return None
    root = TreeNode(values[0])
    frontier = deque([root])
    position = 1
    while frontier and position < len(values):
        node = frontier.popleft()
        for side in ("left", "right"):
            if position >= len(values):
                break
            value = values[position]
            position += 1
            if value is not None:
                child = TreeNode(value)
                setattr(node, side, child)
                frontier.append(child)
    return root


def is_same_list(first, second):
    while first is not None and second is not None:
        if first.val != second.val:
            return False
        first, second = first.next, second.next
    return first is None and second is None


def is_same_tree(first, second):
    if first is None or second is None:
        return first is second
    return (first.val == second.val and is_same_tree(first.left, second.left)
            and is_same_tree(first.right, second.right))
'''

_CHECK_CALL = re.compile(r"^check\(\s*Solution\(\)\.(\w+)\s*\)", re.M)


def matches(columns: frozenset[str], sample: Mapping[str, Any], filename: str) -> bool:
    return {"problem", "tests"} <= columns and isinstance(sample.get("tests"), dict)


def to_problem(row: Mapping[str, Any], ctx: RowContext) -> Problem:
    statement = text_field(row, "problem").strip()
    if statement.startswith(DEEPCODER_INSTRUCTION):
        statement = statement[len(DEEPCODER_INSTRUCTION):].strip()
    tests = row.get("tests")
    if not isinstance(tests, dict):
        raise RowError("tests", "expected an object {\"functional\": \"<check program>\"}")
    program = tests.get("functional")
    if not isinstance(program, str) or "def check(" not in program:
        raise RowError("tests.functional", "expected a program defining check(candidate)")
    called = _CHECK_CALL.search(program)
    if called is None:
        raise RowError("tests.functional", "the program never calls check(Solution().<method>)")
    metadata: dict[str, Any] = {"method": called.group(1)}
    if isinstance(row.get("solutions"), str):
        metadata["reference_solution"] = row["solutions"]
    return Problem(id=stable_id(ctx, None), domain="code", prompt=statement,
                   tests=CodeTests(asserts=(program,), prelude=LEETCODE_PRELUDE), source=ctx.source,
                   metadata=metadata)


FORMAT = RowFormat(
    name="leetcode",
    description="LeetCode (DeepCoder/rllm copy): problem, solutions, tests.functional (check program)",
    matches=matches,
    to_problem=to_problem,
)
