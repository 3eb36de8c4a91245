"""Load problems from any supported source into `Problem` records: local JSON Lines / JSON / Parquet files in any
known format, or a Hugging Face dataset name.

The registry is open. `ROW_FORMATS` (name -> `RowFormat`) holds the row-by-row formats; `LOADERS` (name -> loader
function) holds every format `load_source` can be asked for, including whole-source loaders that generate or
fetch their own problems (procedural task suites). A new source registers with one call:

    from darl.data.loaders import register_loader
    def load_my_tasks(location: str, *, source: str | None, skip_invalid: bool, **options) -> LoadedSource: ...
    register_loader("my_tasks", load_my_tasks)

and is then reached as `load_problems("spec", format="my_tasks")` or `darl data my_tasks:spec`.
A row format registers with `register_row_format(RowFormat(...))` and joins auto-detection.

Auto-detection (format=None) looks at the first row's columns and tries the row formats in registry order, the
most specific first (darl's own schema, LiveCodeBench, HumanEval, LeetCode, MBPP, verl, GSM8K, then plain
question/answer math). The first that matches reads the whole source.

Malformed rows: by default the first one raises an InputError naming the file, the line (JSON Lines) or row, and
the field. With `skip_invalid=True` every malformed row is kept in `LoadedSource.skipped` with its position, field,
reason and raw content, so that callers count, report and write them out (`darl data --skip-invalid` does).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

from darl.data.formats import darl_rows, gsm8k, humaneval, leetcode, livecodebench, math_qa, mbpp, verl
from darl.data.formats.base import RowContext, RowError, RowFormat
from darl.data.rows import JSON_SUFFIXES, JSONL_SUFFIXES, PARQUET_SUFFIXES, RawRow, RowRef, iter_raw_rows
from darl.errors import InputError
from darl.records import Problem, RecordError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedRow:
    """A row that could not become a Problem: where it was, which field, why, and what it held."""

    path: str
    number: int
    is_line: bool
    field: str | None
    reason: str
    row: Any

    def describe(self) -> str:
        where = f"{self.path}, {'line' if self.is_line else 'row'} {self.number}"
        return f"{where}" + (f", field '{self.field}'" if self.field else "") + f": {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, ("line" if self.is_line else "row"): self.number, "field": self.field,
                "error": self.reason, "content": self.row}


@dataclass
class LoadedSource:
    """The outcome of loading one source: its problems (in source order), the rows skipped on request, the format
    that read it and how many rows it held."""

    location: str
    format: str
    source: str
    problems: list[Problem]
    skipped: list[SkippedRow] = field(default_factory=list)
    rows_read: int = 0


class SourceLoader(Protocol):
    def __call__(self, location: str, *, source: str | None, skip_invalid: bool, **options: Any) -> LoadedSource: ...


FILE_SUFFIXES = JSONL_SUFFIXES + JSON_SUFFIXES + PARQUET_SUFFIXES
ROW_FORMATS: dict[str, RowFormat] = {}
LOADERS: dict[str, SourceLoader] = {}


def register_row_format(row_format: RowFormat, *, before: str | None = None) -> None:
    """Add a row-by-row format (and its loader). `before` puts it ahead of an existing format in auto-detection."""
    if row_format.name in LOADERS and row_format.name not in ROW_FORMATS:
        raise ValueError(f"format {row_format.name!r} is already registered as a loader")
    items = [(k, v) for k, v in ROW_FORMATS.items() if k != row_format.name]
    position = next((i for i, (k, _) in enumerate(items) if k == before), len(items))
    items.insert(position, (row_format.name, row_format))
    ROW_FORMATS.clear()
    ROW_FORMATS.update(items)
    LOADERS[row_format.name] = _row_format_loader(row_format.name)


def register_loader(name: str, loader: SourceLoader) -> None:
    """Add a whole-source loader under `name` (see the module docstring for its signature)."""
    if name in ROW_FORMATS:
        raise ValueError(f"format {name!r} is already a row format; pick another name")
    LOADERS[name] = loader


GENERIC_STEMS = {"test", "train", "dev", "val", "valid", "validation", "data", "problems", "eval"}


def default_source_name(location: str) -> str:
    """The id prefix for a source: the file name without its extensions ('mbpp_test_deepseek'), with the folder
    name in front of a generic one ('aime2024/test.jsonl' -> 'aime2024-test'), or the dataset name's last part for
    a hub name ('openai/gsm8k' -> 'gsm8k')."""
    path = Path(location)
    name = path.name if path.exists() else location.rstrip("/").split("/")[-1]
    name = re.sub(r"(\.(jsonl|json|parquet|ndjson|gz))+$", "", name, flags=re.I)
    if path.exists() and name.lower() in GENERIC_STEMS and path.resolve().parent.name:
        name = f"{path.resolve().parent.name}-{name}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "source"


def detect_format(sample: dict[str, Any], filename: str = "") -> str:
    """The name of the first row format that recognises `sample` (one row); InputError when none does. A source
    is read with the format of the first row recognised; rows before it are errors (or skipped)."""
    columns = frozenset(sample)
    for name, row_format in ROW_FORMATS.items():
        if row_format.matches(columns, sample, filename):
            return name
    raise InputError(
        f"cannot tell the format from the columns {sorted(columns)}", path=filename or None,
        hint=f"pass a format explicitly (one of {sorted(LOADERS)}) or rename the columns to darl's schema "
             "(id, domain, prompt, answer | tests)",
    )


def convert_rows(raw_rows: Iterable[RawRow], location: str, *, format: str | None, source: str,
                 skip_invalid: bool) -> LoadedSource:
    """Turn raw rows into Problems with one row format (detected from the first parsed row when `format` is None).
    Ids must be unique within a source; a repeated id is an error of the later row."""
    problems: list[Problem] = []
    skipped: list[SkippedRow] = []
    seen: dict[str, RowRef] = {}
    row_format = ROW_FORMATS.get(format) if format is not None else None
    if format is not None and row_format is None:
        raise InputError(f"unknown row format {format!r}", path=location, hint=f"one of {sorted(ROW_FORMATS)}")
    rows_read = 0

    def reject(raw: RawRow, field_name: str | None, reason: str, hint: str | None = None) -> None:
        if not skip_invalid:
            raise raw.ref.error(reason, field=field_name,
                                hint=hint or "fix the row, or pass --skip-invalid to skip such rows and list them")
        skipped.append(SkippedRow(raw.ref.path, raw.ref.number, raw.ref.is_line, field_name, reason,
                                  raw.data if raw.data is not None else raw.text))

    for raw in raw_rows:
        index = rows_read
        rows_read += 1
        if raw.data is None:
            reject(raw, None, raw.parse_error or "unreadable row")
            continue
        if row_format is None:
            try:
                row_format = ROW_FORMATS[detect_format(raw.data)]
            except InputError as exc:  # the format is detected from the first row it recognises
                reject(raw, None, str(exc))
                continue
        try:
            problem = row_format.to_problem(raw.data, RowContext(source=source, index=index))
        except RowError as exc:
            reject(raw, exc.field, exc.message)
            continue
        except RecordError as exc:
            reject(raw, None, str(exc))
            continue
        if problem.id in seen:
            reject(raw, "id", f"id {problem.id!r} already used by {seen[problem.id].describe()}",
                   hint="ids must be unique within a source")
            continue
        seen[problem.id] = raw.ref
        problems.append(problem)
    return LoadedSource(location=location, format=row_format.name if row_format else (format or "unknown"),
                        source=source, problems=problems, skipped=skipped, rows_read=rows_read)


def _row_format_loader(name: str) -> SourceLoader:
    def load(location: str, *, source: str | None, skip_invalid: bool, **options: Any) -> LoadedSource:
        return _load_rows(location, format=name, source=source, skip_invalid=skip_invalid, **options)

    load.__name__ = f"load_{name}"
    load.__doc__ = f"Load a source in the {name!r} row format."
    return load


def _load_rows(location: str, *, format: str | None, source: str | None, skip_invalid: bool,
               **options: Any) -> LoadedSource:
    source = source or default_source_name(location)
    if Path(location).exists():
        if options:
            raise InputError(f"options {sorted(options)} apply to Hugging Face datasets only", path=location)
        raw_rows: Iterable[RawRow] = iter_raw_rows(location)
    elif location.lower().endswith(FILE_SUFFIXES) or location.startswith((".", "/", "~")):
        raise InputError("no such file", path=location, hint="check the path")
    else:
        from darl.data.hub import iter_hub_rows

        raw_rows = iter_hub_rows(location, **options)
    return convert_rows(raw_rows, location, format=format, source=source, skip_invalid=skip_invalid)


def load_source(location: str | Path, format: str | None = None, *, source: str | None = None,
                skip_invalid: bool = False, **options: Any) -> LoadedSource:
    """Load one source: a local file path or a Hugging Face dataset name (`options` such as `split`, `name`,
    `revision` go to `datasets.load_dataset`). `format` None auto-detects row formats; `source` overrides the
    id prefix (default: the file name without extension)."""
    location = str(location)
    if format is None or format in ROW_FORMATS:
        return _load_rows(location, format=format, source=source, skip_invalid=skip_invalid, **options)
    if format not in LOADERS:
        raise InputError(f"unknown format {format!r}", path=location, hint=f"one of {sorted(LOADERS)}")
    return LOADERS[format](location, source=source, skip_invalid=skip_invalid, **options)


def load_problems(path_or_name: str | Path, format: str | None = None, *, skip_invalid: bool = False,
                  source: str | None = None, **options: Any) -> list[Problem]:
    """The problems of one source (see `load_source`). With `skip_invalid` the skipped rows are logged as a
    warning with their count and first reasons; use `load_source` to get them as data."""
    loaded = load_source(path_or_name, format, source=source, skip_invalid=skip_invalid, **options)
    if loaded.skipped:
        reasons = "; ".join(s.describe() for s in loaded.skipped[:3])
        log.warning("%s: skipped %d of %d rows (%s%s)", loaded.location, len(loaded.skipped), loaded.rows_read,
                    reasons, "; ..." if len(loaded.skipped) > 3 else "")
    return loaded.problems


_URL_SCHEMES = ("http", "https", "hf", "s3", "gs", "file")


@dataclass(frozen=True)
class SourceSpec:
    """One source as given on the command line: `[NAME=][FORMAT:]LOCATION`."""

    location: str
    format: str | None = None
    name: str | None = None
    options: tuple[tuple[str, Any], ...] = ()  # for Hugging Face datasets: split, config, revision

    @classmethod
    def parse(cls, spec: str) -> SourceSpec:
        """'NAME=FORMAT:LOCATION', 'FORMAT:LOCATION', 'NAME=LOCATION' or 'LOCATION'. A prefix counts as a format
        only when it is a registered format name, and as a name only when the whole spec is not an existing path."""
        name = None
        head, sep, rest = spec.partition("=")
        if sep and rest and not Path(spec).exists() and re.fullmatch(r"[A-Za-z0-9_.-]+", head):
            name, spec = head, rest
        head, sep, rest = spec.partition(":")
        if sep and head in LOADERS and rest:
            return cls(location=rest, format=head, name=name)
        if (sep and rest and len(head) > 1 and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", head)
                and head.lower() not in _URL_SCHEMES and not Path(spec).exists()):
            # 'FORMAT:LOCATION' with a format darl does not know: say so, not "no such file"
            raise InputError(f"unknown format {head!r} in {spec!r}", field="FORMAT",
                             hint=f"formats: {', '.join(LOADERS)}; or drop the prefix to detect the format")
        return cls(location=spec, name=name)


# The built-in row formats, most specific first (auto-detection tries them in this order).
for _module in (darl_rows, livecodebench, humaneval, leetcode, mbpp, verl, gsm8k, math_qa):
    register_row_format(_module.FORMAT)


def _load_reasoning_gym(location: str, *, source: str | None, skip_invalid: bool, **options: Any) -> LoadedSource:
    """`reasoning_gym:TASK?size=N&seed=S&knob=value` (darl.data.reasoning_gym; needs the `gym` extra)."""
    from darl.data.reasoning_gym import load_source as load_gym

    return load_gym(location, source=source, skip_invalid=skip_invalid, **options)


register_loader("reasoning_gym", _load_reasoning_gym)
