"""Thinking templates: a prompt that opens `<think>` (DeepSeek-R1-Distill's chat template) makes "no `</think>`"
mean "no answer", in `darl verify`, the verifiers, scoring, training rewards and evaluation.

The template is the real R1-Distill-Qwen one (tests/r1_template.py) on darl's tiny byte-level tokenizer; the models
are real tiny Qwen2 checkpoints fitted to answer with a given text, so scoring and evaluation run their real paths.
"""

from __future__ import annotations

import json

import pytest
import torch

from darl.generation.tiny_random import build_tiny_model, build_tiny_tokenizer, memorize_replies
from darl.prompting import chat_messages, generator_opens_thinking, prompt_opens_thinking
from darl.records import CodeTests, IOTest, Problem
from darl.verifiers import Verifier
from darl.verifiers.extract import NO_FINAL_ANSWER, final_answer_part
from r1_template import r1_tokenizer

# The example: a response cut off mid-thought whose draft answer happens to be right.
CUT_OFF = "Maybe the answer is \\boxed{42}. Wait, let me re-check"
CLOSED = "Maybe 41. Wait, 6 * 7 = 42.\n</think>\n\nThe answer is \\boxed{42}."
MATH = Problem(id="q", domain="math", prompt="What is 6 times 7?", answer="42", metadata={"raw_prompt": True})

QWEN3_LIKE = (  # Qwen3's generation prompt with thinking switched off: an empty, closed thought
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}"
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: torch on one thread in these tests


@pytest.fixture(scope="module")
def verifier():
    with Verifier() as v:
        yield v


def test_detects_the_r1_template_and_nothing_else():
    r1 = r1_tokenizer()
    rendered = r1.apply_chat_template(chat_messages(MATH), add_generation_prompt=True, tokenize=False)
    assert rendered.endswith("<｜Assistant｜><think>\n")
    assert r1.convert_ids_to_tokens(r1("<think>", add_special_tokens=False)["input_ids"]) == list("<think>")
    assert prompt_opens_thinking(r1) is True
    chatml = build_tiny_tokenizer()
    assert prompt_opens_thinking(chatml) is False
    qwen3 = build_tiny_tokenizer()
    qwen3.chat_template = QWEN3_LIKE
    assert prompt_opens_thinking(qwen3) is False  # enable_thinking undefined: the model opens its own thought
    no_template = build_tiny_tokenizer()
    no_template.chat_template = None
    assert prompt_opens_thinking(no_template) is False


def test_embedded_tokenizer_does_not_open_a_thought(embedded_family):
    from transformers import AutoTokenizer

    assert prompt_opens_thinking(AutoTokenizer.from_pretrained(embedded_family.path("small"))) is False


def test_final_answer_part_with_and_without_the_flag():
    assert final_answer_part(CUT_OFF) == CUT_OFF
    assert final_answer_part(CUT_OFF, thinking=True) is None
    assert final_answer_part(CLOSED, thinking=True) == "\n\nThe answer is \\boxed{42}."
    assert final_answer_part("<think>a</think>b", thinking=False) == "b"


def test_math_verdict_before_and_after(verifier):
    before = verifier.verify(MATH, CUT_OFF)
    after = verifier.verify(MATH, CUT_OFF, thinking=True)
    assert (before.score, before.passed) == (1.0, True)
    assert (after.score, after.passed, after.error) == (0.0, False, NO_FINAL_ANSWER)
    assert verifier.verify(MATH, CLOSED, thinking=True).passed
    wrong_after_close = "\\boxed{42} hmm</think>\\boxed{41}"
    assert not verifier.verify(MATH, wrong_after_close, thinking=True).passed


def test_code_verdict_before_and_after(verifier):
    code = Problem(id="c", domain="code", prompt="Print 2n.", tests=CodeTests(io=(IOTest("2\n", "4\n"),)))
    draft = "Let me try:\n```python\nprint(int(input()) * 2)\n```\nHmm, but what if"
    assert verifier.verify(code, draft).passed
    after = verifier.verify(code, draft, thinking=True)
    assert (after.score, after.passed, after.error) == (0.0, False, NO_FINAL_ANSWER)
    answered = draft + " nothing.\n</think>\n```python\nprint(int(input()) * 2)\n```"
    assert verifier.verify(code, answered, thinking=True).passed


