"""Every input format becomes the same Document: HTML, DOCX and PDF files written here from the
seeds' tables must give the table reader exactly the cells of the hand labels; normalise strips
what sites add and nothing else."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from extractor.detect import detect_template
from extractor.document import LoadError
from extractor.load import load_path
from extractor.normalise import normalise
from extractor.tables import read_tables
from extractor.textutil import fold_width

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "evals" / "fixtures"
LABELS = ROOT / "evals" / "labels"


def label_of(fixture: str) -> dict:
    return json.loads((LABELS / f"{fixture}.json").read_text(encoding="utf-8"))["records"][0]


# ---------------------------------------------------------------------------------------------
# The report, as blocks: ("h", heading), ("p", paragraph), ("table", rows). A table row is a list
# of (text, rowspan, colspan) cells in HTML order. Labels are printed as in seed 002's tables;
# the numbers come from a hand label, so every writer is checked against it.

def V(x) -> str:
    return "" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))


APPLICANTS = ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
              "legal_service_org", "other_org", "total")

# (row key, printed label) of table 三, grouped as the 2021 format prints them
WITHHELD = [("withheld_state_secret", "1. 属于国家秘密"), ("withheld_prohibited_by_law", "2. 其他法律行政法规禁止公开"),
            ("withheld_security_stability", "3. 危及“三安全一稳定”"), ("withheld_third_party_rights", "4. 保护第三方合法权益"),
            ("withheld_internal_affairs", "5. 属于三类内部事务信息"), ("withheld_process_info", "6. 属于四类过程性信息"),
            ("withheld_enforcement_files", "7. 属于行政执法案卷"), ("withheld_admin_query", "8. 属于行政查询事项")]
UNABLE = [("unable_not_held", "1. 本机关不掌握相关政府信息"), ("unable_needs_creation", "2. 没有现成信息需要另行制作"),
          ("unable_unclear", "3. 补正后申请内容仍不明确")]
NOT_PROCESSED = [("not_processed_petition", "1. 信访举报投诉类申请"), ("not_processed_repeated", "2. 重复申请"),
                 ("not_processed_publications", "3. 要求提供公开出版物"), ("not_processed_excessive", "4. 无正当理由大量反复申请"),
                 ("not_processed_confirmation", "5. 要求行政机关确认或重新出具已获取信息")]
OTHER = [("other_overdue_correction", "1. 申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
         ("other_overdue_fee", "2. 申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
         ("other_misc", "3. 其他")]


def table_two(ad: dict) -> list:
    def caption(t):
        return [(t, 1, 4)]

    def one(label, key, col):
        return [(label, 1, 1), (V(ad[key][col]), 1, 3)]
    return [
        caption("第二十条第（一）项"),
        [("信息内容", 1, 1), ("本年制发件数", 1, 1), ("本年废止件数", 1, 1), ("现行有效件数", 1, 1)],
        [("规章", 1, 1)] + [(V(ad["regulations"][c]), 1, 1) for c in ("issued", "repealed", "in_force")],
        [("行政规范性文件", 1, 1)] + [(V(ad["normative_documents"][c]), 1, 1) for c in ("issued", "repealed", "in_force")],
        caption("第二十条第（五）项"),
        [("信息内容", 1, 1), ("本年处理决定数量", 1, 3)],
        one("行政许可", "licensing", "decisions"),
        caption("第二十条第（六）项"),
        [("信息内容", 1, 1), ("本年处理决定数量", 1, 3)],
        one("行政处罚", "punishment", "decisions"),
        one("行政强制", "enforcement", "decisions"),
        caption("第二十条第（八）项"),
        [("信息内容", 1, 1), ("本年收费金额（单位：万元）", 1, 3)],
        one("行政事业性收费", "fees", "amount_wan_yuan"),
    ]


def _values(rows: dict, key: str) -> list:
    return [(V(rows[key][c]), 1, 1) for c in APPLICANTS]


def table_three_header() -> list:
    return [
        [("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), ("申请人情况", 1, 7)],
        [("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)],
        [("商业企业", 1, 1), ("科研机构", 1, 1), ("社会公益组织", 1, 1), ("法律服务机构", 1, 1), ("其他", 1, 1)],
    ]


def table_three_rows(rows: dict) -> list:
    """The body rows of table 三 with its real page's spans: 三、本年度办理结果 down the first
    column, each group label down the second."""
    out = [
        [("一、本年新收政府信息公开申请数量", 1, 3)] + _values(rows, "new_received"),
        [("二、上年结转政府信息公开申请数量", 1, 3)] + _values(rows, "carried_over"),
        [("三、本年度办理结果", 22, 1), ("（一）予以公开", 1, 2)] + _values(rows, "granted"),
        [("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", 1, 2)] + _values(rows, "partially_granted"),
    ]
    for heading, group in (("（三）不予公开", WITHHELD), ("（四）无法提供", UNABLE),
                           ("（五）不予处理", NOT_PROCESSED), ("（六）其他处理", OTHER)):
        for i, (key, label) in enumerate(group):
            lead = [(heading, len(group), 1)] if i == 0 else []
            out.append(lead + [(label, 1, 1)] + _values(rows, key))
    out.append([("（七）总计", 1, 2)] + _values(rows, "results_total"))
    out.append([("四、结转下年度继续办理", 1, 3)] + _values(rows, "carried_to_next_year"))
    return out


def table_four(rl: dict) -> list:
    heads = [("结果维持", 1, 1), ("结果纠正", 1, 1), ("其他结果", 1, 1), ("尚未审结", 1, 1), ("总计", 1, 1)]
    values = [(V(rl[b][c]), 1, 1) for b in ("review", "litigation_direct", "litigation_after_review")
              for c in ("upheld", "corrected", "other", "pending", "total")]
    return [
        [("行政复议", 1, 5), ("行政诉讼", 1, 10)],
        [(t, 2, 1) for t, _, _ in heads] + [("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)],
        heads + heads,
        values,
    ]


PROSE = ("2024 年，平桥区民政局以习近平新时代中国特色社会主义思想为指导，认真贯彻落实国家、省 2024 年政务公开"
         "工作重点任务要求，准确把握政务公开工作的职责定位和面临的形势要求，坚持及时、准确、规范公开政府信息，"
         "切实保障人民群众依法获取政府信息。")


def report_blocks(label: dict) -> list:
    t = label["tables"]
    return [
        ("h", "民政局 2024 年政府信息公开工作年度报告"),
        ("h", "一、总体情况"),
        ("p", PROSE),
        ("h", "二、主动公开政府信息情况"),
        ("table", table_two(t["active_disclosure"])),
        ("h", "三、收到和处理政府信息公开申请情况"),
        ("table", table_three_header() + table_three_rows(t["applications"]["rows"])),
        ("h", "四、政府信息公开行政复议、行政诉讼情况"),
        ("table", table_four(t["review_litigation"])),
        ("h", "五、存在的主要问题及改进情况"),
        ("p", "存在问题：政府网站和政务新媒体运维监管仍需强化，重点领域信息主动公开仍需深化。"),
        ("h", "六、其他需要报告的事项"),
        ("p", "2024年度，平桥区民政局没有产生信息公开处理费。"),
    ]


def place(rows: list) -> list[tuple[str, int, int, int, int]]:
    """(text, row, col, rowspan, colspan) for each cell: the writers' own placement, kept
    independent of the loader's."""
    taken, out = set(), []
    for r, cells in enumerate(rows):
        c = 0
        for text, rs, cs in cells:
            while (r, c) in taken:
                c += 1
            for dr in range(rs):
                for dc in range(cs):
                    taken.add((r + dr, c + dc))
            out.append((text, r, c, rs, cs))
            c += cs
    return out


