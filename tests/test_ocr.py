"""OCR: scan-like inputs made here from a real agency report (rendered, turned, JPEG-compressed)
read through the real pipeline and held to the hand labels; the layout rules on boxes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT, label
from scans import flat
from extractor.load import load_path, ocr
from extractor.load.ocr import Box, layout

pytestmark = pytest.mark.skipif(not ocr.available(), reason=ocr.MISSING)

REPORT = "corpus_001_huaian-hongze-district-gov-2023.pdf"
CELL_SHARE = 0.97


def _extract(tmp: Path, *inputs: Path, extra: tuple[str, ...] = (), preamble: str = "") -> tuple[list[dict], str]:
    """`extractor extract` in a child process, as a user runs it; its records and stderr."""
    feed = tmp / "feed.jsonl"
    code = (preamble + "import sys\nfrom extractor.cli import main\n"
            f"sys.exit(main(['extract', *{[str(p) for p in inputs]!r}, '-o', {str(feed)!r}, *{list(extra)!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert feed.exists(), proc.stderr
    return [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()], proc.stderr


def _failing_scopes(record: dict) -> set[tuple[str, str]]:
    return {(name, item["scope"]) for name, check in record["checks"].items()
            for item in check["items"] if item["status"] == "fail"}


@pytest.fixture(scope="module")
def text_layer_record(tmp_path_factory) -> dict:
    records, _ = _extract(tmp_path_factory.mktemp("text"), FIXTURES / REPORT)
    return records[0]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> tuple[dict, str]:
    """corpus_001 as a scan: 150 dpi, turned 0.8°, JPEG quality 70, wrapped into an image-only PDF."""
    from scans import image_pdf, page_images

    tmp = tmp_path_factory.mktemp("scan")
    pdf = image_pdf(page_images(FIXTURES / REPORT, dpi=150, angle=0.8, quality=70), tmp / "scan.pdf")
    records, stderr = _extract(tmp, pdf)
    return records[0], stderr


def test_scanned_report_tables_match_the_labels(scanned, text_layer_record):
    record, _ = scanned
    truth = flat(label(REPORT)["tables"])
    got = flat({k: v for k, v in record["tables"].items() if v})
    assert record["template"] == "2021"
    right = [k for k, v in truth.items() if got.get(k) == v]
    assert len(right) >= CELL_SHARE * len(truth), sorted(set(truth) - set(right))
    # A cell OCR got wrong is null, or an identity fails that holds on the text-layer PDF.
    new_failures = _failing_scopes(record) - _failing_scopes(text_layer_record)
    for key in set(truth) - set(right):
        assert got.get(key) is None or new_failures, (key, truth[key], got.get(key))


def test_scanned_report_provenance_has_page_and_box(scanned):
    record, _ = scanned
    cells = {k: v for k, v in record["provenance"].items() if k.startswith("tables.")}
    assert len(cells) > 150
    for key, prov in cells.items():
        assert prov["page"] in (2, 3, 4), key
        x0, top, x1, bottom = prov["box"]
        assert 0 <= x0 < x1 <= 595 and 0 <= top < bottom <= 842, key  # A4 in points
    fees = cells["tables.active_disclosure.fees.amount_wan_yuan"]
    assert fees["text"] == "7730.28" and fees["page"] == 3


def test_scanned_report_progress_and_warning(scanned):
    record, stderr = scanned
    assert [f"page {n} ({n}/5 OCRed" in stderr for n in range(1, 6)] == [True] * 5
    assert record["source"]["format"] == "pdf"
    assert not [e for e in record["errors"] if e["stage"] == "load"]


def test_png_of_a_long_page_is_read(tmp_path):
    """A PNG (pages 3–4 as one long image, as reports are posted on WeChat), read offline:
    every socket connect in the process raises."""
    from PIL import Image

    from scans import page_images

    top, bottom = page_images(FIXTURES / REPORT, dpi=150, angle=0.5, quality=80, pages=[3, 4])
    long = Image.new("RGB", (top.width, top.height + bottom.height), "white")
    long.paste(top, (0, 0))
    long.paste(bottom, (0, top.height))
    png = tmp_path / "report.png"
    long.save(png)
    no_network = ("import socket\n"
                  "def _refuse(*a, **k):\n    raise OSError('network is off in this test')\n"
                  "socket.socket.connect = _refuse\nsocket.create_connection = _refuse\n")
    records, stderr = _extract(tmp_path, png, preamble=no_network)
    record = records[0]
    assert record["source"]["format"] == "image", stderr
    truth = flat(label(REPORT)["tables"]["applications"])
    got = flat(record["tables"]["applications"] or {})
    right = [k for k, v in truth.items() if got.get(k) == v]
    assert len(right) >= CELL_SHARE * len(truth), sorted(set(truth) - set(right))
    prov = record["provenance"]["tables.applications.rows.new_received.total"]
    assert prov["text"] == "21" and prov["page"] == 1 and prov["box"][3] < top.height  # pixels


def test_models_ship_inside_the_package():
    import rapidocr

    models = Path(rapidocr.__file__).parent / "models"
    assert {p.name for p in models.glob("*.onnx")} >= {"PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"}


def test_mixed_pdf_ocrs_only_the_image_page(tmp_path):
    import pypdfium2

    from scans import image_pdf, page_images

    scan = image_pdf(page_images(FIXTURES / REPORT, pages=[5]), tmp_path / "p5.pdf")
    mixed = pypdfium2.PdfDocument.new()
    original = pypdfium2.PdfDocument(str(FIXTURES / REPORT))
    mixed.import_pages(original, [0])
    mixed.import_pages(pypdfium2.PdfDocument(str(scan)), [0])
    mixed.save(str(tmp_path / "mixed.pdf"))
    doc = next(load_path(tmp_path / "mixed.pdf"))
    first = next(load_path(_first_page(original, tmp_path)))
    # Page 1 as its text layer gives it; its last line runs on into page 2's first OCR'd line
    # (严格执行“分 | 人员跟班学习制度…), so the paragraph is joined across the page break.
    page_one = first.text.rstrip("\n")
    assert doc.text.startswith(page_one + "人员跟班学习制度")
    assert "read by OCR" in " ".join(doc.warnings) and "page(s) 2 read" in " ".join(doc.warnings)
    assert doc.regions and {r[2] for r in doc.regions} == {2}
    assert all(r[0] >= len(page_one) and doc.text[r[0]:r[1]] == r[4] for r in doc.regions)
    assert "六、其他需要报告的事项" in doc.text[len(page_one):]


def _first_page(original, tmp_path: Path) -> Path:
    import pypdfium2

    one = pypdfium2.PdfDocument.new()
    one.import_pages(original, [0])
    one.save(str(tmp_path / "first.pdf"))
    return tmp_path / "first.pdf"


def test_ocr_never_and_missing_packages(tmp_path):
    from scans import image_pdf, page_images

    scan = image_pdf(page_images(FIXTURES / REPORT, pages=[5]), tmp_path / "scan.pdf")
    records, _ = _extract(tmp_path, scan, extra=("--ocr", "never"))
    assert "OCR is off (--ocr never)" in records[0]["errors"][0]["message"]
    (tmp_path / "feed.jsonl").unlink()
    hide = "import sys\nsys.modules['rapidocr'] = None\n"  # as if the ocr extra were not installed
    records, _ = _extract(tmp_path, scan, preamble=hide)
    assert "pip install 'extractor[ocr]'" in records[0]["errors"][0]["message"]


# --- the layout rules, on boxes as the engine gives them -------------------------------------

def _box(text: str, x0: float, y0: float, w: float = 24, h: float = 30) -> Box:
    return Box(text, x0, y0, x0 + w, y0 + h)


def _table(rows: list[list[tuple[str, float]]], y0: float = 100) -> list[Box]:
    boxes = []
    for r, cells in enumerate(rows):
        for text, x in cells:
            w = 300 if x < 300 else 24
            boxes.append(_box(text, x, y0 + 45 * r, w=w))
    return boxes


def test_blank_cells_keep_their_column():
    boxes = _table([[("1.属于国家秘密", 100), ("3", 660), ("0", 720), ("1", 780), ("4", 840)],
                    [("2.其他法律行政法规禁止公开", 100), ("2", 660), ("2", 840)],
                    [("3.危及“三安全一稳定”", 100), ("5", 660), ("1", 720)]])
    assert [ln.text for ln in layout(boxes)] == [
        "1.属于国家秘密\t3\t0\t1\t4", "2.其他法律行政法规禁止公开\t2\t\t\t2", "3.危及“三安全一稳定”\t5\t1\t\t\t"]


def test_confusions_resolved_in_table_rows_only():
    narrow_one = Box("一", 780, 145, 790, 175)  # a 1 read as 一: narrow
    dash = Box("一", 838, 145, 868, 162)  # a printed dash read as 一: wide
    boxes = _table([[("（一）予以公开", 100), ("12", 660), ("0", 720), ("1", 780), ("13", 840)],
                    [("（二）部分公开", 100), ("。", 660), ("O", 720)]])
    boxes += [narrow_one, dash]
    boxes.append(_box("本机关共收到l件申请，答复O件。", 100, 400, w=600))  # prose: left alone
    assert [ln.text for ln in layout(boxes)] == [
        "（一）予以公开\t12\t0\t1\t13", "（二）部分公开\t0\t0\t1\t—", "本机关共收到l件申请，答复O件。"]


def test_skewed_rows_stay_rows():
    slope = 0.017  # 1° over a 900-pixel row
    rows = [[("一、本年新收", 100)] + [(str(n), 640 + 60 * n) for n in range(7)],
            [("二、上年结转", 100)] + [(str(n + 1), 640 + 60 * n) for n in range(7)]]
    boxes = []
    for r, cells in enumerate(rows):
        for text, x in cells:
            y = 100 + 40 * r + slope * x
            b = Box(text, x, y, x + (300 if x < 300 else 24), y + 30, slope=slope)
            boxes.append(b)
    boxes += [Box("本年度政府信息公开工作情况如下", 100, 40 + slope * 100, 700, 70 + slope * 100, slope=slope)] * 3
    texts = [ln.text for ln in layout(boxes)]
    assert "一、本年新收\t0\t1\t2\t3\t4\t5\t6" in texts and "二、上年结转\t1\t2\t3\t4\t5\t6\t7" in texts


def test_table_pasted_as_a_picture_on_a_text_page(tmp_path):
    """A text page whose table 三 is a picture (as many agencies paste it): the picture is OCRed,
    the text layer is read as text, nothing twice."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    from scans import page_images

    page3 = page_images(FIXTURES / REPORT, dpi=150, angle=0, quality=85, pages=[3])[0]
    table = page3.crop((0, 760, page3.width, 1640))  # table 三's rows, 150 dpi
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "picture-table.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("STSong-Light", 14)
    c.drawString(72, 780, "三、收到和处理政府信息公开申请情况")
    w, h = table.width * 72 / 150, table.height * 72 / 150
    c.drawImage(ImageReader(table), 0, 760 - h, width=w, height=h)
    c.drawString(72, 740 - h, "四、政府信息公开行政复议、行政诉讼情况")
    c.showPage()
    c.save()
    doc = next(load_path(path))
    assert doc.text.count("三、收到和处理政府信息公开申请情况") == 1
    assert "一、本年新收政府信息公开申请数量\t21\t0\t0\t0\t0\t0\t21" in doc.text
    assert "2.没有现成信息需要另行制作\t3\t0\t0\t0\t0\t0\t3" in doc.text
    assert doc.text.index("申请情况") < doc.text.index("本年新收") < doc.text.index("四、政府信息公开")
    assert any("image(s) read by OCR" in w for w in doc.warnings)
    # every OCR box lies on the picture (placed 82 pt from the top of the page, h tall)
    assert doc.regions and all(82 - 1 <= r[3][1] and r[3][3] <= 82 + h + 1 for r in doc.regions)


