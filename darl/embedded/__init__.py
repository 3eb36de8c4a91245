"""The embedded default: procedural math and code suites and a tiny Qwen2 policy family built offline on a CPU.

`bootstrap(preset)` builds (or loads from the cache) the family of models standing in for the paper's proxy roles;
`load_suite(name)` returns the problems of an embedded suite (`suite_names()` lists them: `embedded-default`,
`embedded-quick`, each with `-train` / `-heldout` variants). Importing this package loads no model or torch.
"""

from __future__ import annotations

# The function shadows its module's name on the package on purpose (`from darl.embedded import bootstrap` gives
# the function); import the module's other names with `from darl.embedded.bootstrap import ...`.
from darl.embedded.bootstrap import EmbeddedFamily, bootstrap
from darl.records import Problem

_SPLITS = ("train", "heldout")


def suite_names() -> list[str]:
    """Names `load_suite` takes: `embedded-<suite>` (the held-out split) and `embedded-<suite>-<split>`."""
    from darl.embedded.suite import SUITES

    return [f"embedded-{s}" for s in SUITES] + [f"embedded-{s}-{split}" for s in SUITES for split in _SPLITS]


def load_suite(name: str) -> list[Problem]:
    """The problems of an embedded suite by the names of `suite_names()`; a bare `embedded-<suite>` is the
    held-out split (the one meant for evaluation)."""
    from darl.embedded.suite import embedded_suite

    if name not in suite_names():
        raise ValueError(f"unknown embedded suite {name!r}; choose one of {suite_names()}")
    parts = name.removeprefix("embedded-").split("-")
    split = parts[1] if len(parts) > 1 else "heldout"
    return embedded_suite(parts[0], split)  # type: ignore[arg-type]


__all__ = ["EmbeddedFamily", "bootstrap", "load_suite", "suite_names"]
