"""The batch: inputs → deterministic records (in worker processes) → narrative → the feed.

Inputs are discovered in a stable order and counted first (the progress bar has a total), read
by `--workers` processes, given their narrative by the backend with `--concurrency` requests in
flight, and written in input order. Every input is accounted for: a file that fails, a type no
loader reads, a member of a zip archive that cannot be extracted becomes a record with its error;
a second file with the same bytes as an earlier one gets a record saying so. Nothing already
written is lost; a re-run resumes.
"""
from __future__ import annotations

import csv
import gc
import hashlib
import logging
import signal
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
from . import __version__
from .feed import Feed
from .load import Input, discover, file_sha256, load_path
from .models import Error, Extraction, Narrative, NarrativeInput, Record, Source
from .record import extract_record, failed_record, normalise
from .template import load as load_template

MULTI_RECORD_SUFFIXES = {".csv", ".jsonl"}
DEFAULT_MAX_MB = 20.0
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()  # empty files are errors, never "the same content"
WORST_SHOWN = 5  # failures printed at the end of a batch; --report-failures FILE lists them all


@dataclass
class Failure:
    """One thing a user should look at: an input that failed, a failed check, a pending narrative."""
    path: str
    row: int | None
    record_id: str
    problem: str  # error | check | narrative
    detail: str
    weight: int = 1  # how many checks failed, for a check

    @property
    def rank(self) -> tuple[int, int]:
        """Worst first: inputs that failed, then the records with the most failed checks."""
        return {"error": 0, "check": 1, "narrative": 2}.get(self.problem, 3), -self.weight


@dataclass
class Summary:
    files: int = 0            # inputs: files, and members of zip archives
    reports: int = 0
    written: int = 0
    skipped_done: int = 0
    not_reports: int = 0
    failed: int = 0
    tables_found: int = 0
    checks_failed: int = 0
    reports_with_failed_checks: int = 0
    narrative_failed: int = 0
    auth_failed: int = 0      # narratives refused with HTTP 401
    narrative_pending: int = 0  # asked in a batch file, answer not read yet
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, the earlier path with its content)
    feed_backup: str | None = None
    price_in: float | None = None    # per million prompt tokens
    price_out: float | None = None   # per million completion tokens
    batch_requests: int = 0          # lines written to --batch-out

    def cost(self) -> float | None:
        """What the counted tokens (every attempt) cost at the given prices; None without prices."""
        if self.price_in is None and self.price_out is None:
            return None
        return (self.prompt_tokens * (self.price_in or 0.0) + self.completion_tokens * (self.price_out or 0.0)) / 1e6

    def lines(self) -> list[str]:
        out = [f"files: {self.files}  records written: {self.written}  already in feed: {self.skipped_done}"
               + (f"  same content as an earlier file: {len(self.duplicates)}" if self.duplicates else ""),
               f"reports: {self.reports}  not reports: {self.not_reports}  failed: {self.failed}",
               f"tables found: {self.tables_found}  checks failed: {self.checks_failed}"
               + (f" (in {self.reports_with_failed_checks} reports)" if self.checks_failed else "")
               + f"  narratives failed: {self.narrative_failed}"
               + (f"  narratives pending: {self.narrative_pending}" if self.narrative_pending else ""),
               f"LLM calls: {self.calls}  cache hits: {self.cache_hits}  tokens: {self.prompt_tokens} prompt + "
               f"{self.completion_tokens} completion"]
        cost = self.cost()
        if cost is not None:
            out.append(f"cost: {cost:.4f} at {self.price_in or 0:g} per million prompt and "
                       f"{self.price_out or 0:g} per million completion tokens")
        if self.batch_requests:
            out.append(f"batch requests written: {self.batch_requests}")
        out.append(f"time: {self.seconds:.2f} s")
        for path, first in self.duplicates[:WORST_SHOWN]:
            out.append(f"same content: {path} is the same file as {first} (one record stands for both)")
        if len(self.duplicates) > WORST_SHOWN:
            out.append(f"same content: … and {len(self.duplicates) - WORST_SHOWN} more")
        worst = self.worst()
        if worst:
            out.append(f"worst failures ({len(worst)} of {len(self.failures)}):")
            for f in worst:
                where = f.path + (f" row {f.row}" if f.row is not None else "")
                out.append(f"  {where}: {f.detail}")
        return out

    def worst(self, n: int = WORST_SHOWN) -> list[Failure]:
        """Inputs that failed first, then the records with failed checks, then pending narratives."""
        return sorted(self.failures, key=lambda f: f.rank)[:n]

    def write_failures(self, path: Path) -> None:
        """Every failure as CSV (path, row, record_id, problem, detail), worst first."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["path", "row", "record_id", "problem", "detail"])
            for f in sorted(self.failures, key=lambda f: f.rank):
                w.writerow([f.path, "" if f.row is None else f.row, f.record_id, f.problem, f.detail])


_LOCAL_BACKEND = None  # a CPU-only backend (rules) that narrates inside the worker processes


def _init_worker(backend) -> None:
    global _LOCAL_BACKEND
    _LOCAL_BACKEND = backend


def _init_worker_process(backend) -> None:
    # Ctrl-C reaches the whole process group: the main process stops the pool, so a worker
    # must not die of it with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(backend)


# What a worker hands back per record: id, the record as a JSON line, its summary figures, and
# the document text when the narrative is still to be done by the main process (else None).
Item = tuple[str, str, dict, "str | None"]

# What the main process hands a worker: the input, its sha256 when known, the size limit, and
# the earlier path with the same content (then the record says so and nothing is read).
Job = tuple[Input, "str | None", float, "str | None"]


def _finish(record: Record, text: str) -> Item:
    if _LOCAL_BACKEND is not None:
        record = _narrate(_LOCAL_BACKEND, record, text)
        return record.id, record.model_dump_json(), _figures(record), None
    return record.id, record.model_dump_json(), _figures(record), text


def duplicate_id(path: str, sha: str) -> str:
    return hashlib.sha256(f"duplicate:{path}:{sha}".encode()).hexdigest()[:16]


def duplicate_record(path: str, sha: str, first: str) -> Record:
    """The record of a file with the same bytes as an earlier one: it points there, and holds
    nothing of its own (the content's record is the earlier file's)."""
    fmt = (path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else "") or "unknown"
    return Record(id=duplicate_id(path, sha), source=Source(path=path, sha256=sha, format=fmt),
                  is_report=False,
                  errors=[Error(stage="duplicate", message=f"same content as {first} (record {sha[:16]}): "
                                                           "the same bytes are read once")],
                  extraction=Extraction(extractor_version=__version__))


def _documents(inp: Input, max_mb: float):
    """The input's documents (LoadError for an input that cannot be read at all)."""
    limit = max_mb * 1024 * 1024
    if inp.member is not None:
        from .load.archive import load_member, member_size
        size = member_size(inp)
        if size > limit:
            raise _TooLarge(size)
        return load_member(inp)
    size = inp.path.stat().st_size
    if size > limit:
        raise _TooLarge(size)
    return load_path(inp.path)


