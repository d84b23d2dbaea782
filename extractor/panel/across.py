"""Cross-year identities (template/across.csv) between one agency's consecutive reports: the
findings they raise, and the digit runs they settle.

The panel keeps, per report, only the few cells these identities name (`Slots`), so the index of
a 100,000-record feed stays small. A digit run that its own report leaves null (several readings,
listed in the record's error as `cells` + `readings`) is settled when exactly one reading makes
every assessable hard identity with the neighbouring years hold and at least one of them is
assessable; otherwise it stays null. Values the report gives are never replaced.
"""
from __future__ import annotations

import itertools
import math
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..template import CrossYearIdentity, load, load_across
from .records import cell_path, split_path

NAN = float("nan")


@dataclass(frozen=True)
class Instance:
    """One identity at one row or column: its terms resolved to slots."""
    identity: CrossYearIdentity
    at: str  # the row (scope row) or column (scope column) it holds in
    left: tuple[tuple[int, str, int], ...]  # (sign, cur|prev, slot)
    right: tuple[tuple[int, str, int], ...]
    where: str  # the dotted cell of the report y that the identity checks (its left side)

    def slots(self, year: str) -> set[int]:
        return {s for _, y, s in self.left + self.right if y == year}

    def evaluate(self, prev: array, cur: array) -> tuple[str, float | None, float | None]:
        def total(terms) -> float | None:
            acc = 0.0
            for sign, year, slot in terms:
                v = (cur if year == "cur" else prev)[slot]
                if math.isnan(v):
                    return None
                acc += sign * v
            return acc
        left, right = total(self.left), total(self.right)
        if left is None or right is None:
            return "not_assessable", left, right
        return ("pass" if abs(left - right) < 1e-6 else "fail"), left, right


class Slots:
    """The cells the cross-year identities name, numbered; and the identities' instances."""

    def __init__(self, identities: tuple[CrossYearIdentity, ...] | None = None):
        self.identities = identities if identities is not None else load_across()
        self.index: dict[str, int] = {}
        self.instances: list[Instance] = []
        template = load()
        for ident in self.identities:
            if ident.scope == "row":
                ats = ident.over
            else:  # columns: '*' = every column of the rows the terms name
                named = {t.key for t in ident.left + ident.right}
                cols = [c.key for r in template.table_rows(ident.table) if r.key in named for c in r.columns]
                ats = tuple(dict.fromkeys(cols)) if ident.over == ("*",) else ident.over
            for at in ats:
                def resolve(terms):
                    out = []
                    for t in terms:
                        row, col = (at, t.key) if ident.scope == "row" else (t.key, at)
                        out.append((t.sign, t.year, self._slot(cell_path(ident.table, row, col))))
                    return tuple(out)
                left = resolve(ident.left)
                lt = ident.left[0]
                row, col = (at, lt.key) if ident.scope == "row" else (lt.key, at)
                self.instances.append(Instance(ident, at, left, resolve(ident.right),
                                               f"{ident.table}.{row}.{col}"))

    def _slot(self, path: str) -> int:
        return self.index.setdefault(path, len(self.index))

    def values(self, record: dict) -> array | None:
        """The record's values of the slots (NaN = null); None when it has none of them."""
        out = array("d", [NAN]) * len(self.index)
        tables = record.get("tables") or {}
        found = False
        for path, slot in self.index.items():
            table, row, col = split_path(path)
            data = tables.get(table) or {}
            if table == "applications":
                data = data.get("rows") or {}
            v = (data.get(row) or {}).get(col)
            if isinstance(v, (int, float)):
                out[slot] = float(v)
                found = True
        return out if found else None

    def open_runs(self, record: dict) -> list[tuple[tuple[str, ...], tuple[tuple, ...]]] | None:
        """The record's digit runs left null with several readings that touch a slot."""
        runs = []
        for err in record.get("errors") or []:
            cells, readings = err.get("cells"), err.get("readings")
            if cells and readings and len(readings) > 1 and any(c in self.index for c in cells):
                runs.append((tuple(sys.intern(c) for c in cells), Readings(readings)))
        return runs or None


