"""Whose fault a check item is: the report's (`source`) or the reading's (`extraction`).

A verdict rests on the cells it combines. It is the report's own when every one of them was read
from explicit, delimited cells or settled uniquely; it is in doubt when any was cut from digits
run together, read by OCR (its provenance has a page/box), or placed by its position among the
table's lines (labels out of place). A cell left null because it could not be read (the table's
errors name its row) is a doubtful reading too; a printed blank is the report's.
"""
from __future__ import annotations

import re

from .models import Check, CheckItem, Provenance
from .template import _expand, load

# Provenance notes of readings in doubt (tables/reader.py, tables/legacy.py write them).
DOUBTFUL_NOTES = ("digits run together", "row read by its position", "figure ran together")
# Table errors that mean a whole table was read in doubt (its labels drifted from its numbers).
DOUBTFUL_TABLE_ERRORS = ("labels out of place",)
# Errors naming a row whose cells, even where read, were read in doubt (more numbers than cells:
# the first ones taken).
DOUBTFUL_ROW_ERRORS = ("numbers where",)
_TABLE_LABELS = {"active_disclosure": "table 二", "applications": "table 三", "review_litigation": "table 四"}


def cell_in_doubt(prov: Provenance | None) -> bool:
    if prov is None:
        return False
    note = prov.get("note") or ""
    if any(n in note for n in DOUBTFUL_NOTES):
        return True
    return prov.get("page") is not None or bool(prov.get("box"))  # read by OCR


def _paths_of(check_id: str, item: CheckItem, tables: dict) -> tuple[str, list[tuple[str, str, str]]]:
    """The table and the (path, row, column) cells an identity item combined."""
    ident = next((i for i in load().identities if i.id == check_id), None)
    if ident is None:
        return "", []
    table = tables.get(ident.table) or {}
    rows = table.get("rows", table) if isinstance(table, dict) else {}
    base = f"tables.{ident.table}" + (".rows" if ident.table == "applications" else "")
    terms = ident.left + ident.right
    if ident.scope == "row":
        cols = rows.get(item.scope) or {}
        return ident.table, [(f"{base}.{item.scope}.{c}", item.scope, c) for c in _expand(terms, tuple(cols))]
    return ident.table, [(f"{base}.{r}.{item.scope}", r, item.scope) for r in _expand(terms, tuple(rows))
                         if item.scope in rows[r]]


class _Doubt:
    """What in a record's tables was read in doubt, found once for all its check items."""

    def __init__(self, provenance: dict, errors: list[str]) -> None:
        self.provenance = provenance
        self.errors = errors
        self._tables: dict[str, tuple[bool, list[str]]] = {}
        self._rows: dict[tuple[str, str], tuple[bool, bool]] = {}

    def _table(self, table: str) -> tuple[bool, list[str]]:
        if table not in self._tables:
            label = _TABLE_LABELS.get(table, "")
            errs = [e for e in self.errors if label and e.startswith(label)]
            self._tables[table] = (any(d in e for e in errs for d in DOUBTFUL_TABLE_ERRORS), errs)
        return self._tables[table]

    def _row(self, table: str, row: str) -> tuple[bool, bool]:
        """(an error names the row, an error says its cells were read in doubt)."""
        key = (table, row)
        if key not in self._rows:
            _, errs = self._table(table)
            named = re.compile(rf"(?<![A-Za-z_]){re.escape(row)}(?![A-Za-z_])") if row else None
            about = [e for e in errs if named is not None and named.search(e)]
            self._rows[key] = (bool(about), any(d in e for e in about for d in DOUBTFUL_ROW_ERRORS))
        return self._rows[key]

    def judge(self, table: str, cells: list[tuple[str, str, str]]) -> str:
        whole, _ = self._table(table)
        if whole:
            return "extraction"
        for path, row, _ in cells:
            named, doubtful_row = self._row(table, row)
            prov = self.provenance.get(path)
            if prov is None:
                if named:  # null because unreadable, not a printed blank
                    return "extraction"
                continue
            if doubtful_row or cell_in_doubt(prov):
                return "extraction"
        return "source"


def assign(checks: dict[str, Check], tables: dict, provenance: dict, errors: list[str],
           overview_check_id: str) -> None:
    """Set `responsibility` on every failed item of the identity checks and of the text-vs-table
    check (a pass has no fault to own)."""
    doubt = _Doubt(provenance, errors)
    for cid, check in checks.items():
        if check.status != "fail":
            continue
        for item in check.items:
            if item.responsibility is not None or item.status != "fail":
                continue
            if cid == overview_check_id:
                path = _overview_path(item.scope)
                table = item.scope.split(".")[0]
                item.responsibility = doubt.judge(table, [(path, item.scope.split(".")[1] if "." in item.scope else "", "")])
            elif item.scope == "table" and item.message and item.message.startswith("no "):
                item.responsibility = None  # nothing was combined: no verdict to own
            else:
                table, cells = _paths_of(cid, item, tables)
                if table:
                    item.responsibility = doubt.judge(table, cells)


def _overview_path(scope: str) -> str:
    """checks.overview_check scopes (applications.new_received.total, legacy.proactive_total) → provenance key."""
    parts = scope.split(".")
    if parts[0] == "legacy":
        return f"legacy_statistics.keys.{parts[1]}"
    if parts[0] == "applications":
        return "tables.applications.rows." + ".".join(parts[1:])
    return "tables." + scope