def width_of(rows: list) -> int:
    return max(c + cs for _, _, c, _, cs in place(rows))


# ---------------------------------------------------------------------------------------------
# Writers

def write_html(blocks: list, path: Path) -> None:
    body = []
    for kind, content in blocks:
        if kind == "h":
            body.append(f"<h2>{content}</h2>" if "、" in content else f"<h1>{content}</h1>")
        elif kind == "p":
            body.append(f"<p>&nbsp;&nbsp;{content}</p>")
        else:
            trs = []
            for row in content:
                tds = []
                for text, rs, cs in row:
                    attrs = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
                    # a real page breaks long headers and pads cells with &nbsp;
                    text = text.replace("商业企业", "商业<br>企业").replace("结果维持", "结果<br/>维持")
                    tds.append(f"<td{attrs}><p>{text or '&nbsp;'}</p></td>")
                trs.append("<tr>" + "".join(tds) + "</tr>")
            body.append('<table border="1" cellspacing="0"><tbody>' + "\n".join(trs) + "</tbody></table>")
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>民政局2024年政府信息公开工作年度报告_平桥区人民政府</title>
<style>td {{ border: 1px solid }}</style><script>var nav = "首页 政务公开 不要出现";</script></head>
<body>
<header><div class="logo">平桥区人民政府 网站头部</div></header>
<div class="top-menu"><ul><li>首页</li><li>政务公开</li><li>政务服务</li></ul></div>
<div class="breadcrumb">当前位置：首页 &gt; 政务公开 &gt; 年度报告</div>
<div id="content" class="article-body">
{chr(10).join(body)}
</div>
<div class="share-bar">分享到：微信 微博</div>
<aside>相关链接 侧栏</aside>
<div id="footer">主办单位：平桥区人民政府办公室 版权所有</div>
</body></html>"""
    path.write_text(page, encoding="utf-8")


def write_docx(blocks: list, path: Path) -> None:
    import docx

    document = docx.Document()
    for kind, content in blocks:
        if kind == "h":
            document.add_heading(content, level=1 if "、" not in content else 2)
        elif kind == "p":
            document.add_paragraph(content)
        else:
            cells = place(content)
            table = document.add_table(rows=len(content), cols=width_of(content))
            table.style = "Table Grid"
            for text, r, c, rs, cs in cells:
                origin = table.cell(r, c)
                if rs > 1 or cs > 1:
                    origin = origin.merge(table.cell(r + rs - 1, c + cs - 1))
                origin.text = text
    document.save(str(path))


def write_pdf(blocks: list, path: Path, split_at: str = "（四）无法提供", repeat_header: bool = True) -> None:
    """A4 PDF in the STSong-Light CID font, ruled tables; table 三 is cut before `split_at` and
    continued on page 2 (with its three header rows repeated when repeat_header), as a long
    table breaks in a real report. Page numbers are printed as — N —."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=16, wordWrap="CJK",
                          firstLineIndent=22)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, firstLineIndent=0, spaceBefore=6)
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=7, leading=9, wordWrap="CJK")

    def rl_table(rows: list, widths: list[float]) -> Table:
        n_cols = len(widths)
        grid = [["" for _ in range(n_cols)] for _ in rows]
        style = [("GRID", (0, 0), (-1, -1), 0.5, "black"), ("FONT", (0, 0), (-1, -1), "STSong-Light", 7),
                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
        for text, r, c, rs, cs in place(rows):
            grid[r][c] = text if text.replace(".", "").isdigit() else Paragraph(text, cell)
            if rs > 1 or cs > 1:
                style.append(("SPAN", (c, r), (c + cs - 1, r + rs - 1)))
        return Table(grid, colWidths=widths, style=TableStyle(style))

    story = []
    for kind, content in blocks:
        if kind in ("h", "p"):
            story.append(Paragraph(content, heading if kind == "h" else body))
            continue
        n_cols = width_of(content)
        if n_cols == 4:
            story.append(rl_table(content, [110, 110, 110, 130]))
        elif n_cols == 15:
            story.append(rl_table(content, [31] * 15))
        else:
            widths = [48, 64, 130] + [34] * 7
            header, rows = content[:3], content[3:]
            cut = next(i for i, row in enumerate(rows) if any(t == split_at for t, _, _ in row))
            first, second = rows[:cut], rows[cut:]
            # the 三、本年度办理结果 span is cut in two, as on a real page break
            first = [[(t, min(rs, len(first) - i), cs) for t, rs, cs in row] for i, row in enumerate(first)]
            covered = 2 + 22 - cut  # rows of the 三、本年度办理结果 span (body rows 2..23) left
            second = [[("", covered, 1)] + second[0]] + second[1:]
            story.append(rl_table(header + first, widths))
            story.append(PageBreak())
            story.append(rl_table((header if repeat_header else []) + second, widths))

    def page_number(canvas, doc):
        canvas.setFont("STSong-Light", 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"— {doc.page} —")

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=50, rightMargin=50, topMargin=50, bottomMargin=60)
    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)


