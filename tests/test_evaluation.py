"""darl eval the paper's way: exact accuracy of fixed responses through the real verifiers, pass@k, breakdowns,
resumability, settings checks and the comparison with a baseline evaluation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from darl.benchmarks import load_benchmark
from darl.errors import InputError
from darl.evaluation.compare import compare_evals, read_eval
from darl.evaluation.evaluate import EvalSettings, evaluate, load_samples
from darl.evaluation.passk import pass_at_k
from darl.generation.fake import FakeGenerator
from darl.prompting import user_message

@pytest.fixture(scope="module")
def verifier():
    """One real verifier for the module: its Math-Verify worker processes take seconds to start."""
    from darl.verifiers import Verifier

    with Verifier() as shared:
        yield shared


WRONG = "I am not sure; my guess is \\boxed{-1}."
NO_ANSWER = "I give up."


def gold_generator(benchmarks: dict) -> FakeGenerator:
    """MATH-500: the full worked reference solution; AIME-24: the reference answer in a box."""
    table = {}
    for problems in benchmarks.values():
        for p in problems:
            solution = p.metadata.get("solution", "")
            table[user_message(p)] = solution if "\\boxed" in solution else f"The answer is \\boxed{{{p.answer}}}."
    return FakeGenerator(table, name="gold")


@pytest.mark.slow
def test_gold_solutions_score_exactly_100_percent(tmp_path: Path, verifier) -> None:
    benchmarks = {"aime24": load_benchmark("aime24"), "math500": load_benchmark("math500")}
    result = evaluate(gold_generator(benchmarks), benchmarks, tmp_path, EvalSettings(samples=1),
                      verifier=verifier)
    data = json.loads((tmp_path / "eval.json").read_text())
    assert data["complete"] and data["model"] == "gold"
    for name, count in (("aime24", 30), ("math500", 500)):
        bench = data["benchmarks"][name]
        assert bench["problems"] == count and bench["samples"] == count
        assert bench["pass@1"]["mean"] == 1.0 and bench["pass@1"]["stderr"] == 0.0
        assert bench["mean_score"] == 1.0
    assert result.pass_at_1("math500") == 1.0
    # breakdowns by MATH subject and level are present and all 100%
    subjects = data["benchmarks"]["math500"]["breakdowns"]["subject"]
    assert sum(s["problems"] for s in subjects.values()) == 500 and len(subjects) == 7
    assert set(data["benchmarks"]["math500"]["breakdowns"]["level"]) == {"1", "2", "3", "4", "5"}
    lines = (tmp_path / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 530 and all(json.loads(line)["passed"] for line in lines)


def mixed_generator(problems: list, n: int) -> tuple[FakeGenerator, list[int]]:
    """Problem j gets exactly c_j = j % (n + 1) correct samples out of n (the rest wrong or unanswered)."""
    table, counts = {}, []
    for j, p in enumerate(problems):
        c = j % (n + 1)
        replies = [f"\\boxed{{{p.answer}}}"] * c + [WRONG, NO_ANSWER] * n
        table[user_message(p)] = replies[:n]
        counts.append(c)
    return FakeGenerator(table, name="mix"), counts


def test_fixed_mix_scores_the_known_fraction(tmp_path: Path, verifier) -> None:
    problems = load_benchmark("math500")[:25]
    n = 4
    generator, counts = mixed_generator(problems, n)
    settings = EvalSettings(samples=n, batch_problems=4)
    data = evaluate(generator, {"math500": problems}, tmp_path, settings, verifier=verifier).data
    bench = data["benchmarks"]["math500"]
    expected = sum(c / n for c in counts) / len(counts)
    assert bench["pass@1"]["mean"] == pytest.approx(expected, abs=1e-12)
    assert bench["pass@k"]["1"] == pytest.approx(expected, abs=1e-12)
    for k in (2, 4):
        want = sum(pass_at_k(n, c, k) for c in counts) / len(counts)
        assert bench["pass@k"][str(k)] == pytest.approx(want, abs=1e-12)
    assert list(bench["pass@k"]) == ["1", "2", "4"]
    # the same numbers as namespaced scalar metrics (docs/metrics.md, eval/)
    assert data["metrics"]["eval/math500/pass@1"] == bench["pass@1"]["mean"]
    assert data["metrics"]["eval/math500/pass@4"] == bench["pass@k"]["4"]
    assert all(key.startswith("eval/math500/") for key in data["metrics"])
    assert {pid: v["passes"] for pid, v in bench["per_problem"].items()} == {
        p.id: c for p, c in zip(problems, counts)}
    # the breakdown by level agrees with a hand computation
    by_level: dict[str, list[float]] = {}
    for p, c in zip(problems, counts):
        by_level.setdefault(str(p.metadata["level"]), []).append(c / n)
    for level, rates in by_level.items():
        assert bench["breakdowns"]["level"][level]["mean"] == pytest.approx(sum(rates) / len(rates))
    # settings are the paper's defaults except n, and the generator was asked with them
    assert data["settings"]["temperature"] == 0.6 and data["settings"]["top_p"] == 0.95
    params = generator.calls[0][1]
    assert (params.n, params.temperature, params.top_p) == (n, 0.6, 0.95)
    # every sample is on disk with its verdict
    rows = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 25 * n
    assert sum(r["passed"] for r in rows) == sum(counts)
    assert any(r["error"] for r in rows if r["response"] == NO_ANSWER)


def test_paper_defaults_for_n() -> None:
    s = EvalSettings()
    assert (s.samples_for("aime24"), s.samples_for("math500"), s.samples_for("livecodebench")) == (16, 16, 4)
    assert s.ks_for(16) == [1, 2, 4, 8, 16] and s.ks_for(4) == [1, 2, 4] and s.ks_for(6) == [1, 2, 4, 6]
    assert EvalSettings(samples=3).samples_for("aime24") == 3


class CrashAfter(FakeGenerator):
    """Raises on the call after `calls_allowed` calls, like a process dying mid-run."""

    def __init__(self, *args, calls_allowed: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls_allowed = calls_allowed

    def generate(self, conversations, params):
        if len(self.calls) >= self.calls_allowed:
            raise RuntimeError("simulated crash")
        return super().generate(conversations, params)


def test_interrupted_eval_resumes_without_repeating(tmp_path: Path, verifier) -> None:
    problems = load_benchmark("math500")[:12]
    n = 2
    reference, _ = mixed_generator(problems, n)
    settings = EvalSettings(samples=n, batch_problems=3)
    clean = evaluate(reference, {"math500": problems}, tmp_path / "clean", settings, verifier=verifier).data

    first, _ = mixed_generator(problems, n)
    crashing = CrashAfter(first._responses, name="mix", calls_allowed=2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        evaluate(crashing, {"math500": problems}, tmp_path / "resumed", settings, verifier=verifier)
    graded_before = len(load_samples(tmp_path / "resumed" / "samples.jsonl"))
    assert 0 < graded_before < len(problems)
    second, _ = mixed_generator(problems, n)
    resumed = evaluate(second, {"math500": problems}, tmp_path / "resumed", settings, verifier=verifier).data
    # the second run asked only for the problems the first did not finish
    assert len(second.prompts_seen) == len(problems) - graded_before
    assert not set(second.prompts_seen) & {user_message(p) for p in problems[:graded_before]}
    assert resumed["benchmarks"]["math500"]["pass@1"] == clean["benchmarks"]["math500"]["pass@1"]
    assert resumed["benchmarks"]["math500"]["per_problem"] == clean["benchmarks"]["math500"]["per_problem"]
    assert len((tmp_path / "resumed" / "samples.jsonl").read_text().splitlines()) == len(problems) * n
    # a finished evaluation re-run generates nothing
    third, _ = mixed_generator(problems, n)
    evaluate(third, {"math500": problems}, tmp_path / "resumed", settings, verifier=verifier)
    assert third.prompts_seen == []


def test_torn_tail_and_incomplete_problem_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    good = [{"benchmark": "b", "problem_id": "p1", "sample": i, "passed": True} for i in range(2)]
    partial = [{"benchmark": "b", "problem_id": "p2", "sample": 0, "passed": True}]
    path.write_text("".join(json.dumps(r) + "\n" for r in good + partial) + '{"benchmark": "b", "prob')
    done = load_samples(path, {"b": 2})
    assert list(done) == [("b", "p1")]
    assert len(path.read_text().splitlines()) == 2  # rewritten without the partial problem and the torn line
    path.write_text("not json\n" + json.dumps(good[0]) + "\n")
    with pytest.raises(InputError, match="line 1"):
        load_samples(path, {"b": 2})


def test_other_settings_in_the_same_folder_are_refused(tmp_path: Path, verifier) -> None:
    problems = load_benchmark("aime24")[:2]
    generator, _ = mixed_generator(problems, 2)
    evaluate(generator, {"aime24": problems}, tmp_path, EvalSettings(samples=2), verifier=verifier)
    with pytest.raises(InputError, match="temperature"):
        evaluate(generator, {"aime24": problems}, tmp_path, EvalSettings(samples=2, temperature=1.0),
                 verifier=verifier)
    with pytest.raises(InputError, match="n=2"):
        evaluate(generator, {"aime24": problems}, tmp_path, EvalSettings(samples=3), verifier=verifier)
    other, _ = mixed_generator(problems, 2)
    other.name = "another-model"
    with pytest.raises(InputError, match="another-model"):
        evaluate(other, {"aime24": problems}, tmp_path, EvalSettings(samples=2), verifier=verifier)
    changed, _ = mixed_generator(problems, 2)
    changed.revision = "fake:1"  # same name, other weights
    with pytest.raises(InputError, match="other weights"):
        evaluate(changed, {"aime24": problems}, tmp_path, EvalSettings(samples=2), verifier=verifier)
    with pytest.raises(InputError, match="duplicate"):
        evaluate(generator, {"x": problems + problems[:1]}, tmp_path / "dup", EvalSettings(samples=2),
                 verifier=verifier)


def test_compare_two_real_evaluations(tmp_path: Path, verifier) -> None:
    problems = load_benchmark("math500")[:20]
    mix, counts = mixed_generator(problems, 4)
    evaluate(mix, {"math500": problems}, tmp_path / "before", EvalSettings(samples=4), verifier=verifier)
    evaluate(gold_generator({"m": problems}), {"math500": problems}, tmp_path / "after", EvalSettings(samples=4),
             verifier=verifier)
    [cmp] = compare_evals(read_eval(tmp_path / "after"), read_eval(tmp_path / "before" / "eval.json"))
    assert cmp.paired and cmp.problems_compared == 20
    assert cmp.delta == pytest.approx(1 - sum(c / 4 for c in counts) / 20)
    assert cmp.ci_low > 0 and cmp.significant
    with pytest.raises(InputError):
        read_eval(tmp_path / "nowhere.json")


KILL_SCRIPT = r"""
import sys, time
from pathlib import Path
from darl.benchmarks import load_benchmark
from darl.evaluation.evaluate import EvalSettings, evaluate
from darl.generation.fake import FakeGenerator
from darl.prompting import user_message

