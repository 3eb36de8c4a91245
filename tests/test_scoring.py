"""`darl score` library: rows per (problem, model), real verifiers, up-front errors, resume, shards and merge."""

from __future__ import annotations

import json
import shutil
import threading
import time

import pyarrow.parquet as pq
import pytest
import torch

from darl.data.io import write_problems
from darl.errors import InputError
from darl.generation.fake import FakeGenerator
from darl.generation.tiny_random import save_tiny_model
from darl.records import CodeTests, IOTest, Problem
from darl.scoring import ModelSpec, ScoreJob, Shard, merge_shards, read_scores, run_shard
from darl.scoring.store import ShardStore
from darl.verifiers import Verifier


def math_problem(i: int, answer: str = "4") -> Problem:
    return Problem(id=f"m{i}", domain="math", prompt=f"Q{i}", answer=answer, metadata={"raw_prompt": True})


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: torch on one thread in these tests


@pytest.fixture(scope="module")
def verifier():
    with Verifier() as v:
        yield v


def fake_factory(table, **kwargs):
    made = {}

    def factory(spec):
        made[spec.name] = FakeGenerator(table[spec.name], name=spec.name, revision=f"fake:{spec.name}", **kwargs)
        return made[spec.name]

    factory.made = made
    return factory


def test_real_tiny_model_scored_by_real_math_verifier(tmp_path, verifier):
    # A tiny Qwen2 that answers Q0 correctly, Q1 wrongly and Q2 with no boxed answer at all.
    torch.set_num_threads(1)
    path = save_tiny_model(tmp_path / "tiny", pairs=[("Q0", "so \\boxed{4}"), ("Q1", "so \\boxed{5}"),
                                                      ("Q2", "four")], steps=400)  # 150 left loss 0.12
    problems = write_problems([math_problem(i) for i in range(3)], tmp_path / "p.parquet")
    job = ScoreJob(problems_path=str(problems), models=(ModelSpec("tiny", str(path), batch_size=4),), k=3,
                   max_new_tokens=24, batch_problems=2)
    result = run_shard(job, tmp_path / "out", verifier=verifier)
    assert result.complete and result.units_new == 3 and result.samples_new == 9
    rows = {r["problem_id"]: r for r in read_scores(merge_shards(tmp_path / "out"))}
    assert [rows[f"m{i}"]["pass_rate"] for i in range(3)] == [1.0, 0.0, 0.0]
    assert json.loads(rows["m1"]["errors"]) == {}  # a wrong answer has no error, just no pass
    assert json.loads(rows["m2"]["errors"]) == {"no boxed answer": 3}
    row = rows["m0"]
    assert (row["k"], row["passes"], row["mean_score"], row["truncations"]) == (3, 3, 1.0, 0)
    assert row["mean_tokens"] == row["max_tokens"] == len("so \\boxed{4}") + 1
    assert row["model_revision"].startswith("sha256:") and row["model_path"] == str(path)
    assert (row["temperature"], row["top_p"], row["max_new_tokens"]) == (0.6, 0.95, 24)
    assert json.loads(row["verifier"])["math_verify"] == "0.9.0"
    summary = json.loads((tmp_path / "out" / "scores.summary.json").read_text())
    assert summary["score/tiny/math/mean_pass_rate"] == pytest.approx(1 / 3)
    assert summary["score/tiny/all/solved_share"] == pytest.approx(1 / 3)


def test_code_partial_credit_truncation_and_token_stats(tmp_path, verifier):
    code = Problem(id="c0", domain="code", prompt="Print the input doubled.",
                   tests=CodeTests(io=(IOTest("2\n", "4\n"), IOTest("3\n", "6\n"), IOTest("0\n", "0\n"))))
    problems = write_problems([code, math_problem(0)], tmp_path / "p.parquet")
    doubling = "```python\nprint(int(input()) * 2)\n```"
    squaring = "```python\nprint(int(input()) ** 2)\n```"  # passes 2 of 3 tests (0 and 2)
    table = {"m": {"Q0": ["\\boxed{4}", "a b c d e f g h i j"],
                   code.prompt + "\n\n" + __import__("darl.prompting").prompting.CODE_STDIN_INSTRUCTION:
                   [doubling, squaring]}}
    job = ScoreJob(problems_path=str(problems), models=(ModelSpec("m", "unused"),), k=2, max_new_tokens=5)
    run_shard(job, tmp_path / "out", make_generator=fake_factory(table), verifier=verifier)
    rows = {r["problem_id"]: r for r in read_scores(merge_shards(tmp_path / "out"))}
    c = rows["c0"]
    assert (c["passes"], c["pass_rate"]) == (1, 0.5)
    assert c["mean_score"] == pytest.approx((1 + 2 / 3) / 2)
    assert json.loads(c["verifier"])["code_sandbox"] in ("bwrap", "namespaces", "rlimits", "none")
    m = rows["m0"]
    assert (m["passes"], m["truncations"], m["max_tokens"], m["mean_tokens"]) == (1, 1, 5, 3.5)


