"""Every table cell of the seeds and the text corpus, against labels written by reading the reports."""
from __future__ import annotations

import pytest

from extractor.detect import detect_template
from extractor.document import Document
from extractor.load import load_path
from extractor.record import extract_record
from extractor.scoring import flatten_cells
from helpers import FIXTURES, SEEDS, label

TEXT_FIXTURES = SEEDS + sorted(FIXTURES.glob("corpus_0[12]*.txt")) + [
    FIXTURES / "corpus_008_shanghai-stcsm-2024-ocr-markdown.md"]


def _record(path):
    docs = list(load_path(path))
    assert len(docs) == 1
    return extract_record(docs[0]).model_dump()


@pytest.mark.parametrize("path", TEXT_FIXTURES, ids=lambda p: p.name[:24])
def test_every_labelled_cell(path):
    want = label(path.name)
    got = _record(path)
    assert got["template"] == want["template"]
    want_cells, got_cells = flatten_cells(want), flatten_cells(got)
    wrong = {k: (v, got_cells.get(k, "absent")) for k, v in want_cells.items() if got_cells.get(k, "absent") != v}
    # A cell the reader could not settle must be null and explained, never a guess.
    unexplained = {k: v for k, v in wrong.items() if v[1] is not None}
    assert not unexplained, unexplained
    for key in wrong:
        named = "统计表" if key.startswith("legacy_statistics") else key.split(".")[-2]
        assert any(named in e["message"] for e in got["errors"]), (key, got["errors"])


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:8])
def test_seed_cells_all_right(path):
    """The seeds: every cell right (no ambiguity allowed), every identity that holds passes."""
    want, got = label(path.name), _record(path)
    assert flatten_cells(got) == {**flatten_cells(got), **flatten_cells(want)}
    for cid, status in want["checks"].items():
        assert got["checks"][cid]["status"] == status, cid


def test_seed_003_has_no_table_and_no_year():
    got = _record(FIXTURES / "seed_003_efc789b651537edf.txt")
    assert got["template"] == "none"
    assert got["tables"] == {"active_disclosure": None, "applications": None, "review_litigation": None}
    assert got["legacy_statistics"] is None
    assert got["meta"]["year"] is None
    assert got["provenance"] == {}


def test_seed_001_overview_contradicts_table():
    got = _record(FIXTURES / "seed_001_0201cc4015fa0c2d.txt")
    check = got["checks"]["overview.numbers_match_tables"]
    assert check["status"] == "fail"
    assert check["items"][0]["left"] == 119 and check["items"][0]["right"] == 111


def test_provenance_points_at_the_printed_value():
    path = FIXTURES / "seed_000_c67c284a41079efd.txt"
    doc = next(iter(load_path(path)))
    rec = extract_record(doc)
    span = rec.provenance["tables.active_disclosure.licensing.decisions"]
    assert doc.text[span["start"]:span["end"]] == "63"
    assert rec.tables.active_disclosure["licensing"]["decisions"] == 63


def test_pingtan_run_together_digits_resolved_by_identities():
    """023: 本年新收…640020470 is 64,0,0,2,0,4,70; 予以公开 270020130 has two cuts that satisfy the row
    total, and only one of them survives the column identities."""
    got = _record(FIXTURES / "corpus_023_pingtan-zone-2021.txt")
    rows = got["tables"]["applications"]["rows"]
    assert list(rows["new_received"].values()) == [64, 0, 0, 2, 0, 4, 70]
    assert list(rows["granted"].values()) == [27, 0, 0, 2, 0, 1, 30]
    rl = got["tables"]["review_litigation"]
    assert list(rl["review"].values()) == [1, 0, 2, 0, 3]
    assert list(rl["litigation_direct"].values()) == [12, 0, 0, 0, 12]


def test_run_settled_by_numbers_the_report_quotes():
    """024 prints 行政规范性文件8855698 (15 cuts); its text says 现行有效…698件 and 制发…88件."""
    got = _record(FIXTURES / "corpus_024_pingtan-zone-2022.txt")
    assert got["tables"]["active_disclosure"]["normative_documents"] == {"issued": 88, "repealed": 55, "in_force": 698}
    note = got["provenance"]["tables.active_disclosure.normative_documents.in_force"]["note"]
    assert "confirmed by numbers the report quotes" in note


def test_ambiguous_run_without_evidence_is_null_with_candidates():
    text = ("二、主动公开政府信息情况 第二十条第（一）项 信息内容 本年制发件数 本年废止件数 现行有效件数 "
            "规章000行政规范性文件8855698第二十条第（五）项信息内容本年处理决定数量行政许可3 "
            "三、收到和处理政府信息公开申请情况")
    rec = extract_record(Document(text=text, path="x.txt", sha256="0" * 64, format="txt")).model_dump()
    assert rec["tables"]["active_disclosure"]["normative_documents"] == {"issued": None, "repealed": None, "in_force": None}
    assert rec["tables"]["active_disclosure"]["licensing"] == {"decisions": 3}
    msg = next(e["message"] for e in rec["errors"] if "normative_documents" in e["message"])
    assert "8855698" in msg and "readings" in msg and "8,855,698" in msg


@pytest.mark.parametrize("text,expected", [
    ("二、主动公开政府信息情况\n信息内容\t本年制发件数\t本年废止件数\t现行有效件数\n规章\t1\t0\t3\n", "2021"),
    ("二、主动公开政府信息情况\n信息内容\t本年新制作数量\t本年新公开数量\t对外公开总数量\n规章\t1\t0\t3\n", "2019"),
    ("附件：政府信息公开情况统计表\n统计指标 | 单位 | 统计数 |\n主动公开政府信息数 | 条 | 5 |\n", "legacy"),
    ("2023年本机关认真做好政府信息公开工作，全年主动公开信息100条。", "none"),
])
def test_template_detected_from_tables_not_year(text, expected):
    assert detect_template(text)[0] == expected


def test_legacy_figures_run_together_settled_by_the_quoted_figure():
    """平潭县 2012's 统计表 prints 20263542 (this year | cumulative); the text quotes 主动公开政府信息2026条."""
    got = _record(FIXTURES / "corpus_013_pingtan-county-gov-2012.txt")
    assert got["legacy_statistics"]["keys"]["proactive_total"] == 2026
    note = got["provenance"]["legacy_statistics.keys.proactive_total"]["note"]
    assert "20263542" in note and "quotes" in note