WRITERS = {"html": write_html, "docx": write_docx, "pdf": write_pdf}
SUFFIX = {"html": ".html", "docx": ".docx", "pdf": ".pdf"}
# seed 002 and seed 000 are the tables to reproduce; corpus 003's label adds a set of numbers
# that are all different, so a cell read from the wrong column cannot pass by being 0 too.
SOURCES = ["seed_002_5f6bec8eadb51f9b.txt", "seed_000_c67c284a41079efd.txt",
           "corpus_003_huaian-city-gov-2024.pdf"]


def read_back(path: Path):
    docs = list(load_path(path))
    assert len(docs) == 1
    doc = normalise(docs[0])
    text = fold_width(doc.text)
    template, at = detect_template(text)
    return doc, template, read_tables(text, template, at)


def assert_tables_match(tables, label: dict) -> None:
    want = label["tables"]
    pairs = [("active_disclosure", want["active_disclosure"]),
             ("applications", want["applications"]["rows"]),
             ("review_litigation", want["review_litigation"])]
    for name, expected in pairs:
        read = getattr(tables, name)
        assert read is not None, f"table {name} not found"
        got = read.values()
        wrong = [(r, c, v, got.get(r, {}).get(c, "ABSENT")) for r, cols in expected.items()
                 for c, v in cols.items() if got.get(r, {}).get(c, "ABSENT") != v]
        assert not wrong, f"{name}: {wrong[:5]} (errors: {read.errors[:3]})"


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
@pytest.mark.parametrize("source", SOURCES)
def test_written_report_reads_as_labelled(tmp_path, fmt, source):
    label = label_of(source)
    path = tmp_path / f"report{SUFFIX[fmt]}"
    WRITERS[fmt](report_blocks(label), path)
    doc, template, tables = read_back(path)
    assert doc.format == fmt
    assert template == label["template"] == "2021"
    assert_tables_match(tables, label)
    # the header row of table 三 and the section headings are there once, as lines
    assert doc.text.count("申请人情况") == 1
    for heading in ("一、总体情况", "四、政府信息公开行政复议、行政诉讼情况", "六、其他需要报告的事项"):
        assert f"\n{heading}\n" in doc.text


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_blank_cells_stay_null(tmp_path, fmt):
    """Blank cells first, in the middle and last in a row come back as null, not shifted."""
    import copy

    label = copy.deepcopy(label_of(SOURCES[2]))
    t = label["tables"]
    t["active_disclosure"]["regulations"]["in_force"] = None  # last cell of its row
    t["active_disclosure"]["normative_documents"]["issued"] = None  # first value cell
    t["active_disclosure"]["licensing"]["decisions"] = None  # the only cell, spanning three columns
    rows = t["applications"]["rows"]
    rows["carried_over"]["total"] = None
    rows["granted"]["natural_person"] = None
    rows["withheld_admin_query"]["research_institution"] = None
    path = tmp_path / f"blanks{SUFFIX[fmt]}"
    WRITERS[fmt](report_blocks(label), path)
    _, _, tables = read_back(path)
    assert_tables_match(tables, label)