out, log = Path(sys.argv[1]), Path(sys.argv[2])
problems = load_benchmark("math500")[:10]

def reply(conversation, index):
    text = conversation[-1]["content"]
    if index == 0:
        with log.open("a") as f:
            f.write(text.replace("\n", " ")[:60] + "\n")
        time.sleep(float(sys.argv[3]))
    p = next(p for p in problems if user_message(p) == text)
    return f"\\boxed{{{p.answer}}}" if index % 2 == 0 else "no idea"

evaluate(FakeGenerator(reply, name="slow"), {"math500": problems}, out, EvalSettings(samples=2, batch_problems=1))
"""


@pytest.mark.slow
def test_kill_9_then_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    out, log = tmp_path / "eval", tmp_path / "generated.log"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen([sys.executable, str(script), str(out), str(log), "0.3"], env=env)
    samples = out / "samples.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:
        if samples.exists() and len(samples.read_text().splitlines()) >= 6:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = {key[1] for key in load_samples(samples, {"math500": 2})}
    assert 3 <= len(finished) < 10
    first_run = log.read_text().splitlines()
    log.unlink()
    subprocess.run([sys.executable, str(script), str(out), str(log), "0"], env=env, check=True, timeout=120)
    second_run = log.read_text().splitlines()
    data = json.loads((out / "eval.json").read_text())
    bench = data["benchmarks"]["math500"]
    assert data["complete"] and bench["problems"] == 10 and bench["pass@1"]["mean"] == 0.5
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert sorted((r["problem_id"], r["sample"]) for r in rows) == sorted(
        (p.id, i) for p in load_benchmark("math500")[:10] for i in range(2))
    # nothing finished before the kill was generated again; at most the batches in flight were redone
    assert len(second_run) == 10 - len(finished)
    assert len(first_run) <= len(finished) + 2


@pytest.mark.slow
def test_code_benchmarks_through_the_sandbox(tmp_path: Path, verifier) -> None:
    """HumanEval references pass in the real sandbox, a stub fails; LiveCodeBench gets its breakdowns."""
    humaneval = load_benchmark("humaneval")[:6]
    lcb = load_benchmark("livecodebench")[:4]
    table = {}
    for j, p in enumerate(humaneval):
        stub = p.prompt + "    return None\n"
        table[user_message(p)] = [f"```python\n{p.metadata['reference_solution']}\n```" if j % 2 == 0 else
                                  f"```python\n{stub}\n```", f"```python\n{stub}\n```"]
    for p in lcb:
        table[user_message(p)] = "```python\nprint()\n```"
    data = evaluate(FakeGenerator(table, name="code-mix"), {"humaneval": humaneval, "livecodebench": lcb}, tmp_path,
                    EvalSettings(samples=2), verifier=verifier).data
    he = data["benchmarks"]["humaneval"]
    assert he["pass@1"]["mean"] == pytest.approx(0.25)  # 3 problems x 1 of 2 samples right
    assert he["pass@k"]["2"] == pytest.approx(0.5)
    assert data["benchmarks"]["livecodebench"]["pass@1"]["mean"] == 0.0
    assert set(data["benchmarks"]["livecodebench"]["breakdowns"]) == {"platform", "difficulty"}
