"""Scraper exports: one Document per data row, and the rows that are not annual reports marked
exactly as the hand labels say."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from extractor.document import LoadError
from extractor.load import load_path
from extractor.load.exports import classify

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "evals" / "fixtures"
LABELS = ROOT / "evals" / "labels"

REAL_CSVS = [("corpus_004_hebei-dept-science-tech-2016-2023.csv", 11),
             ("corpus_006_hebei-dept-education-2013-2023.csv", 17)]

REPORT_TEXT = ("根据《中华人民共和国政府信息公开条例》规定，现公布本机关2023年政府信息公开工作年度报告。"
               "一、总体情况 本年度主动公开政府信息120条。二、主动公开政府信息情况 …")


@pytest.mark.parametrize("fixture,rows", REAL_CSVS)
def test_real_csv_rows_and_reports(fixture, rows):
    labels = {r["row"]: r for r in json.loads((LABELS / f"{fixture}.json").read_text(encoding="utf-8"))["records"]}
    docs = list(load_path(FIXTURES / fixture))
    assert len(docs) == rows == len(labels)
    assert [d.row for d in docs] == list(range(1, rows + 1))
    assert len({d.id for d in docs}) == rows  # one id per row, from the file's bytes
    for d in docs:
        assert (d.not_report is None) == labels[d.row]["is_report"], (d.row, d.title, d.not_report)
        assert d.format == "csv" and d.encoding == "utf-8"
        assert d.title  # from 标题
        assert "发布时间" in d.fields and "时间" not in d.fields  # 时间 is renamed
        assert "内容" not in d.fields and "标题" not in d.fields
        assert "\r" not in d.text


def test_real_csv_reasons():
    docs = {d.row: d for d in load_path(FIXTURES / "corpus_006_hebei-dept-education-2013-2023.csv")}
    assert "政府网站工作年度报表" in docs[2].not_report
    assert "no report text" in docs[7].not_report  # the 2020 report row lost its content
    assert docs[11].not_report is None  # the 2018 统计表 stands as its own record
    assert docs[17].not_report is None  # 2013: titled 政府信息公开总结, still a report
    assert docs[1].fields["发布时间"] == "2024年01月26日"
    assert docs[1].fields["原文链接"].startswith("http://jyt.hebei.gov.cn/")


def test_jsonl_written_here(tmp_path):
    records = [
        {"title": "某局2023年政府信息公开工作年度报告", "content": REPORT_TEXT, "date": "2024-01-20",
         "url": "https://example.gov.cn/a.html"},
        {"title": "某局2023年政府网站工作年度报表", "content": "", "date": "2024-01-10"},
        {"title": "某局2023年法治政府建设年度报告", "content": "2023年，我局深入推进法治政府建设。" * 5},
        {"title": "关于印发某某工作方案的通知", "content": "各有关单位：现将某某工作方案印发给你们，请结合实际认真贯彻执行。" * 3},
        {"title": "空行", "content": "   \n  "},
        {"标题": "另一种键名", "text": "政府信息公开工作年度报告" * 5, "extra": {"nested": 1}},
    ]
    path = tmp_path / "export.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n", encoding="utf-8")
    docs = list(load_path(path))
    assert [d.row for d in docs] == [1, 2, 3, 4, 5, 6]
    first = docs[0]
    assert first.format == "jsonl" and first.text == REPORT_TEXT
    assert first.title == "某局2023年政府信息公开工作年度报告"
    assert first.fields == {"发布时间": "2024-01-20", "原文链接": "https://example.gov.cn/a.html"}
    assert first.not_report is None
    assert "网站工作年度报表" in docs[1].not_report
    assert "法治政府建设" in docs[2].not_report
    assert "a 通知 (notice)" in docs[3].not_report  # its title names another kind of document
    assert "no report text" in docs[4].not_report
    # records need not share keys: each takes its own content and title key
    assert docs[5].text == "政府信息公开工作年度报告" * 5 and docs[5].title == "另一种键名"
    assert docs[5].fields == {"extra": '{"nested": 1}'}


def test_gb18030_csv_with_crlf_cells(tmp_path):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["标题", "时间", "正文"])
    w.writerow(["政府信息公开工作年度报告", "2021-01-01", REPORT_TEXT.replace("。", "。\r\n")])
    path = tmp_path / "gbk.csv"
    path.write_bytes(buf.getvalue().encode("gb18030"))
    docs = list(load_path(path))
    assert len(docs) == 1 and docs[0].encoding == "gb18030"
    assert docs[0].text == REPORT_TEXT.replace("。", "。\n")
    assert docs[0].not_report is None


def test_csv_without_content_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LoadError, match="content column"):
        list(load_path(path))


def test_bad_jsonl_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"content": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(LoadError, match="line 2"):
        list(load_path(path))


def test_classify_rules():
    assert classify("政府信息公开工作年度报告", "短") is not None
    assert classify("某市政府网站年度工作报表", REPORT_TEXT) is not None
    assert classify(None, REPORT_TEXT) is None
    # the outline alone is enough when no word names the report
    outline = ("一、概述 我厅推进政府信息公开。二、主动公开情况 公开信息100条。三、依申请公开情况 收到申请2件。"
               "四、行政复议和行政诉讼情况 无。五、存在的主要问题及改进措施 还需加强。")
    assert classify("政府信息公开总结", outline) is None