def test_blank_cell_in_table_four(tmp_path):
    import copy

    label = copy.deepcopy(label_of(SOURCES[2]))
    label["tables"]["review_litigation"]["litigation_after_review"]["total"] = None
    path = tmp_path / "blank4.html"
    write_html(report_blocks(label), path)
    _, _, tables = read_back(path)
    assert_tables_match(tables, label)


def test_grid_lines_layout():
    from extractor.load.grid import grid_lines

    assert grid_lines([["第二十条第（五）项"], ["行政许可", "550", None, None]]) == ["第二十条第（五）项", "行政许可\t550"]
    assert grid_lines([["规章", "1", "0", ""]]) == ["规章\t1\t0\t\t"]  # the blank last cell is kept
    assert grid_lines([[None, "（二）部分\n公开", None, "4"], ["", None, ""]]) == ["\t（二）部分公开\t\t4"]
    assert grid_lines([["结果\n维持", "Total\ncount"]]) == ["结果维持\tTotal count"]


def test_html_drops_site_chrome_and_keeps_title(tmp_path):
    path = tmp_path / "report.html"
    write_html(report_blocks(label_of(SOURCES[0])), path)
    doc, _, _ = read_back(path)
    assert doc.title == "民政局2024年政府信息公开工作年度报告_平桥区人民政府"
    for noise in ("不要出现", "网站头部", "政务服务", "当前位置", "分享到", "侧栏", "版权所有"):
        assert noise not in doc.text
    assert doc.text.startswith("民政局 2024 年政府信息公开工作年度报告\n一、总体情况\n")
    assert any("dropped site chrome" in w for w in doc.warnings)
    # <br> inside a header cell is a wrap, not two cells; &nbsp; padding is an empty cell
    assert "\t商业企业\t" in doc.text
    assert "\n三、本年度办理结果\t（一）予以公开\t\t0\t" in doc.text


