"""OCR of page images: text boxes → lines in reading order, table rows → the TSV grid lines the
table reader reads (the same layout `grid.py` gives real grids).

The engine is RapidOCR (PP-OCRv6 detection and recognition, ONNX): its Chinese models ship
inside the `rapidocr` wheel, so nothing is downloaded at run time (docs/ocr.md has the measure
that chose it). This module only turns its boxes into text:

- lines: the boxes' centres, corrected for the page's skew (the median slope of the boxes'
  top edges), clustered by height, then ordered by x;
- tables: a run of lines holding bare numbers is a table block; the x ranges of its numbers
  make the column bands, and each number goes into the band it stands in, so a blank cell
  (which gives no box) stays an empty tab cell and no number shifts column;
- OCR confusions (。 o O for 0, l I | for 1, a narrow 一 for 1) are undone only for a box
  that stands in a number column of a table block, never in prose; the table reader's
  identities then confirm or reject the reading.

Every box a line was made of is kept as a region (its character span in the line, page, box),
so a value read from OCR text carries its page and box in provenance.
"""
from __future__ import annotations

import math
import re
import statistics
import sys
import time
from dataclasses import dataclass, field

MODES = ("auto", "always", "never")
# Set once by `extractor extract --ocr` before the workers start (they inherit it by fork).
MODE = "auto"
PROGRESS = True  # a stderr line per OCRed page of a file with more than one such page
RENDER_DPI = 200  # PDF pages are rendered at this resolution for OCR (docs/ocr.md)
MISSING = ("OCR needs the optional packages rapidocr and onnxruntime: "
           "pip install 'extractor[ocr]' (or: pip install rapidocr onnxruntime)")

_NUMBER = re.compile(r"^[+\-]?\d+(?:,\d{3})*(?:\.\d+)?$")
_NULL_MARK = re.compile(r"^(?:[/\\—–\-─━_]+|无)$")
_CONFUSABLE = {"。": "0", "o": "0", "O": "0", "〇": "0", "l": "1", "I": "1", "|": "1"}
_CONFUSION_CHARS = re.compile(r"^[\d。oO〇lI|一.,+\-]+$")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


class OcrUnavailable(RuntimeError):
    pass


@dataclass
class Box:
    """One recognised text box: its text and axis-aligned bounds in image pixels."""
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0
    slope: float = 0.0  # of the detected quadrilateral's top edge

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass
class Line:
    """One output line: its text and, per box it holds, (start, end, box) within the text."""
    top: float
    x0: float
    x1: float
    text: str
    kind: str  # text | row
    height: float
    spans: list[tuple[int, int, Box]] = field(default_factory=list)


_ENGINE = None


def available() -> bool:
    try:
        import onnxruntime  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


def engine():
    """The OCR engine, built once per process (loading the models takes about a second)."""
    global _ENGINE
    if _ENGINE is None:
        try:
            import logging

            from rapidocr import RapidOCR
        except ImportError as exc:
            raise OcrUnavailable(MISSING) from exc
        # Pages rendered at 200 dpi are 2339 px tall: keep the engine from shrinking them.
        _ENGINE = RapidOCR(params={"Global.log_level": "error", "Global.max_side_len": 4000})
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return _ENGINE


def read_image(image) -> list[Box]:
    """The text boxes of one page image (a PIL image or numpy array)."""
    import numpy as np

    if hasattr(image, "convert"):
        image = np.asarray(image.convert("RGB"))[:, :, ::-1]  # RapidOCR takes BGR like OpenCV
    out = engine()(image)
    boxes = []
    if out.boxes is None or out.txts is None:
        return boxes
    for quad, text, score in zip(out.boxes, out.txts, out.scores):
        text = text.strip()
        if not text:
            continue
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        (ax, ay), (bx, by) = quad[0], quad[1]
        slope = (by - ay) / (bx - ax) if bx - ax > 1 else 0.0
        boxes.append(Box(text, float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)),
                         float(score), float(slope)))
    return boxes


# --------------------------------------------------------------------------------------------
# boxes → lines

def _skew(boxes: list[Box]) -> float:
    """The page's skew as a slope: the median top-edge slope of the wider boxes."""
    slopes = [b.slope for b in boxes if b.width > 3 * b.height and abs(b.slope) < 0.1]
    return statistics.median(slopes) if len(slopes) >= 3 else 0.0


def _rows_of(boxes: list[Box]) -> list[list[Box]]:
    """Boxes grouped into visual rows: deskewed centres within half a box height of each other."""
    if not boxes:
        return []
    skew = _skew(boxes)
    typical = statistics.median(b.height for b in boxes)

    def cy(b: Box) -> float:
        # A tall box (vertical text in a merged cell) belongs where it starts.
        y = b.y0 + typical / 2 if b.height > 2.5 * typical else (b.y0 + b.y1) / 2
        return y - skew * b.cx

    rows: list[tuple[float, float, list[Box]]] = []  # (centre, height, boxes)
    for b in sorted(boxes, key=cy):
        y, h = cy(b), min(b.height, 2.5 * typical)
        if rows:
            c, rh, members = rows[-1]
            if abs(y - c) <= 0.5 * min(h, rh):
                members.append(b)
                n = len(members)
                rows[-1] = ((c * (n - 1) + y) / n, rh, members)
                continue
        rows.append((y, h, [b]))
    return [sorted(members, key=lambda b: b.x0) for _, _, members in rows]


