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
from typing import Iterable, Iterator

from .document import LoadError
from .feed import Feed
from .load import discover, file_sha256, load_path
from .models import Error, Narrative, NarrativeInput, Record
from .record import extract_record, failed_record, normalise

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
    narrative_pending: int = 0
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    price_in: float | None = None    # per million prompt tokens
    price_out: float | None = None   # per million completion tokens
    batch_requests: int = 0          # lines written to --batch-out

    def cost(self) -> float | None:
        """What the counted tokens (every attempt) cost at the given prices; None without prices."""
        if self.price_in is None and self.price_out is None:
            return None
        return (self.prompt_tokens * (self.price_in or 0.0) + self.completion_tokens * (self.price_out or 0.0)) / 1e6

    def lines(self) -> list[str]:
        out = [f"files: {self.files}  records written: {self.written}  already in feed: {self.skipped_done}",
               f"reports: {self.reports}  not reports: {self.not_reports}  failed: {self.failed}",
               f"tables found: {self.tables_found}  checks failed: {self.checks_failed}  "
               f"narratives failed: {self.narrative_failed}  narratives pending: {self.narrative_pending}",
               f"LLM calls: {self.calls}  cache hits: {self.cache_hits}  tokens: {self.prompt_tokens} prompt + "
               f"{self.completion_tokens} completion"]
        cost = self.cost()
        if cost is not None:
            out.append(f"cost: {cost:.4f} at {self.price_in or 0:g} per million prompt and "
                       f"{self.price_out or 0:g} per million completion tokens")
        if self.batch_requests:
            out.append(f"batch requests written: {self.batch_requests}")
        out.append(f"time: {self.seconds:.2f} s")
        return out


_LOCAL_BACKEND = None  # a CPU-only backend (rules) that narrates inside the worker processes


def _init_worker(backend) -> None:
    global _LOCAL_BACKEND
    _LOCAL_BACKEND = backend


# What a worker hands back per record: id, the record as a JSON line, its summary figures, and
# the document text when the narrative is still to be done by the main process (else None).
Item = tuple[str, str, dict, "str | None"]


def _finish(record: Record, text: str) -> Item:
    if _LOCAL_BACKEND is not None:
        record = _narrate(_LOCAL_BACKEND, record, text)
        return record.id, record.model_dump_json(), _figures(record), None
    return record.id, record.model_dump_json(), _figures(record), text


def process_file(job: tuple[str, str | None, float]) -> list[Item]:
    """Worker: one input file → its records. Never raises: a fault is the record's error."""
    path_s, missing, max_mb = job
    path = Path(path_s)
    if missing:
        return [_finish(failed_record(path_s, missing), "")]
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            sha = file_sha256(path)
            return [_finish(failed_record(path_s, f"file too large: {size / 1048576:.1f} MB over the "
                                          f"{max_mb:g} MB limit (raise it with --max-mb)", sha256=sha), "")]
        out = []
        for doc in load_path(path):
            try:
                doc = normalise(doc)  # the narrative and the spans both read the normalised text
                out.append(_finish(extract_record(doc, normalised=True), doc.text))
            except Exception as exc:  # a fault in a stage is that record's error, not the batch's
                rec = failed_record(doc.path, f"{type(exc).__name__}: {exc}", stage="extract", sha256=doc.sha256)
                rec.id, rec.source.row = doc.id, doc.row
                traceback.print_exc(file=sys.stderr)
                out.append(_finish(rec, ""))
        return out
    except LoadError as exc:
        sha = None
        try:
            sha = file_sha256(path)
        except OSError:
            pass
        return [_finish(failed_record(path_s, str(exc), sha256=sha), "")]
    except Exception as exc:
        return [_finish(failed_record(path_s, f"{type(exc).__name__}: {exc}", stage="extract"), "")]


def _jobs(inputs: list[str], feed: Feed, force: bool, max_mb: float, summary: Summary) -> Iterator[tuple[str, str | None, float]]:
    own = {feed.path.resolve(), feed.path.with_suffix(feed.path.suffix + ".tmp").resolve()}
    for path, missing in discover(inputs):
        if path.resolve() in own:
            continue  # the feed being written may sit inside an input folder
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
        result = backend.narrate(text, record.sections, record_id=record.id)
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
        if result.input is not None:
            x.narrative_input = NarrativeInput(**result.input)
        record.errors.extend(Error(stage="narrative", message=m) for m in result.errors)
        if record.narrative.status == "failed" and record.narrative.error:
            record.errors.append(Error(stage="narrative", message=record.narrative.error))
    record.extraction.seconds = round(record.extraction.seconds + time.perf_counter() - started, 6)
    return record


