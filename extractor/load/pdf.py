"""PDF files (.pdf) with a text layer: page text in reading order, ruled tables as TSV rows.

Per page, pdfplumber finds the ruled tables; each grid row becomes one TSV line (grid_lines),
everything else is text lines placed by their position on the page. Page numbers and footers are
dropped, lines wrapped at the right margin are joined back into paragraphs, and a table that runs
onto the next page simply continues (a repeated header row there is dropped). A page with no
text layer (a scan) is rendered and read by OCR (`ocr.py`), only that page: `--ocr auto` (the
default) OCRs the pages that need it, `always` every page, `never` none.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import ocr, register
from .grid import grid_lines

# Page furniture printed alone on a line: - 3 -, — 3 —, 3, 第 3 页, 第3页 共7页, 3 / 7, Page 3 of 7.
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–－―~·•]\s*)*\d{1,4}(?:\s*[-—–－―~·•])*\s*$"
    r"|^\s*第\s*\d{1,4}\s*页\s*(?:[,，/、]?\s*共\s*\d{1,4}\s*页)?\s*$"
    r"|^\s*(?:共\s*\d{1,4}\s*页\s*)?第\s*\d{1,4}\s*页\s*$"
    r"|^\s*\d{1,4}\s*/\s*\d{1,4}\s*$"
    r"|^\s*page\s*\d{1,4}(?:\s*of\s*\d{1,4})?\s*$", re.I)
_MARGIN_ZONE = 0.15  # page numbers sit in the top or bottom 15% of the page
_OPENS_PARAGRAPH = re.compile(r"\s*(?:[一二三四五六七八九十]{1,3}\s*[、.．]|[（(]\s*[一二三四五六七八九十]{1,3}\s*[）)]|\d{1,2}\s*[、．]|#)")
_NUMBER_TOKEN = re.compile(r"^[\d.,%/-]+$")


@dataclass
class _Item:
    """One output line: a text line or a table grid row, with where it stands on its page."""
    page: int
    top: float
    text: str
    kind: str  # text | row
    x0: float = 0.0
    x1: float = 0.0
    size: float = 10.0
    left: float = 0.0  # the page's text margins, for rejoining wrapped lines
    right: float = 0.0
    table: int = -1  # which table on the page, for rows
    spans: list | None = None  # OCR regions (ocr.regions_of) with offsets within text


def _inside(obj: dict, boxes: list[tuple]) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _page_items(page, page_no: int) -> list[_Item]:
    """A page's lines in reading order: grid rows of its ruled tables and its other text."""
    items: list[_Item] = []
    grid_boxes = []
    for t_index, table in enumerate(page.find_tables()):
        texts = table.extract()
        width = table.bbox[2] - table.bbox[0]
        for row, cells in zip(table.rows, texts):
            # A row that is one cell across the grid (a caption, or prose in a bordered frame
            # as WPS exports draw them) is left to the text path, which keeps its position and
            # lets wrapped prose lines be joined.
            present = [c for c in row.cells if c is not None]
            if len(present) == 1 and present[0][2] - present[0][0] >= 0.9 * width:
                continue
            grid_boxes.append(row.bbox)
            for line in grid_lines([cells]):
                items.append(_Item(page_no, row.bbox[1], line, "row", row.bbox[0], row.bbox[2],
                                   table=t_index))
    rest = page.filter(lambda o: o.get("object_type") != "char" or not _inside(o, grid_boxes))
    lines = rest.extract_text_lines(strip=True, return_chars=True)
    for ln in lines:
        text = ln["text"].replace("\t", " ")
        if not text.strip():
            continue
        size = ln["chars"][-1].get("size", 10.0) if ln["chars"] else 10.0
        items.append(_Item(page_no, ln["top"], text, "text", ln["x0"], ln["x1"], size))
    if lines:
        left = _edge([ln["x0"] for ln in lines], "left")
        right = _edge([ln["x1"] for ln in lines], "right")
        for it in items:
            it.left, it.right = left, right
    items.sort(key=lambda it: (round(it.top, 1), it.x0))
    return _drop_page_numbers(items, page.height)