class Readings(Sequence):
    """A run's readings in one flat float array (NaN = null): the index keeps a few hundred
    bytes per run instead of a tuple per reading."""
    __slots__ = ("width", "flat")

    def __init__(self, readings: list[list]):
        self.width = len(readings[0]) if readings else 0
        self.flat = array("d", (NAN if v is None else float(v) for r in readings for v in r))

    def __len__(self) -> int:
        return len(self.flat) // self.width if self.width else 0

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return tuple(None if math.isnan(v) else (int(v) if v.is_integer() else v)
                     for v in self.flat[i * self.width:(i + 1) * self.width])


@dataclass(slots=True)
class Entry:
    """What the panel keeps of one report between its two passes over the feed."""
    ordinal: int
    record_id: str
    file: str
    agency_key: str
    year: int
    template: str
    values: array | None
    runs: list | None
    settled: dict = field(default_factory=dict)  # cell path -> (value, note)


def _empty(slots: Slots) -> array:
    return array("d", [NAN]) * len(slots.index)


def _fmt(v) -> str:
    if v is None:
        return "null"
    return str(int(v)) if float(v).is_integer() else str(v)


MAX_COMBINATIONS = 10_000


def _run_slots(entry: Entry, slots: Slots) -> list[dict[int, int]]:
    """For each open run of the entry: slot -> position of that cell in the run's readings."""
    return [{slots.index[p]: i for i, p in enumerate(paths) if p in slots.index} for paths, _ in entry.runs or ()]


def check(inst: Instance, prev: Entry, cur: Entry, slots: Slots,
          fixed: tuple[Entry, int, tuple] | None = None) -> str:
    """pass / fail / not_assessable of one identity instance between two reports. A term cell
    left null with several readings (an open digit run) takes each of its readings in turn: the
    instance passes when some combination of readings makes it hold, fails when none does.
    `fixed` = (entry, run index, reading) tries one reading of one run."""
    sides = []
    for entry, year in ((prev, "prev"), (cur, "cur")):
        base = entry.values if entry.values is not None else _empty(slots)
        runs = _run_slots(entry, slots)
        involved: dict[int, list[tuple]] = {}
        for slot in inst.slots(year):
            if not math.isnan(base[slot]):
                continue
            k = next((k for k, rs in enumerate(runs) if slot in rs), None)
            if k is None:
                return "not_assessable"  # a null the report's digits say nothing about
            if fixed is not None and fixed[0] is entry and fixed[1] == k:
                involved[k] = [fixed[2]]
            else:
                involved[k] = list(entry.runs[k][1])
        sides.append((base, runs, involved))
    options = [(side, k, readings) for side, (_, _, inv) in enumerate(sides) for k, readings in inv.items()]
    total = 1
    for _, _, readings in options:
        total *= len(readings)
    if total > MAX_COMBINATIONS:
        return "not_assessable"
    for combo in itertools.product(*(readings for _, _, readings in options)):
        trial = [array("d", base) for base, _, _ in sides]
        for (side, k, _), reading in zip(options, combo):
            for slot, i in sides[side][1][k].items():
                trial[side][slot] = NAN if reading[i] is None else float(reading[i])
        if inst.evaluate(trial[0], trial[1])[0] == "pass":
            return "pass"
    return "fail"


def _touching(entry: Entry, run_slots: dict[int, int], other: Entry, entry_is_cur: bool, slots: Slots):
    """The hard instances between entry and a neighbour that name a cell of the run."""
    side = "cur" if entry_is_cur else "prev"
    for inst in slots.instances:
        ident = inst.identity
        if ident.strength != "hard" or not inst.slots(side) & run_slots.keys():
            continue
        if ident.applies(*((other.template, entry.template) if entry_is_cur else (entry.template, other.template))):
            yield inst


