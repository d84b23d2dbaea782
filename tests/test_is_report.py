"""is_report: a document is an annual report only when it has a report's shape (its title, its
opening naming itself, its sections or its tables), not because it is Chinese text about them."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import FIXTURES, LABELS, ROOT, SEEDS
from extractor.load import load_path
from extractor.record import extract_record

NOTICE = """关于做好2023年政府信息公开工作年度报告编制发布工作的通知

各县（市、区）人民政府办公室，市政府各部门、各直属机构：
根据《中华人民共和国政府信息公开条例》（以下简称《条例》）第四十九条、第五十条规定，为做好2023年政府信息公开工作年度报告（以下简称年度报告）编制发布工作，现将有关事项通知如下：
一、编制要求
各地各部门要严格按照《国务院办公厅政府信息公开办公室关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》（国办公开办函〔2021〕30号）要求，认真编制本行政机关年度报告。年度报告应包括以下内容：（一）总体情况；（二）主动公开政府信息情况；（三）收到和处理政府信息公开申请情况；（四）政府信息公开行政复议、行政诉讼情况；（五）存在的主要问题及改进情况；（六）其他需要报告的事项。
二、发布时间
各地各部门应于2024年1月31日前，通过本级政府门户网站政府信息公开专栏向社会公布年度报告，同时报送市政府办公室。
三、有关要求
要确保数据准确，表格中的数据应与正文表述保持一致，勾稽关系正确。未按时发布的，将在全市政务公开工作考核中予以扣分。
附件：1. 政府信息公开工作年度报告格式
      2. 年度报告审核要点

某某市人民政府办公室
2023年12月20日
"""

POLICY = """中华人民共和国政府信息公开条例
（2007年4月5日中华人民共和国国务院令第492号公布　2019年4月3日中华人民共和国国务院令第711号修订）
第一章　总　　则
第一条　为了保障公民、法人和其他组织依法获取政府信息，提高政府工作的透明度，建设法治政府，充分发挥政府信息对人民群众生产、生活和经济社会活动的服务作用，制定本条例。
第二条　本条例所称政府信息，是指行政机关在履行行政管理职能过程中制作或者获取的，以一定形式记录、保存的信息。
第三章　主动公开
第十九条　对涉及公众利益调整、需要公众广泛知晓或者需要公众参与决策的政府信息，行政机关应当主动公开。
第四章　依申请公开
第二十七条　除行政机关主动公开的政府信息外，公民、法人或者其他组织可以向地方各级人民政府申请获取相关政府信息。
第五章　监督和保障
第五十条　政府信息公开工作年度报告应当包括下列内容：（一）行政机关主动公开政府信息的情况；（二）行政机关收到和处理政府信息公开申请的情况；（三）因政府信息公开工作被申请行政复议、提起行政诉讼的情况；（四）政府信息公开工作存在的主要问题及改进情况；（五）其他需要报告的事项。
第五十一条　公民、法人或者其他组织认为行政机关在政府信息公开工作中侵犯其合法权益的，可以依法申请行政复议或者提起行政诉讼。
"""

NAVIGATION = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开年报_某某区人民政府</title></head>
<body><div class="wrap">
<div>首页 | 政务公开 | 政务服务 | 互动交流 | 走进某某</div>
<div>当前位置：首页 &gt; 政务公开 &gt; 政府信息公开年报</div>
<ul>
<li><a href="2024.html">某某区2023年政府信息公开工作年度报告</a> 2024-01-26</li>
<li><a href="2023.html">某某区2022年政府信息公开工作年度报告</a> 2023-01-30</li>
<li><a href="2022.html">某某区2021年政府信息公开工作年度报告</a> 2022-01-28</li>
<li><a href="2021.html">某某区2020年政府信息公开工作年度报告</a> 2021-01-29</li>
</ul>
<div>共4条 首页 上一页 1 下一页 尾页</div>
<div>网站地图 | 联系我们 | 主办单位：某某区人民政府办公室</div>
</div></body></html>
"""


NAVIGATION_HOME = """某某区人民政府
首页　政务公开　政务服务　互动交流　走进某某
政务公开
政府信息公开指南　政府信息公开制度　法定主动公开内容　政府信息公开年报　依申请公开
机构职能　政策文件　政策解读　规划计划　财政资金　人事信息　重点领域信息公开
网站地图　联系我们　主办单位：某某区人民政府办公室　ICP备案号：某ICP备00000000号
"""


