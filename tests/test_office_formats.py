"""Word .doc/.wps, OFD and Excel files made here by real tools (LibreOffice, easyofd, openpyxl)
from the hand labels' tables must give the table reader exactly the labelled cells."""
from __future__ import annotations

import contextlib
import copy
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from test_formats import (SOURCES, assert_tables_match, label_of, place, read_back, report_blocks,
                          table_four, table_three_header, table_three_rows, table_two, write_docx,
                          write_pdf)

from extractor.document import LoadError
from extractor.load import load_path
from extractor.record import extract_record

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice not installed (.ci/run installs it)")
# two reports whose numbers differ everywhere (corpus 003) or are mostly small (seed 002)
DOC_SOURCES = [SOURCES[2], SOURCES[0]]


def blanked(label: dict) -> dict:
    """The label with blank cells first, in the middle and last in rows of 二 and 三."""
    label = copy.deepcopy(label)
    t = label["tables"]
    t["active_disclosure"]["regulations"]["in_force"] = None
    t["active_disclosure"]["normative_documents"]["issued"] = None
    t["active_disclosure"]["licensing"]["decisions"] = None
    rows = t["applications"]["rows"]
    rows["carried_over"]["total"] = None
    rows["granted"]["natural_person"] = None
    rows["withheld_admin_query"]["research_institution"] = None
    return label


# ---------------------------------------------------------------------------------------------
# .doc / .wps: python-docx writes the report, LibreOffice saves it as Word 97 (.doc)

def to_doc(docx_path: Path, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation={(out_dir / 'profile').as_uri()}",
                    "--convert-to", "doc", "--outdir", str(out_dir), str(docx_path)],
                   check=True, capture_output=True, timeout=180)
    return out_dir / (docx_path.stem + ".doc")


@pytest.fixture(scope="module")
def doc_files(tmp_path_factory) -> dict[str, Path]:
    """source → a real Word 97 .doc of its report (made once: each conversion takes seconds)."""
    if SOFFICE is None:
        pytest.skip("LibreOffice not installed")
    out = {}
    for source in DOC_SOURCES + ["blanks"]:
        d = tmp_path_factory.mktemp("doc")
        label = blanked(label_of(SOURCES[2])) if source == "blanks" else label_of(source)
        write_docx(report_blocks(label), d / "report.docx")
        out[source] = to_doc(d / "report.docx", d / "out")
    return out


@needs_soffice
@pytest.mark.parametrize("suffix", [".doc", ".wps"])
@pytest.mark.parametrize("source", DOC_SOURCES)
def test_doc_and_wps_read_as_labelled(doc_files, tmp_path, source, suffix):
    data = doc_files[source].read_bytes()
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a real OLE2 Word file
    path = tmp_path / f"report{suffix}"  # a WPS Office .wps is such a file under another name
    path.write_bytes(data)
    doc, template, tables = read_back(path)
    assert doc.format == suffix[1:]
    assert template == "2021"
    assert_tables_match(tables, label_of(source))
    for heading in ("一、总体情况", "六、其他需要报告的事项"):
        assert f"\n{heading}\n" in doc.text
    assert doc.sha256 == __import__("hashlib").sha256(data).hexdigest()  # the file's own bytes


@needs_soffice
def test_doc_blank_and_merged_cells(doc_files):
    """Merged cells survive .doc → .docx: blanks stay null and no number shifts column."""
    _, _, tables = read_back(doc_files["blanks"])
    assert_tables_match(tables, blanked(label_of(SOURCES[2])))


