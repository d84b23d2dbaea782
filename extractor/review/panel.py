"""The cross-year view written by `extractor panel`, read for the review pages.

Column contract (UTF-8 with BOM):
- findings.csv: kind, agency_key, file_a, year_a, file_b, year_b, section, similarity, expected,
  found, message — a finding belongs to the page of file_a and to that of file_b;
- cells.csv (optional): record_id, file, source_row, agency_key, year, table, row, column, value,
  how, note — only rows whose `how` is not a plain read are kept (a null's reason, a value settled
  from another year's report); a panel has ~200 cells per report, the pages need only these.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..panel.records import cell_path  # the provenance key of a panel cell

FINDING_COLUMNS = ("kind", "agency_key", "file_a", "year_a", "file_b", "year_b", "section",
                   "similarity", "expected", "found", "message")
CELL_COLUMNS = ("record_id", "file", "source_row", "agency_key", "year", "table", "row", "column",
                "value", "how", "note")
COPIED = "copied_section"


@dataclass
class Panel:
    findings_by_file: dict[str, list[dict]] = field(default_factory=dict)
    cells_by_record: dict[str, dict[str, dict]] = field(default_factory=dict)
    findings: int = 0
    cells: int = 0


def _rows(path: Path, required: tuple[str, ...]):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(missing)}")
        yield from reader


def is_plain_read(how: str) -> bool:
    return (how or "").strip().lower() in ("read", "report", "")


def load_panel(folder: Path) -> Panel:
    folder = Path(folder)
    findings_csv = folder / "findings.csv"
    if not findings_csv.exists():
        raise FileNotFoundError(f"{findings_csv} not found (run `extractor panel FEED -o {folder}`)")
    panel = Panel()
    for row in _rows(findings_csv, FINDING_COLUMNS):
        item = {c: row.get(c) or "" for c in FINDING_COLUMNS}
        panel.findings += 1
        for f in {item["file_a"], item["file_b"]} - {""}:
            panel.findings_by_file.setdefault(f, []).append(item)
    cells_csv = folder / "cells.csv"
    if cells_csv.exists():
        for row in _rows(cells_csv, CELL_COLUMNS):
            if is_plain_read(row["how"]):
                continue
            panel.cells += 1
            panel.cells_by_record.setdefault(row["record_id"], {})[
                cell_path(row["table"], row["row"], row["column"])] = {
                    "value": row["value"], "how": row["how"], "note": row["note"]}
    return panel
