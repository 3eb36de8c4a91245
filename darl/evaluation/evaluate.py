"""Evaluate a model on benchmarks the paper's way: n samples per problem at temperature 0.6 / top_p 0.95, every
sample graded by the project's verifier, Pass@1 as mean correctness with its standard error, pass@k unbiased,
breakdowns by the problems' metadata (subject, level, platform, difficulty).

What it writes into the output folder (format, reader and writer: `darl.artifacts.evaluations`):
- `samples.jsonl`: one line per sample. A problem's n lines are appended together once they are graded, so a run
  killed at any moment and started again keeps every finished problem, redoes only the unfinished one, and repeats
  nothing.
- `eval.json`: the settings, the model, versions and, per benchmark, the numbers and the per-problem pass counts.
  It is rewritten after each benchmark and says `complete`.

Generation of the next batch overlaps with grading of the current one: the generator runs in a worker thread and
grading stays in the main thread, because Math-Verify's timeouts use `signal.alarm`, which works only there.

Thinking templates: when the model's chat template opens a `<think>` block in the prompt (DeepSeek-R1-Distill's
does; `darl.prompting.generator_opens_thinking`), samples are graded with `thinking=True`: only text after
`</think>` is an answer, and a sample cut off mid-thought has none. eval.json records it as `settings.thinking`.
A sample the verifier could not grade (score None: an infrastructure failure such as a sandbox that cannot start)
is left out of Pass@1 and pass@k and counted in the benchmark's `ungraded_samples`.

Differs from the paper: the paper gives no standard errors and no breakdowns; the default maximum response length
here is the paper's 32k tokens, which only a GPU back end can reach in reasonable time (set `max_new_tokens`).
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from darl.artifacts.evaluations import (EVAL_FILE, EVAL_FORMAT, SAMPLES_FILE, append_samples,  # noqa: F401
                                        load_samples, read_eval_to_resume, write_eval)
from darl.errors import InputError
from darl.evaluation.passk import majority_vote, mean_correctness, mean_pass_at_k
from darl.defaults import PAPER_MAX_NEW_TOKENS, PAPER_TEMPERATURE, PAPER_TOP_P
from darl.generation.base import Completion, Generator, SamplingParams
from darl.prompting import chat_messages, generator_opens_thinking
from darl.records import Problem, Verdict

# The paper's n per benchmark (method.md section 6); AMC follows AIME's 16 as DeepScaleR does. Others: 4.
PAPER_SAMPLES = {"aime24": 16, "math500": 16, "amc23": 16, "livecodebench": 4}
DEFAULT_SAMPLES = 4
BREAKDOWN_KEYS = ("subject", "level", "platform", "difficulty")
# Software whose version can change a number; recorded in eval.json.
_VERSIONED = ("darl", "torch", "transformers", "vllm", "math-verify", "trl")

ProgressCallback = Callable[[str, int, int], None]
"""Called as (benchmark, problems done, problems total) after each graded batch, and once at the start."""


@dataclass(frozen=True)
class EvalSettings:
    """How to sample. `samples` overrides n for every benchmark; None takes `PAPER_SAMPLES` (4 elsewhere).
    `ks` are the k of pass@k; None means 1, 2, 4, ... up to n, and n. `batch_problems` problems go to the generator
    per call (each with n samples); smaller batches lose less work to a crash, larger ones keep a GPU busier."""

    temperature: float = PAPER_TEMPERATURE
    top_p: float = PAPER_TOP_P
    max_new_tokens: int = PAPER_MAX_NEW_TOKENS
    samples: int | None = None
    ks: tuple[int, ...] | None = None
    seed: int = 0
    batch_problems: int = 8
    breakdown_keys: tuple[str, ...] = BREAKDOWN_KEYS
    system_prompt: str | None = None  # a system message before every prompt: a recipe's `system_prompt`, same meaning

    def __post_init__(self) -> None:
        if self.samples is not None and self.samples < 1:
            raise InputError(f"must be >= 1, got {self.samples}", field="samples")
        if self.batch_problems < 1:
            raise InputError(f"must be >= 1, got {self.batch_problems}", field="batch_problems")
        if self.max_new_tokens < 1:
            raise InputError(f"must be >= 1, got {self.max_new_tokens}", field="max_new_tokens")
        if self.ks is not None and any(k < 1 for k in self.ks):
            raise InputError(f"every k must be >= 1, got {list(self.ks)}", field="ks")

    def samples_for(self, benchmark: str) -> int:
        if self.samples is not None:
            return self.samples
        return PAPER_SAMPLES.get(benchmark, DEFAULT_SAMPLES)

    def ks_for(self, n: int) -> list[int]:
        if self.ks is not None:
            return sorted({k for k in self.ks if k <= n})
        ks, k = [], 1
        while k < n:
            ks.append(k)
            k *= 2
        return ks + [n]


@dataclass
class SampleRecord:
    """One graded response, one line of samples.jsonl."""

    benchmark: str
    problem_id: str
    sample: int
    response: str
    num_tokens: int
    truncated: bool
    score: float | None  # None: not graded (the verifier could not run), see darl.records.Verdict
    passed: bool
    error: str | None = None
    tests_passed: int | None = None
    tests_total: int | None = None

    @classmethod
    def from_parts(cls, benchmark: str, problem_id: str, sample: int, completion: Completion,
                   verdict: Verdict) -> SampleRecord:
        return cls(benchmark=benchmark, problem_id=problem_id, sample=sample, response=completion.text,
                   num_tokens=completion.num_tokens, truncated=completion.truncated,
                   score=None if verdict.score is None else float(verdict.score),
                   passed=bool(verdict.passed), error=verdict.error, tests_passed=verdict.tests_passed,
                   tests_total=verdict.tests_total)


@dataclass
class EvalResult:
    """What `evaluate` returns: the contents of eval.json and where it was written."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    def pass_at_1(self, benchmark: str) -> float | None:
        bench = self.data.get("benchmarks", {}).get(benchmark)
        return None if bench is None else bench["pass@1"]["mean"]