class _TooLarge(Exception):
    def __init__(self, size: int):
        self.size = size


def process_file(job: Job) -> list[Item]:
    """Worker: one input → its records. Never raises: a fault is the record's error."""
    inp, sha, max_mb, duplicate_of = job
    shown = inp.display
    if duplicate_of is not None and sha:
        return [_finish(duplicate_record(shown, sha, duplicate_of), "")]
    if inp.problem:
        return [_finish(failed_record(shown, inp.problem, sha256=sha), "")]
    try:
        out = []
        for doc in _documents(inp, max_mb):
            try:
                doc = normalise(doc)  # the narrative and the spans both read the normalised text
                out.append(_finish(extract_record(doc, normalised=True), doc.text))
            except Exception as exc:  # a fault in a stage is that record's error, not the batch's
                rec = failed_record(doc.path, f"{type(exc).__name__}: {exc}", stage="extract", sha256=doc.sha256)
                rec.id, rec.source.row = doc.id, doc.row
                traceback.print_exc(file=sys.stderr)
                out.append(_finish(rec, ""))
        return out
    except _TooLarge as exc:
        return [_finish(failed_record(shown, f"file too large: {exc.size / 1048576:.1f} MB over the "
                                      f"{max_mb:g} MB limit (raise it with --max-mb)", sha256=sha), "")]
    except LoadError as exc:
        return [_finish(failed_record(shown, str(exc), sha256=sha), "")]
    except Exception as exc:
        return [_finish(failed_record(shown, f"{type(exc).__name__}: {exc}", stage="extract", sha256=sha), "")]


def _sha(inp: Input) -> str | None:
    """The input's content hash (its record id), or None when it cannot be read."""
    try:
        if inp.member is not None:
            from .load.archive import read_member
            return hashlib.sha256(read_member(inp)).hexdigest()
        if inp.problem and not inp.path.is_file():
            return None
        return file_sha256(inp.path)
    except (OSError, LoadError):
        return None


