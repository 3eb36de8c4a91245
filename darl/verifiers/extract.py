"""Where a response's final answer lives. Shared by the math and code verifiers so both read the same part.

Reasoning models think first and answer after a closing `</think>`; the paper grades only that final part.
When the tag is absent (a model without thinking tags, or the embedded default) the whole response is the answer.
A response with an opening `<think>` but no closing one was cut off mid-thought: it has no final answer.

`thinking=True` says the *prompt* already opened the thought: chat templates such as DeepSeek-R1-Distill's end
the generation prompt with `<think>\\n` (see `darl.prompting.prompt_opens_thinking`), so the completion starts
inside the thought and never contains `<think>` itself. Then only text after a `</think>` is an answer, and a
completion without one (cut off at the token limit mid-thought) has none: without the flag its last `\\boxed{}`
or code block, written while still thinking, would be graded as if it were the answer.
"""

from __future__ import annotations

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
NO_FINAL_ANSWER = "no final answer (thinking not closed)"


def final_answer_part(response: str, thinking: bool = False) -> str | None:
    """The text after the last `</think>`; otherwise the whole response when no thought was opened, or None when
    one was opened and never closed (by the response itself, or by the prompt when `thinking` is True)."""
    close = response.rfind(THINK_CLOSE)
    if close >= 0:
        return response[close + len(THINK_CLOSE):]
    if thinking or THINK_OPEN in response:
        return None
    return response