def _edge(values: list[float], side: str) -> float:
    """The page's text edge: the farthest line end (or start) that another line shares to
    within 3pt. A lone extreme misleads: one line's closing punctuation can hang past the
    right margin."""
    ordered = sorted(values, reverse=side == "right")
    for v in ordered:
        if sum(abs(v - w) <= 3 for w in values) >= 2:
            return v
    return ordered[0]


def _drop_page_numbers(items: list[_Item], height: float) -> list[_Item]:
    """Drop page-number lines at the top or bottom edge of a page (only there: a lone number
    in the body may be a cell of a table drawn without rules)."""
    while items and items[-1].kind == "text" and items[-1].top > height * (1 - _MARGIN_ZONE) \
            and _PAGE_NUMBER.match(items[-1].text):
        items.pop()
    while items and items[0].kind == "text" and items[0].top < height * _MARGIN_ZONE \
            and _PAGE_NUMBER.match(items[0].text):
        items.pop(0)
    return items


def _looks_tabular(text: str) -> bool:
    """A row of a table drawn without rules: mostly bare numbers, e.g. 规章 0 0 0."""
    tokens = text.split()
    numbers = sum(bool(_NUMBER_TOKEN.match(t)) for t in tokens)
    return numbers >= 2 and numbers * 2 > len(tokens)


def _joins(prev: _Item, nxt: _Item) -> bool:
    """A text line that reaches the right margin continues on the next line when that line
    starts at the left margin (a new paragraph is indented; a heading is short)."""
    if prev.kind != "text" or nxt.kind != "text":
        return False
    tol = max(prev.size, 4.0)
    if prev.x1 < prev.right - tol or nxt.x0 > nxt.left + tol * 0.7:
        return False
    if _OPENS_PARAGRAPH.match(nxt.text):
        return False  # 六、其他需要报告的事项 after a full last line is still a heading
    # lines of a table drawn without rules are not prose: keep them apart
    return not (_looks_tabular(prev.text) or _looks_tabular(nxt.text))


def _glue(a: str, b: str) -> str:
    # Chinese wraps anywhere without a space; only two Latin words need one between them.
    sep = " " if re.match(r"[A-Za-z]", b[:1]) and re.search(r"[A-Za-z]$", a) else ""
    return a + sep + b


def _drop_repeated_headers(items: list[_Item]) -> int:
    """A table continued on a new page may repeat its header rows there: drop the repeat.
    Works in place; returns how many rows were dropped."""
    out: list[_Item] = []
    head: list[str] = []  # the first rows of the table run currently open
    head_page = 0
    skipping: int | None = None  # position in head while at the top of a continuation page
    dropped = 0
    for it in items:
        prev = out[-1] if out else None
        if it.kind != "row":
            head, skipping = [], None
            out.append(it)
            continue
        if skipping is None and prev is not None and prev.kind == "row" and prev.page != it.page:
            skipping = 0  # rows running over a page break: the table continues here
        if skipping is not None:
            if skipping < len(head) and it.text == head[skipping]:
                skipping += 1
                dropped += 1
                continue
            skipping = None
        if prev is None or prev.kind != "row" or (prev.page == it.page and prev.table != it.table):
            head, head_page = [it.text], it.page
        elif len(head) < 5 and it.page == head_page:
            head.append(it.text)
        out.append(it)
    items[:] = out
    return dropped


def _render(items: list[_Item]) -> tuple[str, list]:
    """The document text, and the OCR regions (ocr.regions_of) with offsets into it."""
    lines: list[str] = []
    starts: list[int] = []  # offset of each output line
    regions: list = []
    offset = 0
    prev: _Item | None = None
    for it in items:
        if prev is not None and lines and _joins(prev, it):
            piece = it.text.strip()
            glued = _glue(lines[-1], piece)
            at = starts[-1] + len(glued) - len(piece)
            offset += len(glued) - len(lines[-1])
            lines[-1] = glued
        else:
            piece = it.text.strip() if it.kind == "text" else it.text
            at = offset
            starts.append(offset)
            lines.append(piece)
            offset += len(piece) + 1
        if it.spans:
            lead = len(it.text) - len(it.text.lstrip()) if it.kind == "text" else 0
            regions.extend((at + a - lead, at + b - lead, *rest) for a, b, *rest in it.spans)
        prev = it
    return "\n".join(lines) + "\n", regions


_IMAGE_SHARE = 0.08  # an image covering this much of a text page may hold a table: OCR it


