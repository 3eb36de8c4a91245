"""A scripted `Generator` for tests of the layers above generation (scoring, levels, evaluation, training glue).

It answers from a function `(conversation, sample_index) -> str` or from a table `{user text: reply or [replies]}`
(a list gives one reply per sample index, cycling). Token counts are whitespace-separated words, and a reply
longer than `max_new_tokens` words is cut and marked truncated, so callers see the same contract as a real model.
It also records every call, so a test can check what was asked and how often (resume must not repeat work).
Use it only where the real model cannot run (GPU/vLLM paths) or where the test is about the layer above.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from darl.generation.base import Completion, Messages, SamplingParams

Script = Callable[[Messages, int], str]


def last_user_text(conversation: Messages) -> str:
    for message in reversed(list(conversation)):
        if message.get("role") == "user":
            return message.get("content", "")
    raise ValueError("conversation has no user message")


class FakeGenerator:
    """`responses`: a function (conversation, sample index) -> reply, or a mapping from the last user message
    to a reply or list of replies. `default` answers texts missing from the mapping (None: KeyError)."""

    def __init__(self, responses: Script | Mapping[str, str | Sequence[str]], *, name: str = "fake",
                 revision: str = "fake:0", default: str | None = None) -> None:
        self.name = name
        self.revision = revision
        self._responses = responses
        self._default = default
        self.calls: list[tuple[int, SamplingParams]] = []
        self.prompts_seen: list[str] = []

    def _reply(self, conversation: Messages, index: int) -> str:
        if callable(self._responses):
            return self._responses(conversation, index)
        text = last_user_text(conversation)
        if text not in self._responses:
            if self._default is None:
                raise KeyError(f"FakeGenerator {self.name!r} has no scripted reply for {text[:80]!r}")
            return self._default
        value = self._responses[text]
        if isinstance(value, str):
            return value
        return value[index % len(value)]

    def generate(self, conversations: Sequence[Messages], params: SamplingParams) -> list[list[Completion]]:
        self.calls.append((len(conversations), params))
        out = []
        for conversation in conversations:
            self.prompts_seen.append(last_user_text(conversation))
            out.append([self._complete(self._reply(conversation, j), params) for j in range(params.n)])
        return out

    @staticmethod
    def _complete(reply: str, params: SamplingParams) -> Completion:
        words = reply.split(" ")
        if len(words) > params.max_new_tokens:
            return Completion(" ".join(words[:params.max_new_tokens]), params.max_new_tokens, True)
        return Completion(reply, len(words) + 1, False)
