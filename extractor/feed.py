"""The JSONL feed: append-only writing that survives SIGKILL, resume state, and compaction.

Each record is one line written with a single write and flushed, so a kill leaves at most one
partial last line; opening the feed again cuts that line off. A record written again (a narrative
that failed and was redone) is appended, and `compact` keeps the last line per id.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator



def _cut_partial_tail(path: Path) -> None:
    with open(path, "rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        # Walk back to the last newline; everything after it is a line cut by a kill.
        pos, chunk = size, 65536
        while pos > 0:
            start = max(0, pos - chunk)
            fh.seek(start)
            data = fh.read(pos - start)
            i = data.rfind(b"\n")
            if i >= 0:
                fh.truncate(start + i + 1)
                return
            pos = start
        fh.truncate(0)


def read_lines(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue  # a damaged line is redone, not trusted


class Feed:
    """An open feed: what is already done, and a writer for new records."""

    def __init__(self, path: Path, resume: bool = True):
        self.path = path
        self.done: dict[str, str] = {}  # id -> narrative status of the last line written for it
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume and path.exists():
            _cut_partial_tail(path)
            for rec in read_lines(path):
                self.done[rec["id"]] = (rec.get("narrative") or {}).get("status", "skipped")
        elif path.exists():
            path.unlink()
        self._fh = open(path, "a", encoding="utf-8")
        self.rewritten = 0

    def needs(self, record_id: str, redo_failed_narrative: bool) -> bool:
        status = self.done.get(record_id)
        if status is None:
            return True
        return redo_failed_narrative and status in ("failed", "pending")

    def write_line(self, record_id: str, line: str, narrative_status: str) -> None:
        """Append one record (a JSON line without its newline) in a single write."""
        if record_id in self.done:
            self.rewritten += 1
        self._fh.write(line + "\n")
        self._fh.flush()
        self.done[record_id] = narrative_status

    def close(self) -> None:
        self._fh.close()
        if self.rewritten:
            compact(self.path)


def compact(path: Path) -> None:
    """Keep the last line per id, in first-seen order; replace the file atomically."""
    last: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    rid = json.loads(line)["id"]
                except (json.JSONDecodeError, KeyError):
                    continue
                last[rid] = line if line.endswith("\n") else line + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.writelines(last.values())
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
