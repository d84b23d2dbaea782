"""`extractor panel`: feeds → the agency-year panel (reports, cells, findings) in two passes.

Pass 1 keeps, per report, only what cross-report work needs (an `Entry`: ids, agency, year, the
few cells the cross-year identities name, its open digit runs) and puts sections 一/五 into the
copy finder's on-disk table. Between the passes: settling, cross-year and series findings, copy
verification. Pass 2 reads the feeds again and writes `reports` and `cells` in batches.
"""
from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..feedschema import FeedLineError, validate_line
from .across import Entry, Slots, apply_settled, finding, series_findings, settle, year_findings
from .copies import CopyFinder
from .records import agency_key, cell_rows, report_row
from .writer import CELLS, FINDINGS, REPORTS, TableWriter

TABLES = ("reports", "cells", "findings")


@dataclass
class PanelSummary:
    records: int = 0
    rejected: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    settled_cells: int = 0
    findings: Counter = field(default_factory=Counter)
    skipped: set = field(default_factory=set)  # (feed, line number) of the rejected lines

    def lines(self) -> list[str]:
        out = [f"records: {self.records}  rejected lines: {len(self.rejected)}",
               "rows: " + ", ".join(f"{k} {v}" for k, v in self.rows.items()),
               f"cells settled from other years: {self.settled_cells}"]
        if self.findings:
            out.append("findings: " + ", ".join(f"{k} {v}" for k, v in sorted(self.findings.items())))
        return out


def _records(feeds: list[Path], summary: PanelSummary, skip: set | None = None) -> Iterator[dict]:
    """Every valid record of the feeds, in order. First pass (skip None): each line is checked
    against the feed schema, and bad lines (and unreadable feeds) are listed in the summary and
    in `summary.skipped`; the second pass skips those lines without checking again."""
    for feed in feeds:
        try:
            fh = open(feed, encoding="utf-8")
        except OSError as exc:
            if skip is None:
                summary.rejected.append(f"{feed}: cannot read: {exc.strerror}")
            continue
        with fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                if skip is None:
                    try:
                        validate_line(line, lineno)
                    except FeedLineError as exc:
                        summary.rejected.append(f"{feed}: {exc}")
                        summary.skipped.add((str(feed), lineno))
                        continue
                elif (str(feed), lineno) in skip:
                    continue
                yield json.loads(line)


def build_panel(feeds: list[str | Path], out_dir: str | Path) -> PanelSummary:
    feeds = [Path(f) for f in feeds]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = PanelSummary()
    slots = Slots()
    entries: dict[int, Entry] = {}
    by_agency: dict[str, dict[int, list[Entry]]] = defaultdict(lambda: defaultdict(list))
    with tempfile.TemporaryDirectory(prefix="extractor-panel-") as work:
        copies = CopyFinder(str(Path(work) / "copies.sqlite"))
        # Pass 1: the small index.
        for ordinal, record in enumerate(_records(feeds, summary)):
            summary.records += 1
            key = agency_key(record)
            year = (record.get("meta") or {}).get("year")
            if not record.get("is_report", True) or key is None or year is None:
                continue
            entry = Entry(ordinal, record["id"], record["source"]["path"], sys.intern(key), year,
                          record.get("template", "none"), slots.values(record), slots.open_runs(record))
            entries[ordinal] = entry
            by_agency[key][year].append(entry)
            copies.add(ordinal, key, year, record)

        # Between the passes: settle against read values only, then check with the settled ones.
        # Findings are written as they come (agency by agency, then copies): none is kept.
        findings_out = TableWriter(out, "findings", FINDINGS, batch=1000)  # long messages: small batches

        def emit(items):
            for f in items:
                findings_out.add(f)
                summary.findings[f["kind"]] += 1
        try:
            for key, by_year in by_agency.items():
                for y, group in by_year.items():
                    prev = by_year.get(y - 1, [])
                    nxt = by_year.get(y + 1, [])
                    for entry in group:
                        # A neighbour year with two reports teaches nothing certain.
                        entry.settled = settle(entry, prev[0] if len(prev) == 1 else None,
                                               nxt[0] if len(nxt) == 1 else None, slots)
            for key, by_year in by_agency.items():
                for group in by_year.values():
                    for entry in group:
                        apply_settled(entry, slots)
                        summary.settled_cells += len(entry.settled)
                for y in sorted(by_year):
                    for prev in by_year.get(y - 1, []):
                        for cur in by_year[y]:
                            emit(year_findings(prev, cur, slots))
                emit(series_findings(key, by_year))
            for pair in copies.pairs():
                a, b = entries[pair.a], entries[pair.b]
                if a.year > b.year:  # a: the earlier year, the text that b repeats
                    a, b = b, a
                same = a.agency_key == b.agency_key
                where = f"the {a.year} report of the same agency" if same else f"the {a.year} report of {a.agency_key}"
                emit([finding(
                    "copied_section", b.agency_key, a, b, section=pair.section, similarity=pair.ratio,
                    message=f"section {pair.section} of the {b.year} report ({b.record_id}) is largely the text of "
                            f"{where} ({a.record_id}): similarity {pair.ratio:.2f} (Indel ratio), shingle Jaccard "
                            f"{pair.jaccard:.2f}")])
        finally:
            copies.close()
            findings_out.close()
            summary.rows["findings"] = findings_out.rows

    # Pass 2: the rows.
    writers = {"reports": TableWriter(out, "reports", REPORTS), "cells": TableWriter(out, "cells", CELLS)}
    try:
        for ordinal, record in enumerate(_records(feeds, summary, summary.skipped)):
            key = agency_key(record)
            writers["reports"].add(report_row(record, key))
            entry = entries.get(ordinal)
            for row in cell_rows(record, key, entry.settled if entry else None):
                writers["cells"].add(row)
    finally:
        for name, w in writers.items():
            w.close()
            summary.rows[name] = w.rows
    summary.rows = {t: summary.rows.get(t, 0) for t in TABLES}
    return summary


def main_panel(feeds: list[str], out_dir: str) -> int:
    summary = build_panel(feeds, out_dir)
    for message in summary.rejected:
        print(f"  rejected {message}", file=sys.stderr)
    for line in summary.lines():
        print(line, file=sys.stderr)
    print(f"panel: {out_dir} ({', '.join(f'{t}.csv/.parquet' for t in TABLES)})", file=sys.stderr)
    return 1 if summary.rejected else 0