def discover_inputs(inputs: list[str], feed: Feed | None = None, exclude: Iterable[Path] = ()) -> list[Input]:
    """Every input, counted before the batch starts (listing folders and zip directories is cheap).
    The feed's own files and `exclude` (the failures CSV) are never inputs, even inside an input folder."""
    own = (feed.own_files() if feed is not None else set()) | {Path(p).resolve() for p in exclude}
    return [i for i in discover(inputs) if i.member is not None or i.path.resolve() not in own]


def _jobs(found: list[Input], feed: Feed, force: bool, max_mb: float, summary: Summary,
          skipped: list[int]) -> Iterator[Job]:
    first_path = dict(feed.first_path)  # content → the first path holding it, this run included
    for inp in found:
        shown = inp.display
        sha = None if inp.problem == "no such file or directory" else _sha(inp)
        earlier = first_path.get(sha) if sha and sha != EMPTY_SHA256 else None
        if earlier is not None and earlier != shown:
            if not force and not feed.needs(duplicate_id(shown, sha), redo_failed_narrative=False):
                summary.skipped_done += 1
                skipped[0] += 1
                continue
            yield inp, sha, max_mb, earlier
            continue
        if sha:
            first_path.setdefault(sha, shown)
        if sha and not force and inp.suffix not in MULTI_RECORD_SUFFIXES \
                and not feed.needs(sha[:16], redo_failed_narrative=True):
            summary.skipped_done += 1
            skipped[0] += 1
            continue
        yield inp, sha, max_mb, None


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


class _AboveTheBar(logging.Handler):
    """Log lines (the backends' retry warnings) printed above the progress bar, not onto it."""

    def __init__(self, bar):
        super().__init__(logging.WARNING)
        self.bar = bar
        self.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bar.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - a log line must never stop the batch
            pass


def run_batch(inputs: list[str], out: Path, backend=None, workers: int = 1, concurrency: int = 1,
              resume: bool = True, force: bool = False, max_mb: float = DEFAULT_MAX_MB,
              progress: bool | None = None, exclude: Iterable[Path] = (), price_in: float | None = None,
              price_out: float | None = None) -> Summary:
    """Read `inputs` into the feed at `out`.

    resume (default): skip what the feed holds, redo records whose narrative failed or is pending.
    force: redo every input, replacing its records in the feed (a copy is kept as feed.jsonl.1).
    resume=False: start a new feed; the old one is kept as feed.jsonl.1.
    price_in/price_out: per million tokens, for the summary's cost line.
    """
    started = time.perf_counter()
    summary = Summary(price_in=price_in, price_out=price_out)
    feed = Feed(out, resume=resume, backup=force)
    summary.feed_backup = str(feed.backup) if feed.backup else None
    found = discover_inputs(inputs, feed, exclude)
    summary.files = len(found)
    skipped = [0]  # inputs skipped at discovery (resume), so the bar counts them too
    jobs = _jobs(found, feed, force, max_mb, summary, skipped)
    bar = _progress_bar(progress, total=len(found))
    say = (lambda m: bar.write(m, file=sys.stderr)) if bar is not None else (lambda m: print(m, file=sys.stderr))
    log_handler = None
    if bar is not None:
        log_handler = _AboveTheBar(bar)
        logging.getLogger("extractor").addHandler(log_handler)
    # A CPU-only backend narrates where the record is made; a remote one from the main process,
    # with `concurrency` requests in flight.
    in_workers = backend is not None and getattr(backend, "runs_in_workers", False)
    local = backend if in_workers else None
    # What is alive now (modules, the template and its compiled patterns) lives as long as the
    # batch: frozen, the collector's full passes no longer walk it (~3% of the deterministic
    # stage, docs/performance.md), and forked workers do not copy its pages by touching them.
    # (Garbage is collected first, so that only live objects are frozen; unfrozen at the end.)
    load_template()
    gc.collect()
    gc.freeze()
    if workers > 1:
        # fork: workers inherit the loaded modules and compiled patterns instead of importing anew
        pool = get_context("fork").Pool(workers, initializer=_init_worker_process, initargs=(local,))
        results: Iterable[list[Item]] = pool.imap(process_file, jobs, chunksize=8)
    else:
        pool = None
        _init_worker(local)
        results = map(process_file, jobs)
    remote = backend if backend is not None and not in_workers else None
    executor = ThreadPoolExecutor(max(1, concurrency)) if remote is not None and concurrency > 1 else None
    pending: deque = deque()  # (id, line, figures) ready, or a Future of a narrated Record
    counted = [0]  # inputs the bar has shown

    def write(rid: str, line: str, figures: dict) -> None:
        feed.write_line(rid, line, figures.get("narrative_status", "skipped"),
                        path=figures.get("path"), sha256=figures.get("sha256"))
        _account(summary, rid, figures)
        if figures.get("error"):
            say(f"error: {figures['path']}: {figures['error']}")

    def flush(block: bool) -> None:
        while pending and (block or len(pending) > 2 * max(1, concurrency)
                           or not isinstance(pending[0], Future) or pending[0].done()):
            item = pending.popleft()
            if isinstance(item, Future):
                record = item.result()
                write(record.id, record.model_dump_json(), _figures(record))
            else:
                write(*item)

    def advance() -> None:
        if bar is not None:
            target = skipped[0] + counted[0]
            if target > bar.n:
                bar.update(target - bar.n)

    interrupted = False
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
            counted[0] += 1
            advance()
        flush(block=True)
        advance()
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if pool is not None:
            pool.terminate()
        if executor is not None:
            executor.shutdown(wait=not interrupted, cancel_futures=interrupted)
        feed.close()
        if bar is not None:
            bar.close()
        if log_handler is not None:
            logging.getLogger("extractor").removeHandler(log_handler)
        gc.unfreeze()
    summary.seconds = time.perf_counter() - started
    summary.batch_requests = getattr(getattr(backend, "batch_out", None), "written", 0)
    return summary


