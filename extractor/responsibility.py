"""Whose fault a check item is: the report's (`source`) or the reading's (`extraction`).

A verdict rests on the cells it combines. It is the report's own when every one of them was read
from explicit, delimited cells or settled uniquely; it is in doubt when any was cut from digits
run together, read by OCR (its provenance has a page/box), or placed by its position among the
table's lines (labels out of place). A cell left null because it could not be read (the table's
errors name its row) is a doubtful reading too; a printed blank is the report's.
"""
from __future__ import annotations

import re
from fnmatch import fnmatchcase

from .models import Check, CheckItem, Provenance
from .template import load

# Provenance notes of readings in doubt (tables/reader.py, tables/legacy.py write them).
DOUBTFUL_NOTES = ("digits run together", "row read by its position", "figure ran together")
# Table errors that mean a whole table was read in doubt (its labels drifted from its numbers).
DOUBTFUL_TABLE_ERRORS = ("labels out of place",)
_TABLE_LABELS = {"active_disclosure": "table 二", "applications": "table 三", "review_litigation": "table 四"}


def cell_in_doubt(prov: Provenance | dict | None) -> bool:
    if prov is None:
        return False
    get = prov.get if isinstance(prov, dict) else (lambda k: getattr(prov, k, None))
    note = get("note") or ""
    if any(n in note for n in DOUBTFUL_NOTES):
        return True
    return get("page") is not None or bool(get("box"))  # read by OCR


def _paths_of(check_id: str, item: CheckItem, tables: dict) -> tuple[str, list[tuple[str, str, str]]]:
    """The table and the (path, row, column) cells an identity item combined."""
    ident = next((i for i in load().identities if i.id == check_id), None)
    if ident is None:
        return "", []
    table = tables.get(ident.table) or {}
    rows = table.get("rows", table) if isinstance(table, dict) else {}
    base = f"tables.{ident.table}" + (".rows" if ident.table == "applications" else "")
    terms = ident.left + ident.right
    cells = []
    if ident.scope == "row":
        cols = rows.get(item.scope) or {}
        for c in cols:
            if any(fnmatchcase(c, t) for t in terms):
                cells.append((f"{base}.{item.scope}.{c}", item.scope, c))
    else:
        for r, cols in rows.items():
            if any(fnmatchcase(r, t) for t in terms) and item.scope in cols:
                cells.append((f"{base}.{r}.{item.scope}", r, item.scope))
    return ident.table, cells


def _judge(table: str, cells: list[tuple[str, str, str]], provenance: dict, errors: list[str]) -> str:
    label = _TABLE_LABELS.get(table, "")
    table_errors = [e for e in errors if label and e.startswith(label)]
    if any(d in e for e in table_errors for d in DOUBTFUL_TABLE_ERRORS):
        return "extraction"
    for path, row, _ in cells:
        prov = provenance.get(path)
        if prov is None:
            # null: unreadable (an error names the row) or a printed blank
            named = re.compile(rf"(?<![A-Za-z_]){re.escape(row)}(?![A-Za-z_])")
            if row and any(named.search(e) for e in table_errors):
                return "extraction"
            continue
        if cell_in_doubt(prov):
            return "extraction"
    return "source"


def assign(checks: dict[str, Check], tables: dict, provenance: dict, errors: list[str],
           overview_check_id: str) -> None:
    """Set `responsibility` on every item of the identity checks and of the text-vs-table check."""
    for cid, check in checks.items():
        for item in check.items:
            if item.responsibility is not None:
                continue
            if cid == overview_check_id:
                path = _overview_path(item.scope)
                table = item.scope.split(".")[0]
                item.responsibility = _judge(table, [(path, item.scope.split(".")[1] if "." in item.scope else "", "")],
                                             provenance, errors)
            elif item.scope == "table" and item.message and item.message.startswith("no "):
                item.responsibility = None  # nothing was combined: no verdict to own
            else:
                table, cells = _paths_of(cid, item, tables)
                if table:
                    item.responsibility = _judge(table, cells, provenance, errors)


def _overview_path(scope: str) -> str:
    """checks.overview_check scopes (applications.new_received.total, legacy.proactive_total) → provenance key."""
    parts = scope.split(".")
    if parts[0] == "legacy":
        return f"legacy_statistics.keys.{parts[1]}"
    if parts[0] == "applications":
        return "tables.applications.rows." + ".".join(parts[1:])
    return "tables." + scope