def _image_areas(page) -> list[tuple[float, float, float, float]]:
    """Large images on a page with a text layer that no text lies over (a table pasted in as a
    picture; an invisible OCR layer over a scan lies over its image and is read as text)."""
    areas = []
    for im in page.images:
        box = (max(im["x0"], 0), max(im["top"], 0), min(im["x1"], page.width), min(im["bottom"], page.height))
        if (box[2] - box[0]) * (box[3] - box[1]) < _IMAGE_SHARE * page.width * page.height:
            continue
        if sum(_inside(c, [box]) for c in page.chars) < 5:
            areas.append(box)
    return areas


def _ocr_page_items(pdfium_doc, page_no: int, height: float, areas=None) -> list[_Item]:
    """A page read by OCR (or only its `areas`, boxes in points), as the same items a text page
    gives (positions in points)."""
    scale = ocr.RENDER_DPI / 72
    image = pdfium_doc[page_no - 1].render(scale=scale).to_pil()
    boxes = []
    if not areas:
        boxes = ocr.read_image(image)
    for x0, top, x1, bottom in areas or []:
        crop = image.crop((int(x0 * scale), int(top * scale), int(x1 * scale), int(bottom * scale)))
        for b in ocr.read_image(crop):
            b.x0, b.x1 = b.x0 + int(x0 * scale), b.x1 + int(x0 * scale)
            b.y0, b.y1 = b.y0 + int(top * scale), b.y1 + int(top * scale)
            boxes.append(b)
    items = []
    for ln in ocr.layout(boxes):
        spans = ocr.regions_of(ln, page_no, scale)
        items.append(_Item(page_no, ln.top / scale, ln.text, ln.kind, ln.x0 / scale, ln.x1 / scale,
                           ln.height / scale, table=100 if ln.kind == "row" else -1, spans=spans))
    texts = [it for it in items if it.kind == "text"]
    if texts:
        left = _edge([it.x0 for it in texts], "left")
        right = _edge([it.x1 for it in texts], "right")
        for it in items:
            it.left, it.right = left, right
    return _drop_page_numbers(items, height)


_INCOMPLETE = ("the file is incomplete: it ends before the PDF does (a download that did not "
               "finish?); download it again")


def _ends_complete(data: bytes) -> bool:
    """A whole PDF ends with %%EOF (trailing padding aside); a cut-off download does not."""
    return b"%%EOF" in data.rstrip(b"\x00 \t\r\n")[-4096:]


def _any_text(pdf) -> bool:
    try:
        return any(page.chars for page in pdf.pages)
    except Exception:  # noqa: BLE001 - a page that cannot be parsed has no text to offer
        return False


def _check_bytes(data: bytes) -> None:
    """Files that are no PDF at all, said as such before pdfminer is asked."""
    if not data.strip():
        raise LoadError("empty file: 0 bytes of PDF" if not data else "empty file: only whitespace")
    head = data[:1024]
    if b"%PDF-" not in head:
        low = head.lstrip().lower()
        if low.startswith((b"<!doctype", b"<html", b"<?xml", b"<head")):
            raise LoadError("not a PDF: the file is a web page saved with a .pdf name (a failed download?)")
        raise LoadError("not a PDF: the file does not start with %PDF- (a wrong name, or a failed download)")