def _is_number(text: str) -> bool:
    return bool(_NUMBER.match(text))


def _as_number(b: Box) -> str | None:
    """The box read as a table number, undoing OCR confusions; None when it is not one."""
    t = b.text.replace(" ", "")
    if _is_number(t) or _NULL_MARK.match(t) and t != "一":
        return t
    if not _CONFUSION_CHARS.match(t):
        return None
    if t == "一" and b.width > 0.8 * b.height:
        return "—"  # a wide stroke is a dash: a printed blank, a null mark
    fixed = "".join(_CONFUSABLE.get(ch, "1" if ch == "一" else ch) for ch in t)
    return fixed if _is_number(fixed) else None


def _bands(boxes: list[Box]) -> list[tuple[float, float]]:
    """Column bands: the x ranges of a block's numbers, merged where they overlap."""
    bands: list[list[float]] = []
    for b in sorted(boxes, key=lambda b: b.x0):
        if bands and b.x0 <= bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], b.x1)
        else:
            bands.append([b.x0, b.x1])
    return [(a, z) for a, z in bands]


def _header_bands(bands: list[tuple[float, float]], header: list[Box]) -> list[tuple[float, float]]:
    """Bands for columns no row has a number in (a column blank throughout): a header cell
    among or beside the number columns, as narrow as one, that stands over no band."""
    if len(bands) < 2 or not header:
        return bands
    pitch = statistics.median(b[0] - a[0] for a, b in zip(bands, bands[1:]))
    lo, hi = bands[0][0] - pitch, bands[-1][1] + pitch
    extra = [(b.x0, b.x1) for b in header
             if lo <= b.cx <= hi and b.width < 1.5 * pitch and not any(b.x0 < z and b.x1 > a for a, z in bands)]
    if not extra:
        return bands
    merged: list[list[float]] = []
    for a, z in sorted(bands + extra):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], z)
        else:
            merged.append([a, z])
    return [(a, z) for a, z in merged]


def _band_of(b: Box, bands: list[tuple[float, float]]) -> list[int]:
    return [i for i, (a, z) in enumerate(bands) if b.x0 < z and b.x1 > a]


def _join_text(boxes: list[Box], spans: list, start: int = 0) -> str:
    """Boxes of a text line joined: nothing between two Chinese characters that stand close
    (one phrase cut in two), a space across a wide gap or next to Latin text and digits."""
    out = ""
    prev: Box | None = None
    for b in boxes:
        if out:
            close = prev is not None and b.x0 - prev.x1 < 0.8 * max(prev.height, 1.0)
            if not (close and _CJK.match(out[-1]) and _CJK.match(b.text[0])):
                out += " "
        spans.append((start + len(out), start + len(out) + len(b.text), b))
        out += b.text
        prev = b
    return out


def layout(boxes: list[Box]) -> list[Line]:
    """A page's boxes as lines in reading order; table rows as TSV lines."""
    typical = statistics.median(b.height for b in boxes) if boxes else 0.0
    # Vertical text (a group label in a merged cell, 三、本年度办理结果) stands beside several
    # rows; placed by its own position it would split a row or break the template's order,
    # so it goes before the table block it stands beside.
    vertical = [b for b in boxes if b.height > 2.5 * typical and b.height > 2 * b.width]
    rows = _rows_of([b for b in boxes if not any(b is v for v in vertical)])
    numeric = [[b for b in row if _is_number(b.text.replace(" ", ""))] for row in rows]
    # Table blocks: runs of rows holding numbers; a row of two or more text boxes and no number
    # (a header row) or a wide prose line ends a block.
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, row in enumerate(rows):
        if numeric[i]:
            current.append(i)
        elif current and (len(row) == 1 or all(_as_number(b) is not None for b in row[1:])):
            # a wrapped label or a group heading inside the table, or a row whose numbers
            # all came out as look-alikes (。 O l)
            current.append(i)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    in_block: dict[int, list[tuple[float, float]]] = {}
    for block in blocks:
        bands = _bands([b for i in block for b in numeric[i]])
        # header rows: the text rows just above the block, back to the previous block
        header = []
        for i in range(block[0] - 1, max(-1, block[0] - 5), -1):
            if i in in_block or numeric[i]:
                break
            header.extend(b for b in rows[i] if _as_number(b) is None)
        bands = _header_bands(bands, header)
        for i in block:
            in_block[i] = bands
    lines: list[Line] = []
    before: dict[int, list[Box]] = {}  # row index -> vertical boxes to put before it
    for v in vertical:
        at = next((block[0] for block in blocks
                   if min(rows[block[0]][0].y0, *(b.y0 for b in rows[block[0]])) <= v.y1
                   and v.y0 <= max(b.y1 for b in rows[block[-1]])), None)
        if at is None:
            at = next((i for i, row in enumerate(rows) if min(b.y0 for b in row) > v.y0), len(rows))
        before.setdefault(at, []).append(v)
    for v in before.pop(len(rows), []):
        rows.append([v])
    for i, row in enumerate(rows):
        for v in before.get(i, []):
            lines.append(Line(v.y0, v.x0, v.x1, v.text, "text", v.width, [(0, len(v.text), v)]))
        top = min(b.y0 for b in row)
        height = statistics.median(b.height for b in row)
        x0, x1 = min(b.x0 for b in row), max(b.x1 for b in row)
        bands = in_block.get(i)
        line = _table_line(row, bands) if bands else None
        if line is None:
            spans: list = []
            text = _join_text(row, spans)
            lines.append(Line(top, x0, x1, text, "text", height, spans))
        else:
            text, spans = line
            lines.append(Line(top, x0, x1, text, "row", height, spans))
    return lines


