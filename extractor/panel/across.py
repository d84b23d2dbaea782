"""Cross-year identities (template/across.csv) between one agency's consecutive reports: the
findings they raise, and the digit runs they settle.

The panel keeps, per report, only the few cells these identities name (`Slots`), so the index of
a 100,000-record feed stays small. A digit run that its own report leaves null (several readings,
listed in the record's error as `cells` + `readings`) is settled when exactly one reading makes
every assessable hard identity with the neighbouring years hold and at least one of them is
assessable; otherwise it stays null. Values the report gives are never replaced.
"""
from __future__ import annotations

import math
from array import array
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
                runs.append((tuple(cells), tuple(tuple(r) for r in readings)))
        return runs or None


@dataclass
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


def settle(entry: Entry, prev: Entry | None, nxt: Entry | None, slots: Slots) -> dict[str, tuple[object, str]]:
    """Cell path -> (value, note) for the entry's open digit runs that the hard identities with
    its unique neighbouring reports leave exactly one reading for."""
    out: dict[str, tuple[object, str]] = {}
    if not entry.runs:
        return out
    base = entry.values if entry.values is not None else _empty(slots)
    for paths, readings in entry.runs:
        run_slots = {slots.index[p]: i for i, p in enumerate(paths) if p in slots.index}
        good = []
        for reading in readings:
            trial = array("d", base)
            for slot, i in run_slots.items():
                trial[slot] = NAN if reading[i] is None else float(reading[i])
            passed, failed = [], False
            for other, as_cur in ((prev, True), (nxt, False)):
                if other is None or other.values is None:
                    continue
                for inst in slots.instances:
                    ident = inst.identity
                    if ident.strength != "hard":
                        continue
                    side = "cur" if as_cur else "prev"
                    if not inst.slots(side) & run_slots.keys():
                        continue
                    if as_cur and not ident.applies(other.template, entry.template):
                        continue
                    if not as_cur and not ident.applies(entry.template, other.template):
                        continue
                    status, _, _ = inst.evaluate(other.values, trial) if as_cur else inst.evaluate(trial, other.values)
                    if status == "fail":
                        failed = True
                    elif status == "pass":
                        passed.append((ident.id, other))
            if passed and not failed:
                good.append((reading, passed))
        if len(good) != 1:
            continue
        reading, passed = good[0]
        teachers = {}
        for ident_id, other in passed:
            teachers.setdefault((other.year, other.file, other.record_id), []).append(ident_id)
        by = "; ".join(f"{', '.join(sorted(set(ids)))} with the {y} report {f} ({rid})"
                       for (y, f, rid), ids in sorted(teachers.items()))
        shown = "|".join(_fmt(v) for v in reading)
        note = (f"settled from other years: the report's digits have {len(readings)} readings; only "
                f"{shown} satisfies {by}")
        for i, path in enumerate(paths):
            out[path] = (reading[i], note)
    return out


def apply_settled(entry: Entry, slots: Slots) -> None:
    if not entry.settled:
        return
    if entry.values is None:
        entry.values = _empty(slots)
    for path, (value, _) in entry.settled.items():
        if path in slots.index and value is not None:
            entry.values[slots.index[path]] = float(value)


def year_findings(prev: Entry, cur: Entry, slots: Slots) -> list[dict]:
    """The identities between two consecutive reports of one agency that fail."""
    out = []
    if prev.values is None or cur.values is None:
        return out
    for inst in slots.instances:
        ident = inst.identity
        if not ident.applies(prev.template, cur.template):
            continue
        status, left, right = inst.evaluate(prev.values, cur.values)
        if status != "fail":
            continue
        soft = " (soft: documents also lapse, so this is worth a look, not an error)" if ident.strength == "soft" else ""
        out.append(finding(ident.id, cur.agency_key, prev, cur, section=inst.where, expected=right, found=left,
                           message=f"{ident.printed} at {inst.at}: the {cur.year} report ({cur.record_id}) gives {_fmt(left)}, "
                                   f"the identity with the {prev.year} report ({prev.record_id}) gives "
                                   f"{_fmt(right)}{soft}"))
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
