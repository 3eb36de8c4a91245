"""maj@n: the majority vote over a problem's samples (darl.evaluation.passk.majority_vote) and in darl eval's summary."""

import pytest


def test_majority_vote_counts_the_most_given_answer_and_splits_ties():
    from darl.evaluation.passk import majority_vote

    assert majority_vote([("3", 1.0), ("3", 1.0), ("2", 0.0)]) == 1.0
    assert majority_vote([("2", 0.0), ("2", 0.0), ("3", 1.0)]) == 0.0  # right once, outvoted
    assert majority_vote([("2", 0.0), ("3", 1.0)]) == 0.5  # a tie: what a random tie-break gives on average
    assert majority_vote([(None, 0.0), (None, 0.0), ("3", 1.0)]) == 1.0  # no answer, no vote
    assert majority_vote([(None, 0.0)]) == 0.0 and majority_vote([]) == 0.0


def test_maj_at_n_of_a_math_benchmark_votes_on_the_final_boxed_answer():
    from darl.evaluation.evaluate import flat_metrics, summarize_benchmark
    from darl.records import CodeTests, Problem

    def sample(response, passed):
        return {"response": response, "passed": passed, "score": float(passed), "num_tokens": 5, "truncated": False}

    problems = [Problem(id="a", domain="math", prompt="1+2?", answer="3"),
                Problem(id="b", domain="math", prompt="2+2?", answer="4")]
    samples = {"a": [sample("so \\boxed{2}", False), sample("\\boxed{ 2 }", False), sample("\\boxed{3}", True)],
               "b": [sample("<think>\\boxed{5}</think> \\boxed{4}", True), sample("<think>\\boxed{4}", False),
                     sample("\\boxed{5}", False)]}
    summary = summarize_benchmark(problems, samples, 3, [1])
    # a: "2" outvotes the right "3" (spaces inside the box do not split the vote); b: the thought's box never votes,
    # the unclosed thought has no answer, so "4" and "5" tie at one vote each
    assert summary["maj@3"] == pytest.approx((0.0 + 0.5) / 2)
    assert flat_metrics({"toy": summary})["eval/toy/maj@3"] == pytest.approx(0.25)
    code = Problem(id="c", domain="code", prompt="f", tests=CodeTests(asserts=("assert f()",)))
    mixed = summarize_benchmark(problems + [code], {**samples, "c": samples["a"]}, 3, [1])
    assert "maj@3" not in mixed  # code has no answer to vote on
    assert "maj@1" not in summarize_benchmark(problems, {k: v[:1] for k, v in samples.items()}, 1, [1])
