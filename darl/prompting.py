"""How a problem becomes the chat messages a model sees. One place, so scoring, training and evaluation
ask every model the same question the same way (the paper uses the DeepSeek-R1 style instruction for math:
reason step by step and put the final answer in \\boxed{}; for code: answer with one Python code block)."""

from __future__ import annotations

from darl.records import Problem

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


def chat_messages(problem: Problem) -> list[dict[str, str]]:
    """Conversational prompt in the format TRL and `tokenizer.apply_chat_template` take."""
    return [{"role": "user", "content": user_message(problem)}]
