"""The JSONL feed: append-only writing that survives SIGKILL, resume state, and compaction.

Each record is one line written with a single write and flushed, so a kill leaves at most one
partial last line; opening the feed again cuts that line off. A record written again (a narrative
that failed and was redone) is appended, and `compact` keeps the last line per id. A path whose
file changed (a broken PDF replaced by the good one) keeps only the record of its newest content,
in the resume state, in compaction and in the index.
"""
from __future__ import annotations

import json
import os
import shutil
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


BACKUPS = 3  # feed.jsonl.1 (newest) … feed.jsonl.3 are kept when a run starts a feed afresh


def backup_paths(path: Path) -> list[Path]:
    return [path.with_name(f"{path.name}.{n}") for n in range(1, BACKUPS + 1)]


def back_up(path: Path, move: bool) -> Path | None:
    """Keep the feed as feed.jsonl.1 (older backups shift to .2, .3); None when there is nothing
    to keep. `move` renames (the feed starts afresh), else copies (the feed is rewritten in place)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    olds = backup_paths(path)
    for older, newer in zip(reversed(olds[1:]), reversed(olds[:-1])):
        if newer.exists():
            os.replace(newer, older)
    if move:
        os.replace(path, olds[0])
    else:
        shutil.copy2(path, olds[0])
    return olds[0]


def _key(rec: dict) -> tuple[str, str | None, str | None]:
    src = rec.get("source") if isinstance(rec.get("source"), dict) else {}
    return rec["id"], src.get("path"), src.get("sha256")


def _newest_sha(keys: list[tuple[str, str | None, str | None]]) -> dict[str, str | None]:
    """Per source path, the content (sha256) of the last record written for it: a file that was
    replaced (a broken PDF by the good one) is represented by its newest content only."""
    newest: dict[str, str | None] = {}
    for _, path, sha in keys:
        if path is not None:
            newest[path] = sha
    return newest


class Feed:
    """An open feed: what is already done, and a writer for new records.

    `resume=False` starts a new feed and keeps the old one as feed.jsonl.1; `backup=True` (a
    forced re-run, which rewrites records in place) keeps a copy there too."""

    def __init__(self, path: Path, resume: bool = True, backup: bool = False):
        self.path = path
        self.done: dict[str, str] = {}  # id -> narrative status of the last line written for it
        self.first_path: dict[str, str] = {}  # content sha256 -> the first path holding it
        self.path_sha: dict[str, str | None] = {}  # source path -> sha256 of its newest record
        self.backup: Path | None = None
        self.rewritten = 0
        self.superseded = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume and path.exists():
            _cut_partial_tail(path)
            if backup:
                self.backup = back_up(path, move=False)
            recs = [(_key(r), (r.get("narrative") or {}).get("status", "skipped")) for r in read_lines(path)
                    if isinstance(r, dict) and isinstance(r.get("id"), str)]  # anything else is redone
            newest = _newest_sha([k for k, _ in recs])
            if any(p is not None and newest[p] != sha for (_, p, sha), _ in recs) \
                    or len({k[0] for k, _ in recs}) < len(recs):
                compact(path)  # a run that died before compacting: resume from the newest records only
            for (rid, p, sha), status in recs:
                if p is not None and newest[p] != sha:
                    continue
                self.done[rid] = status
                if p is not None:
                    self.path_sha[p] = sha
                    if sha:
                        self.first_path.setdefault(sha, p)
        elif path.exists():
            self.backup = back_up(path, move=True)
        self._fh = open(path, "a", encoding="utf-8")

    def own_files(self) -> set[Path]:
        """The files this feed writes (an input folder may hold them): never read as inputs."""
        p = self.path
        return {x.resolve() for x in [p, p.with_suffix(p.suffix + ".tmp"), *backup_paths(p)]}

    def needs(self, record_id: str, redo_failed_narrative: bool) -> bool:
        status = self.done.get(record_id)
        if status is None:
            return True
        return redo_failed_narrative and status in ("failed", "pending")

    def write_line(self, record_id: str, line: str, narrative_status: str,
                   path: str | None = None, sha256: str | None = None) -> None:
        """Append one record (a JSON line without its newline) in a single write."""
        if record_id in self.done:
            self.rewritten += 1
        if path is not None:
            if path in self.path_sha and self.path_sha[path] != sha256:
                self.superseded += 1  # the file at this path changed: its old record goes at close
            self.path_sha[path] = sha256
            if sha256:
                self.first_path.setdefault(sha256, path)
        self._fh.write(line + "\n")
        self._fh.flush()
        self.done[record_id] = narrative_status

    def close(self) -> None:
        self._fh.close()
        if self.rewritten or self.superseded:
            compact(self.path)


def compact(path: Path) -> None:
    """Keep, per source path, only the records of its newest content, and of those the last line
    per id, in first-seen order; replace the file atomically."""
    lines: list[tuple[tuple, str]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    key = _key(json.loads(line))
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                    continue  # not a record: dropped, and its input is redone
                lines.append((key, line if line.endswith("\n") else line + "\n"))
    newest = _newest_sha([k for k, _ in lines])
    last: dict[str, str] = {}
    for (rid, p, sha), line in lines:
        if p is not None and newest[p] != sha:
            continue
        last[rid] = line
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.writelines(last.values())
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
