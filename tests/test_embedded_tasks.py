"""The procedural task generators and suites: deterministic, knob-driven, disjoint splits, and every worked
solution accepted by the real verifiers (Math-Verify for math, the sandbox for code)."""

from __future__ import annotations

import pytest

from darl.embedded.suite import LEVELS, embedded_suite, make_problem, suite_pairs, warm_start_pairs
from darl.embedded.tasks_code import CodeKnobs, code_problem
from darl.embedded.tasks_math import MathKnobs, math_problem


def test_same_seed_same_problem_and_seeds_differ():
    for domain in ("math", "code"):
        for level in LEVELS:
            a, sa = make_problem(domain, level, 7, "x", "s")
            b, sb = make_problem(domain, level, 7, "x", "s")
            assert (a, sa) == (b, sb)
        prompts = {make_problem(domain, 4, seed, "x", "s")[0].prompt for seed in range(20)}
        assert len(prompts) > 15


def test_math_knobs_change_the_work():
    easy = [math_problem(MathKnobs("expression", 2, 1), s, "x")[1] for s in range(30)]
    hard = [math_problem(MathKnobs("expression", 5, 2, operators="+-*", nesting=2), s, "x")[1] for s in range(30)]
    assert max(len(s.splitlines()) for s in easy) == 2  # one step, boxed answer
    assert min(len(s.splitlines()) for s in hard) == 5  # four steps
    for s in range(30):
        p, sol = math_problem(MathKnobs("expression", 4, 2, operators="+-*", nesting=1), s, "x")
        expression = p.prompt.removeprefix("Compute ").rstrip(".")
        assert str(eval(expression)) == p.answer  # noqa: S307 - our own generated arithmetic
        assert sol.endswith(f"\\boxed{{{p.answer}}}")
        eq, eq_sol = math_problem(MathKnobs("equation", digits=2, both_sides=s % 2 == 0), s, "x")
        left, right = eq.prompt.removeprefix("Solve ").removesuffix(" for x.").split("=")
        x = int(eq.answer)
        assert eval(left, {"x": x}) == eval(right, {"x": x})  # noqa: S307


def test_code_knobs_change_the_program():
    short = code_problem(CodeKnobs("functional", ops=1), 3, "x")[1]
    long = code_problem(CodeKnobs("functional", ops=4, loop=True, condition=True, two_args=True), 3, "x")[1]
    assert len(long.splitlines()) > len(short.splitlines()) + 4
    stdin, _ = code_problem(CodeKnobs("stdin", ops=2), 3, "x")
    func, _ = code_problem(CodeKnobs("functional", ops=2), 3, "x")
    assert {t.testtype for t in stdin.tests.io} == {"stdin"} and stdin.tests.func_name is None
    assert {t.testtype for t in func.tests.io} == {"functional"} and func.tests.func_name in func.prompt


def test_bad_knobs_are_rejected():
    with pytest.raises(ValueError, match="operators"):
        MathKnobs(operators="+/")
    with pytest.raises(ValueError, match="condition"):
        CodeKnobs(condition=True)


def test_splits_are_disjoint_and_spread_over_levels():
    for domain in ("math", "code"):
        train = embedded_suite("quick", "train", domains=(domain,))
        heldout = embedded_suite("quick", "heldout", domains=(domain,))
        assert not {p.prompt for p in train} & {p.prompt for p in heldout}
        assert len({p.id for p in train + heldout}) == len(train + heldout)
        assert {p.metadata["level"] for p in train} == set(LEVELS)
        assert all(p.metadata["raw_prompt"] and p.domain == domain for p in train)
    warm = warm_start_pairs("quick", 300, {1: 1.0, 3: 1.0, 6: 1.0})
    suite_prompts = {p.prompt for split in ("train", "heldout") for p, _ in suite_pairs("default", split)}
    assert not {p.prompt for p, _ in warm} & suite_prompts
    assert {p.metadata["level"] for p, _ in warm} == {1, 3, 6}


def test_worked_math_solutions_pass_the_math_verifier():
    from darl.verifiers.math import MathVerifier

    pairs = suite_pairs("quick", "heldout", domains=("math",))
    with MathVerifier(workers=1) as verifier:
        verdicts = verifier.verify_batch([p for p, _ in pairs], [s for _, s in pairs])
        assert all(v.passed for v in verdicts), [v for v in verdicts if not v.passed][:3]
        wrong = [s.replace(f"\\boxed{{{p.answer}}}", f"\\boxed{{{int(p.answer) + 1}}}") for p, s in pairs[:6]]
        assert not any(v.passed for v in verifier.verify_batch([p for p, _ in pairs[:6]], wrong))


def test_reference_programs_pass_the_code_sandbox():
    from darl.verifiers.code import CodeVerifier

    pairs = suite_pairs("quick", "heldout", domains=("code",))[::3]  # both kinds, every level
    kinds = {p.tests.io[0].testtype for p, _ in pairs}
    assert kinds == {"stdin", "functional"}
    with CodeVerifier(workers=2) as verifier:
        verdicts = verifier.verify_batch([p for p, _ in pairs], [s for _, s in pairs])
        assert all(v.passed for v in verdicts), [(p.id, v) for (p, _), v in zip(pairs, verdicts) if not v.passed][:3]
        broken = [s.replace("r = r", "r = 1 + r", 1) for _, s in pairs[:4]]
        assert not all(v.passed for v in verifier.verify_batch([p for p, _ in pairs[:4]], broken))


def test_premature_answers_are_right_on_one_step_problems_and_wrong_on_longer_ones():
    from darl.embedded.tasks_math import premature_answer
    from darl.verifiers.math import MathVerifier

    pairs = suite_pairs("quick", "heldout", domains=("math",))
    one_step = [(p, s) for p, s in pairs if s.count("\n") == 1]
    longer = [(p, s) for p, s in pairs if s.count("\n") > 1]
    assert one_step and longer
    assert all(premature_answer(s) == s for _, s in one_step)
    cut = [premature_answer(s) for _, s in longer]
    assert all(c.count("\n") == 1 and c.split("\n")[0] == s.split("\n")[0] for c, (_, s) in zip(cut, longer))
    with MathVerifier(workers=1) as verifier:
        verdicts = verifier.verify_batch([p for p, _ in longer], cut)
    # An intermediate result can equal the answer by chance (3-1 = 2, 2+0 ...), rarely.
    assert sum(v.passed for v in verdicts) < 0.2 * len(longer)


def test_the_premature_answer_share_is_drawn_per_math_example_and_leaves_code_and_levels_alone():
    weights = {1: 1.0, 3: 1.0, 4: 1.0}
    plain = warm_start_pairs("quick", 400, weights)
    mixed = warm_start_pairs("quick", 400, weights, premature_answer_share=0.5)
    assert [p.prompt for p, _ in plain] == [p.prompt for p, _ in mixed]  # same problems, same levels
    changed = [p for (p, a), (_, b) in zip(plain, mixed) if a != b]
    assert all(p.domain == "math" for p in changed)
    multi_step = sum(1 for p, s in plain if p.domain == "math" and s.count("\n") > 1)
    assert 0.35 * multi_step < len(changed) < 0.65 * multi_step
    assert mixed == warm_start_pairs("quick", 400, weights, premature_answer_share=0.5)
