"""The code verifier on real data: every HumanEval, MBPP and LeetCode reference solution passes in the real sandbox,
mutated solutions fail, LiveCodeBench stdin and functional problems are graded with LiveCodeBench's semantics, and
scores give partial credit. Runs the real bubblewrap sandbox (the fallback when bubblewrap is missing)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from darl.data.loaders import load_problems
from darl.records import CodeTests, IOTest, Problem
from darl.verifiers import Verifier
from darl.verifiers.code import CodeVerifier, extract_program
from darl.verifiers.code.compare import Opaque, decode_value, stdout_matches, value_matches

ROOT = Path(__file__).resolve().parents[1]
HUMANEVAL = ROOT / "darl/benchmarks/data/humaneval/HumanEval.jsonl.gz"
LIVECODEBENCH = ROOT / "darl/benchmarks/data/livecodebench/problems_public_tests.jsonl"
MBPP_FULL = ROOT / "tests/fixtures/shared/mbpp/mbpp.jsonl"
MBPP_SANITIZED = ROOT / "tests/fixtures/shared/mbpp/mbpp_sanitized_test_mas_tts.jsonl"
LEETCODE = ROOT / "tests/fixtures/shared/leetcode/leetcode_test_200.json"

# Reference solutions are slow on a loaded 2-core machine (MBPP 123 sums amicable numbers below 10,000): a generous
# per-test limit keeps these tests about correctness, not about the machine's load.
REFERENCE_TIME_LIMIT_S = 30.0


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}\n```\n"


def code_problem(tests: CodeTests, pid: str = "p") -> Problem:
    return Problem(id=pid, domain="code", prompt="solve", tests=tests)


@pytest.fixture(scope="module")
def verifier():
    with CodeVerifier(workers=2, time_limit_s=REFERENCE_TIME_LIMIT_S) as v:
        yield v


# ------------------------------------------------------------------------------------------------ extraction


def test_extract_takes_the_last_python_block_of_the_final_answer():
    response = ("<think>```python\nprint('thinking')\n```</think>Try this:\n```python\nx = 1\n```\n"
                "Better:\n```python\nx = 2\n```\nand some C++:\n```cpp\nint main(){}\n```")
    assert extract_program(response) == "x = 2\n"


def test_extract_prefers_python_tags_then_untagged_fences_then_raw_text():
    assert extract_program("```\nprint(1)\n```") == "print(1)\n"
    assert extract_program("```py\na\n```\n```\nb\n```") == "a\n"
    assert extract_program("def f():\n    return 1\n") == "def f():\n    return 1\n"
    assert extract_program("```Python3\nz = 3\n```") == "z = 3\n"


def test_extract_finds_nothing_without_a_final_answer_or_a_python_block():
    assert extract_program("<think>still thinking ```python\nx=1\n```") is None
    assert extract_program("```cpp\nint main() {}\n```") is None
    assert extract_program("   ") is None


def test_extract_keeps_an_unclosed_last_fence():
    assert extract_program("```python\nprint(5)\n") == "print(5)\n"


# ------------------------------------------------------------------------------------------------ comparison


@pytest.mark.parametrize("actual, expected, same", [
    ("3\n", "3", True),
    ("YES \r\nNO\r\n", "YES\nNO\n", True),                    # line ends and trailing spaces
    ("  1 2  3\n\n", "1 2  3", True),                          # outer whitespace of lines and text
    ("1.0 2.50\n", "1 2.5\n", True),                           # numbers compare as decimals
    ("50000000000000001\n", "50000000000000000\n", False),     # no float tolerance
    ("yes\n", "YES\n", False),                                 # no case folding, as LiveCodeBench
    ("1\n2\n", "1 2\n", False),                                # line structure matters
    ("1\n\n2\n", "1\n2\n", False),                             # an inner empty line is a line
    ("abc 1\n", "abc 1.0\n", False),                           # mixed tokens need an exact match
])
def test_stdout_comparison_follows_livecodebench(actual, expected, same):
    assert stdout_matches(actual, expected) is same


def test_returned_values_keep_their_python_types():
    assert decode_value({"$tuple": [1, 2]}) == (1, 2)
    assert decode_value({"$dict": [[1, "a"]]}) == {1: "a"}
    assert decode_value({"$set": [1, 2]}) == {1, 2}
    assert value_matches(decode_value([1, {"$tuple": [2, 3]}]), [1, [2, 3]]) is False  # nested tuple != list
    assert value_matches(decode_value({"$dict": [[1, 2]]}), {"1": 2}) is False            # int key != str key
    assert value_matches(decode_value(1.0), 1) is True                                    # Python's ==
    assert value_matches(Opaque("Node"), Opaque("Node")) is False


# ------------------------------------------------------------------------------------------------ HumanEval


def humaneval_rows() -> list[dict]:
    with gzip.open(HUMANEVAL, "rt") as f:
        return [json.loads(line) for line in f]


def test_all_164_humaneval_canonical_solutions_pass(verifier):
    problems = load_problems(HUMANEVAL)
    rows = humaneval_rows()
    assert len(problems) == len(rows) == 164
    verdicts = verifier.verify_batch(problems, [fenced(r["prompt"] + r["canonical_solution"]) for r in rows])
    failed = [(p.id, v) for p, v in zip(problems, verdicts) if not v.passed]
    assert failed == []
    assert all(v.score == 1.0 and v.error is None for v in verdicts)


def test_humaneval_solutions_that_return_none_fail(verifier):
    problems = load_problems(HUMANEVAL)
    rows = humaneval_rows()
    verdicts = verifier.verify_batch(problems, [fenced(r["prompt"] + "    return None\n") for r in rows])
    assert not any(v.passed for v in verdicts)
    assert {v.error for v in verdicts} <= {"wrong answer", "runtime error"}


@pytest.mark.parametrize("task, old, new", [
    ("HumanEval/0", "distance < threshold", "distance <= threshold + 1"),   # off by one
    ("HumanEval/2", "return number % 1.0", "return number % 1.0 + 1"),
    ("HumanEval/4", "/ len(numbers)", "/ (len(numbers) + 1)"),
    ("HumanEval/13", "return a", "return a + 1"),
])
def test_humaneval_off_by_one_mutations_fail(verifier, task, old, new):
    row = next(r for r in humaneval_rows() if r["task_id"] == task)
    problem = load_problems(HUMANEVAL)[int(task.split("/")[1])]
    assert problem.tests.entry_point == row["entry_point"]
    assert old in row["canonical_solution"]
    good = verifier.verify(problem, fenced(row["prompt"] + row["canonical_solution"]))
    bad = verifier.verify(problem, fenced(row["prompt"] + row["canonical_solution"].replace(old, new, 1)))
    assert good.passed and not bad.passed and bad.error == "wrong answer"


def test_a_humaneval_response_may_omit_the_prompt_imports(verifier):
    """The prompt's code before the function (its imports) is the prelude, so a bare function still runs."""
    problem = load_problems(HUMANEVAL)[0]
    row = humaneval_rows()[0]
    signature = "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
    assert verifier.verify(problem, fenced(signature + row["canonical_solution"])).passed