def open_error_message(exc: BaseException, data: bytes) -> str:
    """What a user should read when pdfplumber cannot open the file: the problem, not the library.

    pdfplumber wraps pdfminer's exceptions in PdfminerException (the real one in args[0])."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    names = " ".join(type(e).__name__ for e in (exc, inner))
    text = f"{inner}"
    if "Password" in names or "Encrypt" in names or "password" in text.lower():
        return ("password-protected PDF: it cannot be read without its password; save an unprotected "
                "copy (or print it to PDF) and run again")
    if "EOF" in names or "EOF" in text or not _ends_complete(data):
        return _INCOMPLETE
    if "No /Root" in text:
        return "damaged PDF: it has no document catalogue (/Root), so no page can be found; get the file again"
    return f"damaged PDF: it cannot be opened ({text or type(inner).__name__})"


@register(".pdf")
def load_pdf(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    import io

    import pdfplumber

    # Warnings that mean content is missing start with "error:" (record.py makes them errors).
    warnings: list[str] = []
    items: list[_Item] = []
    _check_bytes(data)
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises a zoo of types for damaged or encrypted files
        raise LoadError(open_error_message(exc, data)) from None
    mode = ocr.MODE
    with pdf:
        if not pdf.pages:
            raise LoadError("PDF has no pages")
        if not _ends_complete(data) and not _any_text(pdf):
            raise LoadError(_INCOMPLETE)  # cut short: no page kept its text (not a scan)
        empty_pages = []
        page_items: dict[int, list[_Item]] = {}
        image_areas: dict[int, list] = {}  # text pages with pictures to OCR
        for n, page in enumerate(pdf.pages, 1):
            try:
                if mode == "always" or not page.chars:
                    empty_pages.append(n)
                    continue
                page_items[n] = _page_items(page, n)
                areas = _image_areas(page) if mode == "auto" and page.images else []
                if areas:
                    image_areas[n] = areas
            except Exception as exc:
                warnings.append(f"error: pdf: page {n} could not be read ({type(exc).__name__}: {exc})")
        heights = {n: page.height for n, page in enumerate(pdf.pages, 1)}
    if image_areas and ocr.available():
        import pypdfium2

        doc = pypdfium2.PdfDocument(data)
        try:
            for n, areas in image_areas.items():
                try:
                    found = _ocr_page_items(doc, n, heights[n], areas)
                except Exception as exc:
                    warnings.append(f"error: pdf: the images on page {n} could not be read by OCR "
                                    f"({type(exc).__name__}: {exc})")
                    continue
                if found:
                    page_items[n] = sorted(page_items[n] + found, key=lambda it: (round(it.top, 1), it.x0))
                    warnings.append(f"pdf: page {n}: {len(areas)} image(s) read by OCR")
        finally:
            doc.close()
    elif image_areas:
        warnings.append(f"pdf: pages {', '.join(map(str, image_areas))} hold large images that may be "
                        f"tables; they are not read. {ocr.MISSING}")
    if empty_pages and mode != "never":
        if not ocr.available():
            if len(empty_pages) == len(heights):
                raise LoadError(f"no text layer: this PDF is scanned images. {ocr.MISSING}")
            warnings.append(f"error: pdf: pages {', '.join(map(str, empty_pages))} have no text layer "
                            f"(scanned); their content is missing. {ocr.MISSING}")
        else:
            import pypdfium2

            doc = pypdfium2.PdfDocument(data)
            progress = ocr.Progress(path.name, len(empty_pages))
            try:
                for n in empty_pages:
                    try:
                        page_items[n] = _ocr_page_items(doc, n, heights[n])
                    except ocr.OcrUnavailable:
                        raise
                    except Exception as exc:
                        warnings.append(f"error: pdf: page {n} could not be read by OCR ({type(exc).__name__}: {exc})")
                    progress.page(n)
            finally:
                doc.close()
            warnings.append(f"pdf: page(s) {', '.join(map(str, empty_pages))} read by OCR (rapidocr, "
                            f"{ocr.RENDER_DPI} dpi); OCR'd numbers are held to the table identities")
    else:
        if len(empty_pages) == len(heights):
            raise LoadError("no text layer: this PDF is scanned images; OCR is off (--ocr never)")
        if empty_pages:
            warnings.append(f"error: pdf: pages {', '.join(map(str, empty_pages))} have no text layer "
                            f"(scanned); their content is missing without OCR (--ocr never)")
    for n in sorted(page_items):
        items.extend(page_items[n])
    repeated = _drop_repeated_headers(items)
    if repeated:
        warnings.append(f"pdf: dropped {repeated} table header row(s) repeated on a continuation page")
    text, regions = _render(items)
    if "(cid:" in text:
        warnings.append("error: pdf: some characters have no Unicode mapping in the PDF's fonts and read as (cid:N)")
    if not text.strip():
        if empty_pages and mode != "never":
            raise LoadError("no text: the PDF's pages are images and OCR found no text in them")
        raise LoadError("no text layer: this PDF is scanned images; OCR is needed")
    if not _ends_complete(data):
        warnings.append("error: pdf: " + _INCOMPLETE.replace("download it again", "what is read may lack its last pages"))
    yield Document(text=text, path=str(path), sha256=sha, format="pdf", encoding=None,
                   warnings=warnings, regions=regions)