def test_doc_without_libreoffice_names_the_package(tmp_path, monkeypatch):
    path = tmp_path / "report.doc"
    # the start of a Word 97 file: the OLE2 signature, and a directory naming WordDocument
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "WordDocument".encode("utf-16-le"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("EXTRACTOR_SOFFICE", raising=False)
    with pytest.raises(LoadError, match="apt-get install libreoffice-writer-nogui"):
        list(load_path(path))


@needs_soffice
def test_doc_broken_or_not_word(doc_files, tmp_path):
    bad = tmp_path / "bad.doc"
    bad.write_bytes(b"this is no Word file at all\n" * 20)
    with pytest.raises(LoadError, match="not a Word or WPS document"):
        list(load_path(bad))
    damaged = tmp_path / "damaged.wps"
    damaged.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x07" * 4096)
    with pytest.raises(LoadError, match="without a WordDocument stream"):
        list(load_path(damaged))
    # a real .doc cut short: its directory (at the end) is gone
    cut = tmp_path / "cut.doc"
    cut.write_bytes(doc_files[SOURCES[2]].read_bytes()[:6000])
    with pytest.raises(LoadError, match="without a WordDocument stream|LibreOffice could not convert"):
        list(load_path(cut))
    empty = tmp_path / "empty.doc"
    empty.write_bytes(b"")
    with pytest.raises(LoadError, match="empty"):
        list(load_path(empty))


def test_docx_under_a_wps_name(tmp_path):
    path = tmp_path / "report.wps"
    write_docx(report_blocks(label_of(SOURCES[2])), path)
    doc, _, tables = read_back(path)
    assert doc.format == "wps" and any("is a .docx" in w for w in doc.warnings)
    assert_tables_match(tables, label_of(SOURCES[2]))


# ---------------------------------------------------------------------------------------------
# .ofd: reportlab renders the report to PDF, easyofd converts the PDF to OFD with its text

def write_ofd(label: dict, path: Path) -> None:
    from loguru import logger

    logger.remove()  # easyofd logs every text object it writes
    from easyofd.ofd import OFD

    pdf = path.with_suffix(".pdf")
    write_pdf(report_blocks(label), pdf)
    work = path.parent / "easyofd-work"
    work.mkdir()
    with contextlib.chdir(work):  # easyofd builds the package in ./test and ./test.ofd
        path.write_bytes(OFD().pdf2ofd(pdf.read_bytes(), optional_text=True))


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("source", SOURCES)
def test_ofd_read_as_labelled(tmp_path, source):
    path = tmp_path / "report.ofd"
    write_ofd(label_of(source), path)
    with zipfile.ZipFile(path) as z:  # a real OFD package: OFD.xml and XML pages
        assert "OFD.xml" in z.namelist() and any(n.endswith("Content.xml") for n in z.namelist())
    doc, template, tables = read_back(path)
    assert doc.format == "ofd" and template == "2021"
    assert_tables_match(tables, label_of(source))
    assert "\n一、总体情况\n" in doc.text and "— 1 —" not in doc.text  # page numbers dropped
    assert "规章\t" in doc.text  # table rows as tab-separated cells
    # the paragraph wrapped over three lines on the page is one line again
    assert any(ln.startswith("2024 年，平桥区") and ln.endswith("依法获取政府信息。") for ln in doc.text.split("\n"))


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("source", SOURCES)
def test_ofd_blank_cells_stay_null(tmp_path, source):
    """Blank cells rebuilt from coordinates, and the row-spanning group labels (（三）不予公开,
    printed at the middle of their rows) moved before their first row: every cell as labelled."""
    label = blanked(label_of(source))
    path = tmp_path / "blanks.ofd"
    write_ofd(label, path)
    doc, _, tables = read_back(path)
    assert_tables_match(tables, label)
    lines = doc.text.split("\n")
    assert lines[lines.index("（三）不予公开") + 1].startswith("1. 属于国家秘密")
    record = extract_record(next(iter(load_path(path))))
    assert not [c for c in record.checks.values() if c.status == "fail"]


def test_ofd_broken(tmp_path):
    not_zip = tmp_path / "a.ofd"
    not_zip.write_bytes(b"%PDF-1.4 not an ofd")
    with pytest.raises(LoadError, match="not an OFD"):
        list(load_path(not_zip))
    no_manifest = tmp_path / "b.ofd"
    with zipfile.ZipFile(no_manifest, "w") as z:
        z.writestr("Doc_0/Document.xml", "<x/>")
    with pytest.raises(LoadError, match="OFD.xml"):
        list(load_path(no_manifest))


# ---------------------------------------------------------------------------------------------
# .xlsx: openpyxl writes the three tables, numbers as numbers, merged cells as merged ranges

def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text or None


def write_tables_xlsx(label: dict, path: Path, one_sheet: bool = False) -> None:
    import openpyxl

    t = label["tables"]
    tables = [("二、主动公开政府信息情况", table_two(t["active_disclosure"])),
              ("三、收到和处理政府信息公开申请情况", table_three_header() + table_three_rows(t["applications"]["rows"])),
              ("四、政府信息公开行政复议、行政诉讼情况", table_four(t["review_litigation"]))]
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    ws, top = None, 1
    for name, rows in tables:
        if ws is None or not one_sheet:
            ws, top = wb.create_sheet(title=name[:31] if not one_sheet else "Sheet1"), 1
        for text, r, c, rs, cs in place(rows):
            ws.cell(row=top + r, column=1 + c, value=_number(text))
            if rs > 1 or cs > 1:
                ws.merge_cells(start_row=top + r, start_column=1 + c, end_row=top + r + rs - 1, end_column=c + cs)
        top += len(rows) + 2  # an empty row between tables on one sheet
    wb.save(path)


@pytest.mark.parametrize("one_sheet", [False, True], ids=["sheet-per-table", "one-sheet"])
@pytest.mark.parametrize("source", SOURCES)
def test_xlsx_holding_only_the_tables_is_the_report(tmp_path, source, one_sheet):
    label = label_of(source)
    path = tmp_path / "tables.xlsx"
    write_tables_xlsx(label, path, one_sheet)
    doc, template, tables = read_back(path)
    assert doc.format == "xlsx" and template == "2021"  # detected from the header cells
    assert_tables_match(tables, label)
    record = extract_record(next(iter(load_path(path))))
    assert record.is_report and record.template == "2021"
    assert all(v is not None for v in (record.tables.active_disclosure, record.tables.applications,
                                       record.tables.review_litigation))
    assert not [e for e in record.errors if e.stage in ("load", "tables")]


def test_xlsx_blank_cells_stay_null(tmp_path):
    label = blanked(label_of(SOURCES[2]))
    path = tmp_path / "blanks.xlsx"
    write_tables_xlsx(label, path)
    _, _, tables = read_back(path)
    assert_tables_match(tables, label)


def test_xlsx_formula_without_saved_value_is_an_error_not_a_number(tmp_path):
    import openpyxl

    label = label_of(SOURCES[2])
    path = tmp_path / "formula.xlsx"
    write_tables_xlsx(label, path)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    cell = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, int))
    cell.value = "=1+1"  # openpyxl saves no computed value
    wb.save(path)
    record = extract_record(next(iter(load_path(path))))
    assert any("formula cell" in e.message for e in record.errors if e.stage == "load")


