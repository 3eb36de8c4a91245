"""Problems in, one schema out: loaders for every supported source format, Parquet I/O, deduplication,
decontamination and the `darl data` build. See docs/data.md."""

from darl.data.io import read_problems, write_problems
from darl.data.loaders import (LOADERS, ROW_FORMATS, LoadedSource, SkippedRow, SourceSpec, load_problems, load_source,
                               register_loader, register_row_format)

__all__ = ["LOADERS", "ROW_FORMATS", "LoadedSource", "SkippedRow", "SourceSpec", "load_problems", "load_source",
           "read_problems", "register_loader", "register_row_format", "write_problems"]
