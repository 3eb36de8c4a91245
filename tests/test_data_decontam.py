"""Decontamination flags training rows that copy an evaluation problem (verbatim, reformatted, or inside a longer
prompt), says which benchmark problem each matched, and leaves clean rows alone."""

from __future__ import annotations

from pathlib import Path

from darl.benchmarks import load_benchmark
from darl.data.decontam import decontaminate
from darl.data.loaders import load_problems
from darl.records import Problem

FIXTURES = Path(__file__).parent / "fixtures" / "shared"


def test_planted_math500_problems_are_found():
    math500 = load_benchmark("math500")
    clean = load_problems(FIXTURES / "gsm8k" / "gsm8k_train_simplerl.parquet")[:100]
    target, other = math500[100], math500[200]
    planted = [
        Problem(id="plant/verbatim", domain="math", prompt=target.prompt, answer=target.answer),
        Problem(id="plant/wrapped", domain="math", answer=other.answer,
                prompt="Solve the following competition problem carefully.\n\n" + other.prompt.replace("$", "")
                + "\n\nGive only the final answer."),
    ]
    training = clean[:50] + planted + clean[50:]
    result = decontaminate(training, {"math500": math500, "aime24": load_benchmark("aime24")})
    assert [p.id for p in result.kept] == [p.id for p in clean]
    matched = {m.train_id: (m.benchmark, m.benchmark_id) for m in result.removed}
    assert matched == {"plant/verbatim": ("math500", target.id), "plant/wrapped": ("math500", other.id)}
    assert result.by_benchmark() == {"math500": 2}
    assert all(m.overlap >= 0.5 and m.shared > 0 and m.example for m in result.removed)


def test_near_template_with_other_numbers_is_not_flagged():
    bench = [Problem(id="b/1", domain="math", answer="3",
                     prompt="How many ways are there to put 5 balls in 2 boxes if the balls are not distinguishable "
                            "and neither are the boxes?")]
    train = [Problem(id="t/1", domain="math", answer="5",
                     prompt="How many ways are there to put 5 balls in 3 boxes if the balls are not distinguishable "
                            "and neither are the boxes?")]
    assert decontaminate(train, {"b": bench}).removed == []


def test_short_benchmark_problem_matched_by_containment():
    bench = [Problem(id="b/short", domain="math", prompt="Compute $\\dbinom{16}{5}$.", answer="4368")]
    train = [Problem(id="t/1", domain="math", prompt="Please compute \\dbinom{16}{5} exactly.", answer="4368"),
             Problem(id="t/2", domain="math", prompt="Compute $\\dbinom{17}{5}$.", answer="6188")]
    result = decontaminate(train, {"b": bench})
    assert [m.train_id for m in result.removed] == ["t/1"] and [p.id for p in result.kept] == ["t/2"]


def test_code_benchmark_copies_found_and_boilerplate_ignored():
    lcb = load_benchmark("livecodebench", start=None, end=None, platform="atcoder")
    copied = lcb[10]
    train = [Problem(id="t/copy", domain="code", prompt=copied.prompt, tests=copied.tests)]
    # An unrelated AtCoder-style task sharing only the input/output boilerplate must not match.
    boiler = ("You are given an integer N. Print the number of divisors of N that are perfect squares.\n\n"
              "Input\n\nThe input is given from Standard Input in the following format:\nN\n\nOutput\n\n"
              "Print the answer.\n\nConstraints\n\n- All input values are integers.")
    train.append(Problem(id="t/boiler", domain="code", prompt=boiler, tests=copied.tests))
    result = decontaminate(train, {"livecodebench": lcb})
    assert [(m.train_id, m.benchmark_id) for m in result.removed] == [("t/copy", copied.id)]
    assert [p.id for p in result.kept] == ["t/boiler"]


def test_shared_template_with_other_answer_is_not_flagged():
    bench = [Problem(id="b/ellipse", domain="math", answer="1260",
                     prompt="Determine the number of ways to arrange the letters of the word ELLIPSE.")]
    train = [Problem(id="t/radii", domain="math", answer="60",
                     prompt="Determine the number of ways to arrange the letters of the word RADII."),
             Problem(id="t/copy", domain="math", answer="\\boxed{1,260}",  # same answer, written differently
                     prompt="Determine the number of ways to arrange the letters of the word ELLIPSE, please.")]
    result = decontaminate(train, {"b": bench})
    assert [m.train_id for m in result.removed] == ["t/copy"]


def test_leetcode_copy_without_examples_matches_livecodebench():
    lcb = load_benchmark("livecodebench", start=None, end=None, platform="leetcode")
    leetcode = load_problems(FIXTURES / "leetcode" / "leetcode_test_200.json")
    result = decontaminate(leetcode, {"livecodebench": lcb})
    assert len(result.removed) >= 100  # DeepCoder's LeetCode test problems are recent contests
    by_id = {p.id: p for p in lcb}
    first = result.removed[0]
    method = next(p for p in leetcode if p.id == first.train_id).metadata["method"]
    assert by_id[first.benchmark_id].tests.func_name == method  # the same LeetCode problem
