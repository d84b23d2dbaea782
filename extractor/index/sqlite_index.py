"""The embedded search index: a JSONL feed → one SQLite file with filter columns and FTS5 text.

`build_index` validates every feed line, upserts each record by id (re-indexing a feed changes
nothing; a feed of another year adds to the same file; a path whose file changed keeps only the
record of its newest content) and keeps the full record JSON, so the
index can always be rebuilt from itself. `search` ranks with FTS5 bm25 and builds each snippet
from the original text, so the user reads Chinese with the match marked 【like this】.
Tokenisation is in tokenize.py and explained in docs/search.md.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from ..feedschema import FeedLineError, validate_line
from ..models import SECTION_KEYS
from . import tokenize

# ---------------------------------------------------------------------------------------------
# Errors


class SearchIndexError(Exception):
    """An index that cannot be used: the message says what to do about it."""


class NoIndex(SearchIndexError, FileNotFoundError):
    def __init__(self, path):
        super().__init__(f"no index at {path}: run extractor index first")


# ---------------------------------------------------------------------------------------------
# Schema: a list of named migrations, applied in order, each recorded in `migrations`.

# Every FTS column holds the grams stream (tokenize.grams). Until 0004 there was a sixth, `words`
# (jieba words of all the text): it cost 85 % of indexing time, and its looser match (a query
# word's jieba words near each other) is now a NEAR of their gram phrases instead.
FTS_COLUMNS = ("meta", "problems", "improvements", "platforms", "sections")
# bm25 weight per FTS column, in FTS_COLUMNS order: a hit in what the report says about itself
# (its problems, its platforms) counts more than the same word somewhere in a long section.
BM25_WEIGHTS = (2.0, 3.0, 2.0, 3.0, 1.0)
GRAM_COLUMNS = FTS_COLUMNS

FACET_COLUMNS = (
    "agency", "agency_key", "province", "city", "county", "level", "year", "template", "published", "is_report",
    "source_path", "source_sha256", "applications_received", "applications_granted",
    "withheld_total", "review_total", "litigation_total", "problems_count", "improvements_count",
    "platform_kinds", "checks_failed", "checks_failed_ids", "errors_count",
    "audit_counts", "source_problems", "extraction_problems",
)

MIGRATIONS: list[tuple[str, list[str]]] = [
    ("0001_reports", [
        """CREATE TABLE reports (
            id TEXT PRIMARY KEY,
            docid INTEGER NOT NULL UNIQUE,      -- rowid of the report's row in reports_fts
            agency TEXT, province TEXT, city TEXT, county TEXT, level TEXT,
            year INTEGER, template TEXT, published TEXT, is_report INTEGER NOT NULL,
            source_path TEXT, source_sha256 TEXT,
            applications_received NUMERIC,      -- tables.applications.rows.new_received.total
            applications_granted NUMERIC,       -- rows.granted.total
            withheld_total NUMERIC,             -- sum of the withheld_* rows' totals
            review_total NUMERIC,               -- review_litigation.review.total
            litigation_total NUMERIC,           -- litigation_direct.total + litigation_after_review.total
            problems_count INTEGER, improvements_count INTEGER,
            platform_kinds TEXT,                -- sorted distinct narrative.platforms[].kind, comma-separated
            checks_failed INTEGER,              -- how many checks have status fail
            checks_failed_ids TEXT,
            errors_count INTEGER,
            record_json TEXT NOT NULL
        )""",
        "CREATE INDEX reports_year ON reports(year)",
        "CREATE INDEX reports_agency ON reports(agency)",
        "CREATE INDEX reports_province ON reports(province)",
        "CREATE INDEX reports_applications ON reports(applications_received)",
    ]),
    ("0002_reports_fts", [
        # Pre-tokenised text (tokenize.py), so the plain unicode61 tokenizer only splits on spaces.
        # (As it was made then; 0004 replaces it.)
        "CREATE VIRTUAL TABLE reports_fts USING fts5(meta, problems, improvements, platforms, sections, "
        "words, tokenize = 'unicode61 remove_diacritics 0')",
    ]),
    ("0003_settings", [
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ]),
    ("0004_agency_key", [
        # meta.agency_key: one value per agency across years and spellings (extractor/agency.py).
        "ALTER TABLE reports ADD COLUMN agency_key TEXT",
        "UPDATE reports SET agency_key = json_extract(record_json, '$.meta.agency_key')",
        "CREATE INDEX reports_agency_key ON reports(agency_key, year)",
    ]),
    ("0005_source_path_index", [
        # upserts look up the earlier records of a path (a file replaced by a new version)
        "CREATE INDEX reports_source_path ON reports(source_path)",
    ]),
    ("0006_fts_grams_only", [
        # The jieba `words` column goes; the rows come back from record_json (the tokenizer
        # version changed with it, so _retokenise_if_needed refills the new table).
        "DROP TABLE reports_fts",
        "CREATE VIRTUAL TABLE reports_fts USING fts5("
        + ", ".join(FTS_COLUMNS) + ", tokenize = 'unicode61 remove_diacritics 0')",
    ]),
    ("0007_audit_counts", [
        # extractor.audit.counts(record): failed check items per "kind:responsibility", as JSON
        "ALTER TABLE reports ADD COLUMN audit_counts TEXT",
        "ALTER TABLE reports ADD COLUMN source_problems INTEGER",      # items the report's own fault
        "ALTER TABLE reports ADD COLUMN extraction_problems INTEGER",  # items the reading's doubt
        "CREATE INDEX reports_source_problems ON reports(source_problems)",
    ]),
]


def _backfill_audit_counts(conn: sqlite3.Connection) -> None:
    """Rows indexed before 0007: their counts from the stored record."""
    for rid, record_json in conn.execute("SELECT id, record_json FROM reports").fetchall():
        v = _audit_facets(json.loads(record_json))
        conn.execute("UPDATE reports SET audit_counts = ?, source_problems = ?, extraction_problems = ? WHERE id = ?",
                     (v["audit_counts"], v["source_problems"], v["extraction_problems"], rid))


_BACKFILLS = {"0007_audit_counts": _backfill_audit_counts}


def _audit_facets(doc: dict) -> dict:
    from ..audit import counts
    c = counts(doc)
    return {"audit_counts": json.dumps(c, ensure_ascii=False, sort_keys=True) if c else None,
            "source_problems": sum(n for k, n in c.items() if k.endswith(":source")),
            "extraction_problems": sum(n for k, n in c.items() if k.endswith(":extraction"))}


def _migrate(conn: sqlite3.Connection) -> list[str]:
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
    applied = []
    for name, statements in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN")
        try:
            for sql in statements:
                conn.execute(sql)
            if name in _BACKFILLS:
                _BACKFILLS[name](conn)
            conn.execute("INSERT INTO migrations VALUES (?, datetime('now'))", (name,))
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            conn.execute("ROLLBACK")
            if "fts5" in str(exc):
                raise SearchIndexError("this Python's SQLite has no FTS5 module") from None
            raise
        applied.append(name)
    return applied


def _connect_rw(db_path) -> sqlite3.Connection:
    # Autocommit mode: transactions are opened explicitly, in batches.
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        conn.close()
        raise SearchIndexError(f"{db_path} is not an extractor index (not an SQLite file)") from None
    return conn


def _connect_ro(db_path) -> sqlite3.Connection:
    path = Path(db_path)
    if not path.is_file():
        raise NoIndex(db_path)
    # Read-only URI: searching never creates or changes a file.
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
        tok = conn.execute("SELECT value FROM settings WHERE key = 'tokenizer'").fetchone()
    except sqlite3.DatabaseError:
        conn.close()
        raise SearchIndexError(f"{db_path} is not an extractor index") from None
    if any(name not in done for name, _ in MIGRATIONS) or (tok and tok[0] != tokenize.TOKENIZER_VERSION):
        conn.close()
        raise SearchIndexError(f"index at {db_path} was made by another extractor version: "
                               "run extractor index on it again to upgrade it")
    return conn


# ---------------------------------------------------------------------------------------------
# What a record contributes: filter columns (shared with the OpenSearch export) and texts.


def _get(d, *path):
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _sum(values: Iterable) -> Optional[float]:
    # A blank is not a zero: the sum is of the numbers printed, null when none was.
    vals = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return sum(vals) if vals else None


def facets(doc: dict) -> dict:
    """The filterable values of one record (a `Record.model_dump(mode="json")` dict).

    Counts come from the 2019/2021 tables; a legacy report falls back to its 统计表 keys for
    applications received, reviews and suits, so a filter reaches reports of every template.
    """
    rows = _get(doc, "tables", "applications", "rows") or {}
    rl = _get(doc, "tables", "review_litigation") or {}
    legacy = _get(doc, "legacy_statistics", "keys") or {}
    received = _get(rows, "new_received", "total")
    review = _get(rl, "review", "total")
    litigation = _sum([_get(rl, "litigation_direct", "total"), _get(rl, "litigation_after_review", "total")])
    narrative = doc.get("narrative") or {}
    checks = doc.get("checks") or {}
    failed = sorted(k for k, c in checks.items() if (c or {}).get("status") == "fail")
    region = _get(doc, "meta", "region") or {}
    return {
        "agency": _get(doc, "meta", "agency"),
        "agency_key": _get(doc, "meta", "agency_key"),
        "province": region.get("province"),
        "city": region.get("city"),
        "county": region.get("county"),
        "level": _get(doc, "meta", "level"),
        "year": _get(doc, "meta", "year"),
        "template": doc.get("template"),
        "published": _get(doc, "meta", "published"),
        "is_report": bool(doc.get("is_report", True)),
        "source_path": _get(doc, "source", "path"),
        "source_sha256": _get(doc, "source", "sha256"),
        "applications_received": received if received is not None else legacy.get("applications_received"),
        "applications_granted": _get(rows, "granted", "total"),
        "withheld_total": _sum(v.get("total") for k, v in rows.items()
                               if k.startswith("withheld_") and isinstance(v, dict)),
        "review_total": review if review is not None else legacy.get("review_total"),
        "litigation_total": litigation if litigation is not None else legacy.get("litigation_total"),
        "problems_count": len(narrative.get("problems") or []),
        "improvements_count": len(narrative.get("improvements") or []),
        "platform_kinds": ",".join(sorted({p.get("kind") for p in narrative.get("platforms") or []
                                           if p.get("kind")})) or None,
        "checks_failed": len(failed),
        "checks_failed_ids": ",".join(failed) or None,
        "errors_count": len(doc.get("errors") or []),
        **_audit_facets(doc),
    }


def texts(doc: dict) -> dict[str, list[tuple[str, str]]]:
    """The searchable texts of a record per FTS column: (field path, original text) pairs."""
    narrative = doc.get("narrative") or {}
    region = _get(doc, "meta", "region") or {}
    out: dict[str, list[tuple[str, str]]] = {c: [] for c in GRAM_COLUMNS}
    for path, value in (("meta.agency", _get(doc, "meta", "agency")),
                        ("meta.region", " ".join(v for v in (region.get("province"), region.get("city"),
                                                             region.get("county")) if v)),
                        ("source.title", _get(doc, "source", "title"))):
        if value:
            out["meta"].append((path, value))
    for kind in ("problems", "improvements"):
        for i, item in enumerate(narrative.get(kind) or []):
            out[kind].append((f"narrative.{kind}[{i}].text", item.get("text") or ""))
            out[kind].append((f"narrative.{kind}[{i}].evidence", item.get("evidence") or ""))
    for i, item in enumerate(narrative.get("platforms") or []):
        out["platforms"].append((f"narrative.platforms[{i}].name", item.get("name") or ""))
        out["platforms"].append((f"narrative.platforms[{i}].evidence", item.get("evidence") or ""))
    for key in SECTION_KEYS:
        sec = _get(doc, "sections", key)
        if sec:
            out["sections"].append((f"sections.{key}", (sec.get("heading") or "") + "\n" + (sec.get("text") or "")))
    return out


def _fts_row(doc: dict) -> list[str]:
    by_col = texts(doc)
    return [" ".join(tokenize.grams(t) for _, t in by_col[c]) for c in GRAM_COLUMNS]


# ---------------------------------------------------------------------------------------------
# Building


@dataclass
class IndexStats:
    feed: str
    db: str
    lines: int = 0            # non-blank lines read
    inserted: int = 0
    updated: int = 0          # same id, different record: replaced
    unchanged: int = 0        # same id, same record: nothing to do
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)
    reports_total: int = 0    # rows in the index afterwards
    migrations_applied: list[str] = field(default_factory=list)
    retokenised: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


_NOT_INDEXED = {"provenance": True, "tables": {"active_disclosure"}}
_BATCH = 200  # records per transaction: one fsync per batch, and an interrupted run keeps most


def _upsert(conn: sqlite3.Connection, doc: dict, record_json: str) -> str:
    row = conn.execute("SELECT docid, record_json FROM reports WHERE id = ?", (doc["id"],)).fetchone()
    if row and row[1] == record_json:
        return "unchanged"
    replaced = []
    values = facets(doc)
    values["is_report"] = int(values["is_report"])
    cols = list(FACET_COLUMNS)
    if row:
        docid = row[0]
        conn.execute(f"UPDATE reports SET {', '.join(c + ' = ?' for c in cols)}, record_json = ? WHERE id = ?",
                     [values[c] for c in cols] + [record_json, doc["id"]])
        conn.execute("DELETE FROM reports_fts WHERE rowid = ?", (docid,))
    else:
        # The file at this path changed (a broken PDF replaced by the good one): the record of its
        # newest content replaces the records of the old, as in the feed's compaction.
        replaced = conn.execute("SELECT id, docid FROM reports WHERE source_path = ? AND source_sha256 IS NOT ?",
                                (values["source_path"], values["source_sha256"])).fetchall()
        for old_id, old_docid in replaced:
            conn.execute("DELETE FROM reports_fts WHERE rowid = ?", (old_docid,))
            conn.execute("DELETE FROM reports WHERE id = ?", (old_id,))
        docid = conn.execute("SELECT COALESCE(MAX(docid), 0) + 1 FROM reports").fetchone()[0]
        conn.execute(f"INSERT INTO reports (id, docid, {', '.join(cols)}, record_json) "
                     f"VALUES (?, ?, {', '.join('?' for _ in cols)}, ?)",
                     [doc["id"], docid] + [values[c] for c in cols] + [record_json])
    conn.execute(f"INSERT INTO reports_fts (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?{', ?' * len(FTS_COLUMNS)})",
                 [docid] + _fts_row(doc))
    return "updated" if row or replaced else "inserted"


def _retokenise_if_needed(conn: sqlite3.Connection) -> int:
    """Rebuild the FTS rows from the stored records when tokenize.py has changed since."""
    row = conn.execute("SELECT value FROM settings WHERE key = 'tokenizer'").fetchone()
    if row and row[0] == tokenize.TOKENIZER_VERSION:
        return 0
    n = 0
    conn.execute("BEGIN")
    if row:
        conn.execute("DELETE FROM reports_fts")
        for docid, record_json in conn.execute("SELECT docid, record_json FROM reports").fetchall():
            conn.execute(f"INSERT INTO reports_fts (rowid, {', '.join(FTS_COLUMNS)}) "
                         f"VALUES (?{', ?' * len(FTS_COLUMNS)})", [docid] + _fts_row(json.loads(record_json)))
            n += 1
    conn.execute("INSERT OR REPLACE INTO settings VALUES ('tokenizer', ?)", (tokenize.TOKENIZER_VERSION,))
    conn.execute("COMMIT")
    return n


def build_index(feed_path, db_path, progress: Optional[Callable[[IndexStats], None]] = None) -> IndexStats:
    """Index every valid line of the JSONL feed at `feed_path` into the SQLite file `db_path`.

    A line that fails the feed schema is skipped and listed in `stats.rejected` with its line
    number; the others are indexed. `progress`, if given, is called with the stats after each line.
    """
    t0 = time.perf_counter()
    stats = IndexStats(feed=str(feed_path), db=str(db_path))
    # Open the feed first: a missing feed must not leave an empty index behind.
    with open(feed_path, encoding="utf-8-sig") as fh:
        conn = _connect_rw(db_path)
        try:
            stats.migrations_applied = _migrate(conn)
            stats.retokenised = _retokenise_if_needed(conn)
            pending = 0
            conn.execute("BEGIN")
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                stats.lines += 1
                try:
                    record = validate_line(line, lineno)
                except FeedLineError as exc:
                    stats.rejected.append((lineno, str(exc)))
                else:
                    # facets and texts read neither the cells' provenance (most of a record's
                    # JSON) nor table 一: leaving them out halves the dump
                    doc = record.model_dump(mode="json", exclude=_NOT_INDEXED)
                    # The line as the feed holds it (it passed the schema): serialising the record
                    # again cost a fifth of indexing. The extractor writes canonical lines, so
                    # re-indexing its feed finds them unchanged.
                    outcome = _upsert(conn, doc, line.strip())
                    setattr(stats, outcome, getattr(stats, outcome) + 1)
                    pending += 1
                    if pending >= _BATCH:
                        conn.execute("COMMIT")
                        conn.execute("BEGIN")
                        pending = 0
                if progress:
                    progress(stats)
            conn.execute("COMMIT")
            stats.reports_total = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
    stats.seconds = round(time.perf_counter() - t0, 3)
    return stats


# ---------------------------------------------------------------------------------------------
# Searching


@dataclass
class Hit:
    id: str
    score: Optional[float]    # FTS5 bm25: lower is better; None for a filter-only listing
    agency: Optional[str]
    agency_key: Optional[str]
    province: Optional[str]
    city: Optional[str]
    county: Optional[str]
    level: Optional[str]
    year: Optional[int]
    template: Optional[str]
    published: Optional[str]
    source_path: Optional[str]
    applications_received: Optional[float]
    problems_count: int
    field: Optional[str]      # where the snippet comes from, e.g. sections.overview
    snippet: str              # original text, the match marked 【…】
    source_problems: Optional[int] = None  # failed check items that are the report's own fault

    def to_dict(self) -> dict:
        return asdict(self)


# The jieba words of one query word may stand this many grams (characters) apart in the report:
# about the 8 jieba words the former `words` column allowed.
NEAR_GRAMS = 16


def _part_expression(part: str, columns: Iterable[str], with_words: bool) -> Optional[str]:
    phrase = tokenize.gram_phrase(part)
    if phrase is None:
        return None
    cols = "{" + " ".join(columns) + "} : "
    expr = cols + "(" + phrase + ")"
    if with_words:
        phrases = [p for p in (tokenize.gram_phrase(w) for w in tokenize.query_words(part)) if p]
        if len(phrases) > 1:
            # A report where the word is written as such matches this too, so it ranks higher.
            expr += f" OR {cols}NEAR({' '.join(phrases)}, {NEAR_GRAMS})"
    return "(" + expr + ")"


def match_expression(query: str, has_problem: Optional[str] = None) -> Optional[str]:
    """The FTS5 MATCH expression for a user query: every whitespace-separated word must match,
    either as written (its bigram phrase) or as its jieba words near one another."""
    parts = [e for e in (_part_expression(p, GRAM_COLUMNS, True) for p in query.split()) if e]
    if query.strip() and not parts:
        raise ValueError(f"nothing to search for in {query!r}: use letters, digits or Chinese characters")
    if has_problem:
        expr = _part_expression(has_problem, ["problems"], False)
        if expr is None:
            raise ValueError(f"nothing to search for in has_problem={has_problem!r}")
        parts.append(expr)
    return " AND ".join(parts) or None


_SNIPPET_BEFORE, _SNIPPET_AFTER = 30, 60
_SNIPPET_ORDER = ("problems", "improvements", "platforms", "sections", "meta")


def _render(text: str, found: list[list[tuple[int, int]]]) -> str:
    """Original text in a window around the matches, each marked 【…】, whitespace collapsed.
    The window is placed where it shows the most different query words."""
    spans = sorted(s for spans in found for s in spans)

    def window(anchor):
        return max(0, anchor[0] - _SNIPPET_BEFORE), min(len(text), anchor[1] + _SNIPPET_AFTER)

    def shown(anchor):
        a, b = window(anchor)
        return sum(1 for group in found if any(a <= x and y <= b for x, y in group))

    anchor = max(spans[:200], key=lambda sp: (shown(sp), -sp[0]))
    start, end = window(anchor)
    out, pos = [], start
    for a, b in spans:
        if a < pos or b > end:
            continue
        out += [text[pos:a], "【", text[a:b], "】"]
        pos = b
    out.append(text[pos:end])
    body = re.sub(r"\s+", " ", "".join(out)).strip()
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def _best_text(ordered: list[tuple[str, str]], needles: list[str]):
    """The text holding most of the needles as the index matches them (the first such, in
    column order), with the spans of all of them; None when no text holds any."""
    best = None
    for f, t in ordered:
        found = [s for s in (tokenize.find_spans(t, n) for n in needles) if s]
        if found and (best is None or len(found) > best[0]):
            best = (len(found), f, t, found)
            if len(found) == len(needles):
                break
    return best


def snippet(doc: dict, parts: list[str], columns: Iterable[str] = _SNIPPET_ORDER) -> tuple[Optional[str], str]:
    """(field, snippet): readable original text around the query words as written, or failing
    that (a report matched through jieba words) around those words; ("", None) if neither."""
    by_col = texts(doc)
    ordered = [(f, t) for c in columns for f, t in by_col.get(c, [])]
    best = _best_text(ordered, parts)
    if best is None:
        best = _best_text(ordered, list(dict.fromkeys(w for p in parts for w in tokenize.query_words(p))))
    if best is None:
        return None, ""
    _, f, t, found = best
    return f, _render(t, found)


def search(db_path, query: str = "", agency: Optional[str] = None, agency_key: Optional[str] = None,
           province: Optional[str] = None,
           year: Optional[int] = None, template: Optional[str] = None, level: Optional[str] = None,
           min_applications: Optional[float] = None, max_applications: Optional[float] = None,
           has_problem=None, include_non_reports: bool = False, limit: int = 10,
           min_source_problems: Optional[int] = None, sort: Optional[str] = None) -> list[Hit]:
    """Reports matching `query` and the filters, best first.

    `query`: words separated by spaces, all required (empty: filters only, newest first).
    `agency`, `province`: part of the name (民政局, 河南). `agency_key`: exact (350128:平潭县人民政府),
    or a division code alone (350128) for every agency of that place. `year`, `template`, `level`: exact.
    `min_applications`/`max_applications`: bounds on applications received; a report whose
    number is unknown is left out by either. `has_problem`: a word its problems must contain,
    or True/False for having any problem at all. `min_source_problems`: at least this many failed
    check items that are the report's own fault (extractor.audit.counts, docs/audit.md);
    `sort="source_problems"`: most such items first (ahead of relevance and year).
    """
    if sort not in (None, "relevance", "source_problems"):
        raise ValueError(f"unknown sort {sort!r}: relevance or source_problems")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    problem_word = has_problem if isinstance(has_problem, str) else None
    expr = match_expression(query or "", problem_word)
    where, params = [], []
    for column, value, sql in (("agency", agency, "instr(r.agency, ?) > 0"),
                               *_agency_key_filter(agency_key),
                               ("province", province, "instr(r.province, ?) > 0"),
                               ("year", year, "r.year = ?"), ("template", template, "r.template = ?"),
                               ("level", level, "r.level = ?"),
                               ("min", min_applications, "r.applications_received >= ?"),
                               ("max", max_applications, "r.applications_received <= ?"),
                               ("source", min_source_problems, "r.source_problems >= ?")):
        if value is not None:
            where.append(sql)
            params.append(value)
    if has_problem is True:
        where.append("r.problems_count > 0")
    elif has_problem is False:
        where.append("r.problems_count = 0")
    if not include_non_reports:
        where.append("r.is_report = 1")
    cols = ("r.id, r.agency, r.agency_key, r.province, r.city, r.county, r.level, r.year, r.template, r.published, "
            "r.source_path, r.applications_received, r.problems_count, r.source_problems, r.record_json")
    first = "r.source_problems IS NULL, r.source_problems DESC, " if sort == "source_problems" else ""
    if expr:
        sql = (f"SELECT {cols}, bm25(reports_fts, {', '.join(map(str, BM25_WEIGHTS))}) AS score "
               "FROM reports_fts JOIN reports r ON r.docid = reports_fts.rowid "
               "WHERE reports_fts MATCH ?" + "".join(" AND " + w for w in where)
               + f" ORDER BY {first}score, r.year DESC, r.id LIMIT ?")
        params = [expr] + params + [limit]
    else:
        sql = (f"SELECT {cols}, NULL AS score FROM reports r"
               + (" WHERE " + " AND ".join(where) if where else "")
               + f" ORDER BY {first}r.year IS NULL, r.year DESC, r.agency, r.id LIMIT ?")
        params = params + [limit]
    conn = _connect_ro(db_path)
    try:
        rows = conn.execute(sql, params).fetchall()
    finally:
        conn.close()
    parts = (query or "").split()
    hits = []
    for row in rows:
        (rid, ag, key, prov, city, county, level_, yr, tmpl, pub, src, apps, nprob, nsource, record_json, score) = row
        doc = json.loads(record_json)
        if parts:
            where_found, text = snippet(doc, parts)
        elif problem_word:
            where_found, text = snippet(doc, [problem_word], ("problems",))
        else:
            where_found, text = None, ""
        hits.append(Hit(id=rid, score=score, agency=ag, agency_key=key, province=prov, city=city, county=county,
                        level=level_, year=yr, template=tmpl, published=pub, source_path=src,
                        applications_received=apps, problems_count=nprob, field=where_found,
                        snippet=text, source_problems=nsource))
    return hits


def _agency_key_filter(key: Optional[str]) -> list[tuple[str, Optional[str], str]]:
    if key is None:
        return []
    if ":" in key:
        return [("agency_key", key, "r.agency_key = ?")]
    return [("agency_key", key + ":", "instr(r.agency_key, ?) = 1")]


@dataclass
class AgencyYear:
    """One report of an agency, with its main figures (None where the report prints none)."""
    agency_key: Optional[str]
    year: Optional[int]
    agency: Optional[str]
    template: Optional[str]
    applications_received: Optional[float]   # table 三 new_received.total (legacy: 收到申请数)
    results_total: Optional[float]           # table 三 results_total.total, the year's outcomes
    carried_to_next_year: Optional[float]    # table 三 carried_to_next_year.total
    review_total: Optional[float]
    litigation_total: Optional[float]
    checks_failed: int
    id: str
    source_path: Optional[str]

    def to_dict(self) -> dict:
        return asdict(self)


def agency_years(db_path, agency_key: str, include_non_reports: bool = False) -> list[AgencyYear]:
    """Every indexed report of one agency (`agency_key` exact, or a division code alone for all
    agencies of that place), oldest year first: the agency's series with its main figures."""
    ((_, value, cond),) = _agency_key_filter(agency_key)
    params = [value]
    sql = ("SELECT r.agency_key, r.year, r.agency, r.template, r.applications_received, r.review_total, "
           "r.litigation_total, r.checks_failed, r.id, r.source_path, "
           "json_extract(r.record_json, '$.tables.applications.rows.results_total.total'), "
           "json_extract(r.record_json, '$.tables.applications.rows.carried_to_next_year.total') "
           f"FROM reports r WHERE {cond}" + ("" if include_non_reports else " AND r.is_report = 1")
           + " ORDER BY r.agency_key, r.year IS NULL, r.year, r.id")
    conn = _connect_ro(db_path)
    try:
        rows = conn.execute(sql, params).fetchall()
    finally:
        conn.close()
    return [AgencyYear(agency_key=k, year=y, agency=a, template=t, applications_received=apps,
                       results_total=res, carried_to_next_year=carried, review_total=rev,
                       litigation_total=lit, checks_failed=cf, id=i, source_path=src)
            for k, y, a, t, apps, rev, lit, cf, i, src, res, carried in rows]


def index_summary(db_path) -> dict:
    """Row counts and applied migrations of an index (for tests and `extractor index` output)."""
    conn = _connect_ro(db_path)
    try:
        return {
            "reports": conn.execute("SELECT count(*) FROM reports").fetchone()[0],
            "fts_rows": conn.execute("SELECT count(*) FROM reports_fts").fetchone()[0],
            "migrations": [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY name")],
        }
    finally:
        conn.close()
