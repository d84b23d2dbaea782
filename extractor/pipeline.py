"""The batch: inputs → deterministic records (in worker processes) → narrative → the feed.

Files are discovered in a stable order, read by `--workers` processes, given their narrative by
the backend with `--concurrency` requests in flight, and written in input order. A file that
fails becomes a record with its error; nothing already written is lost; a re-run resumes.
"""
from __future__ import annotations

import sys
import time
import traceback
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .document import LoadError
from .feed import Feed
from .load import discover, file_sha256, load_path
from .models import Error, Narrative, Record
from .record import extract_record, failed_record

MULTI_RECORD_SUFFIXES = {".csv", ".jsonl"}
DEFAULT_MAX_MB = 20.0


@dataclass
class Summary:
    files: int = 0
    reports: int = 0
    written: int = 0
    skipped_done: int = 0
    not_reports: int = 0
    failed: int = 0
    tables_found: int = 0
    checks_failed: int = 0
    narrative_failed: int = 0
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"files: {self.files}  records written: {self.written}  already in feed: {self.skipped_done}",
               f"reports: {self.reports}  not reports: {self.not_reports}  failed: {self.failed}",
               f"tables found: {self.tables_found}  checks failed: {self.checks_failed}  "
               f"narratives failed: {self.narrative_failed}",
               f"LLM calls: {self.calls}  cache hits: {self.cache_hits}  tokens: {self.prompt_tokens} prompt + "
               f"{self.completion_tokens} completion",
               f"time: {self.seconds:.2f} s"]
        return out


def process_file(job: tuple[str, str | None, float]) -> list[tuple[dict, str]]:
    """Worker: one input file → [(record as dict, document text)]. Never raises."""
    path_s, missing, max_mb = job
    path = Path(path_s)
    if missing:
        return [(failed_record(path_s, missing).model_dump(), "")]
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            sha = file_sha256(path)
            return [(failed_record(path_s, f"file too large: {size / 1048576:.1f} MB over the {max_mb:g} MB limit "
                                   f"(raise it with --max-mb)", sha256=sha).model_dump(), "")]
        out = []
        for doc in load_path(path):
            try:
                out.append((extract_record(doc).model_dump(), doc.text))
            except Exception as exc:  # a fault in a stage is that record's error, not the batch's
                rec = failed_record(doc.path, f"{type(exc).__name__}: {exc}", stage="extract", sha256=doc.sha256)
                rec.id, rec.source.row = doc.id, doc.row
                traceback.print_exc(file=sys.stderr)
                out.append((rec.model_dump(), ""))
        return out
    except LoadError as exc:
        sha = None
        try:
            sha = file_sha256(path)
        except OSError:
            pass
        return [(failed_record(path_s, str(exc), sha256=sha).model_dump(), "")]
    except Exception as exc:
        return [(failed_record(path_s, f"{type(exc).__name__}: {exc}", stage="extract").model_dump(), "")]


def _jobs(inputs: list[str], feed: Feed, force: bool, max_mb: float, summary: Summary) -> Iterator[tuple[str, str | None, float]]:
    for path, missing in discover(inputs):
        summary.files += 1
        if not missing and not force and path.suffix.lower() not in MULTI_RECORD_SUFFIXES:
            try:
                rid = file_sha256(path)[:16]
            except OSError:
                rid = None
            if rid and not feed.needs(rid, redo_failed_narrative=True):
                summary.skipped_done += 1
                continue
        yield str(path), missing, max_mb


def _narrate(backend, record: Record, text: str) -> Record:
    if backend is None or not record.is_report or not text or any(e.stage == "load" for e in record.errors):
        return record
    started = time.perf_counter()
    try:
        result = backend.narrate(text, record.sections)
    except Exception as exc:  # a backend must not take the batch down
        result = None
        record.narrative = Narrative(method=getattr(backend, "name", None), status="failed",
                                     error=f"{type(exc).__name__}: {exc}")
    if result is not None:
        record.narrative = result.narrative
        x = record.extraction
        x.backend, x.model = getattr(backend, "name", None), result.model
        x.prompt_version, x.prompt_hash = result.prompt_version, result.prompt_hash
        x.calls, x.cache_hits = result.calls, result.cache_hits
        x.prompt_tokens, x.completion_tokens = result.prompt_tokens, result.completion_tokens
        record.errors.extend(Error(stage="narrative", message=m) for m in result.errors)
        if record.narrative.status == "failed" and record.narrative.error:
            record.errors.append(Error(stage="narrative", message=record.narrative.error))
    record.extraction.seconds = round(record.extraction.seconds + time.perf_counter() - started, 6)
    return record


def run_batch(inputs: list[str], out: Path, backend=None, workers: int = 1, concurrency: int = 1,
              resume: bool = True, force: bool = False, max_mb: float = DEFAULT_MAX_MB,
              on_record: Callable[[Record], None] | None = None, progress: bool | None = None) -> Summary:
    started = time.perf_counter()
    summary = Summary()
    feed = Feed(out, resume=resume and not force)
    jobs = _jobs(inputs, feed, force, max_mb, summary)
    bar = _progress_bar(progress)
    pool = get_context("spawn").Pool(workers) if workers > 1 else None
    results: Iterable[list[tuple[dict, str]]] = (pool.imap(process_file, jobs, chunksize=2) if pool
                                                 else map(process_file, jobs))
    executor = ThreadPoolExecutor(concurrency) if concurrency > 1 and backend is not None else None
    pending: deque[Future | Record] = deque()

    def flush(block: bool) -> None:
        while pending and (block or len(pending) > 2 * concurrency
                           or not isinstance(pending[0], Future) or pending[0].done()):
            item = pending.popleft()
            record = item.result() if isinstance(item, Future) else item
            _account(summary, record)
            feed.write(record)
            if on_record:
                on_record(record)
            if record.errors and (record.errors[0].stage in ("load", "extract")):
                print(f"error: {record.source.path}: {record.errors[0].message}", file=sys.stderr)

    try:
        for file_records in results:
            for rec_dict, text in file_records:
                record = Record.model_validate(rec_dict)
                if not force and not feed.needs(record.id, redo_failed_narrative=True):
                    summary.skipped_done += 1
                    continue
                if executor is not None:
                    pending.append(executor.submit(_narrate, backend, record, text))
                else:
                    pending.append(_narrate(backend, record, text))
                flush(block=False)
            if bar is not None:
                bar.update(1)
        flush(block=True)
    finally:
        if pool is not None:
            pool.terminate()
        if executor is not None:
            executor.shutdown(wait=True)
        feed.close()
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _account(summary: Summary, record: Record) -> None:
    summary.written += 1
    if any(e.stage in ("load", "extract") for e in record.errors):
        summary.failed += 1
        summary.failures.append(f"{record.source.path}: {record.errors[0].message}")
    elif not record.is_report:
        summary.not_reports += 1
    else:
        summary.reports += 1
    t = record.tables
    summary.tables_found += sum(x is not None for x in (t.active_disclosure, t.applications, t.review_litigation))
    summary.tables_found += record.legacy_statistics is not None
    summary.checks_failed += sum(c.status == "fail" for c in record.checks.values())
    summary.narrative_failed += record.narrative.status == "failed"
    x = record.extraction
    summary.calls += x.calls
    summary.cache_hits += x.cache_hits
    summary.prompt_tokens += x.prompt_tokens
    summary.completion_tokens += x.completion_tokens


def _progress_bar(progress: bool | None):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(unit="file", file=sys.stderr, desc="extract")