# ------------------------------------------------------------------------------------------------ MBPP


def _mbpp_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _function_called(asserts: tuple[str, ...]) -> str:
    return re.search(r"assert\s+\(?\s*(?:not\s+)?\(?\s*(?:set\(|sorted\(|math\.isclose\(|abs\()?\s*([A-Za-z_]\w*)\s*\(",
                     asserts[0]).group(1)


@pytest.mark.slow
def test_all_974_mbpp_reference_solutions_pass(verifier):
    """The full original file: test_list asserts, with test_setup_code where a row has one."""
    problems = load_problems(MBPP_FULL)
    rows = _mbpp_rows(MBPP_FULL)
    assert len(problems) == len(rows) == 974
    assert sum(bool(r["test_setup_code"].strip()) for r in rows) == 2
    verdicts = verifier.verify_batch(problems, [fenced(r["code"]) for r in rows])
    failed = [(p.id, v) for p, v in zip(problems, verdicts) if not v.passed]
    assert failed == []


def test_mbpp_sanitized_solutions_pass_with_their_test_imports(verifier):
    """The sanitized split's rows that need `test_imports` (the prelude); its other rows repeat the full file's."""
    problems = load_problems(MBPP_SANITIZED)
    rows = _mbpp_rows(MBPP_SANITIZED)
    chosen = [i for i, r in enumerate(rows) if r["test_imports"]]
    assert len(chosen) == 13 and all(problems[i].tests.prelude for i in chosen)
    verdicts = verifier.verify_batch([problems[i] for i in chosen], [fenced(rows[i]["code"]) for i in chosen])
    assert [v.passed for v in verdicts] == [True] * len(chosen)
    without = verifier.verify_batch([Problem(id=f"bare{i}", domain="code", prompt="p",
                                             tests=CodeTests(asserts=problems[i].tests.asserts)) for i in chosen],
                                    [fenced(rows[i]["code"]) for i in chosen])
    assert not all(v.passed for v in without)  # the imports matter for some of them