def settle(entry: Entry, prev: Entry | None, nxt: Entry | None, slots: Slots) -> dict[str, tuple[object, str]]:
    """Cell path -> (value, note) for the entry's open digit runs of which exactly one reading
    agrees with every assessable hard identity with its neighbouring reports (and at least one
    is assessable). The neighbours' own open runs count with all their readings."""
    out: dict[str, tuple[object, str]] = {}
    if not entry.runs:
        return out
    for k, (run_map, (paths, readings)) in enumerate(zip(_run_slots(entry, slots), entry.runs)):
        verdicts = []  # per reading: (satisfies, {neighbour: [identity ids that failed for it]})
        for reading in readings:
            passed, failed = False, False
            for other, entry_is_cur in ((prev, True), (nxt, False)):
                if other is None:
                    continue
                for inst in _touching(entry, run_map, other, entry_is_cur, slots):
                    pair = (other, entry) if entry_is_cur else (entry, other)
                    status = check(inst, *pair, slots, fixed=(entry, k, reading))
                    passed |= status == "pass"
                    failed |= status == "fail"
            verdicts.append(passed and not failed)
        if sum(verdicts) != 1:
            continue
        reading = readings[verdicts.index(True)]
        teachers = []
        for other, entry_is_cur in ((prev, True), (nxt, False)):
            if other is None:
                continue
            ids = sorted({inst.identity.id for inst in _touching(entry, run_map, other, entry_is_cur, slots)
                          for r in readings if r != reading
                          if check(inst, *((other, entry) if entry_is_cur else (entry, other)), slots,
                                   fixed=(entry, k, r)) == "fail"})
            if ids:
                teachers.append(f"{', '.join(ids)} with the {other.year} report {other.file} ({other.record_id})")
        shown = "|".join(_fmt(v) for v in reading)
        note = (f"settled from other years: the report's digits have {len(readings)} readings and it leaves "
                f"them null; only {shown} agrees with {'; '.join(teachers)}")
        for i, path in enumerate(paths):
            out[path] = (reading[i], note)
    return out


def apply_settled(entry: Entry, slots: Slots) -> None:
    """Settled cells become the entry's values; their runs are closed."""
    if not entry.settled:
        return
    if entry.values is None:
        entry.values = _empty(slots)
    for path, (value, _) in entry.settled.items():
        if path in slots.index and value is not None:
            entry.values[slots.index[path]] = float(value)
    entry.runs = [run for run in entry.runs or () if run[0][0] not in entry.settled] or None


def year_findings(prev: Entry, cur: Entry, slots: Slots) -> list[dict]:
    """The identities between two consecutive reports of one agency that fail (with a term left
    open by a digit run: that no reading of its digits lets it hold)."""
    out = []
    for inst in slots.instances:
        ident = inst.identity
        if not ident.applies(prev.template, cur.template):
            continue
        if check(inst, prev, cur, slots) != "fail":
            continue
        pv = prev.values if prev.values is not None else _empty(slots)
        cv = cur.values if cur.values is not None else _empty(slots)
        _, left, right = inst.evaluate(pv, cv)
        soft = " (soft: documents also lapse, so this is worth a look, not an error)" if ident.strength == "soft" else ""
        if left is None or right is None:
            detail = "no reading of the digits left null by a run lets it hold"
        else:
            detail = (f"the {cur.year} report ({cur.record_id}) gives {_fmt(left)}, the identity with the "
                      f"{prev.year} report ({prev.record_id}) gives {_fmt(right)}")
        out.append(finding(ident.id, cur.agency_key, prev, cur, section=inst.where, expected=right, found=left,
                           message=f"{ident.printed} at {inst.at}: {detail}{soft}"))
    return out


def finding(kind: str, key: str | None, a: Entry | None, b: Entry | None, section=None, similarity=None,
            expected=None, found=None, message: str = "") -> dict:
    return {"kind": kind, "agency_key": key,
            "file_a": a.file if a else None, "year_a": a.year if a else None,
            "file_b": b.file if b else None, "year_b": b.year if b else None,
            "section": section, "similarity": similarity,
            "expected": expected, "found": found, "message": message}


def series_findings(key: str, by_year: dict[int, list[Entry]]) -> list[dict]:
    """A year missing inside an agency's series, and two reports for one agency-year."""
    out = []
    years = sorted(by_year)
    for y in years:
        first, *others = by_year[y]
        for other in others:
            out.append(finding("duplicate_year", key, first, other,
                               message=f"two reports for {key} and {y}: {first.file} and {other.file}"))
    for y0, y1 in zip(years, years[1:]):
        for missing in range(y0 + 1, y1):
            out.append(finding("missing_year", key, by_year[y0][0], by_year[y1][0], expected=missing,
                               message=f"no report of {key} for {missing} (the series has {y0} and {y1})"))
    return out
