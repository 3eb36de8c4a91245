"""Moved to `darl.data.reasoning_gym` (a data source belongs with the data formats); kept importable from here."""

from darl.data.reasoning_gym import (FORMAT_NAME, load_reasoning_gym, load_source, parse_location,  # noqa: F401
                                     task_names)

__all__ = ["FORMAT_NAME", "load_reasoning_gym", "load_source", "parse_location", "task_names"]
