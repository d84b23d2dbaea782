"""Copied sections (内容雷同): section 五 or 一 that is largely the text of the same agency's other
year, or of another agency's report of the same year.

Candidates come from MinHash LSH (datasketch) over character shingles, never from all pairs:
datasketch computes each section's MinHash and chooses the banding (b bands of r hash values) for
the threshold; the band keys go to a SQLite table on disk instead of datasketch's in-memory
dict, whose buckets cost about 5 KB per section (measured: 1 GB for 100,000 reports), so that
memory stays flat in the number of reports. Each candidate pair is then verified on the texts
themselves (rapidfuzz's Indel ratio, 2·LCS/(|a|+|b|), the measure difflib's ratio approximates,
but in C++: 0.1 ms a pair instead of 10–25 ms; and the exact shingle Jaccard), and only that
verified similarity is reported.
"""
from __future__ import annotations

import re
import sqlite3
import zlib
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH
from rapidfuzz.distance import Indel

SECTIONS = ("problems_improvements", "overview")
SHINGLE = 5  # characters per shingle: Chinese has no word breaks, character n-grams stand in
NUM_PERM = 128
LSH_THRESHOLD = 0.3  # shingle Jaccard around which LSH makes a pair a candidate (b=37 bands of r=3: a pair at 0.45 is a candidate with p≈0.97)
COPY_RATIO = 0.75  # verified similarity (Indel ratio) from which a section counts as copied (docs/panel.md: the Pingtan figures)
MIN_CHARS = 80  # shorter sections (无, 一句话) are not compared: every agency writes them alike
MAX_BUCKET = 200  # a bucket larger than this (one boilerplate shared by hundreds) is cut to its first members

_DROP = re.compile(r"[\s\u3000，。、；：！？（）()《》“”\"'‘’,.;:!?\-—…·【】\[\]<>]+")
_DIGITS = re.compile(r"[0-9０-９]+")


def normalise(text: str) -> str:
    """The section as compared: no spaces or punctuation, every number one placeholder (a copy
    whose figures were updated is still a copy)."""
    return _DIGITS.sub("#", _DROP.sub("", text))


def shingles(text: str) -> set[bytes]:
    return {text[i:i + SHINGLE].encode() for i in range(max(1, len(text) - SHINGLE + 1))}


@dataclass
class Pair:
    a: int
    b: int
    section: str
    ratio: float
    jaccard: float


class CopyFinder:
    """Pass 1: add() each report's sections. Then pairs(): the verified copies."""

    def __init__(self, work_db: str):
        # crc32 (C) hashes the shingles: 3× faster than datasketch's default sha1, and as stable.
        self._template = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=zlib.crc32)
        lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self.bands, self.rows = lsh.b, lsh.r
        self.db = sqlite3.connect(work_db)
        self.db.executescript("""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE band(section INTEGER, band INTEGER, h INTEGER, ord INTEGER, agency INTEGER, year INTEGER);
            CREATE TABLE text(ord INTEGER, section INTEGER, body BLOB, PRIMARY KEY (ord, section));
        """)
        self._agency_ids: dict[str, int] = {}
        self._pending: list[tuple] = []
        self.candidates = 0  # candidate pairs LSH proposed (before verification)

    def _agency(self, key: str | None, ordinal: int) -> int:
        if key is None:
            return -1 - ordinal  # an unknown agency is different from every other report's
        return self._agency_ids.setdefault(key, len(self._agency_ids))

    def add(self, ordinal: int, key: str | None, year: int | None, record: dict) -> None:
        if year is None:
            return
        sections = record.get("sections") or {}
        for s, name in enumerate(SECTIONS):
            text = normalise(((sections.get(name) or {}).get("text")) or "")
            if len(text) < MIN_CHARS:
                continue
            m = MinHash(num_perm=NUM_PERM, permutations=self._template.permutations, scheme=self._template.scheme,
                        hashfunc=zlib.crc32)
            m.update_batch(shingles(text))
            hv = m.hashvalues
            agency = self._agency(key, ordinal)
            for b in range(self.bands):
                self._pending.append((s, b, hash(hv[b * self.rows:(b + 1) * self.rows].tobytes()), ordinal, agency, year))
            self.db.execute("INSERT INTO text VALUES (?,?,?)", (ordinal, s, zlib.compress(text.encode(), 1)))
        if len(self._pending) > 50_000:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO band VALUES (?,?,?,?,?,?)", self._pending)
        self._pending.clear()

    def _text(self, ordinal: int, section: int) -> str:
        row = self.db.execute("SELECT body FROM text WHERE ord=? AND section=?", (ordinal, section)).fetchone()
        return zlib.decompress(row[0]).decode()

    def pairs(self):
        """Verified copies, as Pair, among same agency × other year and same year × other agency."""
        self._flush()
        self.db.executescript("""
            CREATE INDEX band_key ON band(section, band, h, ord);
            CREATE TABLE bucket AS
              SELECT section, band, h FROM band GROUP BY section, band, h HAVING count(*) > 1;
        """)
        cand = self.db.execute(f"""
            WITH members AS (
              SELECT b.section, b.band, b.h, b.ord, b.agency, b.year,
                     row_number() OVER (PARTITION BY b.section, b.band, b.h ORDER BY b.ord) AS n
              FROM band b JOIN bucket k ON k.section=b.section AND k.band=b.band AND k.h=b.h)
            SELECT DISTINCT x.section, x.ord, y.ord FROM members x JOIN members y
              ON x.section=y.section AND x.band=y.band AND x.h=y.h AND x.ord < y.ord
            WHERE x.n <= {MAX_BUCKET} AND y.n <= {MAX_BUCKET}
              AND ((x.agency = y.agency AND x.year != y.year) OR (x.year = y.year AND x.agency != y.agency))
            ORDER BY x.ord, y.ord, x.section""")
        for s, a, b in cand:
            self.candidates += 1
            ta, tb = self._text(a, s), self._text(b, s)
            ratio = Indel.normalized_similarity(ta, tb, score_cutoff=COPY_RATIO)
            if ratio:
                sa, sb = shingles(ta), shingles(tb)
                yield Pair(a, b, SECTIONS[s], round(ratio, 4), round(len(sa & sb) / len(sa | sb), 4))

    def close(self) -> None:
        self.db.close()
