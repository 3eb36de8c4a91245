"""Hugging Face dataset names as sources (`darl data openai/gsm8k --split test`).

Rows come from `datasets.load_dataset(name, config, split=split)` and go through the same row formats as local
files, so a hub copy of MATH-500 or LiveCodeBench converts exactly like the packaged one. Rows are numbered
from 1 in split order and named `hf:<name>[<split>]` in errors. Needs network access or a populated
`HF_DATASETS_CACHE`; the tests use local files only.
"""

from __future__ import annotations

from typing import Any, Iterator

from darl.data.rows import RawRow, RowRef
from darl.errors import InputError


def hub_label(name: str, split: str, config: str | None = None) -> str:
    return f"hf:{name}" + (f"/{config}" if config else "") + f"[{split}]"


def iter_hub_rows(name: str, *, split: str = "train", config: str | None = None, revision: str | None = None,
                  streaming: bool = False, **load_options: Any) -> Iterator[RawRow]:
    """Every row of one split of a hub dataset, as plain dicts. InputError when the dataset cannot be loaded
    (unknown name, no network, unknown split or config): `datasets` raises many exception types for these, and
    each is reported with the name and what to check."""
    import datasets

    label = hub_label(name, split, config)
    try:
        dataset = datasets.load_dataset(name, config, split=split, revision=revision, streaming=streaming,
                                        **load_options)
    except (FileNotFoundError, ValueError, ConnectionError, OSError) as exc:
        raise InputError(
            f"cannot load the Hugging Face dataset ({type(exc).__name__}: {str(exc).splitlines()[0][:300]})",
            path=label,
            hint="check the name, --split and --hub-config, and network access or HF_DATASETS_CACHE; "
                 "a local path that does not exist is also tried as a dataset name",
        ) from None
    for number, row in enumerate(dataset, start=1):
        yield RawRow(RowRef(label, number, False), dict(row))
