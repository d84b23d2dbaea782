"""The deterministic stages of one document, assembled into a Record (narrative filled later)."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from pydantic import TypeAdapter

from . import __version__
from .audit import audit_checks
from .checks import OVERVIEW_CHECK, identity_checks, overview_check, soft_checks
from .detect import count_sections, detect_template, not_report_reason
from .document import Document
from .meta import extract_meta
from .responsibility import assign as assign_responsibility
from .models import (Applications, Error, Extraction, LegacyStatistics, ProvenanceAsBuilt,
                     Record, Source, Tables, make_provenance)
from .sections import split_sections
from .tables import read_tables
from .tables.legacy import read_legacy
from .load.ocr import provenance_fields
from .tables.reader import TableRead
from .textutil import fold_width

try:  # the normaliser arrives with the format loaders
    from .normalise import normalise
except ImportError:  # pragma: no cover
    def normalise(doc: Document) -> Document:
        return doc


_PROVENANCE = TypeAdapter(dict[str, ProvenanceAsBuilt])


def provenance_of(built: dict[str, dict], ocr: bool) -> dict[str, dict]:
    """The record's provenance. Built here from the readers' offsets (ints), slices of the text
    and units and notes (str or None), its types are exact by construction, which
    tests/test_speed_equivalence.py checks on every fixture: validating it, ~0.4 µs a cell
    (6 % of the stage), changed nothing. A page and box from OCR come from another library,
    so a record read by OCR is validated."""
    return _PROVENANCE.validate_python(built) if ocr else built


def _source(doc: Document) -> Source:
    return Source(path=doc.path, sha256=doc.sha256, format=doc.format, encoding=doc.encoding,
                  row=doc.row, title=doc.title)


def _ocr_place(prov: dict, doc: Document) -> None:
    """A value read by OCR: its page and box, and what OCR read where a look-alike was undone
    (call only for a document with OCR regions)."""
    extra = provenance_fields(doc.regions, doc.text, prov["start"], prov["end"])
    prov["note"] = "; ".join(filter(None, (prov.get("note"), extra.pop("note", None)))) or None
    prov.update(extra)


def _table_out(read: TableRead | None, path: str, provenance: dict, errors: list, doc: Document) -> dict | None:
    if read is None:
        return None
    ocr = bool(doc.regions)
    values: dict[str, dict] = {}
    for row, cols in read.cells.items():
        row_values = values[row] = {}
        for col, cell in cols.items():
            if cell is None:
                row_values[col] = None
                continue
            row_values[col] = cell.value
            # Plain dicts here, validated together in one pass (pydantic-core) at the end:
            # building ~200 models one by one in Python cost a third of the stage. The dict is
            # make_provenance's, written out: a call per cell costs more than the dict.
            prov = provenance[f"{path}.{row}.{col}"] = {
                "start": cell.start, "end": cell.end, "text": cell.text, "unit": cell.unit, "note": cell.note,
                "page": None, "box": None}
            if ocr:
                _ocr_place(prov, doc)
    open_runs = {message: (seg_rows, candidates) for seg_rows, candidates, message in read.ambiguous}
    for m in read.errors:
        if m in open_runs:
            seg_rows, candidates = open_runs[m]
            cells = [f"{path}.{row.key}.{col.key}" for row in seg_rows for col in row.columns]
            readings = [[c.value for c in cand] for cand in candidates]
            errors.append(Error(stage="tables", message=m, cells=cells, readings=readings))
        else:
            errors.append(Error(stage="tables", message=m))
    return values  # read.values(), built in the same pass


def _has_number(table) -> bool:
    """Whether a read table (nested dicts of cells) holds at least one value."""
    if isinstance(table, dict):
        return any(_has_number(v) for v in table.values())
    return table is not None


def _not_a_report(record: Record, reason: str, started: float) -> Record:
    """The record of a document that is not an annual report: why, and nothing read from it."""
    record.is_report = False
    record.errors.append(Error(stage="classify", message=f"not an annual report: {reason}"))
    record.extraction.seconds = round(time.perf_counter() - started, 6)
    return record


def failed_record(path: str, message: str, stage: str = "load", sha256: str | None = None,
                  fmt: str | None = None) -> Record:
    """The record of an input that could not be read: its error, nothing invented."""
    sha = sha256 or hashlib.sha256(("missing:" + path).encode()).hexdigest()
    return Record(id=sha[:16], source=Source(path=path, sha256=sha, format=fmt or Path(path).suffix.lstrip(".") or "unknown"),
                  errors=[Error(stage=stage, message=message)],
                  extraction=Extraction(extractor_version=__version__))


def extract_record(doc: Document, normalised: bool = False) -> Record:
    """Load-independent deterministic extraction: template, sections, meta, tables, checks.
    Spans refer to the normalised text (pass `normalised=True` when the caller did that step)."""
    started = time.perf_counter()
    if not normalised:
        doc = normalise(doc)
    errors = [Error(stage="load", message=w) for w in doc.warnings if w.startswith("error:")]
    record = Record(id=doc.id, source=_source(doc), extraction=Extraction(extractor_version=__version__))
    if doc.not_report:
        return _not_a_report(record, doc.not_report, started)
    # Read by OCR: its values have a page and box (_ocr_place), and the audit weighs its text so.
    ocr = bool(doc.regions)
    folded = fold_width(doc.text)
    template, at = detect_template(folded)
    sections = split_sections(doc.text)
    provenance: dict[str, dict] = {}
    tables_out: dict = {}
    legacy = None
    if template in ("2021", "2019"):
        read = read_tables(folded, template, at)
        tables_out["active_disclosure"] = _table_out(read.active_disclosure, "tables.active_disclosure", provenance, errors, doc)
        apps = _table_out(read.applications, "tables.applications.rows", provenance, errors, doc)
        tables_out["applications"] = {"rows": apps} if apps is not None else None
        tables_out["review_litigation"] = _table_out(read.review_litigation, "tables.review_litigation", provenance, errors, doc)
        if not any(tables_out.values()):
            errors.append(Error(stage="tables", message=f"template {template} recognised but no table could be read"))
    elif template == "legacy":
        lr = read_legacy(folded, doc.text, at)
        if lr is not None:
            legacy = LegacyStatistics.model_validate({  # one validation, not a model per row
                "rows": [{"indicator": r["indicator"], "unit": r["unit"], "value": r["value"]} for r in lr.rows],
                "keys": {k: r["value"] for k, r in lr.keys.items()}})
            for k, r in lr.keys.items():
                if r["value"] is not None:
                    prov = provenance[f"legacy_statistics.keys.{k}"] = make_provenance(
                        r["start"], r["end"], doc.text[r["start"]:r["end"]], note=r["note"])
                    if ocr:
                        _ocr_place(prov, doc)
            errors.extend(Error(stage="tables", message=m) for m in lr.errors)
        else:
            errors.append(Error(stage="tables", message="a legacy 统计表 is announced but its rows could not be read"))
    has_tables = any(_has_number(v) for v in tables_out.values()) or (
        legacy is not None and any(v is not None for v in legacy.keys.values()))
    reason = not_report_reason(doc.title, doc.text, count_sections(sections), has_tables)
    if reason:
        return _not_a_report(record, reason, started)
    record.template = template
    record.sections = sections
    record.meta = extract_meta(doc, sections)
    record.tables = Tables(
        active_disclosure=tables_out.get("active_disclosure"),
        applications=Applications(**tables_out["applications"]) if tables_out.get("applications") else None,
        review_litigation=tables_out.get("review_litigation"))
    record.legacy_statistics = legacy
    checks = identity_checks({k: v for k, v in tables_out.items() if v is not None})
    checks[OVERVIEW_CHECK] = overview_check(sections, tables_out, legacy.keys if legacy else None)
    checks.update(soft_checks(sections))
    messages = [e.message for e in errors]
    assign_responsibility(checks, tables_out, provenance, messages, OVERVIEW_CHECK)
    checks.update(audit_checks(doc.text, template, sections, tables_out, doc.format, ocr))
    record.checks = checks
    record.provenance = provenance_of(provenance, ocr)
    record.errors = errors
    record.extraction.seconds = round(time.perf_counter() - started, 6)
    return record
