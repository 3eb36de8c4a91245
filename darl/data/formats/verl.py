"""verl-style RL parquet rows (SimpleRL-Zoo's MATH level 3-5 and GSM8K files, and other verl data):
`prompt` is a chat (a list of {role, content}), the reference is `reward_model.ground_truth`.

The problem text is the `question` column when the file has one (SimpleRL's MATH file), else the last user turn
of the chat with any chat-template tokens and the dataset's own answer-format instruction removed, because darl
adds its own instruction when it asks a model (see `darl.prompting`). A ground truth that is a full GSM8K
solution keeps only the number after '####'.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from darl.data.formats.base import RowContext, RowError, RowFormat, answer_text, optional, stable_id
from darl.data.formats.gsm8k import final_number
from darl.records import Problem

# Instructions that verl data sets append to the question; darl adds its own.
KNOWN_SUFFIXES = (
    "Please reason step by step, and put your final answer within \\boxed{{}}.",
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "Let's think step by step and output the final answer after \"####\".",
    "Let's think step by step and output the final answer within \\boxed{}.",
)
_USER_TURN = re.compile(r"<\|im_start\|>user\n(.*?)(?:<\|im_end\|>|$)", re.S)


def matches(columns: frozenset[str], sample: Mapping[str, Any], filename: str) -> bool:
    return {"prompt", "reward_model"} <= columns and isinstance(sample.get("prompt"), list)


def question_from_chat(chat: Any) -> str:
    """The last user turn of a verl chat, without template tokens or a known answer-format instruction."""
    if not isinstance(chat, list) or not chat:
        raise RowError("prompt", "expected a chat: a non-empty list of {role, content}")
    users = [m for m in chat if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)]
    if not users:
        raise RowError("prompt", "the chat has no user turn with text content")
    text = users[-1]["content"]
    turns = _USER_TURN.findall(text)
    if turns:
        text = turns[-1]
    text = text.strip()
    for suffix in KNOWN_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)].rstrip()
    if not text:
        raise RowError("prompt", "the user turn is empty")
    return text


def to_problem(row: Mapping[str, Any], ctx: RowContext) -> Problem:
    reward_model = row.get("reward_model")
    if not isinstance(reward_model, dict) or optional(reward_model, "ground_truth") is None:
        raise RowError("reward_model.ground_truth", "missing")
    truth = reward_model["ground_truth"]
    if isinstance(truth, str) and "####" in truth:
        answer = final_number(truth, "reward_model.ground_truth")
        solution: str | None = truth
    else:
        answer, _ = answer_text(row.get("gt_answer", truth), "reward_model.ground_truth")
        solution = None
    question = row.get("question")
    if isinstance(question, str) and question.strip():
        prompt = question.strip()
    else:
        prompt = question_from_chat(row.get("prompt"))

    extra = row.get("extra_info") if isinstance(row.get("extra_info"), dict) else {}
    metadata: dict[str, Any] = {}
    for key in ("data_source", "ability", "subject", "level"):
        if optional(row, key) is not None:
            metadata[key] = row[key]
    if isinstance(metadata.get("level"), str) and metadata["level"].strip().isdigit():
        metadata["level"] = int(metadata["level"])  # SimpleRL stores MATH levels as text
    if solution is not None:
        metadata["solution"] = solution
    if extra.get("split") is not None:
        metadata["split"] = extra["split"]
    original_id = next((extra[k] for k in ("idx", "index") if extra.get(k) is not None), None)
    return Problem(id=stable_id(ctx, original_id), domain="math", prompt=prompt, answer=answer,
                   source=ctx.source, metadata=metadata)


FORMAT = RowFormat(
    name="verl",
    description="verl RL parquet: chat `prompt` + reward_model.ground_truth (SimpleRL MATH / GSM8K)",
    matches=matches,
    to_problem=to_problem,
)
