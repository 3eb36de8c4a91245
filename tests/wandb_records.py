"""Read back what W&B wrote in offline mode (`run-<id>.wandb`), for tests.

wandb >= 0.2x no longer ships a Python reader for its transaction log, so this is the file format read directly:
a 7-byte header (":W&B", magic 0xBEE1, version), then LevelDB-log framing (32 KiB blocks; each chunk has a 7-byte
header: CRC32, length, type FULL=1 / FIRST=2 / MIDDLE=3 / LAST=4) around protobuf `Record` messages, which wandb's
own `wandb_internal_pb2` parses.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, Iterator

BLOCK = 32768
HEADER = 7


def records(path: Path) -> Iterator[bytes]:
    data = Path(path).read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a W&B transaction log")
    pos, parts = HEADER, b""
    while pos + HEADER <= len(data):
        left = BLOCK - pos % BLOCK
        if left < HEADER:  # block trailer padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + HEADER])
        if kind == 0 and length == 0:  # zero fill to the end of the block
            pos += left
            continue
        chunk = data[pos + HEADER:pos + HEADER + length]
        pos += HEADER + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            parts = chunk
        elif kind == 3:
            parts += chunk
        elif kind == 4:
            yield parts + chunk


def record_types(path: Path) -> list[str]:
    from wandb.proto import wandb_internal_pb2 as pb

    kinds = []
    for raw in records(path):
        record = pb.Record()
        record.ParseFromString(raw)
        kinds.append(record.WhichOneof("record_type"))
    return kinds


def wait_finished(path: Path, timeout: float = 60) -> None:
    """Wait until W&B's writer has written the run's final 'exit' record: `wandb.finish()` (and a process's exit)
    return before wandb-core, a separate process, has flushed the file (seen here: a 7-byte file right after
    finish() that filled in a second later)."""
    import time

    deadline = time.monotonic() + timeout
    while "exit" not in record_types(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path}: no exit record after {timeout} s")
        time.sleep(0.2)


def history_rows(path: Path) -> list[dict[str, Any]]:
    """Every `wandb.log` row of the run, in order, as {key: value}."""
    from wandb.proto import wandb_internal_pb2 as pb

    rows = []
    for raw in records(path):
        record = pb.Record()
        record.ParseFromString(raw)
        if record.WhichOneof("record_type") == "history":
            rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                         for item in record.history.item})
    return rows
