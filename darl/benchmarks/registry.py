"""The evaluation sets packaged with darl, by name, so evaluation and decontamination work offline.

| name         | problems | file (under darl/benchmarks/data/)                    |
|--------------|----------|--------------------------------------------------------|
| math500      | 500      | math500/test.jsonl                                      |
| aime24       | 30       | aime2024/test.jsonl                                     |
| amc23        | 40       | amc2023/test.jsonl (Qwen2.5-Math's AMC 2023)            |
| amc22_23     | 83       | amc2023/deepscaler_test_amc_2022_2023.json (DeepScaleR)|
| gsm8k        | 1319     | gsm8k/test.jsonl                                        |
| humaneval    | 164      | humaneval/HumanEval.jsonl.gz                            |
| mbpp         | 257      | mbpp/mbpp_sanitized_test_mas_tts.jsonl (sanitized test) |
| mbpp_test500 | 500      | mbpp/mbpp_test_deepseek.jsonl (full test split)         |
| livecodebench| 880      | livecodebench/problems_public_tests.jsonl (filtered)    |

LiveCodeBench takes filters: `start` and `end` (contest dates, inclusive, 'YYYY-MM-DD' or None for open; default
2024-08-01..2025-01-31, the window the DeepSeek-R1-Distill reports and the paper most likely use: 279 problems),
`difficulty` and `platform` (a name or a list of names). One problem (abc350_c, 2024-04) has no public test and
cannot be graded: it is left out with a logged warning; the full range therefore gives 879 problems.
Ids are `<benchmark>/<original id>` (`math500/test/precalculus/807.json`, `humaneval/0`, `livecodebench/1873_A`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from darl.data.loaders import load_source
from darl.errors import InputError
from darl.records import Problem

log = logging.getLogger(__name__)

LIVECODEBENCH_WINDOW = ("2024-08-01", "2025-01-31")


@dataclass(frozen=True)
class Benchmark:
    name: str
    relative_path: str
    format: str
    domain: str
    description: str
    filters: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return Path(str(resources.files("darl.benchmarks").joinpath("data", self.relative_path)))


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark("math500", "math500/test.jsonl", "math", "math", "MATH-500 (Lightman et al.)"),
    Benchmark("aime24", "aime2024/test.jsonl", "math", "math", "AIME 2024 I+II"),
    Benchmark("amc23", "amc2023/test.jsonl", "math", "math", "AMC 2023, 40 problems (Qwen2.5-Math eval set)"),
    Benchmark("amc22_23", "amc2023/deepscaler_test_amc_2022_2023.json", "math", "math",
              "AMC 12 2022+2023, 83 problems (DeepScaleR eval set)"),
    Benchmark("gsm8k", "gsm8k/test.jsonl", "gsm8k", "math", "GSM8K test split"),
    Benchmark("humaneval", "humaneval/HumanEval.jsonl.gz", "humaneval", "code", "HumanEval (OpenAI)"),
    Benchmark("mbpp", "mbpp/mbpp_sanitized_test_mas_tts.jsonl", "mbpp", "code", "MBPP sanitized test split (257)"),
    Benchmark("mbpp_test500", "mbpp/mbpp_test_deepseek.jsonl", "mbpp", "code", "MBPP test split (500)"),
    Benchmark("livecodebench", "livecodebench/problems_public_tests.jsonl", "livecodebench", "code",
              "LiveCodeBench release_v5 problems with public tests", ("start", "end", "difficulty", "platform")),
)}

ALIASES = {"aime2024": "aime24", "math-500": "math500", "amc2023": "amc23", "lcb": "livecodebench"}


def benchmark_names() -> list[str]:
    return list(BENCHMARKS)


def get_benchmark(name: str) -> Benchmark:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in BENCHMARKS:
        raise InputError(f"unknown benchmark {name!r}", hint=f"one of {', '.join(BENCHMARKS)}")
    return BENCHMARKS[key]


def load_benchmark(name: str, **filters: Any) -> list[Problem]:
    """The problems of a packaged benchmark, in file order, optionally filtered (LiveCodeBench only)."""
    benchmark = get_benchmark(name)
    unknown = set(filters) - set(benchmark.filters)
    if unknown:
        allowed = ", ".join(benchmark.filters) or "none"
        raise InputError(f"benchmark {benchmark.name!r} has no filter(s) {sorted(unknown)}", hint=f"filters: {allowed}")
    loaded = load_source(benchmark.path, benchmark.format, source=benchmark.name, skip_invalid=True)
    problems = loaded.problems
    skipped = loaded.skipped
    if benchmark.name == "livecodebench":
        problems = filter_livecodebench(problems, **filters)
        skipped = [s for s in skipped if isinstance(s.row, dict) and _livecodebench_keeps(s.row, **filters)]
    for row in skipped:
        original = next((row.row[k] for k in ("question_id", "task_id", "unique_id", "id")
                         if isinstance(row.row, dict) and k in row.row), None)
        log.warning("benchmark %s: left out %s (%s)", benchmark.name, original, row.describe())
    return problems


def evaluation_sets(names: Sequence[str] | None = None) -> dict[str, list[Problem]]:
    """The packaged evaluation sets `darl data` decontaminates against, by canonical name: `names` (aliases
    allowed), or every one when None. LiveCodeBench over its whole date range (any of it may be evaluated)."""
    sets = {}
    for name in BENCHMARKS if names is None else names:
        bench = get_benchmark(name)
        sets[bench.name] = (load_benchmark(bench.name, start=None, end=None) if bench.name == "livecodebench"
                            else load_benchmark(bench.name))
    return sets


def _as_set(value: str | Sequence[str] | None, field: str, allowed: set[str]) -> set[str] | None:
    if value is None:
        return None
    values = {value} if isinstance(value, str) else set(value)
    bad = {v for v in values if v.lower() not in allowed}
    if bad:
        raise InputError(f"unknown value(s) {sorted(bad)}", field=field, hint=f"one of {sorted(allowed)}")
    return {v.lower() for v in values}


def filter_livecodebench(problems: Sequence[Problem], *, start: str | None = LIVECODEBENCH_WINDOW[0],
                         end: str | None = LIVECODEBENCH_WINDOW[1], difficulty: str | Sequence[str] | None = None,
                         platform: str | Sequence[str] | None = None) -> list[Problem]:
    """LiveCodeBench problems whose contest date lies in [start, end] (dates compared as YYYY-MM-DD, inclusive)
    and whose difficulty and platform are among those given (None: any)."""
    for field, value in (("start", start), ("end", end)):
        if value is not None and (len(value) != 10 or value[4] != "-" or value[7] != "-"):
            raise InputError(f"{value!r} is not a date", field=field, hint="use YYYY-MM-DD")
    difficulties = _as_set(difficulty, "difficulty", {"easy", "medium", "hard"})
    platforms = _as_set(platform, "platform", {"leetcode", "atcoder", "codeforces"})
    return [p for p in problems if _in_selection(p.metadata, start, end, difficulties, platforms)]


def _in_selection(info: dict[str, Any], start: str | None, end: str | None, difficulties: set[str] | None,
                  platforms: set[str] | None) -> bool:
    day = str(info.get("contest_date", ""))[:10]
    if start is not None and day < start or end is not None and day > end:
        return False
    if difficulties is not None and str(info.get("difficulty", "")).lower() not in difficulties:
        return False
    return platforms is None or str(info.get("platform", "")).lower() in platforms


def _livecodebench_keeps(row: dict[str, Any], *, start: str | None = LIVECODEBENCH_WINDOW[0],
                         end: str | None = LIVECODEBENCH_WINDOW[1], difficulty: str | Sequence[str] | None = None,
                         platform: str | Sequence[str] | None = None) -> bool:
    difficulties = _as_set(difficulty, "difficulty", {"easy", "medium", "hard"})
    platforms = _as_set(platform, "platform", {"leetcode", "atcoder", "codeforces"})
    return _in_selection(row, start, end, difficulties, platforms)