def test_darl_verify_option(tmp_path):
    from typer.testing import CliRunner

    from darl.cli.main import app

    rows = tmp_path / "in.jsonl"
    rows.write_text(json.dumps({"domain": "math", "answer": "42", "response": CUT_OFF}) + "\n")
    graded = {}
    for flag in ("--no-thinking", "--thinking"):
        out = tmp_path / f"out{flag}.jsonl"
        result = CliRunner().invoke(app, ["verify", str(rows), "-o", str(out), "--workers", "1", flag])
        assert result.exit_code == 0, result.output
        graded[flag] = json.loads(out.read_text())
    assert (graded["--no-thinking"]["passed"], graded["--no-thinking"]["score"]) == (True, 1.0)
    assert graded["--thinking"] | {"response": None} == {"domain": "math", "answer": "42", "response": None,
                                                         "score": 0.0, "passed": False, "error": NO_FINAL_ANSWER}


def _save_model(folder, tokenizer, reply: str):
    """A tiny Qwen2 fitted to answer MATH's prompt with `reply`, saved with `tokenizer` (whose template it learnt)."""
    model = build_tiny_model(tokenizer)
    loss = memorize_replies(model, tokenizer, [(MATH.prompt, reply)], steps=400)  # 150 left the ChatML one at 0.135
    assert loss < 0.05
    folder.mkdir(parents=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The same cut-off reply from two tiny models: one on the R1 template, one on ChatML (no thinking)."""
    root = tmp_path_factory.mktemp("thinking-models")
    torch.set_num_threads(1)
    return {"r1": _save_model(root / "r1", r1_tokenizer(), CUT_OFF),
            "chatml": _save_model(root / "chatml", build_tiny_tokenizer(), CUT_OFF)}


def test_scoring_grades_by_each_models_template(tmp_path, models, verifier):
    from darl.data.io import write_problems
    from darl.scoring import ModelSpec, ScoreJob, merge_shards, read_scores, run_shard

    problems = write_problems([MATH], tmp_path / "p.parquet")
    job = ScoreJob(problems_path=str(problems), k=2, max_new_tokens=80, batch_problems=1,
                   models=(ModelSpec("r1", str(models["r1"]), batch_size=2),
                           ModelSpec("chatml", str(models["chatml"]), batch_size=2)))
    assert run_shard(job, tmp_path / "out", verifier=verifier).complete
    rows = {r["model"]: r for r in read_scores(merge_shards(tmp_path / "out"))}
    assert rows["chatml"]["thinking"] is False and rows["chatml"]["pass_rate"] == 1.0
    assert rows["r1"]["thinking"] is True and rows["r1"]["pass_rate"] == 0.0
    assert json.loads(rows["r1"]["errors"]) == {NO_FINAL_ANSWER: 2}
    assert rows["r1"]["truncations"] == 0  # it ended its turn: cut off by design, not by the token limit


def test_training_reward_follows_the_flag(verifier):
    from darl.training.rewards import reward_functions

    problems = {MATH.id: MATH}
    completions = [[{"role": "assistant", "content": CUT_OFF}], [{"role": "assistant", "content": CLOSED}]]
    plain, = reward_functions(problems, verifier, ["math"])
    thinking, = reward_functions(problems, verifier, ["math"], thinking=True)
    assert plain(prompts=[None] * 2, completions=completions, problem_id=["q", "q"]) == [1.0, 1.0]
    assert thinking(prompts=[None] * 2, completions=completions, problem_id=["q", "q"]) == [0.0, 1.0]


def test_evaluation_records_and_applies_the_flag(tmp_path, models, verifier):
    from darl.evaluation.evaluate import EvalSettings, evaluate
    from darl.generation.transformers_backend import TransformersGenerator

    settings = EvalSettings(samples=2, max_new_tokens=80, batch_problems=1)
    results = {}
    for name in ("r1", "chatml"):
        generator = TransformersGenerator(str(models[name]), batch_size=2)
        assert generator_opens_thinking(generator) is (name == "r1")
        results[name] = evaluate(generator, {"toy": [MATH]}, tmp_path / name, settings, verifier=verifier).data
    assert results["r1"]["settings"]["thinking"] is True
    assert results["r1"]["benchmarks"]["toy"]["pass@1"]["mean"] == 0.0
    assert results["chatml"]["settings"]["thinking"] is False
    assert results["chatml"]["benchmarks"]["toy"]["pass@1"]["mean"] == 1.0
