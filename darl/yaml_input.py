"""YAML files a user writes (recipes, comparison specs) read into pydantic models, with errors that name the file,
the line and the field. One place, so every YAML input reports a mistake the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from darl.errors import InputError


def yaml_line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort YAML line (1-based) of the key path `loc`, using the composed node tree."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_yaml_mapping(text: str, path: str | Path, shape: str, empty_ok: bool = False) -> dict[str, Any]:
    """The YAML text as a mapping; a syntax error names its line, anything but a mapping says what `shape` is.
    `empty_ok`: an empty file (or one of comments only) is an empty mapping, all defaults."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML ({getattr(exc, 'problem', exc)})", path=path,
                         line=None if mark is None else mark.line + 1) from None
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"expected {shape}", path=path)
    return data


def validation_input_error(exc: ValidationError, text: str, path: str | Path, unknown_key: str,
                           loc: tuple[Any, ...] | None = None) -> InputError:
    """The first error of a pydantic validation as an InputError with its YAML line and dotted field; `unknown_key`
    replaces pydantic's 'Extra inputs are not permitted'; `loc` overrides the error's own key path."""
    err = exc.errors()[0]
    where = tuple(err["loc"]) if loc is None else loc
    message = unknown_key if err["type"] == "extra_forbidden" else err["msg"]
    field = ".".join(str(p) for p in where) or None
    return InputError(message, path=path, line=yaml_line_of(text, where), field=field)