def test_provenance_names_the_box_and_what_ocr_read():
    from extractor.load.ocr import Line, provenance_fields, regions_of

    boxes = [_box("（一）予以公开", 100, 100, w=300), _box("。", 660, 100), _box("12", 720, 100)]
    row = next(ln for ln in layout(boxes + [_box("13", 720, 145), _box("2", 660, 145)]) if ln.text.startswith("（一）"))
    assert row.text == "（一）予以公开\t0\t12"
    regions = regions_of(row, page=4, scale=2.0, offset=10)
    text = " " * 10 + row.text
    zero = text.index("\t0") + 1
    assert provenance_fields(regions, text, zero, zero + 1) == {"page": 4, "box": [330.0, 50.0, 342.0, 65.0],
                                                                "note": "OCR read '。'"}
    twelve = text.index("12")
    assert provenance_fields(regions, text, twelve, twelve + 2) == {"page": 4, "box": [360.0, 50.0, 372.0, 65.0]}
    # normalisation removed 3 characters before the table: the value's region is still found
    assert provenance_fields(regions, text[3:], twelve - 3, twelve - 1)["box"] == [360.0, 50.0, 372.0, 65.0]
    assert isinstance(row, Line)


def test_a_column_blank_throughout_keeps_its_place_by_the_header():
    header = [_box("自然人", 650, 40, w=50), _box("商业企业", 712, 40, w=50), _box("科研机构", 772, 40, w=50),
              _box("总计", 832, 40, w=50)]
    rows = _table([[("一、本年新收", 100), ("3", 662), ("1", 782), ("4", 842)],
                   [("二、上年结转", 100), ("2", 662), ("5", 782), ("7", 842)]])
    texts = [ln.text for ln in layout(header + rows)]
    assert texts[-2:] == ["一、本年新收\t3\t\t1\t4", "二、上年结转\t2\t\t5\t7"]


def test_a_number_in_prose_split_into_boxes_stays_prose():
    boxes = _table([[("（一）予以公开", 100), ("12", 660), ("0", 720)]])
    boxes += [_box("全年共收到申请", 100, 300, w=200), _box("21", 320, 300), _box("件。", 360, 300, w=40)]
    assert [ln.text for ln in layout(boxes)][-1] == "全年共收到申请 21 件。"