def test_html_rowspan_colspan_grid(tmp_path):
    path = tmp_path / "grid.html"
    path.write_text("<table><tr><td rowspan=2>甲</td><td colspan=2>乙</td><td>1</td></tr>"
                    "<tr><td>丙</td><td></td><td>2</td></tr>"
                    "<tr><td colspan=4>说明</td></tr></table>", encoding="utf-8")
    doc = next(load_path(path))
    # the rowspan and colspan positions stay empty cells; the empty last-but-one cell too;
    # a row that is one cell across the table is a caption line
    assert doc.text == "甲\t乙\t\t1\n\t丙\t\t2\n说明\n"


def test_html_gbk_declared_by_meta_charset(tmp_path):
    text = "<html><head><meta charset=gbk><title>朱镕基</title></head><body><p>政府信息公开工作年度报告 堃</p></body></html>"
    path = tmp_path / "gbk.htm"
    path.write_bytes(text.encode("gbk"))
    doc = next(load_path(path))
    assert doc.encoding == "gb18030"
    assert doc.title == "朱镕基"
    assert doc.text == "政府信息公开工作年度报告 堃\n"


def test_html_gb18030_without_declaration(tmp_path):
    text = "<html><body><h1>年度报告</h1><p>政府信息公开 𠀀 — 统计</p></body></html>"
    path = tmp_path / "nodecl.html"
    path.write_bytes(text.encode("gb18030"))
    doc = next(load_path(path))
    assert doc.encoding == "gb18030"
    assert doc.title == "年度报告"
    assert doc.text == "年度报告\n政府信息公开 𠀀 — 统计\n"


