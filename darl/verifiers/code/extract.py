"""Which program a response submits: the last Python code block of its final answer.

The final answer is what `darl.verifiers.extract.final_answer_part` returns (the text after `</think>`), so code
written while thinking is never graded, as in the paper. In that part the last fenced block tagged as Python
(```python, ```py, ```python3, any case) wins; without one, the last untagged fence; a final fence that was
never closed (a response cut at the token limit) counts up to the end of the text. A response with no fence at
all is taken as raw code (a model that answers with bare code). A response whose only fences are in another
language (```cpp) submits no Python program.
"""

from __future__ import annotations

import re

from darl.verifiers.extract import final_answer_part

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^\n]*$", re.M)
_PYTHON_TAGS = {"python", "py", "python3", "py3"}


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag in lower case, body) of every fenced block, in order; an unclosed last fence runs to the end."""
    blocks: list[tuple[str, str]] = []
    position = 0
    while True:
        opening = _FENCE.search(text, position)
        if opening is None:
            return blocks
        marker, tag = opening.group(1), opening.group(2).lower()
        body_start = opening.end() + 1
        closing = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$", re.M)
        end = closing.search(text, body_start)
        if end is None:
            blocks.append((tag, text[body_start:]))
            return blocks
        blocks.append((tag, text[body_start:end.start()]))
        position = end.end()


def extract_program(response: str, thinking: bool = False) -> str | None:
    """The program to run, or None when the response submits none (no final answer, no Python block).
    `thinking`: the prompt opened a `<think>` block, so without a `</think>` there is no final answer."""
    final = final_answer_part(response, thinking)
    if final is None:
        return None
    blocks = _fenced_blocks(final)
    if not blocks:
        return final if final.strip() else None
    for wanted in (lambda tag: tag in _PYTHON_TAGS, lambda tag: tag == ""):
        chosen = [body for tag, body in blocks if wanted(tag)]
        if chosen and chosen[-1].strip():
            return chosen[-1]
    return None
