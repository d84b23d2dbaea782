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
from functools import cached_property, lru_cache
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


Prose = tuple[tuple[str, ...], ...]  # alternatives, each a set of words that must all appear


def parse_prose(spec: str) -> Prose:
    """'a&b|c' → (('a', 'b'), ('c',)): words naming a row or column in running text."""
    return tuple(tuple(w for w in alt.split("&") if w) for alt in spec.split("|") if alt)


def names(prose: Prose, clause: str) -> bool:
    """Whether a clause of running text names what `prose` describes."""
    return any(all(w in clause for w in alt) for alt in prose)


@dataclass(frozen=True)
class Column:
    key: str
    printed: str
    kind: str = "count"  # count (whole, >= 0), signed_count (whole, may be negative), money (>= 0, to the cent)
    prose: Prose = ()
    unit: str = ""  # money: the unit the header prints (万元 for 本年收费金额), unless the cell says

    @property
    def signed(self) -> bool:
        return self.kind == "signed_count"

    def admits(self, value: int | float, text: str, unit: str | None = None) -> bool:
        """Plausibility of one value read for this column (text as printed): only to reject.
        Money is to the cent at most: two decimals in 元, six in 万元 (397.619万元 is printed)."""
        if text.isdigit():
            return True  # whole and not negative: every column admits it
        if (value < 0 or text.startswith("+")) and not self.signed:
            return False
        if "." not in text:
            return True
        if self.kind != "money":
            return False
        decimals = len(text) - text.index(".") - 1
        return decimals <= (6 if (unit or self.unit) == "万元" else 2)


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
    pattern: "RowPattern | None" = field(compare=False, default=None)
    rules: tuple["Plausibility", ...] = field(compare=False, default=())  # of its column set

    @property
    def width(self) -> int:
        return len(self.columns)

    @cached_property
    def signed(self) -> bool:
        """Whether a minus inside this row can be a sign (a column allows negatives)."""
        return any(c.signed for c in self.columns)

    @cached_property
    def prose(self) -> "Prose":
        return tuple((p,) for p in self.phrases)

    def plausible(self, values: list, texts: list[str], unit: str | None = None) -> bool:
        """Whether one reading of the row (values and their printed texts; `unit` printed after
        the last) breaks no plausibility rule of the template; None values are not judged."""
        last = len(texts) - 1
        for i, (col, v, t) in enumerate(zip(self.columns, values, texts)):
            if t.isdigit():
                continue
            if v is not None and not col.admits(v, t, unit if i == last else None):
                return False
        if self.rules:
            mapping = {c.key: v for c, v in zip(self.columns, values)}
            return all(r.holds(mapping) for r in self.rules)
        return True


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
        return self.evaluate_terms(values, *self.terms(tuple(values)))

    def terms(self, present: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The keys of `present` that the left and the right side name."""
        return _expand(self.left, present), _expand(self.right, present)

    def evaluate_terms(self, values: dict, left_keys: tuple[str, ...], right_keys: tuple[str, ...]
                       ) -> tuple[str, float | None, float | None]:
        """evaluate() with the sides' keys found once (terms()) for mappings of the same keys."""
        left = _total(values, left_keys)
        right = _total(values, right_keys)
        if left is None or right is None:
            return "not_assessable", left, right
        return ("pass" if abs(left - right) < 1e-6 else "fail"), left, right

    def evaluate_column(self, rows: dict[str, dict], row_keys: tuple[str, ...], col: str
                        ) -> tuple[str, float | None, float | None]:
        """evaluate() over one column of a table (rows: row -> column -> value), without building
        the column's mapping: the identities run per column for every table read."""
        lk, rk = _expand(self.left, row_keys), _expand(self.right, row_keys)
        left = _total_col(rows, lk, col)
        right = _total_col(rows, rk, col)
        if left is None or right is None:
            return "not_assessable", left, right
        return ("pass" if abs(left - right) < 1e-6 else "fail"), left, right


def _total(values: dict, keys: tuple[str, ...]) -> float | None:
    if not keys:
        return None
    total = 0
    for k in keys:
        v = values[k]
        if v is None:
            return None
        total += v
    return total


def _total_col(rows: dict[str, dict], keys: tuple[str, ...], col: str) -> float | None:
    if not keys:
        return None
    total = 0
    for k in keys:
        v = rows[k].get(col)
        if v is None:
            return None
        total += v
    return total


@dataclass(frozen=True)
class Plausibility:
    """A relation between two columns of one row that every real reading satisfies (2019
    对外公开总数量 >= 本年新公开数量). Used to reject digit-run readings, never to make one."""
    id: str
    columns: str  # the column set it applies to
    left: str
    relation: str  # >=
    right: str

    def holds(self, mapping: dict) -> bool:
        a, b = mapping.get(self.left), mapping.get(self.right)
        if a is None or b is None:
            return True
        if self.relation == ">=":
            return a >= b
        raise ValueError(f"plausibility {self.id}: unknown relation {self.relation!r}")


@dataclass(frozen=True)
class Template:
    rows: tuple[Row, ...]
    column_sets: dict[str, tuple[Column, ...]]
    identities: tuple[Identity, ...]
    legacy_keys: tuple[tuple[str, re.Pattern, str], ...]
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    detection: tuple[tuple[str, re.Pattern], ...]
    plausibility: dict[str, tuple[Plausibility, ...]] = field(default_factory=dict)  # by column set
    legacy_prose: dict[str, Prose] = field(default_factory=dict)  # legacy key -> words naming it
    # report_shape.csv: (kind, pattern, reason) — what makes a document an annual report or not
    report_shape: tuple[tuple[str, re.Pattern, str], ...] = ()

    def table_rows(self, table: str, generation: str | None = None) -> list[Row]:
        memo = self._table_rows_memo  # a frozen template: the same rows every time, asked per report
        if (table, generation) not in memo:
            gens = {"any", generation} if generation else None
            memo[table, generation] = tuple(r for r in self.rows if r.table == table and (
                gens is None or r.generation in gens or r.generation in ("single", "split")))
        return list(memo[table, generation])

    @cached_property
    def _table_rows_memo(self) -> dict[tuple[str, str | None], tuple[Row, ...]]:
        return {}


class RowPattern:
    """A row label: its phrases, optionally after its enumerator — `(?:ENUM)?(?:PHRASES)`.

    Searched as two patterns, `ENUM PHRASES` and `PHRASES`, the leftmost match winning and the
    enumerated one on a tie: the same match as the one pattern, but each of the two starts with
    characters the regex engine can skip to, where the optional group made it try every position.
    """

    def __init__(self, enumerated: re.Pattern | None, bare: re.Pattern | None,
                 bare_bounds_enumerated: bool = False) -> None:
        self.enumerated, self.bare = enumerated, bare
        self.pattern = (enumerated or bare).pattern if bare is None or enumerated is None else \
            f"(?:{enumerated.pattern})|(?:{bare.pattern})"
        # No phrase opens with a character the enumerator can hold (its digit or numeral, its
        # brackets and marks, a gap): then an enumerated label that opens at or before the
        # leftmost bare one holds that very phrase, and ends where it ends.
        self.bare_bounds_enumerated = bare_bounds_enumerated

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match | None:
        end = len(text) if endpos is None else endpos
        if self.bare is None:
            return self.enumerated.search(text, pos, end) if self.enumerated is not None else None
        b = self.bare.search(text, pos, end)
        if self.enumerated is None:
            return b
        if b is not None and self.bare_bounds_enumerated:
            # Only an enumerated label opening at or before b wins, and such a label ends with
            # b: searching up to b's end finds it, without running on to the end of the table.
            e = self.enumerated.search(text, pos, b.end())
            return e if e is not None and e.start() <= b.start() else b
        e = self.enumerated.search(text, pos, end)
        if b is not None and (e is None or b.start() < e.start()):
            return b
        return e


class PhraseSearch:
    """An alternation of phrases (`phrase_pattern`s joined by |), searched as one pattern per
    first character: each opens with a literal the regex engine scans for with a tight loop,
    where the alternation opens with a set of characters it tests one call per character.
    The leftmost match wins, as in the alternation; at one position only phrases of one first
    character can match, and they keep their order, so the alternation's choice is kept too.
    For a search over a whole text (detection: 4× faster); a search that usually ends near
    where it starts (a row label) is faster as the one alternation, each part scanning on."""

    def __init__(self, phrases: tuple[str, ...] | list[str]) -> None:
        by_first: dict[str, list[str]] = {}
        for phrase in phrases:
            first = next((ch for ch in phrase if not ch.isspace()), None)
            if first is None:
                raise ValueError("an empty phrase matches everywhere")
            by_first.setdefault(first, []).append(phrase_pattern(phrase))
        self.pattern = "|".join(phrase_pattern(p) for p in phrases)
        self._patterns = tuple(re.compile("|".join(alts)) for alts in by_first.values())

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match | None:
        end = len(text) if endpos is None else endpos
        best = None
        for pattern in self._patterns:
            m = pattern.search(text, pos, end)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best


def _row_pattern(enum: str, phrases: tuple[str, ...]) -> RowPattern | None:
    if not phrases:
        return None
    alts = "|".join(phrase_pattern(p) for p in phrases)
    if not enum:
        return RowPattern(None, re.compile(f"(?:{alts})"))
    enumerated = re.compile(f"(?:{enum_pattern(enum)})(?:{alts})")
    # A short generic phrase (其他, 总计) is a row label only with its enumerator.
    if min(len(p) for p in phrases) <= 2:
        return RowPattern(enumerated, None)
    enum_chars = set(enum.strip("（()）、.．")) | set("（()）、.．,，")
    bounds = not any(p[0] in enum_chars or re.fullmatch(GAP, p[0]) for p in phrases)
    return RowPattern(enumerated, re.compile(f"(?:{alts})"), bounds)


@lru_cache(maxsize=1)
def load() -> Template:
    column_sets: dict[str, list[Column]] = {}
    for c in _read("columns.csv"):
        column_sets.setdefault(c["set"], []).append(
            Column(c["key"], c["printed"], c.get("kind") or "count", parse_prose(c.get("prose") or ""),
                   c.get("unit") or ""))
    sets = {k: tuple(v) for k, v in column_sets.items()}
    plausibility: dict[str, list[Plausibility]] = {}
    for p in _read("plausibility.csv"):
        plausibility.setdefault(p["columns"], []).append(
            Plausibility(p["id"], p["columns"], p["left"], p["relation"], p["right"]))
    rows = []
    for r in _read("rows.csv"):
        phrases = tuple(p for p in r["phrases"].split("|") if p)
        rows.append(Row(r["table"], r["generation"], r["key"], r["kind"], r["enum"], phrases,
                        sets.get(r["columns"], ()), r["printed"], _row_pattern(r["enum"], phrases),
                        tuple(plausibility.get(r["columns"], ()))))
    identities = tuple(Identity(i["id"], i["table"], i["scope"], tuple(i["left"].split("+")),
                                tuple(i["right"].split("+"))) for i in _read("identities.csv"))
    legacy = tuple((k["key"], re.compile("|".join(phrase_pattern(p) for p in k["phrases"].split("|"))),
                    k["printed"]) for k in _read("legacy_keys.csv"))
    sections = tuple((s["key"], tuple(s["phrases"].split("|"))) for s in _read("sections.csv"))
    detection = tuple((d["template"], PhraseSearch(d["phrases"].split("|"))) for d in _read("detect.csv"))
    shape = tuple((r["kind"], re.compile("|".join(phrase_pattern(p) for p in r["phrases"].split("|") if p)),
                   r["reason"] or "") for r in _read("report_shape.csv"))
    legacy_prose = {k["key"]: parse_prose(k.get("prose") or "") for k in _read("legacy_keys.csv")}
    return Template(tuple(rows), sets, identities, legacy, sections, detection,
                    {k: tuple(v) for k, v in plausibility.items()}, legacy_prose, shape)


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
