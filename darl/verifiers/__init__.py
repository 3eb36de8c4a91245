"""One verifier per domain behind one entry point, shared by scoring, training reward and evaluation.

`Verifier.verify(problem, response)` routes on `problem.domain` to the math verifier (Math-Verify on the final
`\\boxed{}` answer) or the code verifier (the program in the last code block, run in the sandbox against the
tests). `verify_batch` keeps input order and runs each domain's share as one batch so that both can use their
worker pools. Domain verifiers are built lazily: a math-only job never starts a sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from darl.records import Problem, Verdict

if TYPE_CHECKING:
    from darl.verifiers.code import CodeVerifier
    from darl.verifiers.math import MathVerifier


class Verifier:
    def __init__(self, math: MathVerifier | None = None, code: CodeVerifier | None = None) -> None:
        self._math = math
        self._code = code

    @property
    def math(self) -> MathVerifier:
        if self._math is None:
            from darl.verifiers.math import MathVerifier

            self._math = MathVerifier()
        return self._math

    @property
    def code(self) -> CodeVerifier:
        if self._code is None:
            from darl.verifiers.code import CodeVerifier

            self._code = CodeVerifier()
        return self._code

    def _for(self, problem: Problem) -> MathVerifier | CodeVerifier:
        return self.math if problem.domain == "math" else self.code

    def verify(self, problem: Problem, response: str, *, thinking: bool = False) -> Verdict:
        return self._for(problem).verify(problem, response, thinking=thinking)

    def verify_batch(self, problems: Sequence[Problem], responses: Sequence[str], *,
                     thinking: bool = False) -> list[Verdict]:
        if len(problems) != len(responses):
            raise ValueError(f"verify_batch: {len(problems)} problems but {len(responses)} responses")
        verdicts: list[Verdict | None] = [None] * len(problems)
        for domain in ("math", "code"):
            idx = [i for i, p in enumerate(problems) if p.domain == domain]
            if not idx:
                continue
            verifier = self.math if domain == "math" else self.code
            for i, v in zip(idx, verifier.verify_batch([problems[i] for i in idx], [responses[i] for i in idx],
                                                       thinking=thinking)):
                verdicts[i] = v
        return verdicts  # type: ignore[return-value]

    def close(self) -> None:
        for v in (self._math, self._code):
            if v is not None:
                v.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
