"""Exact and near duplicates are found (formatting, whitespace and number-format variants, light rewording) and
distinct problems are kept, including templated ones that differ only in a number."""

from __future__ import annotations

from darl.data.dedup import MinHasher, deduplicate, jaccard, shingles
from darl.data.text import normalize
from darl.records import CodeTests, IOTest, Problem


def math(pid, prompt, answer="7"):
    return Problem(id=pid, domain="math", prompt=prompt, answer=answer)


def test_exact_duplicates_up_to_formatting():
    problems = [
        math("a", "If $x = 1,000$ and $y=2.50$, what is  x+y?", "1002.5"),
        math("b", "if x=1000 and y = 2.5,\nwhat is x + y ?", "1002.5"),
        math("c", "If $x = 1{,}000$ and $y = 2.5$, what is $x+y$?", "1002.5"),
        math("d", "If $x = 1000$ and $y = 3.5$, what is $x+y$?", "1003.5"),
    ]
    result = deduplicate(problems)
    assert [p.id for p in result.kept] == ["a", "d"]
    assert [(r.removed_id, r.kept_id, r.kind) for r in result.removed] == [("b", "a", "exact"), ("c", "a", "exact")]
    assert result.counts() == {"input": 4, "kept": 2, "exact": 2, "near": 0}


def test_near_duplicates_found_and_distinct_kept():
    base = ("For how many values of $a$ is it true that the line $y = x + a$ passes through the vertex of the "
            "parabola $y = x^2 + a^2$?")
    reworded = ("For how many values of $a$ is it true that the line $y=x+a$ passes through the vertex of "
                "parabola $y=x^2+a^2$?")
    problems = [
        math("orig", base, "2"),
        math("reworded", reworded, "2"),
        math("other-number", base.replace("a^2", "a^3"), "3"),  # a different problem: numbers differ
        math("same-text-other-answer", reworded + " ", "5"),  # exact text match, but the answers disagree
        math("unrelated", "Compute the sum of the first 10 positive odd integers.", "100"),
    ]
    result = deduplicate(problems)
    assert [p.id for p in result.kept] == ["orig", "other-number", "unrelated"]
    near = [r for r in result.removed if r.kind == "near"]
    assert [(r.removed_id, r.kept_id) for r in near] == [("reworded", "orig")] and 0.8 <= near[0].similarity < 1
    exact = [r for r in result.removed if r.kind == "exact"]
    assert exact[0].removed_id == "same-text-other-answer" and "answers differ" in exact[0].note


def test_templated_problems_differing_in_numbers_are_kept():
    template = "Janet has {} apples and buys {} more at the market every day. How many apples does she have?"
    problems = [math(f"t{i}", template.format(i, i + 3), str(2 * i + 3)) for i in range(2, 30)]
    assert len(deduplicate(problems).kept) == len(problems)


def test_near_duplicates_need_same_domain_and_can_be_turned_off():
    text = ("Read two integers from standard input, separated by a single space, and print their sum on one line of "
            "output. Both integers are between one and one thousand inclusive, and the output must end with a "
            "newline character please.")
    code = Problem(id="code", domain="code", prompt=text, tests=CodeTests(io=(IOTest("1 2\n", "3\n"),)))
    problems = [math("m", text, "3"), code]
    assert len(deduplicate(problems).kept) == 2
    near_variant = [math("x", text), math("y", text.replace("please", "thanks"))]
    assert len(deduplicate(near_variant).kept) == 1
    assert len(deduplicate(near_variant, near=False).kept) == 2


def test_minhash_estimates_jaccard():
    a = shingles(normalize("the quick brown fox jumps over the lazy dog and runs far away into the woods"))
    b = shingles(normalize("the quick brown fox jumps over the lazy cat and runs far away into the woods"))
    hasher = MinHasher(256)
    estimate = float((hasher.signature(a) == hasher.signature(b)).mean())
    assert abs(estimate - jaccard(a, b)) < 0.12
    assert (hasher.signature(a) == hasher.signature(a)).all()


def test_fixed_bands_find_every_near_duplicate_the_exhaustive_check_finds():
    """darl's bands against the quadratic ground truth on MATH-500 plus edited copies (recall 1 measured at scale
    in bench/bench_dedup.py)."""
    import random
    from dataclasses import replace

    from darl.benchmarks.registry import load_benchmark

    problems = load_benchmark("math500")[:200]
    rng = random.Random(0)
    variants = []
    for k, p in enumerate(rng.sample(problems, 40)):
        words = p.prompt.split()
        i = rng.randrange(len(words))
        variants.append(replace(p, id=f"{p.id}#v{k}", prompt=" ".join(words[:i] + words[i + 1:] if k % 2 else
                                                                       words[:i + 1] + [words[i]] + words[i + 1:])))
    data = problems + variants
    truth = {r.removed_id for r in deduplicate(data, index="exhaustive").removed if r.kind == "near"}
    found = {r.removed_id for r in deduplicate(data).removed if r.kind == "near"}
    assert len(truth) >= 20 and found == truth