def test_html_declared_charset_that_lies_falls_back(tmp_path):
    path = tmp_path / "lie.html"
    path.write_bytes('<meta charset="utf-8"><p>信息公开年报</p>'.encode("gb18030"))
    doc = next(load_path(path))
    assert "信息公开年报" in doc.text
    assert any("does not fit" in w for w in doc.warnings)


def test_docx_merged_cells_written_once(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("表前")
    table = document.add_table(rows=3, cols=4)
    for r in range(3):
        for c in range(4):
            table.cell(r, c).text = f"{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 3)).text = "标题行"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "纵"
    table.cell(1, 1).merge(table.cell(1, 2)).text = "横"
    document.add_paragraph("表后")
    path = tmp_path / "m.docx"
    document.save(str(path))
    doc = next(load_path(path))
    assert doc.text == "表前\n标题行\n纵\t横\t\t13\n\t21\t22\t23\n表后\n"


def test_pdf_page_numbers_and_continued_table(tmp_path):
    label = label_of(SOURCES[2])
    path = tmp_path / "split.pdf"
    write_pdf(report_blocks(label), path)
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        pages = [p.extract_text() for p in pdf.pages]
    # the fixture really does what the test means: table 三 runs over a page break,
    # with its header repeated on the second page
    assert len(pages) >= 2
    assert "1.属于国家秘密" in pages[0].replace(" ", "") and "（七）总计" in pages[1].replace(" ", "")
    assert "申请人情况" in pages[1]
    doc = next(load_path(path))
    assert "—" not in doc.text  # — 1 — page numbers gone
    assert doc.text.count("申请人情况") == 1
    assert any("dropped 3 table header row(s)" in w for w in doc.warnings)
    # the paragraph wrapped over several lines comes back as one line
    assert PROSE.replace(" ", "") in doc.text.replace(" ", "")


def test_pdf_continued_table_without_repeated_header(tmp_path):
    label = label_of(SOURCES[2])
    path = tmp_path / "split2.pdf"
    write_pdf(report_blocks(label), path, repeat_header=False)
    doc, template, tables = read_back(path)
    assert_tables_match(tables, label)
    assert not any("repeated" in w for w in doc.warnings)


@pytest.mark.parametrize("fixture", ["corpus_001_huaian-hongze-district-gov-2023.pdf",
                                     "corpus_003_huaian-city-gov-2024.pdf"])
def test_real_pdfs(fixture):
    label = label_of(fixture)
    doc, template, tables = read_back(FIXTURES / fixture)
    assert template == label["template"]
    assert_tables_match(tables, label)
    assert "- 3 -" not in doc.text
    assert "\n五、存在的主要问题及改进情况\n" in doc.text


def test_scanned_pdf_needs_ocr(tmp_path, monkeypatch):
    from PIL import Image, ImageDraw

    from extractor.load import ocr
    monkeypatch.setattr(ocr, "MODE", "never")  # as `--ocr never`; OCR itself: test_ocr.py
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(image).rectangle((20, 20, 380, 60), outline="black")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    buf.seek(0)
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(buf), 50, 500, width=400, height=200)
    c.showPage()
    c.save()
    with pytest.raises(LoadError, match="OCR"):
        list(load_path(path))

    # one text page and one scanned page: read, with an error-level warning naming the page
    buf.seek(0)
    mixed = tmp_path / "mixed.pdf"
    c = canvas.Canvas(str(mixed), pagesize=A4)
    c.setFont("Helvetica", 12)
    c.drawString(72, 700, "Annual report, page one")
    c.showPage()
    c.drawImage(ImageReader(buf), 50, 500, width=400, height=200)
    c.showPage()
    c.save()
    doc = next(load_path(mixed))
    assert doc.text == "Annual report, page one\n"
    assert any(w.startswith("error: pdf: pages 2 have no text layer") for w in doc.warnings)