def _table_line(row: list[Box], bands: list[tuple[float, float]]) -> tuple[str, list] | None:
    """A row of a table block as a TSV line, label first then one cell per column band; None
    for a row with no number in a column (a heading, a wrapped label)."""
    cells: dict[int, tuple[str, Box]] = {}
    label: list[Box] = []
    loose: list[tuple[str, Box]] = []  # numbers astride two bands: let the reader cut them
    for b in row:
        hit = _band_of(b, bands)
        value = _as_number(b) if hit else None
        if value is None:
            if cells or loose:
                return None  # text after the numbers: prose or a note, kept whole as a text line
            label.append(b)
        elif len(hit) > 1 or hit[0] in cells:
            loose.append((value, b))
        else:
            cells[hit[0]] = (value, b)
    if not cells and not loose:
        return None
    spans: list = []
    text = _join_text(label, spans)
    if loose:  # no column placement possible: the numbers in order, space-separated
        items = sorted(list(cells.values()) + loose, key=lambda vb: vb[1].x0)
        for value, b in items:
            text += " " if text else ""
            spans.append((len(text), len(text) + len(value), b))
            text += value
        return text, spans
    first, last = min(cells), len(bands) - 1
    # Every band from the first is a cell, so a blank one stays an empty tab cell; a row with
    # no label (numbers only) starts at its first number so the line does not open with a tab.
    for k in range(0 if label else first, last + 1):
        if label or k > first:
            text += "\t"
        if k in cells:
            value, b = cells[k]
            spans.append((len(text), len(text) + len(value), b))
            text += value
    if last not in cells:
        text += "\t"  # a trailing blank: the reader takes a final tab as closing the row
    return text, spans


# --------------------------------------------------------------------------------------------
# progress

class Progress:
    """A stderr line per OCRed page when a file has several pages to OCR."""

    def __init__(self, name: str, pages: int):
        self.name, self.pages, self.done = name, pages, 0
        self.started = time.perf_counter()
        self.show = PROGRESS and pages > 1

    def page(self, number: int) -> None:
        self.done += 1
        if self.show:
            took = time.perf_counter() - self.started
            print(f"ocr: {self.name}: page {number} ({self.done}/{self.pages} OCRed, {took:.1f} s)",
                  file=sys.stderr, flush=True)


def regions_of(line: Line, page: int, scale: float = 1.0, offset: int = 0) -> list[tuple]:
    """The line's boxes as regions (start, end, page, box, text, raw): offsets from `offset`,
    the box in image pixels divided by `scale`, the text as written and as OCR read it."""
    return [(offset + a, offset + b, page, [round(v / scale, 1) for v in (bx.x0, bx.y0, bx.x1, bx.y1)],
             line.text[a:b], bx.text) for a, b, bx in line.spans]


def region_for(regions: list, text: str, start: int, end: int) -> tuple | None:
    """The OCR region a value span [start, end) of `text` was read from. Offsets are the
    loader's; where normalisation removed text before the span they moved left, so then the
    nearest region at or after the span holding the same text is taken."""
    import bisect

    value = text[start:end]
    i = bisect.bisect_right(regions, (start, math.inf)) - 1
    if i >= 0:
        a, z, _, _, written, _ = regions[i]
        if a <= start and end <= z and written[start - a:end - a] == value:
            return regions[i]
    for r in regions[max(i, 0):]:
        if r[0] >= start and value in r[4]:
            return r
    return None


def provenance_fields(regions: list, text: str, start: int, end: int) -> dict:
    """page, box (and a note when OCR's reading was corrected) for a value's provenance."""
    r = region_for(regions, text, start, end) if regions else None
    if r is None:
        return {}
    out = {"page": r[2], "box": r[3]}
    if r[5].replace(" ", "") != r[4]:
        out["note"] = f"OCR read '{r[5]}'"
    return out