def run_batch(inputs: list[str], out: Path, backend=None, workers: int = 1, concurrency: int = 1,
              resume: bool = True, force: bool = False, max_mb: float = DEFAULT_MAX_MB,
              progress: bool | None = None, price_in: float | None = None,
              price_out: float | None = None) -> Summary:
    started = time.perf_counter()
    summary = Summary(price_in=price_in, price_out=price_out)
    feed = Feed(out, resume=resume and not force)
    jobs = _jobs(inputs, feed, force, max_mb, summary)
    bar = _progress_bar(progress)
    # A CPU-only backend narrates where the record is made; a remote one from the main process,
    # with `concurrency` requests in flight.
    in_workers = backend is not None and getattr(backend, "runs_in_workers", False)
    local = backend if in_workers else None
    if workers > 1:
        # fork: workers inherit the loaded modules and compiled patterns instead of importing anew
        pool = get_context("fork").Pool(workers, initializer=_init_worker, initargs=(local,))
        results: Iterable[list[Item]] = pool.imap(process_file, jobs, chunksize=8)
    else:
        pool = None
        _init_worker(local)
        results = map(process_file, jobs)
    remote = backend if backend is not None and not in_workers else None
    executor = ThreadPoolExecutor(max(1, concurrency)) if remote is not None and concurrency > 1 else None
    pending: deque = deque()  # (id, line, figures) ready, or a Future of a narrated Record

    def write(rid: str, line: str, figures: dict) -> None:
        feed.write_line(rid, line, figures.get("narrative_status", "skipped"))
        _account(summary, figures)
        if figures.get("error"):
            print(f"error: {figures['path']}: {figures['error']}", file=sys.stderr)

    def flush(block: bool) -> None:
        while pending and (block or len(pending) > 2 * max(1, concurrency)
                           or not isinstance(pending[0], Future) or pending[0].done()):
            item = pending.popleft()
            if isinstance(item, Future):
                record = item.result()
                write(record.id, record.model_dump_json(), _figures(record))
            else:
                write(*item)

    try:
        for items in results:
            for rid, line, figures, text in items:
                if not force and not feed.needs(rid, redo_failed_narrative=True):
                    summary.skipped_done += 1
                    continue
                if text is None or remote is None:  # narrated in the worker, or no backend
                    pending.append((rid, line, figures))
                    flush(block=False)
                    continue
                record = Record.model_validate_json(line)
                if executor is not None:
                    pending.append(executor.submit(_narrate, remote, record, text))
                else:
                    done = _narrate(remote, record, text)
                    pending.append((done.id, done.model_dump_json(), _figures(done)))
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
    summary.batch_requests = getattr(getattr(backend, "batch_out", None), "written", 0)
    return summary


def _figures(record: Record) -> dict:
    """What the batch summary counts of one record (small, so workers can send it cheaply)."""
    failed = next((e for e in record.errors if e.stage in ("load", "extract")), None)
    t, x = record.tables, record.extraction
    return {
        "path": record.source.path, "error": failed.message if failed else None,
        "is_report": record.is_report, "narrative_status": record.narrative.status,
        "tables": sum(v is not None for v in (t.active_disclosure, t.applications, t.review_litigation))
        + (record.legacy_statistics is not None),
        "checks_failed": sum(c.status == "fail" for c in record.checks.values()),
        "calls": x.calls, "cache_hits": x.cache_hits, "prompt_tokens": x.prompt_tokens,
        "completion_tokens": x.completion_tokens,
    }


def _account(summary: Summary, f: dict) -> None:
    summary.written += 1
    if f["error"]:
        summary.failed += 1
        summary.failures.append(f"{f['path']}: {f['error']}")
    elif not f["is_report"]:
        summary.not_reports += 1
    else:
        summary.reports += 1
    summary.tables_found += f["tables"]
    summary.checks_failed += f["checks_failed"]
    summary.narrative_failed += f["narrative_status"] == "failed"
    summary.narrative_pending += f["narrative_status"] == "pending"
    summary.calls += f["calls"]
    summary.cache_hits += f["cache_hits"]
    summary.prompt_tokens += f["prompt_tokens"]
    summary.completion_tokens += f["completion_tokens"]


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