def test_mbpp_mutated_solutions_fail_and_partial_credit_counts(verifier):
    problems = load_problems(MBPP_SANITIZED)[:40]
    rows = _mbpp_rows(MBPP_SANITIZED)[:40]
    mutated = [fenced(r["code"] + f"\n\ndef {_function_called(p.tests.asserts)}(*args, **kwargs):\n    return None\n")
               for p, r in zip(problems, rows)]
    verdicts = verifier.verify_batch(problems, mutated)
    assert not any(v.passed for v in verdicts)
    # remove_Occ with one assert broken by an off-by-one: two of three asserts still pass
    problem = next(p for p in load_problems(MBPP_SANITIZED) if "remove_Occ" in p.tests.asserts[0])
    program = ("def remove_Occ(s, ch):\n    if s == 'PHP':\n        return 'HP'\n"
               "    first = s.find(ch)\n    s = s[:first] + s[first + 1:]\n    last = s.rfind(ch)\n"
               "    return s[:last] + s[last + 1:]\n")
    verdict = verifier.verify(problem, fenced(program))
    assert (verdict.tests_passed, verdict.tests_total, verdict.passed) == (2, 3, False)
    assert verdict.score == pytest.approx(2 / 3) and verdict.error == "wrong answer"


# ------------------------------------------------------------------------------------------------ LeetCode


@pytest.mark.slow
def test_leetcode_reference_solutions_pass_with_their_prelude(verifier):
    problems = load_problems(LEETCODE)
    rows = json.loads(LEETCODE.read_text())
    assert len(problems) == len(rows) == 200
    assert all(p.tests.prelude and "class TreeNode" in p.tests.prelude for p in problems)
    verdicts = verifier.verify_batch(problems, [fenced(r["solutions"]) for r in rows])
    failed = [(p.id, v) for p, v in zip(problems, verdicts) if not v.passed]
    assert failed == []


def test_leetcode_mutated_solutions_fail(verifier):
    problems = load_problems(LEETCODE)[:30]
    rows = json.loads(LEETCODE.read_text())[:30]
    responses = []
    for problem, row in zip(problems, rows):
        method = re.search(r"check\(Solution\(\)\.(\w+)\)", problem.tests.asserts[0]).group(1)
        responses.append(fenced(row["solutions"] + f"\n\nSolution.{method} = lambda self, *a, **k: None\n"))
    verdicts = verifier.verify_batch(problems, responses)
    assert not any(v.passed for v in verdicts)


# ------------------------------------------------------------------------------------------------ LiveCodeBench

