"""Where a response's final answer lives. Shared by the math and code verifiers so both read the same part.

Reasoning models think first and answer after a closing `</think>`; the paper grades only that final part.
When the tag is absent (a model without thinking tags, or the embedded default) the whole response is the answer.
A response with an opening `<think>` but no closing one was cut off mid-thought: it has no final answer.
"""

from __future__ import annotations

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def final_answer_part(response: str) -> str | None:
    """The text after the last `</think>`, the whole response when no thinking tags are used, or None when the
    response opened a thought it never closed (so it never reached an answer)."""
    close = response.rfind(THINK_CLOSE)
    if close >= 0:
        return response[close + len(THINK_CLOSE):]
    if THINK_OPEN in response:
        return None
    return response