def software_versions() -> dict[str, str | None]:
    """Versions of the packages that can change a number (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# ------------------------------------------------------------------------------------------------- statistics


def summarize_benchmark(problems: Sequence[Problem], samples: Mapping[str, Sequence[Mapping[str, Any]]], n: int,
                        ks: Sequence[int], breakdown_keys: Sequence[str] = BREAKDOWN_KEYS,
                        thinking: bool = False) -> dict[str, Any]:
    """The numbers of one benchmark from its graded samples ({problem id: sample dicts with 'passed', 'score',
    'num_tokens', 'truncated'}). A sample counts as correct when `passed` (code: every test passed); `mean_score`
    also reports partial credit. Breakdowns exist for each metadata key that some problem carries. A math-only
    benchmark with n > 1 also gets `maj@<n>` (`majority_at_n`)."""
    missing = [p.id for p in problems if p.id not in samples]
    if missing:
        raise ValueError(f"summarize_benchmark: {len(missing)} problem(s) have no samples, e.g. {missing[:3]}")
    # Ungraded samples (score None) are left out; a problem without any graded sample is left out of Pass@1.
    graded = {p.id: [s for s in samples[p.id] if s.get("score") is not None] for p in problems}
    correctness = [[1.0 if s["passed"] else 0.0 for s in graded[p.id]] for p in problems]
    scores = [[float(s["score"]) for s in graded[p.id]] for p in problems]
    all_samples = [s for p in problems for s in samples[p.id]]
    pass1 = mean_correctness([c for c in correctness if c])
    counts = [(len(c), int(sum(c))) for c in correctness]
    score = mean_correctness([x for x in scores if x])
    ungraded = len(all_samples) - sum(len(c) for c in correctness)
    result: dict[str, Any] = {
        "problems": len(problems),
        "n": n,
        "samples": len(all_samples),
        "pass@1": pass1.to_dict() if pass1 else None,
        # pass@k exists only when every problem kept k graded samples (else None; see ungraded_samples)
        "pass@k": {str(k): mean_pass_at_k(counts, k) if all(c_n >= k for c_n, _ in counts) else None for k in ks},
        "ungraded_samples": ungraded,
        "mean_score": score.mean if score else None,
        "truncation_rate": (sum(1 for s in all_samples if s["truncated"]) / len(all_samples)) if all_samples else None,
        "mean_response_tokens": (sum(int(s["num_tokens"]) for s in all_samples) / len(all_samples))
        if all_samples else None,
        "breakdowns": {},
        "per_problem": {p.id: {"n": c_n, "passes": c_c} for p, (c_n, c_c) in zip(problems, counts)},
    }
    majority = majority_at_n(problems, graded, thinking)
    if majority is not None:
        result[f"maj@{n}"] = majority
    for key in breakdown_keys:
        buckets: dict[str, list[int]] = defaultdict(list)
        for index, problem in enumerate(problems):
            if key in problem.metadata and problem.metadata[key] is not None:
                buckets[str(problem.metadata[key])].append(index)
        if not buckets:
            continue
        table = {}
        for value in sorted(buckets, key=_natural_key):
            stats = mean_correctness([correctness[i] for i in buckets[value] if correctness[i]])
            table[value] = stats.to_dict() if stats else None
        result["breakdowns"][key] = table
    return result


def majority_at_n(problems: Sequence[Problem], graded: Mapping[str, Sequence[Mapping[str, Any]]],
                  thinking: bool = False) -> float | None:
    """maj@n of a math benchmark (`passk.majority_vote` per problem, averaged over problems with graded samples): a
    sample's vote is its last `\\boxed{}` in the final-answer part, spaces removed. None for a benchmark with code
    problems (no answer to vote on) or with at most one sample a problem (maj@1 is Pass@1)."""
    from darl.verifiers.extract import final_answer_part
    from darl.verifiers.math_answer import last_boxed

    if any(p.domain != "math" for p in problems) or all(len(graded[p.id]) <= 1 for p in problems):
        return None
    per_problem = []
    for p in problems:
        if not graded[p.id]:
            continue
        votes = []
        for s in graded[p.id]:
            part = final_answer_part(str(s.get("response") or ""), thinking)
            boxed = last_boxed(part) if part is not None else None
            votes.append(("".join(boxed.split()) if boxed is not None else None, 1.0 if s["passed"] else 0.0))
        per_problem.append(majority_vote(votes))
    return sum(per_problem) / len(per_problem) if per_problem else None


def flat_metrics(benchmarks: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """The namespaced scalar metrics of an evaluation (docs/metrics.md, section eval/), for metric sinks and tables:
    eval/<benchmark>/{pass@1, pass@1_stderr, pass@1_sampling_stderr, pass@<k>, maj@<n>, mean_score, truncation_rate,
    mean_response_tokens, problems, n, ungraded_samples}. Undefined values (a single problem's standard error) are
    left out."""
    out: dict[str, float] = {}
    for name, bench in benchmarks.items():
        prefix = f"eval/{name}/"
        p1 = bench.get("pass@1") or {}
        values = {"pass@1": p1.get("mean"), "pass@1_stderr": p1.get("stderr"),
                  "pass@1_sampling_stderr": p1.get("sampling_stderr"), "mean_score": bench.get("mean_score"),
                  "truncation_rate": bench.get("truncation_rate"),
                  "mean_response_tokens": bench.get("mean_response_tokens"), "problems": bench.get("problems"),
                  "n": bench.get("n"), "ungraded_samples": bench.get("ungraded_samples")}
        values.update({f"pass@{k}": v for k, v in (bench.get("pass@k") or {}).items() if k != "1"})
        values.update({key: v for key, v in bench.items() if key.startswith("maj@")})
        out.update({prefix + key: float(v) for key, v in values.items() if v is not None})
    return out


def _natural_key(text: str) -> tuple:
    """Sort 'Level 2' before 'Level 10' and numbers numerically."""
    import re

    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


# ----------------------------------------------------------------------------------------------- the evaluator


def _check_same_evaluation(existing: Mapping[str, Any], settings: Mapping[str, Any], model: str, path: Path) -> None:
    if existing.get("model") != model:
        raise InputError(f"holds an evaluation of {existing.get('model')!r}, not {model!r}", path=path,
                         hint="use a new -o folder for another model")
    old = existing.get("settings", {})
    for key in ("temperature", "top_p", "max_new_tokens", "seed", "system_prompt"):
        if old.get(key) != settings[key]:  # an eval.json from before system prompts has none: None, the same
            raise InputError(f"was made with {key}={old.get(key)!r}, this run asks {settings[key]!r}", path=path,
                             field=f"settings.{key}", hint="use a new -o folder, or the same settings to resume")
    for bench, n in settings["samples"].items():
        if bench in old.get("samples", {}) and old["samples"][bench] != n:
            raise InputError(f"{bench} was sampled with n={old['samples'][bench]}, this run asks n={n}", path=path,
                             field="settings.samples", hint="use a new -o folder, or the same -n to resume")


def _batches(items: Sequence[Problem], size: int) -> Iterable[list[Problem]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def evaluate(generator: Generator, benchmarks: Mapping[str, Sequence[Problem]], out_dir: str | Path,
             settings: EvalSettings = EvalSettings(), verifier: Any | None = None,
             on_progress: ProgressCallback | None = None, extra: Mapping[str, Any] | None = None) -> EvalResult:
    """Sample, grade and summarize every benchmark in `benchmarks` ({name: problems}); write samples.jsonl and
    eval.json under `out_dir` and return eval.json's contents. Resumes a killed run in the same folder (the model
    and settings must match; anything else is an error, never a silent mix). `verifier` defaults to a new
    `darl.verifiers.Verifier` (closed at the end); `extra` is stored in eval.json as it is (for example the
    benchmark filters used)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    eval_path, samples_path = out / EVAL_FILE, out / SAMPLES_FILE
    for name, problems in benchmarks.items():
        ids = [p.id for p in problems]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise InputError(f"benchmark {name!r} has duplicate problem ids {dupes}", hint="ids must be unique")
        if not problems:
            raise InputError(f"benchmark {name!r} has no problems", hint="check its filters")
    samples_per = {name: settings.samples_for(name) for name in benchmarks}
    settings_record = {"temperature": settings.temperature, "top_p": settings.top_p,
                       "max_new_tokens": settings.max_new_tokens, "seed": settings.seed, "samples": samples_per,
                       "ks": {name: settings.ks_for(n) for name, n in samples_per.items()},
                       "batch_problems": settings.batch_problems, "system_prompt": settings.system_prompt,
                       "thinking": generator_opens_thinking(generator)}
    revision = getattr(generator, "revision", None)  # names the exact weights where the back end can tell
    data: dict[str, Any] = {"format": EVAL_FORMAT, "model": generator.name, "model_revision": revision,
                            "complete": False,
                            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                            "settings": settings_record, "versions": software_versions(),
                            "extra": dict(extra or {}), "benchmarks": {}}
    if eval_path.exists():
        existing = read_eval_to_resume(eval_path)
        _check_same_evaluation(existing, settings_record, generator.name, eval_path)
        if existing.get("model_revision") and revision and existing["model_revision"] != revision:
            raise InputError(f"holds samples of other weights ({existing['model_revision']}) under the same name",
                             path=eval_path, field="model_revision", hint="use a new -o folder for these weights")
        data["created"] = existing.get("created", data["created"])
        merged = dict(existing.get("settings", {}).get("samples", {}))
        merged.update(samples_per)
        settings_record["samples"] = merged
        settings_record["ks"] = {**existing.get("settings", {}).get("ks", {}), **settings_record["ks"]}
        # Benchmarks evaluated earlier into this folder stay in eval.json next to the ones this run adds.
        data["benchmarks"] = dict(existing.get("benchmarks", {}))
    elif samples_path.exists():
        raise InputError("samples.jsonl exists without eval.json", path=samples_path,
                         hint="delete it, or evaluate into a new -o folder")
    write_eval(eval_path, data)

    done = load_samples(samples_path, settings_record["samples"])
    own_verifier = verifier is None
    if verifier is None:
        from darl.verifiers import Verifier

        verifier = Verifier()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="darl-eval-generate") as pool:
            for name, problems in benchmarks.items():
                n = samples_per[name]
                todo = [p for p in problems if (name, p.id) not in done]
                if on_progress:
                    on_progress(name, len(problems) - len(todo), len(problems))
                _run_benchmark(generator, verifier, pool, name, todo, n, settings, samples_path, done,
                               len(problems), on_progress, thinking=settings_record["thinking"])
                per_problem = {p.id: done[(name, p.id)] for p in problems}
                data["benchmarks"][name] = summarize_benchmark(problems, per_problem, n, settings.ks_for(n),
                                                               settings.breakdown_keys, settings_record["thinking"])
                data["metrics"] = flat_metrics(data["benchmarks"])
                write_eval(eval_path, data)
    finally:
        if own_verifier:
            verifier.close()
    data["complete"] = True
    data["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    write_eval(eval_path, data)
    return EvalResult(path=eval_path, data=data)


def _run_benchmark(generator: Generator, verifier: Any, pool: ThreadPoolExecutor, name: str, todo: list[Problem],
                   n: int, settings: EvalSettings, samples_path: Path, done: dict[tuple[str, str], list[dict]],
                   total: int, on_progress: ProgressCallback | None, thinking: bool = False) -> None:
    batches = list(_batches(todo, settings.batch_problems))

    def generate(batch: list[Problem]) -> list[list[Completion]]:
        # A seed per problem from (seed, benchmark, problem id) alone: a resumed run, or another --batch-problems,
        # samples every problem the same way.
        seeds = tuple(settings.seed + _stable_hash(name, p.id) for p in batch)
        params = SamplingParams(n=n, temperature=settings.temperature, top_p=settings.top_p,
                                max_new_tokens=settings.max_new_tokens, seed=settings.seed, seeds=seeds)
        completions = generator.generate([chat_messages(p, settings.system_prompt) for p in batch], params)
        if len(completions) != len(batch) or any(len(c) != n for c in completions):
            raise RuntimeError(f"generator {generator.name!r} returned {[len(c) for c in completions]} completions "
                               f"for {len(batch)} prompts with n={n}")
        return completions

    finished = total - len(todo)
    pending: Future | None = pool.submit(generate, batches[0]) if batches else None
    for index, batch in enumerate(batches):
        completions = pending.result()  # type: ignore[union-attr]
        pending = pool.submit(generate, batches[index + 1]) if index + 1 < len(batches) else None
        flat_problems = [p for p in batch for _ in range(n)]
        flat_texts = [c.text for group in completions for c in group]
        verdicts = verifier.verify_batch(flat_problems, flat_texts, thinking=thinking)
        for position, (problem, group) in enumerate(zip(batch, completions)):
            records = [SampleRecord.from_parts(name, problem.id, i, completion, verdicts[position * n + i])
                       for i, completion in enumerate(group)]
            append_samples(samples_path, [asdict(r) for r in records])
            done[(name, problem.id)] = [asdict(r) for r in records]
        finished += len(batch)
        if on_progress:
            on_progress(name, finished, total)


def _stable_hash(*parts: str) -> int:
    import hashlib

    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big")
