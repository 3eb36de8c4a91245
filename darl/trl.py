"""darl's verifiers as reward functions for anyone's TRL `GRPOTrainer` script, keyed on dataset columns.

    from darl.trl import math_reward, code_reward, accuracy_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[math_reward, code_reward], train_dataset=ds, args=...)

Why this module exists: inside `darl train` the rewards look problems up in darl's levels file by `problem_id`
(`darl.training.rewards`). A plain TRL script has no levels file; it has a dataset whose columns TRL hands every
reward function as keyword arguments (one list entry per completion). These functions read the reference from those
columns instead, and grade with the same verifiers scoring, training and evaluation use:

- `answer`: the math reference answer (LaTeX or plain; a `\\boxed{}` inside is taken out), graded by darl's math
  verifier (Math-Verify behind darl's extraction, guards and deadline; 1.0 or 0.0).
- `tests`: a code problem's tests, darl's JSON layout (`{"io": [{"input", "output", "testtype"}], "asserts": [...],
  ...}`, see `darl.records.CodeTests`) or open-r1's `verification_info` layout (`{"language": "python",
  "test_cases": [{"input", "output", "type": "stdin_stdout"}]}`); graded in darl's sandbox, partial credit
  (passed tests / all tests) as in the paper.
- `domain` (optional): 'math' or 'code' per row. Without it `math_reward` grades every row and `code_reward` too.

TRL's reward contract (trl 1.x `GRPOTrainer._calculate_rewards`): a reward function is called with `prompts`,
`completions` (str, or a list of chat messages), `completion_ids` and every other dataset column as keyword
arguments, returns one float per completion, and may return None for a completion it does not apply to; TRL sums the
non-None values (times `reward_weights`) and logs each function's mean over the completions it applied to. So
`math_reward` returns None on code rows and `code_reward` None on math rows: a mixed batch logs the two separately
and never averages in a silent 0 (open-r1's and TRL's own `accuracy_reward` use None the same way, for an
unparseable reference). `accuracy_reward` grades both domains in one function, routed on `domain`.

Other column names: `DarlReward("math", columns={"answer": "solution"})` reads open-r1's `solution` column;
`columns={"tests": "verification_info"}` their code column. A missing column is an error that names the column and
the mapping to pass, and a math row without a reference answer is an error, never a silent 0.

`thinking=True`: the prompt itself opened a `<think>` block (chat templates such as DeepSeek-R1's end the
generation prompt with `<think>\\n`), so a completion is the rest of the thought: only text after its `</think>` is
the final answer, and a completion that never closes the thought has no answer (reward 0, error 'no final answer');
passed on as the verifiers' own `thinking` flag (darl.verifiers.extract). A completion the verifier could not grade
(Verdict score None: the sandbox could not run) gets None, as in `darl train`, and the share is logged as
`rewards/<name>/ungraded_rate` through TRL's `log_metric`.

The verifier's worker processes start on the first call and stop at interpreter exit (or `close_verifier()`).
"""

from __future__ import annotations

import atexit
import json
import threading
from typing import Any, Callable, Literal, Mapping, Sequence

from darl.errors import InputError
from darl.records import CodeTests, Problem, RecordError, Verdict
from darl.training.rewards import completion_text
from darl.verifiers import Verifier

Kind = Literal["math", "code", "any"]
COLUMNS = ("answer", "tests", "domain")

_shared: Verifier | None = None
_shared_lock = threading.Lock()


def shared_verifier() -> Verifier:
    """One verifier (math worker pool, code sandboxes) for every reward function of the process, made on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Verifier()
            atexit.register(close_verifier)
        return _shared


def close_verifier() -> None:
    """Stop the shared verifier's worker processes (a later reward call starts new ones)."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.close()
            _shared = None