INTERPRETATION = """《某某区2023年政府信息公开工作年度报告》解读
一、总体情况
2023年，某某区主动公开政府信息5236条，受理政府信息公开申请87件，均按期答复。
二、主动公开政府信息情况
全区各部门通过政府网站、政务新媒体等平台主动公开规范性文件、财政预决算等信息。
三、收到和处理政府信息公开申请情况
全年新收申请87件，上年结转3件，予以公开41件，部分公开12件。
四、政府信息公开行政复议、行政诉讼情况
全年因政府信息公开被申请行政复议2件，提起行政诉讼1件。
"""


def record_of(path: Path):
    docs = list(load_path(path))
    assert len(docs) == 1
    return extract_record(docs[0])


def classify_error(record) -> str:
    return next(e.message for e in record.errors if e.stage == "classify")


@pytest.mark.parametrize("name,content,why", [
    ("notice.txt", NOTICE, "a 通知 (notice)"),
    ("policy.txt", POLICY, "a 条例 (regulations)"),
    ("navigation.html", NAVIGATION, "a list of annual reports"),
    ("home.txt", NAVIGATION_HOME, "does not have the shape"),
    ("interpretation.txt", INTERPRETATION, "a 解读"),
])
def test_chinese_text_about_reports_is_not_a_report(tmp_path, name, content, why):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    record = record_of(path)
    assert record.is_report is False
    assert why in classify_error(record)
    assert record.template == "none" and record.tables.applications is None


def test_a_readme_is_not_a_report(tmp_path):
    # this project's own README: full of 政府信息公开工作年度报告, 主动公开, 依申请 — and no report
    path = tmp_path / "README.md"
    path.write_bytes((ROOT / "README.md").read_bytes())
    record = record_of(path)
    assert record.is_report is False
    assert "does not have the shape" in classify_error(record)


def test_notice_as_a_crawled_page_with_title_header(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text("标题: 关于做好2023年政府信息公开工作年度报告编制发布工作的通知\n发布时间: 2023-12-20 09:00\n"
                    "发布机构: 某某市人民政府办公室\n\n" + NOTICE.split("\n", 1)[1], encoding="utf-8")
    record = record_of(path)
    assert record.is_report is False and "通知" in classify_error(record)


def test_a_report_transmitted_by_a_notice_is_a_report(tmp_path):
    """关于印发…年度报告的通知 followed by the report with its tables: the report is there."""
    seed = (FIXTURES / "seed_002_5f6bec8eadb51f9b.txt").read_text(encoding="utf-8-sig")
    path = tmp_path / "transmitted.txt"
    path.write_text("关于印发平桥区民政局2024年政府信息公开工作年度报告的通知\n\n" + seed, encoding="utf-8")
    record = record_of(path)
    assert record.is_report is True and record.tables.applications is not None


def test_same_notice_without_tables_is_not(tmp_path):
    path = tmp_path / "transmitted.txt"
    path.write_text("关于印发某某局2024年政府信息公开工作年度报告的通知\n\n各科室：现将年度报告印发给你们，请认真贯彻落实。"
                    "各科室要对照年度报告查找问题，切实抓好整改落实，不断提升政务公开工作水平。", encoding="utf-8")
    assert record_of(path).is_report is False


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".txt", ".md", ".pdf")))
def test_every_seed_and_corpus_report_is_a_report(fixture):
    record = record_of(FIXTURES / fixture)
    assert record.is_report is True, [e.message for e in record.errors]


def test_seeds_without_their_title_line_are_still_reports(tmp_path):
    """Sections and tables make a report too: the seeds with their first (title) line cut off."""
    for seed in SEEDS:
        text = seed.read_text(encoding="utf-8-sig").strip().split("\n", 1)[1]
        path = tmp_path / seed.name
        path.write_text(text, encoding="utf-8")
        assert record_of(path).is_report is True, seed.name


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir() if p.suffix == ".csv"))
def test_export_rows_match_labels(fixture):
    import json

    labels = {r["row"]: r["is_report"] for r in json.loads((LABELS / f"{fixture}.json").read_text(encoding="utf-8"))["records"]}
    for doc in load_path(FIXTURES / fixture):
        assert extract_record(doc).is_report == labels[doc.row], (doc.row, doc.title)
