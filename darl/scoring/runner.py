"""Run one shard of a scoring job: every proxy model samples K responses per problem, the domain verifier checks
each, and one row per (problem, model) is committed to the shard folder batch by batch.

Why the shape: scoring real models takes hours, so (1) everything that can be wrong with the input is checked
before the first model loads (`load_shard_problems`, `check_models`); (2) generation and verification overlap — the main thread generates
batch i+1 while a verifier thread hands batch i to the verifier (in a child process by default, see
`verify_process`) and commits its rows — so the job runs at the speed of the slower side, normally generation;
(3) each committed batch is durable (`store.ShardStore`), so a killed run restarts where it stopped.

Thinking templates: each model's tokenizer is asked whether its chat template opens a `<think>` block in the prompt
(`darl.prompting.generator_opens_thinking`); if so its samples are graded with `thinking=True` (only text after
`</think>` is an answer) and its rows say `thinking = true`.

Infrastructure failures: a sample the verifier could not grade (Verdict score None) is left out of its row's k and
counted in `infra_failures`; a (problem, model) with no graded sample at all is not committed, so that a rerun of the
same command tries it again (`ShardResult.ungraded_units` counts them).

Seeds: each problem's K samples under one model are seeded from (seed, model, problem id) alone (`problem_seed`,
passed as per-conversation `SamplingParams.seeds`), so `--batch-problems`, resuming and sharding change no sample.

Differences from the paper: the paper does not say how it scored; K, the token budget and the batch size are
our defaults. Models are scored one after another (one model in memory at a time).
"""

from __future__ import annotations

import gc
import hashlib
import json
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import darl
from darl.artifacts.scores import file_sha256
from darl.errors import InputError
from darl.generation.base import Completion, Generator
from darl.prompting import chat_messages, generator_opens_thinking
from darl.records import Problem, Verdict
from darl.scoring.job import ModelSpec, ScoreJob
from darl.scoring.store import ShardStore
from darl.scoring.table import sample_rows, score_row
from darl.scoring.verify_process import ProcessVerifier, verifier_versions
from darl.verifiers import Verifier

GeneratorFactory = Callable[[ModelSpec], Generator]


@dataclass(frozen=True)
class ProgressEvent:
    """Sent after each committed batch: `units` (problem, model) rows and `samples` responses were added."""

    model: str
    units: int
    samples: int
    ungraded_units: int = 0


@dataclass(frozen=True)
class ShardResult:
    dir: Path
    units_total: int
    units_done_before: int
    units_new: int
    samples_new: int
    seconds: float
    complete: bool
    ungraded_units: int = 0  # (problem, model) rows left uncommitted this run: no sample could be graded


def default_generator_factory(spec: ModelSpec) -> Generator:
    """The generator of one proxy model, through the one model opener (`darl.generation.models`): `spec.path` may
    be a folder, a `.gguf` file, a Hub id or an `embedded:` name."""
    from darl.generation.models import open_generator

    return open_generator(spec.path, spec.backend, name=spec.name, device=spec.device, dtype=spec.dtype,
                          batch_size=spec.batch_size, engine_args=spec.engine_args)


def load_shard_problems(job: ScoreJob) -> tuple[list[Problem], int]:
    """The problems of this shard, in file order, and the file's total count. InputError for a file that does not
    fit the schema (names the row and field) or doubled ids."""
    from darl.artifacts.problems import read_problems

    problems = read_problems(job.problems_path)
    if not problems:
        raise InputError("the problems file is empty", path=job.problems_path)
    seen: dict[str, int] = {}
    for number, problem in enumerate(problems, start=1):
        if problem.id in seen:
            raise InputError(f"problem id {problem.id!r} also on row {seen[problem.id]}", path=job.problems_path,
                             line=number, field="id", hint="ids must be unique; `darl data` deduplicates")
        seen[problem.id] = number
    return [p for p in problems if job.shard.owns(p.id)], len(problems)


