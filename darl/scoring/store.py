"""The on-disk state of one scoring shard, built so that `kill -9` at any moment loses nothing and repeats nothing.

Layout of `OUT/shard-IIII-of-NNNN/`:
(The layout's names and the manifest's reader are `darl.artifacts.scores`; this module is its one writer.)
- `manifest.json` — the job settings, the shard, the problems file's sha256 and how many problems the shard has.
  Written once; a later run in the same folder must match it (else InputError: a folder never mixes two jobs).
- `scores-000001.parquet`, ... — score rows, one file per flushed batch. Each is written to a temporary name,
  fsynced and renamed into place, so a file either exists whole or not at all; the rename is the commit point.
- `samples-000001.parquet`, ... — with `keep_responses`, every sample of the same batch, written (also atomically)
  before its scores file; a samples file without a scores file is from a batch that did not commit and is removed.
- `done.json` — written last, when every (problem, model) of the shard has a row.

One writer per shard folder: `open()` takes its `darl.locking.FolderLock` (the lock file `OUT/.shard-....lock`
sits beside the folder) before touching anything, and `close()` gives it back; a second process on the same shard
stops with a message naming the first instead of deleting its temporary files and committing its batches again.

Resume = read every committed scores file, skip the (problem, model) pairs found there, do the rest. A batch that
was generating or verifying when the process died has no committed file and is done again, whole.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from darl.artifacts.scores import (DONE, MANIFEST, SAMPLE_COLUMNS, SCORE_COLUMNS, file_sha256,  # noqa: F401
                                   read_manifest, read_rows, write_json, write_rows)
from darl.errors import InputError
from darl.locking import FolderLock
from darl.scoring.job import ScoreJob

_PART = re.compile(r"^(scores|samples)-(\d{6})\.parquet$")


class ShardStore:
    def __init__(self, out_dir: str | Path, job: ScoreJob) -> None:
        self.job = job
        self.root = Path(out_dir)
        self.dir = self.root / job.shard.label
        self._next = 1
        self._lock: FolderLock | None = None

    # ---------------------------------------------------------------------------------------------- manifest
    def open(self, header: dict[str, Any]) -> dict[str, Any]:
        """Create the folder (or check it holds this job), clear debris of an interrupted write, and return the
        manifest. `header` adds the problems hash and counts; on resume those must match too. Takes the shard's
        lock first (FolderLocked when another process holds it); `close()` releases it."""
        if self._lock is None:
            self._lock = FolderLock(self.dir).acquire()
        self.dir.mkdir(parents=True, exist_ok=True)
        for debris in self.dir.glob(".*.tmp"):
            debris.unlink()
        manifest = {"format": "darl-scores/1", "shard": {"index": self.job.shard.index, "count": self.job.shard.count},
                    "job": self.job.settings(),
                    "problems_path": str(Path(self.job.problems_path).resolve()), **header}
        path = self.dir / MANIFEST
        if path.exists():
            existing = read_manifest(self.dir)
            for key in ("format", "shard", "job", "problems_sha256", "problems_in_shard"):
                if existing.get(key) != manifest.get(key):
                    raise InputError(
                        f"this folder holds a different scoring job ({key} differs: {existing.get(key)!r} there, "
                        f"{manifest.get(key)!r} now)", path=path,
                        hint="resume with the same problems, models and settings, or give a new -o folder")
            manifest = existing
        else:
            write_json(path, manifest)
        scores = {int(m.group(2)) for p in self.dir.iterdir() if (m := _PART.match(p.name)) and m.group(1) == "scores"}
        for p in self.dir.glob("samples-*.parquet"):
            m = _PART.match(p.name)
            if m and int(m.group(2)) not in scores:
                p.unlink()  # its batch never committed; it will be generated again
        self._next = max(scores, default=0) + 1
        return manifest

    def close(self) -> None:
        """Release the shard's lock (a no-op when `open()` was never called)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # ------------------------------------------------------------------------------------------------- parts
    def score_parts(self) -> list[Path]:
        return sorted(p for p in self.dir.glob("scores-*.parquet") if _PART.match(p.name))

    def committed_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for part in self.score_parts():
            rows.extend(read_rows(part))
        return rows

    def commit(self, score_rows: list[dict[str, Any]], sample_rows: list[dict[str, Any]] | None) -> Path:
        """Write one batch: samples first, then the scores file whose rename commits the batch."""
        seq = self._next
        if sample_rows is not None:
            self._write(f"samples-{seq:06d}.parquet", sample_rows, SAMPLE_COLUMNS)
        path = self._write(f"scores-{seq:06d}.parquet", score_rows, SCORE_COLUMNS)
        self._next = seq + 1
        return path

    def _write(self, name: str, rows: list[dict[str, Any]], columns: dict[str, str]) -> Path:
        return write_rows(rows, columns, self.dir / name)

    # -------------------------------------------------------------------------------------------------- done
    def mark_done(self, summary: dict[str, Any]) -> None:
        write_json(self.dir / DONE, summary)

    @property
    def is_done(self) -> bool:
        return (self.dir / DONE).exists()