def test_bad_inputs_fail_before_any_work(tmp_path):
    good = write_problems([math_problem(0)], tmp_path / "p.parquet")
    with pytest.raises(InputError, match="model 'x'.*does not exist"):
        run_shard(ScoreJob(str(good), (ModelSpec("x", str(tmp_path / "missing")),)), tmp_path / "o1")
    assert not (tmp_path / "o1").exists()
    # a math row without an answer: named by file, row and field
    import pyarrow as pa

    from darl.data.io import problems_schema

    row = math_problem(1).to_row() | {"answer": None}
    pq.write_table(pa.Table.from_pylist([math_problem(0).to_row(), row], schema=problems_schema()),
                   tmp_path / "bad.parquet")
    model = save_tiny_model(tmp_path / "tiny")
    with pytest.raises(InputError, match=r"bad.parquet, row 2.*answer"):
        run_shard(ScoreJob(str(tmp_path / "bad.parquet"), (ModelSpec("t", str(model)),)), tmp_path / "o2")
    code_row = Problem(id="c", domain="code", prompt="p", tests=CodeTests(asserts=("assert True",))).to_row()
    pq.write_table(pa.Table.from_pylist([code_row | {"tests": None}], schema=problems_schema()),
                   tmp_path / "bad2.parquet")
    with pytest.raises(InputError, match=r"row 1.*tests"):
        run_shard(ScoreJob(str(tmp_path / "bad2.parquet"), (ModelSpec("t", str(model)),)), tmp_path / "o3")
    pq.write_table(pa.table({"question": ["x"]}), tmp_path / "other.parquet")
    with pytest.raises(InputError, match="missing column"):
        run_shard(ScoreJob(str(tmp_path / "other.parquet"), (ModelSpec("t", str(model)),)), tmp_path / "o4")
    write_problems([math_problem(0), math_problem(0)], tmp_path / "dup.parquet")
    with pytest.raises(InputError, match="also on row 1"):
        run_shard(ScoreJob(str(tmp_path / "dup.parquet"), (ModelSpec("t", str(model)),)), tmp_path / "o5")
    with pytest.raises(InputError, match="given twice"):
        ScoreJob(str(good), (ModelSpec("t", str(model)), ModelSpec("t", str(model))))


class Crash(RuntimeError):
    pass


def test_resume_after_crash_repeats_nothing(tmp_path, verifier):
    problems = write_problems([math_problem(i) for i in range(7)], tmp_path / "p.parquet")
    replies = {f"Q{i}": "\\boxed{4}" if i % 2 else "\\boxed{1}" for i in range(7)}
    job = ScoreJob(str(problems), (ModelSpec("a", "unused"), ModelSpec("b", "unused")), k=2, batch_problems=2)
    calls = {"n": 0}

    def crashing(conversation, j):
        if calls["n"] >= 10:  # after 5 batches of 2 problems (k=2 -> 2 calls per conversation)
            raise Crash
        calls["n"] += 1
        return replies[conversation[-1]["content"]]

    with pytest.raises(Crash):
        run_shard(job, tmp_path / "out", make_generator=lambda s: FakeGenerator(crashing, name=s.name, revision=f"fake:{s.name}"),
                  verifier=verifier)
    store = ShardStore(tmp_path / "out", job)
    committed = {(r["problem_id"], r["model"]) for r in store.committed_rows()}
    assert 0 < len(committed) < 14 and not store.is_done
    factory = fake_factory({"a": replies, "b": replies})
    result = run_shard(job, tmp_path / "out", make_generator=factory, verifier=verifier)
    assert result.complete and result.units_done_before == len(committed)
    asked = [(p, name) for name, g in factory.made.items() for p in g.prompts_seen]
    # nothing committed is generated again, everything else exactly once
    assert sorted(asked) == sorted((f"Q{pid[1:]}", m) for pid in (f"m{i}" for i in range(7)) for m in "ab"
                                   if (pid, m) not in committed)
    rows = read_scores(merge_shards(tmp_path / "out"))
    assert len(rows) == 14 and {r["pass_rate"] for r in rows if r["problem_id"] == "m1"} == {1.0}
    # a finished shard resumed again does nothing
    again = run_shard(job, tmp_path / "out", make_generator=fake_factory({"a": {}, "b": {}}), verifier=verifier)
    assert again.units_new == 0 and again.complete


def test_folder_of_another_job_is_refused(tmp_path, verifier):
    problems = write_problems([math_problem(0)], tmp_path / "p.parquet")
    table = {"a": {"Q0": "\\boxed{4}"}}
    run_shard(ScoreJob(str(problems), (ModelSpec("a", "x"),), k=2), tmp_path / "out",
              make_generator=fake_factory(table), verifier=verifier)
    with pytest.raises(InputError, match="different scoring job"):
        run_shard(ScoreJob(str(problems), (ModelSpec("a", "x"),), k=3), tmp_path / "out",
                  make_generator=fake_factory(table), verifier=verifier)


