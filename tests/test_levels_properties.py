"""Properties of the level rules and the condition language, checked with hypothesis against their specifications:

- `assign_levels` with the paper's defaults against a direct reading of method.md section 4 (levels overlap; Level 3
  = every problem the large model never solves plus exactly round(share x count) of those it solves, per domain;
  the filter drops what R1 never solves), for any pass rates, any mix of domains, any row order and any seed;
- `compile_condition` against Python itself: the grammar is a subset of Python expressions, so a condition must
  mean what Python says it means.
"""

from __future__ import annotations


from hypothesis import given, settings
from hypothesis import strategies as st

from darl.levels import assign_levels, build_config
from darl.levels.expr import compile_condition

ROLES = ("small", "medium", "large", "filter")
SHARE = {"math": 0.5, "code": 0.1}


def pass_rate(k: int) -> st.SearchStrategy[float]:
    return st.integers(0, k).map(lambda c: c / k)


@st.composite
def scored_problems(draw):
    """Problems with pass rates of the four roles as a scorer with k samples would give them."""
    k = draw(st.sampled_from([1, 2, 4, 8]))
    n = draw(st.integers(1, 40))
    problems = {}
    for i in range(n):
        domain = draw(st.sampled_from(["math", "code"]))
        problems[f"p{i:02d}"] = (domain, tuple(draw(pass_rate(k)) for _ in ROLES))
    return problems


def rows_of(problems):
    return [{"problem_id": pid, "domain": domain, "source": "s", "model": role, "pass_rate": rate}
            for pid, (domain, rates) in problems.items() for role, rate in zip(ROLES, rates)]


def paper_level1(s: float) -> bool:
    return 0 < s < 1


def paper_level2(s: float, m: float) -> bool:
    return (s == 0 and m == 1) or (s == 0 and 0 < m < 1) or (0 < s < 1 and 0 < m < 1)


@settings(deadline=None)
@given(scored_problems(), st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_assign_levels_is_the_papers_rule_set(problems, seed, rng):
    config = build_config({"seed": seed})
    rows = rows_of(problems)
    result = assign_levels(rows, config)
    kept = {k.problem_id: k for k in result.kept}
    # the filter: exactly the problems R1 never solves are dropped, with their pass rates
    assert {d.problem_id for d in result.dropped} == {pid for pid, (_, r) in problems.items() if r[3] == 0}
    assert set(kept) == {pid for pid, (_, r) in problems.items() if r[3] > 0}
    for pid, item in kept.items():
        domain, (s, m, large, _) = problems[pid]
        assert item.domain == domain and dict(item.pass_rates) == dict(zip(ROLES, problems[pid][1]))
        assert (1 in item.levels) == paper_level1(s), (pid, s)
        assert (2 in item.levels) == paper_level2(s, m), (pid, s, m)
        if large == 0:
            assert 3 in item.levels and 3 not in item.sampled
        assert set(item.sampled) <= {3} and (3 in item.sampled) == (3 in item.levels and large > 0)
        assert list(item.levels) == sorted(set(item.levels))
    for domain, share in SHARE.items():
        solved = [pid for pid, item in kept.items() if item.domain == domain and problems[pid][1][2] > 0]
        sampled = [pid for pid in solved if 3 in kept[pid].levels]
        assert len(sampled) == round(share * len(solved)), (domain, len(solved), len(sampled))
    # the same rows in another order give the same levels (the draw is seeded, and sorted before drawing)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    again = {k.problem_id: (k.levels, k.sampled) for k in assign_levels(shuffled, config).kept}
    assert again == {pid: (k.levels, k.sampled) for pid, k in kept.items()}


def test_round_half_cases_of_the_keep_share():
    """3 solved math problems at share 0.5 keep round(1.5) = 2 (not int(1.5) = 1); 7 solved code problems at 0.1
    keep round(0.7) = 1 (not 0)."""
    problems = {f"m{i}": ("math", (1.0, 1.0, 1.0, 1.0)) for i in range(3)}
    problems |= {f"c{i}": ("code", (1.0, 1.0, 0.5, 1.0)) for i in range(7)}
    result = assign_levels(rows_of(problems), build_config(None))
    sampled = {k.problem_id for k in result.kept if 3 in k.sampled}
    assert sum(pid.startswith("m") for pid in sampled) == 2 and sum(pid.startswith("c") for pid in sampled) == 1


# ------------------------------------------------------------------------------------------- condition language
NAMES = ("small", "medium", "large", "never", "always")


def _atom() -> st.SearchStrategy[str]:
    number = st.sampled_from(["0", "1", "0.5", "0.25", "-1", "2"])
    return st.one_of(st.sampled_from(NAMES), number, st.sampled_from([f"p('{n}')" for n in NAMES]))


@st.composite
def comparison(draw):
    ops = draw(st.lists(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), min_size=1, max_size=3))
    parts = [draw(_atom())]
    for op in ops:
        parts += [op, draw(_atom())]
    return " ".join(parts)


