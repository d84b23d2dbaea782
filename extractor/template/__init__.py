"""The report template as data: table rows, columns, identities, section headings, detection.

The CSV files beside this module are the single source of template knowledge; this module only
loads them into typed objects and compiles their phrases into tolerant patterns (any whitespace
may stand between two characters, as scrapes and OCR insert it).
"""
from __future__ import annotations

import csv
import os
import re
from fnmatch import fnmatchcase
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# The template data can be pointed elsewhere to try a change to it (or, in the tests, to prove
# that the eval gate catches a broken row label).
HERE = Path(os.environ.get("EXTRACTOR_TEMPLATE_DIR") or Path(__file__).parent)
GAP = r"[\s\u3000“”\"'‘’「」『』]*"  # what scrapes put between the characters of a printed label: spaces, quotes
CN_NUMERALS = "一二三四五六七八九十"


def _read(name: str) -> list[dict[str, str]]:
    with open(HERE / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def phrase_pattern(phrase: str) -> str:
    """A label phrase as a regex that tolerates whitespace between its characters."""
    return GAP.join(re.escape(ch) for ch in phrase if not ch.isspace())


def enum_pattern(enum: str) -> str:
    """The enumerator printed before a label (1. / （二） / 三、) in its common variants."""
    core = enum.strip("（()）、.．")
    if core.isdigit():
        return rf"{core}{GAP}[.．、,，]{GAP}"
    if enum.startswith(("（", "(")):
        return rf"[（(]{GAP}{core}{GAP}[)）]{GAP}"
    return rf"{core}{GAP}[、.．]{GAP}"


@dataclass(frozen=True)
class Column:
    key: str
    printed: str


@dataclass(frozen=True)
class Row:
    table: str
    generation: str  # 2021, 2019, any, or single/split for the two forms of （六）其他处理
    key: str
    kind: str  # row (has values), header (a label with no values), block (position only)
    enum: str
    phrases: tuple[str, ...]
    columns: tuple[Column, ...]
    printed: str
    pattern: re.Pattern | None = field(compare=False, default=None)

    @property
    def width(self) -> int:
        return len(self.columns)


@lru_cache(maxsize=4096)
def _expand(terms: tuple[str, ...], present: tuple[str, ...]) -> tuple[str, ...]:
    """The keys present that an identity's glob terms (withheld_*) name."""
    return tuple(k for t in terms for k in present if fnmatchcase(k, t))


@dataclass(frozen=True)
class Identity:
    id: str
    table: str
    scope: str  # column: rows combine within each column; row: columns combine within each row
    left: tuple[str, ...]
    right: tuple[str, ...]

    def evaluate(self, values: dict) -> tuple[str, float | None, float | None]:
        """(pass|fail|not_assessable, left sum, right sum) over a row/column mapping key -> value.

        Terms are matched by glob against the keys present: a row the table does not print is
        not a term; a printed term that is null makes the identity not assessable.
        """
        present = tuple(values)

        def total(terms: tuple[str, ...]) -> float | None:
            keys = _expand(terms, present)
            if not keys or any(values[k] is None for k in keys):
                return None
            return sum(values[k] for k in keys)
        left, right = total(self.left), total(self.right)
        if left is None or right is None:
            return "not_assessable", left, right
        return ("pass" if abs(left - right) < 1e-6 else "fail"), left, right


@dataclass(frozen=True)
class Template:
    rows: tuple[Row, ...]
    column_sets: dict[str, tuple[Column, ...]]
    identities: tuple[Identity, ...]
    legacy_keys: tuple[tuple[str, re.Pattern, str], ...]
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    detection: tuple[tuple[str, re.Pattern], ...]

    def table_rows(self, table: str, generation: str | None = None) -> list[Row]:
        gens = {"any", generation} if generation else None
        return [r for r in self.rows if r.table == table and (gens is None or r.generation in gens
                                                                  or r.generation in ("single", "split"))]


def _row_pattern(enum: str, phrases: tuple[str, ...]) -> re.Pattern | None:
    if not phrases:
        return None
    alts = "|".join(phrase_pattern(p) for p in phrases)
    if not enum:
        return re.compile(f"(?:{alts})")
    # A short generic phrase (其他, 总计) is a row label only with its enumerator.
    optional = "" if min(len(p) for p in phrases) <= 2 else "?"
    return re.compile(f"(?:{enum_pattern(enum)}){optional}(?:{alts})")


@lru_cache(maxsize=1)
def load() -> Template:
    column_sets: dict[str, list[Column]] = {}
    for c in _read("columns.csv"):
        column_sets.setdefault(c["set"], []).append(Column(c["key"], c["printed"]))
    sets = {k: tuple(v) for k, v in column_sets.items()}
    rows = []
    for r in _read("rows.csv"):
        phrases = tuple(p for p in r["phrases"].split("|") if p)
        rows.append(Row(r["table"], r["generation"], r["key"], r["kind"], r["enum"], phrases,
                        sets.get(r["columns"], ()), r["printed"], _row_pattern(r["enum"], phrases)))
    identities = tuple(Identity(i["id"], i["table"], i["scope"], tuple(i["left"].split("+")),
                                tuple(i["right"].split("+"))) for i in _read("identities.csv"))
    legacy = tuple((k["key"], re.compile("|".join(phrase_pattern(p) for p in k["phrases"].split("|"))),
                    k["printed"]) for k in _read("legacy_keys.csv"))
    sections = tuple((s["key"], tuple(s["phrases"].split("|"))) for s in _read("sections.csv"))
    detection = tuple((d["template"], re.compile("|".join(phrase_pattern(p) for p in d["phrases"].split("|"))))
                      for d in _read("detect.csv"))
    return Template(tuple(rows), sets, identities, legacy, sections, detection)


@dataclass(frozen=True)
class Term:
    sign: int  # +1 or −1
    year: str  # cur (report y) or prev (report y−1 of the same agency)
    key: str  # a row key (scope column) or a column key (scope row)


def _terms(expr: str) -> tuple[Term, ...]:
    out = []
    for sign, ref in re.findall(r"([+-]?)\s*([a-z_]+\.[a-z_*]+)", expr):
        year, key = ref.split(".", 1)
        out.append(Term(-1 if sign == "-" else 1, year, key))
    return tuple(out)


@dataclass(frozen=True)
class CrossYearIdentity:
    """An identity between report y−1 and report y of one agency (across.csv)."""
    id: str
    strength: str  # hard: a failure is a contradiction; soft: worth a look (documents also lapse)
    generation: str  # 2019 / 2021: both reports in that table format; any: 2019 or 2021
    table: str
    scope: str  # column: the terms are rows, within each column; row: the terms are columns, within each row
    over: tuple[str, ...]  # the columns (scope column) or rows (scope row) it holds in; * = every one
    left: tuple[Term, ...]
    right: tuple[Term, ...]
    printed: str

    def applies(self, template_prev: str, template_cur: str) -> bool:
        gens = ("2019", "2021") if self.generation == "any" else (self.generation,)
        return template_prev in gens and template_cur in gens


@lru_cache(maxsize=1)
def load_across() -> tuple[CrossYearIdentity, ...]:
    return tuple(CrossYearIdentity(a["id"], a["strength"], a["generation"], a["table"], a["scope"],
                                   tuple(a["over"].split("|")), _terms(a["left"]), _terms(a["right"]),
                                   a["printed"])
                 for a in _read("across.csv"))