LCB_SOLUTIONS = {
    # stdin problems (AtCoder, Codeforces)
    "1873_A": "t = int(input())\nfor _ in range(t):\n    s = input().strip()\n"
              "    d = sum(a != b for a, b in zip(s, 'abc'))\n    print('YES' if d in (0, 2) else 'NO')\n",
    "1899_A": "import sys\ndata = sys.stdin.read().split()\nfor n in map(int, data[1:]):\n"
              "    print('Second' if n % 3 == 0 else 'First')\n",
    "abc302_a": "a, b = map(int, input().split())\nprint((a + b - 1) // b)\n",
    "abc304_a": "n = int(input())\npeople = [input().split() for _ in range(n)]\n"
                "start = min(range(n), key=lambda i: int(people[i][1]))\n"
                "for k in range(n):\n    print(people[(start + k) % n][0])\n",
    "abc307_a": "def main():\n    n = int(input())\n    a = list(map(int, input().split()))\n"
                "    print(*[sum(a[7 * i:7 * i + 7]) for i in range(n)])\n\nif __name__ == '__main__':\n    main()\n",
    "abc308_a": "s = list(map(int, sys.stdin.buffer.read().split()))\n"   # `sys` from LiveCodeBench's imports
                "ok = all(x <= y for x, y in zip(s, s[1:])) and all(100 <= x <= 675 and x % 25 == 0 for x in s)\n"
                "print('Yes' if ok else 'No')\nexit(0)\n",
    # functional problems (LeetCode)
    "2727": "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n"
            "        return sum(int(d[11:13]) > 60 for d in details)\n",
    "2756": "class Solution:\n    def buyChoco(self, prices, money):\n        a, b = sorted(prices)[:2]\n"
            "        return money - a - b if a + b <= money else money\n",
    "2777": "class Solution:\n    def distinctDifferenceArray(self, nums):\n"
            "        return tuple(len(set(nums[:i + 1])) - len(set(nums[i + 1:])) for i in range(len(nums)))\n",
    "2791": "def circularGameLosers(n, k):\n    seen, pos, step = {0}, 0, 1\n    while True:\n"
            "        pos = (pos + step * k) % n\n        if pos in seen:\n            break\n"
            "        seen.add(pos)\n        step += 1\n    return [i + 1 for i in range(n) if i not in seen]\n",
    "2816": "class Solution:\n    def makeSmallestPalindrome(self, s: str) -> str:\n        c = list(s)\n"
            "        for i in range(len(c) // 2):\n            j = len(c) - 1 - i\n"
            "            c[i] = c[j] = min(c[i], c[j])\n        return ''.join(c)\n",
}
LCB_WRONG = {
    "abc302_a": "a, b = map(int, input().split())\nprint(a // b)\n",
    "1873_A": "t = int(input())\nfor _ in range(t):\n    input()\n    print('yes')\n",          # wrong case
    "2727": "class Solution:\n    def countSeniors(self, details):\n"
            "        return sum(int(d[11:13]) >= 60 for d in details) + 1\n",
    "2816": "class Solution:\n    def makeSmallestPalindrome(self, s):\n        return s\n",
}


@pytest.fixture(scope="module")
def lcb_problems():
    problems = load_problems(LIVECODEBENCH, skip_invalid=True)
    by_id = {p.id.rsplit("/", 1)[-1]: p for p in problems}
    return {qid: by_id[qid] for qid in LCB_SOLUTIONS}


def test_livecodebench_known_correct_solutions_pass(verifier, lcb_problems):
    ids = list(LCB_SOLUTIONS)
    kinds = {lcb_problems[i].tests.io[0].testtype for i in ids}
    assert kinds == {"stdin", "functional"}
    verdicts = verifier.verify_batch([lcb_problems[i] for i in ids], [fenced(LCB_SOLUTIONS[i]) for i in ids])
    assert {i: (v.passed, v.error) for i, v in zip(ids, verdicts)} == {i: (True, None) for i in ids}
    assert all(v.tests_total == len(lcb_problems[i].tests.io) for i, v in zip(ids, verdicts))


def test_livecodebench_wrong_solutions_fail(verifier, lcb_problems):
    ids = list(LCB_WRONG)
    verdicts = verifier.verify_batch([lcb_problems[i] for i in ids], [fenced(LCB_WRONG[i]) for i in ids])
    assert [v.passed for v in verdicts] == [False] * len(ids)
    assert all(v.error == "wrong answer" for v in verdicts)


def test_stdin_partial_credit_and_per_test_failures(verifier):
    tests = CodeTests(io=(IOTest("1 2\n", "3\n"), IOTest("2 2\n", "4\n"), IOTest("5 5\n", "10\n")), time_limit_s=2)
    program = "a, b = map(int, input().split())\nif a == 2:\n    raise ValueError('boom')\nprint(a + b)\n"
    verdict = verifier.verify(code_problem(tests), fenced(program))
    assert (verdict.tests_passed, verdict.tests_total, verdict.error) == (2, 3, "runtime error")
    hang = "a, b = map(int, input().split())\nwhile a == 5:\n    pass\nprint(a + b)\n"
    outcomes = verifier.test_outcomes(code_problem(tests), fenced(hang))
    assert [o.passed for o in outcomes] == [True, True, False] and outcomes[2].reason == "timeout"