def code_tests_from(value: Any, where: str) -> CodeTests:
    """A `tests` cell as darl's CodeTests: darl's JSON layout, or open-r1's `verification_info` (stdin/stdout
    `test_cases`), as a dict or JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc})", field=where) from None
    if not isinstance(value, dict):
        raise InputError(f"expected a mapping of tests, got {type(value).__name__}", field=where,
                         hint="darl's layout {'io': [...]} or open-r1's {'test_cases': [...]}")
    if "test_cases" in value:
        language = value.get("language", "python")
        if language != "python":
            raise InputError(f"language {language!r} is not supported (darl's sandbox runs Python)", field=where)
        io = []
        for k, case in enumerate(value["test_cases"]):
            kind = case.get("type", "stdin_stdout")
            if kind != "stdin_stdout":
                raise InputError(f"test case {k} has type {kind!r}; only 'stdin_stdout' maps onto darl's tests",
                                 field=where)
            io.append({"input": case["input"], "output": case["output"], "testtype": "stdin"})
        value = {"io": io}
    try:
        return CodeTests.from_dict(value, where)
    except RecordError as exc:
        raise InputError(str(exc), field=where) from None


class DarlReward:
    """A TRL reward function on darl's verifier. `kind`: 'math' grades rows whose domain is math (all rows when the
    dataset has no `domain` column), 'code' the code rows, 'any' every row by its domain. `columns` maps darl's
    column names (`answer`, `tests`, `domain`) to the dataset's. `verifier`: default one shared per process."""

    def __init__(self, kind: Kind, *, columns: Mapping[str, str] | None = None, thinking: bool = False,
                 verifier: Verifier | None = None, name: str | None = None) -> None:
        if kind not in ("math", "code", "any"):
            raise ValueError(f"kind must be 'math', 'code' or 'any', got {kind!r}")
        unknown = set(columns or {}) - set(COLUMNS)
        if unknown:
            raise InputError(f"unknown column key(s) {sorted(unknown)}", field="columns",
                             hint=f"map darl's {list(COLUMNS)} to your dataset's column names")
        self.kind = kind
        self.columns = {c: c for c in COLUMNS} | dict(columns or {})
        self.thinking = thinking
        self._verifier = verifier
        self.__name__ = name or {"math": "math_reward", "code": "code_reward", "any": "accuracy_reward"}[kind]
        self.last_verdicts: list[Verdict | None] = []

    def with_columns(self, thinking: bool | None = None, **columns: str) -> DarlReward:
        """The same reward on other column names: `math_reward.with_columns(answer='solution')`."""
        return DarlReward(self.kind, columns={**self.columns, **columns},
                          thinking=self.thinking if thinking is None else thinking,
                          verifier=self._verifier, name=self.__name__)

    @property
    def verifier(self) -> Verifier:
        return self._verifier or shared_verifier()

    def _column(self, key: str, kwargs: Mapping[str, Any], n: int, needed: bool) -> Sequence[Any] | None:
        name = self.columns[key]
        values = kwargs.get(name)
        if values is None:
            if needed:
                raise InputError(f"the dataset has no '{name}' column, which {self.__name__} reads",
                                 field=name, hint=f"add it, or map yours: {self.__name__}.with_columns({key}='...')")
            return None
        if len(values) != n:
            raise InputError(f"column '{name}' has {len(values)} values for {n} completions", field=name)
        return values

    def _domains(self, kwargs: Mapping[str, Any], n: int) -> list[str]:
        domains = self._column("domain", kwargs, n, needed=self.kind == "any")
        if domains is None:
            return [self.kind] * n
        bad = sorted({str(d) for d in domains if d not in ("math", "code")})
        if bad:
            raise InputError(f"domain value(s) {bad} are not 'math' or 'code'", field=self.columns["domain"])
        return list(domains)

    def problems(self, prompts: Sequence[Any], n: int, kwargs: Mapping[str, Any]) -> list[Problem | None]:
        """The darl Problem of each row this function grades (None for a row of the other domain)."""
        domains = self._domains(kwargs, n)
        wanted = [d if self.kind in ("any", d) else None for d in domains]
        answers = self._column("answer", kwargs, n, needed="math" in wanted)
        tests = self._column("tests", kwargs, n, needed="code" in wanted)
        out: list[Problem | None] = []
        for i, domain in enumerate(wanted):
            prompt = completion_text(prompts[i]) if prompts is not None and i < len(prompts) else ""
            prompt = prompt or f"(row {i})"
            if domain == "math":
                answer = answers[i] if answers is not None else None
                if answer is None or not str(answer).strip():
                    raise InputError(f"row {i} of the batch is a math row without a reference answer",
                                     field=self.columns["answer"], hint="fill the column or drop the row")
                out.append(Problem(id=f"row-{i}", domain="math", prompt=prompt, answer=str(answer)))
            elif domain == "code":
                where = self.columns["tests"]
                out.append(Problem(id=f"row-{i}", domain="code", prompt=prompt,
                                   tests=code_tests_from(tests[i] if tests is not None else None, where)))
            else:
                out.append(None)
        return out

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (),
                 log_extra: Callable[[str, list], None] | None = None,
                 log_metric: Callable[[str, float], None] | None = None, **kwargs: Any) -> list[float | None]:
        n = len(completions)
        problems = self.problems(prompts or [], n, kwargs)
        mine = [i for i, p in enumerate(problems) if p is not None]
        rewards: list[float | None] = [None] * n
        self.last_verdicts = [None] * n
        if mine:
            texts = [completion_text(completions[i]) for i in mine]
            verdicts = self.verifier.verify_batch([problems[i] for i in mine], texts,  # type: ignore[misc]
                                                  thinking=self.thinking)
            for i, verdict in zip(mine, verdicts):
                self.last_verdicts[i] = verdict
                # score None: the verifier could not run (e.g. no sandbox): no reward rather than a silent 0
                rewards[i] = None if verdict.score is None else float(verdict.score)
            if log_metric is not None:
                ungraded = sum(1 for i in mine if rewards[i] is None)
                log_metric(f"rewards/{self.__name__}/ungraded_rate", ungraded / len(mine))
        if log_extra is not None:  # TRL's completions table: why a completion got its reward
            log_extra(f"{self.__name__}_error", [None if v is None else (v.error or "") for v in self.last_verdicts])
        return rewards


math_reward = DarlReward("math")
code_reward = DarlReward("code")
accuracy_reward = DarlReward("any")

__all__ = ["DarlReward", "math_reward", "code_reward", "accuracy_reward", "close_verifier", "code_tests_from"]
