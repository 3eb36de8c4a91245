"""How a problem becomes the chat messages a model sees. One place, so scoring, training and evaluation
ask every model the same question the same way (the paper uses the DeepSeek-R1 style instruction for math:
reason step by step and put the final answer in \\boxed{}; for code: answer with one Python code block)."""

from __future__ import annotations

from typing import Any

from darl.records import Problem
from darl.verifiers.extract import THINK_CLOSE, THINK_OPEN

MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
CODE_STDIN_INSTRUCTION = (
    "Write a Python program that reads the input from standard input and writes the answer to standard output. "
    "Put the complete program in one ```python code block."
)
CODE_FUNCTION_INSTRUCTION = "Put the complete solution in one ```python code block."


def user_message(problem: Problem) -> str:
    """The text of the single user turn for `problem`. A problem whose metadata sets `raw_prompt: true` is sent
    as it is (for prompts that already carry their own instruction, such as the embedded task suites)."""
    if problem.metadata.get("raw_prompt"):
        return problem.prompt
    if problem.domain == "math":
        return f"{problem.prompt}\n\n{MATH_INSTRUCTION}"
    tests = problem.tests
    is_stdin = tests is not None and any(t.testtype == "stdin" for t in tests.io)
    instruction = CODE_STDIN_INSTRUCTION if is_stdin else CODE_FUNCTION_INSTRUCTION
    return f"{problem.prompt}\n\n{instruction}"


def chat_messages(problem: Problem, system_prompt: str | None = None) -> list[dict[str, str]]:
    """Conversational prompt in the format TRL and `tokenizer.apply_chat_template` take; `system_prompt` (a
    recipe's `system_prompt`) comes first as a system message when given."""
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return system + [{"role": "user", "content": user_message(problem)}]


_PROBE = [{"role": "user", "content": "darl probe: does the prompt open a thought?"}]


def prompt_opens_thinking(tokenizer: Any) -> bool:
    """Whether the tokenizer's chat template opens a thinking block in the prompt itself, so that completions start
    inside the thought and never contain `<think>` (DeepSeek-R1 and its Distill models end the generation prompt with
    `<think>\\n`; Qwen3 with thinking off renders an empty closed block, which is not an open one).

    How: render a one-message conversation with `add_generation_prompt=True` and look at what the generation prompt
    adds (the rendering without it is normally a prefix; otherwise the whole text counts): it opens a thought when its
    last `<think>` comes after its last `</think>`. A tokenizer without a chat template opens nothing. The verifiers
    take what this returns as their `thinking` flag (darl.verifiers.extract)."""
    if not getattr(tokenizer, "chat_template", None):
        return False
    with_prompt = tokenizer.apply_chat_template(_PROBE, add_generation_prompt=True, tokenize=False)
    without = tokenizer.apply_chat_template(_PROBE, add_generation_prompt=False, tokenize=False)
    added = with_prompt[len(without):] if with_prompt.startswith(without) else with_prompt
    return added.rfind(THINK_OPEN) > added.rfind(THINK_CLOSE)


def generator_opens_thinking(generator: Any) -> bool:
    """`prompt_opens_thinking` for a generation back end: its `tokenizer` when it has one (the transformers and vLLM
    back ends do), else its own `thinking` attribute (a scripted fake), else False."""
    tokenizer = getattr(generator, "tokenizer", None)
    if tokenizer is not None:
        return prompt_opens_thinking(tokenizer)
    return bool(getattr(generator, "thinking", False))