def test_xlsx_broken(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(LoadError, match="cannot open .xlsx|not an .xlsx"):
        list(load_path(bad))
    xls = tmp_path / "old.xlsx"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(LoadError, match="legacy Excel"):
        list(load_path(xls))
    import openpyxl
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    with pytest.raises(LoadError, match="empty workbook"):
        list(load_path(empty))


# ---------------------------------------------------------------------------------------------
# A folder as a user has it: the CLI reads every one of these formats, and tells reports apart

@needs_soffice
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_folder_of_office_files_through_the_cli(doc_files, tmp_path):
    import json
    import os
    import sys

    from test_is_report import NOTICE

    folder = tmp_path / "downloads"
    folder.mkdir()
    shutil.copy(doc_files[SOURCES[2]], folder / "民政局年报.doc")
    shutil.copy(doc_files[SOURCES[0]], folder / "平桥区年报.wps")
    write_ofd(label_of(SOURCES[2]), tmp_path / "report.ofd")
    shutil.copy(tmp_path / "report.ofd", folder / "年报.ofd")
    write_tables_xlsx(label_of(SOURCES[1]), folder / "统计表.xlsx")
    (folder / "通知.txt").write_text(NOTICE, encoding="utf-8")
    shutil.copy(Path(__file__).resolve().parent.parent / "README.md", folder / "README.md")
    feed = tmp_path / "feed.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run([sys.executable, "-m", "extractor.cli", "extract", str(folder), "-o", str(feed),
                           "--llm", "rules"], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    records = {Path(r["source"]["path"]).name: r for r in map(json.loads, feed.read_text(encoding="utf-8").splitlines())}
    assert {name: (r["source"]["format"], r["is_report"], r["template"]) for name, r in records.items()} == {
        "民政局年报.doc": ("doc", True, "2021"), "平桥区年报.wps": ("wps", True, "2021"),
        "年报.ofd": ("ofd", True, "2021"), "统计表.xlsx": ("xlsx", True, "2021"),
        "通知.txt": ("txt", False, "none"), "README.md": ("md", False, "none")}
    want = label_of(SOURCES[1])["tables"]["applications"]["rows"]["results_total"]
    assert records["统计表.xlsx"]["tables"]["applications"]["rows"]["results_total"] == want
    assert "reports: 4" in proc.stderr + proc.stdout and "not reports: 2" in proc.stderr + proc.stdout


@needs_soffice
def test_rtf_saved_as_doc(tmp_path):
    """Word also saves RTF under a .doc name; LibreOffice reads it, tables and all."""
    write_docx(report_blocks(label_of(SOURCES[2])), tmp_path / "report.docx")
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--convert-to", "rtf", "--outdir", str(tmp_path / "rtf"), str(tmp_path / "report.docx")],
                   check=True, capture_output=True, timeout=180)
    path = tmp_path / "report.doc"
    shutil.copy(tmp_path / "rtf" / "report.rtf", path)
    assert path.read_bytes().startswith(b"{\\rtf")
    doc, _, tables = read_back(path)
    assert doc.format == "doc"
    assert_tables_match(tables, label_of(SOURCES[2]))