conditions = st.recursive(
    comparison(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda c: f"not {c}"),
        st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} and {t[1]} or {t[2]}"),
    ),
    max_leaves=6,
)


@settings(deadline=None)
@given(conditions, st.fixed_dictionaries({n: st.sampled_from([0.0, 0.25, 0.5, 1.0]) for n in NAMES}))
def test_conditions_mean_what_python_says(text, env):
    condition = compile_condition(text, "test")
    expected = bool(eval(text, {"__builtins__": {}, "p": lambda name: env[name]}, dict(env)))  # noqa: S307
    assert condition(env) is expected, text
    assert condition.names == {n for n in NAMES if n in text}


def test_the_paper_level2_text_is_the_paper_rule():
    from darl.levels.config import PAPER_LEVEL2

    condition = compile_condition(PAPER_LEVEL2, "test")
    grid = [0.0, 0.25, 0.5, 1.0]
    for s in grid:
        for m in grid:
            assert condition({"small": s, "medium": m, "never": 0.0, "always": 1.0}) == paper_level2(s, m), (s, m)


def test_a_disallowed_piece_anywhere_is_named_with_the_whole_condition_and_where():
    """The error quotes the offending piece, the whole condition and where it came from, however deep the piece
    sits (inside and/or, not, either side of a comparison), and says what is allowed."""
    import pytest

    from darl.errors import InputError

    hint = "(use names, numbers, p('model name'), comparisons, and/or/not, parentheses)"
    for text, piece in (("small < 1 and foo(2)", "foo(2)"), ("not small.x", "small.x"),
                        ("small + 1 < 2", "small + 1"), ("0 < small < [1]", "[1]"), ("small is None", "small is None"),
                        ("(large > 0) or p(small)", "p(small)")):
        with pytest.raises(InputError) as caught:
            compile_condition(text, "cfg.yaml: levels[0].when")
        assert str(caught.value) == f"cfg.yaml: levels[0].when: {piece!r} is not allowed in a condition ({text!r}) {hint}"
    with pytest.raises(InputError) as caught:
        compile_condition("small <", "cfg.yaml: drop")
    assert str(caught.value) == ("cfg.yaml: drop: cannot parse 'small <' (invalid syntax) "
                                 "(write conditions such as \"0 < small < 1 and medium == 1\")")


def test_the_seeded_draw_is_pinned():
    """The Level-3 draw is part of a levels file's reproducibility: the same scores and seed must keep the same
    problems in every darl version. These are the problems drawn today (10 solved math at 0.5, 20 code at 0.1);
    if a change moves them, it changes every user's Level 3 and must say so."""
    problems = {f"m{i}": ("math", (1.0, 1.0, 0.5, 1.0)) for i in range(10)}
    problems |= {f"c{i}": ("code", (1.0, 1.0, 1.0, 1.0)) for i in range(20)}
    drawn = {seed: sorted(k.problem_id for k in assign_levels(rows_of(problems), build_config({"seed": seed})).kept
                          if 3 in k.sampled) for seed in (0, 7)}
    assert drawn == {0: ["c0", "c19", "m2", "m3", "m4", "m6", "m8"], 7: ["c16", "c17", "m0", "m1", "m5", "m7", "m9"]}


