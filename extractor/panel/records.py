"""One feed record as panel rows: its `reports` row and its `cells` rows (long format).

Pure functions of the record: what other reports teach (settled cells) is passed in, never
looked up here.
"""
from __future__ import annotations

import re
from typing import Iterator

from ..audit import count_columns
from ..template import load

TABLE_KEYS = ("active_disclosure", "applications", "review_litigation")
NULL_NOTE = "no number printed in this cell (blank, / or —)"


def agency_key(record: dict) -> str | None:
    """The record's `meta.agency_key`, or the temporary stand-in while the feed lacks it."""
    meta = record.get("meta") or {}
    if meta.get("agency_key"):
        return meta["agency_key"]
    return temporary_agency_key_from_name(meta)


def temporary_agency_key_from_name(meta: dict) -> str | None:
    """TEMPORARY, until every feed carries `meta.agency_key` (issue 10, item 1): the agency's
    name as printed. It is not an identity (two spellings of one agency get two keys); it only
    keeps the panel usable on feeds written before agency keys existed."""
    name = meta.get("agency")
    return f"name:{name}" if name else None


def cell_path(table: str, row: str, column: str) -> str:
    """The dotted value path the feed uses for a cell (provenance keys, error cells)."""
    if table == "applications":
        return f"tables.applications.rows.{row}.{column}"
    if table == "legacy_statistics":
        return f"legacy_statistics.{row}.{column}"
    return f"tables.{table}.{row}.{column}"


def split_path(path: str) -> tuple[str, str, str] | None:
    """(table, row, column) of a dotted cell path; None for any other path."""
    parts = path.split(".")
    if parts[0] == "tables" and len(parts) == 5 and parts[1] == "applications" and parts[2] == "rows":
        return "applications", parts[3], parts[4]
    if parts[0] == "tables" and len(parts) == 4:
        return parts[1], parts[2], parts[3]
    if parts[0] == "legacy_statistics" and len(parts) == 3:
        return "legacy_statistics", parts[1], parts[2]
    return None


def table_cells(record: dict) -> Iterator[tuple[str, str, str, object]]:
    """Every table cell of the record as (table, row, column, value), in feed order."""
    tables = record.get("tables") or {}
    for table in TABLE_KEYS:
        data = tables.get(table)
        if not data:
            continue
        rows = data.get("rows", {}) if table == "applications" else data
        for row, cols in rows.items():
            for column, value in (cols or {}).items():
                yield table, row, column, value
    legacy = record.get("legacy_statistics") or {}
    for key, value in (legacy.get("keys") or {}).items():
        yield "legacy_statistics", "keys", key, value


def null_reasons(record: dict) -> dict[str, str]:
    """Cell path -> the error message that explains why the report leaves it null: the cells an
    error lists, or the legacy 统计表 indicator it quotes (matched as the template's legacy keys are)."""
    out: dict[str, str] = {}
    for err in record.get("errors") or []:
        message = err.get("message", "")
        for path in err.get("cells") or ():
            out.setdefault(path, message)
        quoted = re.match(r"统计表: '([^']+)'", message)
        if quoted:
            for key, pattern, _ in load().legacy_keys:
                if pattern.search(quoted.group(1)):
                    out.setdefault(cell_path("legacy_statistics", "keys", key), message)
    return out


# The labels the table reader puts before its messages (extractor/tables).
_TABLE_LABELS = {"table 二": "active_disclosure", "table 三": "applications", "table 四": "review_litigation"}


def row_reasons(record: dict) -> dict[tuple[str, str], str]:
    """(table, row key) -> the error message that names that whole row as not found."""
    out: dict[tuple[str, str], str] = {}
    for err in record.get("errors") or []:
        message = err.get("message", "")
        label, _, rest = message.partition(": row ")
        if rest and "not found" in rest and label in _TABLE_LABELS:
            out.setdefault((_TABLE_LABELS[label], rest.split(" ", 1)[0]), message)
    return out


def report_row(record: dict, key: str | None) -> dict:
    meta = record.get("meta") or {}
    region = meta.get("region") or {}
    source = record.get("source") or {}
    failed = [k for k, c in (record.get("checks") or {}).items() if (c or {}).get("status") == "fail"]
    return {
        "record_id": record.get("id"), "file": source.get("path"), "source_row": source.get("row"),
        "agency": meta.get("agency"), "agency_key": key,
        "province": region.get("province"), "city": region.get("city"), "county": region.get("county"),
        "level": meta.get("level"), "year": meta.get("year"), "template": record.get("template"),
        "is_report": record.get("is_report", True), "checks_failed": "; ".join(failed),
        "errors": len(record.get("errors") or []),
        # findings per kind and responsibility (the report's fault or the reading's), zeros included
        **count_columns(record),
    }


def cell_rows(record: dict, key: str | None, settled: dict[str, tuple[object, str]] | None = None) -> Iterator[dict]:
    """The record's cells, each with how its value came: read, null (why), or settled from other
    years (`settled`: cell path -> (value, note), only ever for cells the report leaves null)."""
    source = record.get("source") or {}
    meta = record.get("meta") or {}
    provenance = record.get("provenance") or {}
    reasons = null_reasons(record)
    missing_rows = row_reasons(record)
    settled = settled or {}
    base = {"record_id": record.get("id"), "file": source.get("path"), "source_row": source.get("row"),
            "agency_key": key, "year": meta.get("year")}
    for table, row, column, value in table_cells(record):
        path = cell_path(table, row, column)
        if value is not None:
            how, note = "read", (provenance.get(path) or {}).get("note")
        elif path in settled:
            value, note = settled[path]
            how = "settled"
        else:
            how = "null"
            note = reasons.get(path) or missing_rows.get((table, row)) or NULL_NOTE
        yield {**base, "table": table, "row": row, "column": column, "value": value, "how": how, "note": note}