def test_broken_files_raise_load_error(tmp_path):
    bad_pdf = tmp_path / "bad.pdf"
    bad_pdf.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(LoadError):
        list(load_path(bad_pdf))
    bad_docx = tmp_path / "bad.docx"
    bad_docx.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(LoadError, match=".doc"):
        list(load_path(bad_docx))


# ---------------------------------------------------------------------------------------------
# normalise

def _load(fixture: str):
    return next(load_path(FIXTURES / fixture))


def test_normalise_sharing_site_page():
    raw = _load("seed_003_efc789b651537edf.txt")
    doc = normalise(raw)
    assert doc.title == "2023年市区民政政务讯息工作报告"
    for chrome in ("收藏 分享", "上传人", "文档编号", "_第1页", "第1页 / 共7页", "亲,该文档总共",
                   "资源描述", "下载 相关 举报", "copyright", "ICP备", "当前位置"):
        assert chrome not in doc.text, chrome
    # page markers joined: the word the site cut in two is whole again
    assert "坚持“公开为原那么,不公开为例外" in doc.text
    assert "最便利、最快捷" in doc.text
    assert "\n2、" not in doc.text and not doc.text.lstrip().startswith("1、")
    # the report's own enumeration stays
    assert " 1、各级各部门的重视" in doc.text and " 2、信息公开的方式方法" in doc.text
    assert raw.text.count("\n") > doc.text.count("\n")
    assert any("page markers" in w for w in doc.warnings)


def test_normalise_crawler_page():
    raw = _load("corpus_011_pingtan-zone-2011.txt")
    doc = normalise(raw)
    assert doc.title == "平潭综合实验区2011年政府信息公开工作年度报告"
    assert doc.fields["发布时间"] == "2012-04-11 00:00"
    assert doc.fields["发布机构"] == "平潭综合实验区管委会办公室"
    assert doc.fields["原文链接"].startswith("https://www.pingtan.gov.cn/")
    assert "文号" not in doc.fields  # empty in the header
    assert "当前位置" not in doc.text and "QQ空间" not in doc.text and "-->" not in doc.text
    assert "\n本报告主要根据《中华人民共和国政府信息公开条例》" in doc.text
    assert doc.text.rstrip().endswith("行政申诉数 条 0 0")
    # everything else is byte-identical: removing the two cut pieces gives back the input
    nav_start = raw.text.index("当前位置")
    nav_end = raw.text.index("本报告主要根据")
    assert doc.text == raw.text[:nav_start] + raw.text[nav_end:raw.text.rindex(" 附件下载")]


def test_normalise_word_leftovers_and_entities():
    doc = normalise(_load("corpus_018_pingtan-zone-2016.txt"))
    assert "<!--" not in doc.text and "-->" not in doc.text
    assert "相关内容。7、公共监管信息公开情况" in doc.text
    from extractor.document import Document

    d = Document(text="一、总体情况&nbsp;&nbsp;本年&ldquo;公开&rdquo; R&amp;D &amp;nbsp;x &#20844;", path="x", sha256="0" * 64,
                 format="txt")
    out = normalise(d)
    assert out.text == "一、总体情况  本年“公开” R&D  x 公"
    assert d.text.startswith("一、总体情况&nbsp;")  # pure: the input is untouched


def test_normalise_leaves_clean_text_alone():
    for fixture in ("seed_002_5f6bec8eadb51f9b.txt", "seed_001_0201cc4015fa0c2d.txt",
                    "corpus_008_shanghai-stcsm-2024-ocr-markdown.md"):
        raw = _load(fixture)
        assert normalise(raw).text == raw.text


def test_normalise_is_idempotent():
    for fixture in ("seed_003_efc789b651537edf.txt", "corpus_011_pingtan-zone-2011.txt",
                    "seed_000_c67c284a41079efd.txt"):
        once = normalise(_load(fixture))
        assert normalise(once).text == once.text
