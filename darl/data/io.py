"""Problems files on disk: moved to `darl.artifacts.problems` (the one reader and writer of every pipeline file);
these names stay importable from here."""

from darl.artifacts.parquet import read_darl_table
from darl.artifacts.problems import problems_schema, read_problems, write_problems

__all__ = ["problems_schema", "read_darl_table", "read_problems", "write_problems"]
