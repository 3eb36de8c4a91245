"""darl's verifiers as plain TRL reward functions (darl.trl): keyed on dataset columns, None for the other domain,
column mapping for other tools' names, open-r1's code layout, the thinking flag, clear errors for missing data;
and the example script runs real GRPO steps with them on the embedded default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darl.errors import InputError
from darl.trl import DarlReward, accuracy_reward, code_reward, math_reward
from darl.verifiers import Verifier

REPO = Path(__file__).resolve().parents[1]
TESTS = json.dumps({"io": [{"input": "2\n", "output": "4\n"}, {"input": "5\n", "output": "10\n"},
                           {"input": "0\n", "output": "0\n"}]})
GOOD = "```python\nn = int(input())\nprint(2 * n)\n```"
PARTIAL = "```python\nn = int(input())\nprint(4 if n == 2 else 0)\n```"  # passes 2 of 3 tests


def _msg(text):
    return [{"role": "assistant", "content": text}]


@pytest.fixture(scope="module")
def verifier():
    with Verifier() as v:
        yield v


def test_math_and_code_rewards_route_on_the_domain_column(verifier):
    columns = dict(domain=["math", "math", "code", "code"], answer=["4", "\\frac{1}{2}", None, None],
                   tests=[None, None, TESTS, TESTS])
    completions = [_msg("so \\boxed{4}"), _msg("\\boxed{0.5}"), _msg(GOOD), _msg(PARTIAL)]
    prompts = [[{"role": "user", "content": "q"}]] * 4
    m = DarlReward("math", verifier=verifier)(prompts=prompts, completions=completions, **columns)
    c = DarlReward("code", verifier=verifier)(prompts=prompts, completions=completions, **columns)
    a = DarlReward("any", verifier=verifier)(prompts=prompts, completions=completions, **columns)
    assert m == [1.0, 1.0, None, None]
    assert c[:2] == [None, None] and c[2] == 1.0 and abs(c[3] - 2 / 3) < 1e-9
    assert a == [1.0, 1.0, 1.0, c[3]]


def test_module_level_functions_have_trl_names_and_plain_strings_work():
    assert (math_reward.__name__, code_reward.__name__, accuracy_reward.__name__) == \
        ("math_reward", "code_reward", "accuracy_reward")
    # no domain column: math_reward grades every row; plain-text completions as TRL passes for non-chat data
    assert math_reward(prompts=["2+2?", "2+2?"], completions=["\\boxed{4}", "\\boxed{5}"], answer=["4", "4"]) == \
        [1.0, 0.0]


def test_column_mapping_and_open_r1_code_layout(verifier):
    vi = json.dumps({"language": "python", "test_cases": [
        {"input": "3\n", "output": "6\n", "type": "stdin_stdout"}, {"input": "1\n", "output": "2\n",
                                                                     "type": "stdin_stdout"}]})
    math = DarlReward("math", columns={"answer": "solution"}, verifier=verifier)
    assert math(prompts=["q"], completions=[_msg("\\boxed{7}")], solution=["$7$"]) == [1.0]
    code = DarlReward("code", verifier=verifier).with_columns(tests="verification_info")
    assert code(prompts=["q"], completions=[_msg(GOOD)], verification_info=[vi]) == [1.0]


def test_missing_column_and_missing_answer_are_named_errors(verifier):
    with pytest.raises(InputError, match="no 'answer' column.*with_columns"):
        DarlReward("math", verifier=verifier)(prompts=["q"], completions=["\\boxed{1}"], solution=["1"])
    with pytest.raises(InputError, match="math row without a reference answer"):
        DarlReward("math", verifier=verifier)(prompts=["q"], completions=["\\boxed{1}"], answer=[None])
    with pytest.raises(InputError, match="'maths'"):
        DarlReward("any", verifier=verifier)(prompts=["q"], completions=["1"], domain=["maths"], answer=["1"])
    with pytest.raises(InputError, match="unknown column key"):
        DarlReward("math", columns={"solution": "answer"})


def test_thinking_flag_grades_only_after_the_closed_thought(verifier):
    completions = ["x is 3 so \\boxed{3}", "hmm... </think> \\boxed{4}", "still thinking \\boxed{4}"]
    plain = DarlReward("math", verifier=verifier)(prompts=["q"] * 3, completions=completions, answer=["4"] * 3)
    thinking = DarlReward("math", thinking=True, verifier=verifier)
    out = thinking(prompts=["q"] * 3, completions=completions, answer=["4"] * 3)
    assert plain == [0.0, 1.0, 1.0]
    assert out == [0.0, 1.0, 0.0]  # the third never closed its thought: no final answer
    assert thinking.last_verdicts[2].error and "no final answer" in thinking.last_verdicts[2].error


@pytest.mark.slow
def test_example_script_runs_grpo_steps_on_the_embedded_default(embedded_family, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("trl_grpo", REPO / "examples" / "trl_grpo.py")
    trl_grpo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trl_grpo)
    logs = trl_grpo.main(["--steps", "1", "--output-dir", str(tmp_path / "out")])
    assert len(logs) == 1
    step = logs[0]
    means = [step.get("rewards/math_reward/mean"), step.get("rewards/code_reward/mean")]
    assert any(m is not None for m in means)
    assert all(m is None or 0.0 <= m <= 1.0 for m in means)
    assert 0.0 <= step["reward"] <= 1.0