def test_name_errors_say_where_and_what_the_scores_have():
    import pytest

    from darl.errors import InputError

    rows = rows_of({"a": ("math", (0.5, 0.5, 0.5, 0.5))})
    cases = [
        ({"roles": {"small": "small", "medium": "medium", "large": "big", "filter": "filter"}},
         "levels.yaml, field 'roles.large': role 'large' is mapped to model 'big', which the scores file does not "
         "have (scored models: ['small', 'medium', 'large', 'filter'])"),
        ({"policy": "missing"}, "levels.yaml, field 'policy': policy model 'missing' is not in the scores file "
                                "(scored models: ['small', 'medium', 'large', 'filter'])"),
        ({"drop": "huge <= 0"}, "levels.yaml: unknown name(s) ['huge'] in the rules (roles: ['filter', 'large', "
                                "'medium', 'small']; models: ['small', 'medium', 'large', 'filter']; constants: "
                                "['always', 'never']; map each role under 'roles:')"),
    ]
    for data, message in cases:
        with pytest.raises(InputError) as caught:
            assign_levels(rows, build_config(data, source="levels.yaml"))
        assert str(caught.value) == message
    with pytest.raises(InputError, match=r"^levels.yaml: the scores table has no rows$"):
        assign_levels([], build_config(None, source="levels.yaml"))


def test_source_and_pass_rates_are_carried_to_the_kept_problems():
    rows = rows_of({"a": ("math", (0.5, 0.5, 0.5, 0.5)), "b": ("code", (0.5, 0.5, 0.5, 0.5))})
    for row in rows:
        row["source"] = "gsm8k" if row["problem_id"] == "a" else None
    kept = {k.problem_id: k for k in assign_levels(rows, build_config(None)).kept}
    assert (kept["a"].source, kept["b"].source) == ("gsm8k", "")
    assert kept["a"].domain == "math" and kept["b"].domain == "code"


def test_missing_rows_are_found_whatever_the_roles_are_called():
    """Roles mapped to models named otherwise (as with real model names): a problem without a row of a role's model
    is an error before any work, not a KeyError later."""
    import pytest

    from darl.errors import InputError

    names = {"small": "r1-1.5b", "medium": "r1-7b", "large": "r1-32b", "filter": "r1"}
    rows = [{"problem_id": pid, "domain": "math", "source": "s", "model": model, "pass_rate": 0.5}
            for pid in ("a", "b") for model in names.values() if not (pid == "b" and model == "r1-32b")]
    with pytest.raises(InputError) as caught:
        assign_levels(rows, build_config({"roles": names}, source="levels.yaml"))
    assert str(caught.value) == ("1 problem(s) lack scores of a model the rules need, e.g. 'b' has no row for "
                                 "['r1-32b'] (score every problem with every model the config names)")


def test_a_keep_share_without_a_domain_keeps_none_of_it():
    """A custom level's keep share that names only math keeps no code problem (the share of an unnamed domain is 0)."""
    config = build_config({"levels": [{"name": "hard", "when": "large <= never",
                                       "keep": {"when": "large > never", "share": {"math": 1.0}}}]})
    problems = {f"m{i}": ("math", (1.0, 1.0, 1.0, 1.0)) for i in range(3)}
    problems |= {f"c{i}": ("code", (1.0, 1.0, 1.0, 1.0)) for i in range(3)}
    kept = {k.problem_id: k.levels for k in assign_levels(rows_of(problems), config).kept}
    assert kept == {**{f"m{i}": (1,) for i in range(3)}, **{f"c{i}": () for i in range(3)}}