def test_changed_weights_are_refused_on_resume(tmp_path, verifier):
    problems = write_problems([math_problem(i) for i in range(4)], tmp_path / "p.parquet")
    job = ScoreJob(str(problems), (ModelSpec("a", "x"),), k=1, batch_problems=1)
    state = {"n": 0}

    def once(conversation, j):
        state["n"] += 1
        if state["n"] > 2:
            raise Crash
        return "\\boxed{4}"

    with pytest.raises(Crash):
        run_shard(job, tmp_path / "out", make_generator=lambda s: FakeGenerator(once, revision="v1"),
                  verifier=verifier)
    with pytest.raises(InputError, match="changed since"):
        run_shard(job, tmp_path / "out", make_generator=lambda s: FakeGenerator(once, revision="v2"),
                  verifier=verifier)


def test_shards_partition_and_merge_checks(tmp_path, verifier):
    problems = write_problems([math_problem(i) for i in range(20)], tmp_path / "p.parquet")
    table = {"a": {f"Q{i}": "\\boxed{4}" for i in range(20)}}
    out = tmp_path / "out"
    sizes = []
    for i in range(3):
        job = ScoreJob(str(problems), (ModelSpec("a", "x"),), k=1, shard=Shard(i, 3))
        if i == 1:
            with pytest.raises(InputError, match=r"shard\(s\) \[1, 2\] of 3 missing"):
                merge_shards(out)
        sizes.append(run_shard(job, out, make_generator=fake_factory(table), verifier=verifier).units_total)
    assert sum(sizes) == 20 and all(sizes)
    rows = read_scores(merge_shards(out))
    assert [r["problem_id"] for r in rows] == [f"m{i}" for i in range(20)]  # file order
    # a scores part copied into another shard folder: doubled rows are refused
    first = sorted((out / Shard(0, 3).label).glob("scores-*.parquet"))[0]
    shutil.copy(first, out / Shard(1, 3).label / "scores-999999.parquet")
    with pytest.raises(InputError, match="belongs to shard|scored twice"):
        merge_shards(out)
    (out / Shard(1, 3).label / "scores-999999.parquet").unlink()
    (out / Shard(2, 3).label / "done.json").unlink()
    with pytest.raises(InputError, match="shard 2 of 3 has not finished"):
        merge_shards(out)


def test_verification_overlaps_generation(tmp_path):
    """The verifier thread checks batch i while the generator makes batch i+1."""
    problems = write_problems([math_problem(i) for i in range(6)], tmp_path / "p.parquet")
    events: list[tuple[str, float, float]] = []

    class SlowGen(FakeGenerator):
        def generate(self, conversations, params):
            start = time.monotonic()
            time.sleep(0.15)
            out = super().generate(conversations, params)
            events.append(("gen", start, time.monotonic()))
            return out

    class SlowVerifier(Verifier):
        def verify_batch(self, problems, responses, thinking=False):
            start = time.monotonic()
            time.sleep(0.15)
            out = super().verify_batch(problems, responses, thinking=thinking)
            events.append(("verify", start, time.monotonic()))
            return out

    with SlowVerifier() as v:
        run_shard(ScoreJob(str(problems), (ModelSpec("a", "x"),), k=1, batch_problems=1), tmp_path / "out",
                  make_generator=lambda s: SlowGen({f"Q{i}": "\\boxed{4}" for i in range(6)}), verifier=v)
    gens = [(a, b) for kind, a, b in events if kind == "gen"]
    verifies = [(a, b) for kind, a, b in events if kind == "verify"]
    overlapping = sum(any(a < d and c < b for c, d in gens) for a, b in verifies)
    assert overlapping >= 3, events
    assert threading.active_count() < 50


def test_each_distinct_response_is_verified_once():
    from darl.generation.base import Completion
    from darl.records import Verdict
    from darl.scoring.runner import verify_unique

    seen = []

    class Counting:
        def verify_batch(self, problems, responses, thinking=False):
            seen.extend(zip((p.id for p in problems), responses))
            return [Verdict(1.0 if r == "\\boxed{4}" else 0.0, r == "\\boxed{4}") for r in responses]

    a, b = math_problem(0), math_problem(1)
    out = verify_unique(Counting(), [a, b], [[Completion("\\boxed{4}", 3, False), Completion("x", 1, False),
                                              Completion("\\boxed{4}", 3, False)], [Completion("\\boxed{4}", 3, False)]])
    assert [v.passed for v in out] == [True, False, True, True]
    assert seen == [("m0", "\\boxed{4}"), ("m0", "x"), ("m1", "\\boxed{4}")]


def test_process_verifier_matches_in_process_verifier(verifier):
    from darl.scoring.verify_process import ProcessVerifier

    problems = [math_problem(0), math_problem(1, answer="\\frac{1}{2}")]
    responses = ["so \\boxed{4}", "it is \\boxed{0.5}"]
    with ProcessVerifier() as remote:
        assert remote.verify_batch(problems, responses) == verifier.verify_batch(problems, responses)
        assert remote.versions({"math"}) == {"math_verify": "0.9.0", "code_sandbox": None}
        with pytest.raises(ValueError, match="2 problems but 1"):
            remote.verify_batch(problems, responses[:1])
        proc = remote._proc
    assert proc.poll() is not None  # closed with the context