def test_functional_tests_with_json_arguments(verifier):
    tests = CodeTests(io=(IOTest('[1, 2]\n{"a": 3}', "[1, 2, 3]", "functional"),
                          IOTest('[]\n{"a": 0}', "[0]", "functional"),
                          IOTest('[5]\n{"a": 1}', "[5, 1]", "functional")), func_name="extend")
    program = "class Solution:\n    def extend(self, xs, d):\n        return tuple(xs + [d['a']])\n"
    assert verifier.verify(code_problem(tests), fenced(program)).passed  # a returned tuple counts as a list
    nested = "class Solution:\n    def extend(self, xs, d):\n        return [tuple(xs + [d['a']])][0:1][0]\n"
    assert verifier.verify(code_problem(tests), fenced(nested)).passed
    wrong = "class Solution:\n    def extend(self, xs, d):\n        return xs\n"
    verdict = verifier.verify(code_problem(tests), fenced(wrong))
    assert (verdict.tests_passed, verdict.error) == (0, "wrong answer")
    missing = "class Solution:\n    def other(self, xs, d):\n        return xs\n"
    assert verifier.verify(code_problem(tests), fenced(missing)).error == "function not found"


def test_error_reasons(verifier):
    tests = CodeTests(io=(IOTest("1\n", "1\n"),))
    assert verifier.verify(code_problem(tests), "no code here, just words.").error == "syntax error"
    assert verifier.verify(code_problem(tests), "```cpp\nint main(){}\n```").error == "no code found"
    assert verifier.verify(code_problem(tests), "<think>hmm").error == "no final answer (thinking not closed)"
    # the memory limit: tests/test_sandbox_limits.py (an allocation that fits without the limit and fails with it)
    bad = CodeTests(io=(IOTest("not json", "1", "functional"), IOTest("1", "1", "functional")), func_name="f")
    verdict = verifier.verify(code_problem(bad), fenced("def f(x):\n    return x\n"))
    assert (verdict.tests_passed, verdict.tests_total, verdict.error) == (1, 2, "invalid test")


def test_assert_tests_need_the_whole_test_to_run(verifier):
    tests = CodeTests(asserts=("assert f(1) == 2", "assert f(2) == 3"))
    for escape in ("import sys\nsys.exit(0)", "import os\nos._exit(0)"):
        verdict = verifier.verify(code_problem(tests), fenced(f"def f(x):\n    return 0\n{escape}\n"))
        assert verdict.tests_passed == 0, escape
    bare_check = CodeTests(asserts=("def check(candidate):\n    assert candidate(3) == 4\n",), entry_point="g")
    assert verifier.verify(code_problem(bare_check), fenced("def g(x):\n    return x + 1\n")).passed


def test_the_verifier_dispatcher_routes_code_problems(verifier):
    tests = CodeTests(io=(IOTest("", "hi\n"),))
    with Verifier(code=verifier) as dispatcher:
        verdicts = dispatcher.verify_batch([code_problem(tests), code_problem(tests)],
                                           [fenced("print('hi')"), fenced("print('ho')")])
        dispatcher._code = None  # the module fixture closes the shared verifier itself
    assert [v.passed for v in verdicts] == [True, False]


def test_a_forked_worker_gets_its_own_slots_and_leaves_the_parents_alone(verifier):
    import os

    tests = CodeTests(io=(IOTest("1 2\n", "3\n"),))
    response = fenced("a, b = map(int, input().split())\nprint(a + b)")
    assert verifier.verify(code_problem(tests), response).passed
    parent_uids = [slot.uid for slot in verifier._pool.slots]
    pid = os.fork()
    if pid == 0:  # the child: fresh uids, its own sandboxes
        try:
            ok = verifier.verify(code_problem(tests), response).passed
            fresh = all(slot.uid not in parent_uids for slot in verifier._pool.slots if slot.uid is not None)
            verifier.close()
            os._exit(0 if ok and fresh else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert [slot.uid for slot in verifier._pool.slots] == parent_uids
    assert verifier.verify(code_problem(tests), response).passed