def check_models(models: Sequence[ModelSpec]) -> None:
    """Fail before any work on a model that cannot be found (local paths; Hub ids get their config fetched;
    `embedded:` names are resolved, which builds the embedded family if it is not cached yet)."""
    from darl.generation.loading import check_model_source
    from darl.generation.models import resolve_model

    for spec in models:
        if spec.backend not in ("transformers", "vllm"):
            raise InputError(f"unknown back end {spec.backend!r} for model {spec.name!r}", field="--backend")
        try:
            location = resolve_model(spec.path)
            kind = check_model_source(location)
        except InputError as exc:
            raise InputError(f"model {spec.name!r}: {exc}") from None
        if kind == "hub":
            from transformers import AutoConfig

            try:
                AutoConfig.from_pretrained(location)
            except OSError as exc:
                raise InputError(f"model {spec.name!r}: not a local path and not loadable from the Hub "
                                 f"({str(exc).splitlines()[0]})", field="--model",
                                 hint="check the path; offline, only local folders and .gguf files work") from None


def problem_seed(seed: int, model: str, problem_id: str) -> int:
    """The sampling seed of one problem's K samples under one model: from the job's seed, the model name and the
    problem id alone, so that the batch a problem lands in (`--batch-problems`, a resumed run, a shard) changes
    nothing, and two models never share a seed."""
    return seed + (int.from_bytes(hashlib.sha256(f"{model}\0{problem_id}".encode()).digest()[:4], "big") >> 1)


def verify_unique(verifier: Verifier | ProcessVerifier, problems: Sequence[Problem],
                  completions: Sequence[Sequence[Completion]], thinking: bool = False) -> list[Verdict]:
    """Verdicts of every completion, flattened in order, checking each distinct (problem, text) once: samples of
    one problem often repeat (short answers, low temperature), and a verdict depends only on the pair (and on
    `thinking`, which is the same for every sample of one model)."""
    index: dict[tuple[int, str], int] = {}
    unique_problems: list[Problem] = []
    unique_texts: list[str] = []
    slots: list[int] = []
    for i, (problem, cs) in enumerate(zip(problems, completions)):
        for c in cs:
            key = (i, c.text)
            if key not in index:
                index[key] = len(unique_texts)
                unique_problems.append(problem)
                unique_texts.append(c.text)
            slots.append(index[key])
    verdicts = verifier.verify_batch(unique_problems, unique_texts, thinking=thinking)
    return [verdicts[s] for s in slots]