def _figures(record: Record) -> dict:
    """What the batch summary counts of one record (small, so workers can send it cheaply)."""
    failed = next((e for e in record.errors if e.stage in ("load", "extract")), None)
    duplicate = next((e for e in record.errors if e.stage == "duplicate"), None)
    t, x = record.tables, record.extraction
    failed_checks = []
    for name, check in record.checks.items():
        if check.status == "fail":
            item = next((i for i in check.items if i.status == "fail"), None)
            how = ""
            if item is not None:
                how = item.message or (f"{item.scope}: {item.left:g} ≠ {item.right:g}"
                                       if item.left is not None and item.right is not None else item.scope)
            failed_checks.append(f"{name} ({how})" if how else name)
    return {
        "path": record.source.path, "row": record.source.row, "sha256": record.source.sha256,
        "error": failed.message if failed else None,
        "duplicate": duplicate.message if duplicate else None,
        "is_report": record.is_report, "narrative_status": record.narrative.status,
        "narrative_error": record.narrative.error if record.narrative.status == "failed" else None,
        "tables": sum(v is not None for v in (t.active_disclosure, t.applications, t.review_litigation))
        + (record.legacy_statistics is not None),
        "checks_failed": len(failed_checks), "failed_checks": failed_checks[:3],
        "calls": x.calls, "cache_hits": x.cache_hits, "prompt_tokens": x.prompt_tokens,
        "completion_tokens": x.completion_tokens,
    }


def _account(summary: Summary, rid: str, f: dict) -> None:
    summary.written += 1
    path, row = f["path"], f.get("row")
    if f["error"]:
        summary.failed += 1
        summary.failures.append(Failure(path, row, rid, "error", f["error"]))
    elif f.get("duplicate"):
        first = f["duplicate"].removeprefix("same content as ").split(" (record ")[0]
        summary.duplicates.append((path, first))
    elif not f["is_report"]:
        summary.not_reports += 1
    else:
        summary.reports += 1
    summary.tables_found += f["tables"]
    summary.checks_failed += f["checks_failed"]
    if f["checks_failed"]:
        summary.reports_with_failed_checks += 1
        summary.failures.append(Failure(path, row, rid, "check",
                                        f"{f['checks_failed']} check(s) failed: " + "; ".join(f["failed_checks"])
                                        + (" …" if f["checks_failed"] > len(f["failed_checks"]) else ""),
                                        weight=f["checks_failed"]))
    summary.narrative_pending += f["narrative_status"] == "pending"
    if f["narrative_status"] == "failed":
        summary.narrative_failed += 1
        message = f.get("narrative_error") or ""
        if "HTTP 401" in message:
            summary.auth_failed += 1
        summary.failures.append(Failure(path, row, rid, "narrative", f"narrative failed: {message}"))
    summary.calls += f["calls"]
    summary.cache_hits += f["cache_hits"]
    summary.prompt_tokens += f["prompt_tokens"]
    summary.completion_tokens += f["completion_tokens"]


def _progress_bar(progress: bool | None, total: int):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    import shutil
    # shutil falls back to 80×24 where the terminal reports no size (tqdm would then draw nothing)
    size = shutil.get_terminal_size()
    return tqdm(total=total, unit="file", file=sys.stderr, desc="extract", ncols=size.columns, nrows=size.lines)