class _VerifyThread:
    """Verifies and commits batches handed over by the generating thread, one at a time, in order."""

    def __init__(self, store: ShardStore, verifier: Verifier | ProcessVerifier, keep_responses: bool,
                 on_progress: Callable[[ProgressEvent], None] | None) -> None:
        self.store, self.verifier, self.keep = store, verifier, keep_responses
        self.on_progress = on_progress
        self.inbox: queue.Queue[tuple | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.units = self.samples = self.ungraded_units = 0
        self.thread = threading.Thread(target=self._loop, name="darl-score-verify", daemon=True)
        self.thread.start()

    def submit(self, problems: list[Problem], completions: list[list[Completion]], context: dict[str, Any]) -> None:
        self.raise_if_failed()
        self.inbox.put((problems, completions, context))

    def raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error

    def finish(self) -> None:
        self.inbox.put(None)
        self.thread.join()
        self.raise_if_failed()

    def _loop(self) -> None:
        while (item := self.inbox.get()) is not None:
            if self.error is not None:
                continue  # drain without work so the producer never blocks forever
            try:
                self._handle(*item)
            except BaseException as exc:  # handed to the main thread, which re-raises it
                self.error = exc

    def _handle(self, problems: list[Problem], completions: list[list[Completion]], context: dict[str, Any]) -> None:
        verdicts = iter(verify_unique(self.verifier, problems, completions, bool(context["thinking"])))
        rows, samples = [], []
        ungraded = 0
        for problem, cs in zip(problems, completions):
            vs = [next(verdicts) for _ in cs]
            if not any(v.graded for v in vs):  # the verifier never ran: leave the row to a rerun, never a 0
                ungraded += 1
                continue
            rows.append(score_row(problem, cs, vs, context))
            if self.keep:
                samples.extend(sample_rows(problem, context["model"], cs, vs))
        if rows:
            self.store.commit(rows, samples if self.keep else None)
        n_samples = sum(len(cs) for cs in completions)
        self.units += len(rows)
        self.samples += n_samples
        self.ungraded_units += ungraded
        if self.on_progress is not None:
            self.on_progress(ProgressEvent(context["model"], len(rows), n_samples, ungraded))


def run_shard(
    job: ScoreJob,
    out_dir: str | Path,
    *,
    make_generator: GeneratorFactory = default_generator_factory,
    verifier: Verifier | ProcessVerifier | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
) -> ShardResult:
    """Score this shard's problems with every model in `job`, resuming from what `out_dir` already holds.
    `on_start(units_total, units_done)` is called once before generation starts (for a progress bar).
    With the default generator factory every model path is checked before any work; a custom factory (tests,
    other back ends) is responsible for its own models. Without `verifier`, a default `Verifier` runs in a child
    process (`verify_process`); a given one runs in this process's verifier thread."""
    started = time.monotonic()
    problems, total = load_shard_problems(job)
    if make_generator is default_generator_factory:
        check_models(job.models)
    own_verifier = verifier is None
    verifier = verifier if verifier is not None else ProcessVerifier()
    store: ShardStore | None = None
    try:
        domains = {p.domain for p in problems}
        if isinstance(verifier, ProcessVerifier):
            info = verifier.versions(domains)
        else:
            info = verifier_versions(verifier, domains)
        store = ShardStore(out_dir, job)
        store.open({"problems_sha256": file_sha256(job.problems_path), "problems_total": total,
                    "problems_in_shard": len(problems), "darl_version": darl.__version__, "verifier": info})
        committed = store.committed_rows()
        done = {(r["problem_id"], r["model"]) for r in committed}
        if len(done) != len(committed):
            raise InputError("the shard folder holds doubled rows; it was edited by hand or by two runs at once",
                             path=store.dir, hint="delete the folder and score again")
        revisions = {r["model"]: r["model_revision"] for r in committed}
        units_total = len(problems) * len(job.models)
        if on_start is not None:
            on_start(units_total, len(done))
        worker = _VerifyThread(store, verifier, job.keep_responses, on_progress)
        try:
            for spec in job.models:
                pending = [p for p in problems if (p.id, spec.name) not in done]
                if pending:
                    _score_model(job, spec, pending, make_generator, worker, revisions.get(spec.name), info)
        finally:
            worker.finish()
        rows = store.committed_rows()
        keys = {(r["problem_id"], r["model"]) for r in rows}
        complete = len(keys) == len(rows) == units_total
        if complete:
            store.mark_done({"rows": len(rows), "models": [m.name for m in job.models],
                             "problems_in_shard": len(problems)})
        return ShardResult(store.dir, units_total, len(done), worker.units, worker.samples,
                           time.monotonic() - started, complete, worker.ungraded_units)
    finally:
        if store is not None:
            store.close()
        if own_verifier:
            verifier.close()


def _score_model(job: ScoreJob, spec: ModelSpec, pending: list[Problem], make_generator: GeneratorFactory,
                 worker: _VerifyThread, expected_revision: str | None, info: dict[str, Any]) -> None:
    generator = make_generator(spec)
    revision = str(getattr(generator, "revision", "unknown"))
    if expected_revision is not None and revision != expected_revision:
        raise InputError(f"model {spec.name!r} changed since this folder was started "
                         f"({expected_revision} there, {revision} now)", field="--model",
                         hint="score the new weights into a new -o folder")
    context = {"model": spec.name, "model_path": spec.path, "model_revision": revision,
               "thinking": generator_opens_thinking(generator), "temperature": job.temperature, "top_p": job.top_p,
               "max_new_tokens": job.max_new_tokens,
               "seed": job.seed, "verifier": json.dumps(info, sort_keys=True), "darl_version": darl.__version__}
    try:
        for start in range(0, len(pending), job.batch_problems):
            batch = pending[start:start + job.batch_problems]
            params = job.sampling(tuple(problem_seed(job.seed, spec.name, p.id) for p in batch))
            completions = generator.generate([chat_messages(p) for p in batch], params)
            if len(completions) != len(batch) or any(len(c) != job.k for c in completions):
                raise RuntimeError(f"generator {spec.name!r} returned {len(completions)} lists for {len(batch)} "
                                   f"conversations (expected {job.k} completions each)")
            worker.submit(batch, completions, context)
    finally:
        del generator
        gc.collect()
        _free_accelerator_memory()


def _free_accelerator_memory() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
