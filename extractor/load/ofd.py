"""OFD files (.ofd, GB/T 33190: a ZIP of XML pages): text runs placed by coordinates into lines,
table rows into tab-separated cells, as the PDF loader writes them.

ofdkit (Apache-2.0, standard library only) opens the package: OFD.xml → Document.xml → pages,
templates, composite units, each TextObject's transform, and the many non-conforming files in
the wild (wrong namespaces and paths). It hands back each run's text with its position (x, the
baseline y, an advance width, in mm). ofdkit draws no table: an OFD table is text objects inside
path strokes, so rows and cells are rebuilt here from the coordinates:

- runs whose baselines lie within a fraction of the type size are one line (a number centred
  vertically in its cell sits a little lower than the label beside it);
- a horizontal gap wider than the type size separates cells; a line of two or more cells is a
  table row, its cells joined by tabs;
- in a block of table rows, the numbers' centres are clustered into columns; where a row has
  no number in a column it gets an empty cell, so no number shifts column. A column that no
  row of its block fills cannot be seen: then the row reads one value short and the reader
  leaves it null;
- a label spanning rows, centred in its cell, is moved before the first row of its span
  (_hoist_group_labels).
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import register

_NUMBER = re.compile(r"^[-+]?\d[\d,]*(?:\.\d+)?%?$")
_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–－―~·•]\s*)*\d{1,4}(?:\s*[-—–－―~·•])*\s*$"
                          r"|^\s*第\s*\d{1,4}\s*页(?:\s*[,，/、]?\s*共\s*\d{1,4}\s*页)?\s*$"
                          r"|^\s*\d{1,4}\s*/\s*\d{1,4}\s*$")
_DEFAULT_SIZE = 3.5  # mm, about 10pt: used where a producer leaves the type size out
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


@dataclass
class _Piece:
    """A cell's worth of text on one line: runs close enough together to be one phrase."""
    text: str
    x0: float
    x1: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def numeric(self) -> bool:
        return bool(_NUMBER.match(self.text))


def _size(run) -> float:
    return run.size if run.size and run.size > 0 else _DEFAULT_SIZE


def _lines(runs) -> list[list]:
    """Runs grouped into lines by baseline, top to bottom, each line left to right."""
    lines: list[list] = []
    for run in sorted(runs, key=lambda r: (r.y, r.x)):
        # easyofd and some producers leave Size out; then the tolerance is a third of a line
        tol = 0.4 * _size(run) if run.size and run.size > 0 else 0.35
        if lines and abs(run.y - lines[-1][0].y) <= tol:
            lines[-1].append(run)
        else:
            lines.append([run])
    return [sorted(line, key=lambda r: r.x) for line in lines]


def _glue(a: str, b: str) -> str:
    if not a or not b or _CJK.match(b[0]) or _CJK.match(a[-1]):
        return a + b
    return a + " " + b


def _pieces(line: list) -> list[_Piece]:
    pieces: list[_Piece] = []
    for run in line:
        text = run.text.replace("\t", " ").strip()
        if not text:
            continue
        x1 = run.x + max(run.width, 0.0)
        gap_limit = 0.9 * _size(run) if run.size and run.size > 0 else 1.2
        if pieces and run.x - pieces[-1].x1 <= gap_limit:
            pieces[-1].text = _glue(pieces[-1].text, text)
            pieces[-1].x1 = max(pieces[-1].x1, x1)
        else:
            pieces.append(_Piece(text, run.x, x1))
    return pieces


def _columns(rows: list[list[_Piece]]) -> list[float]:
    """Column centres of the numeric cells in a block of table rows."""
    centres = sorted(p.centre for row in rows for p in row if p.numeric)
    if not centres:
        return []
    steps = [b.centre - a.centre for row in rows for a, b in zip(row, row[1:]) if a.numeric and b.numeric]
    pitch = min(steps) if steps else 0.0
    tol = max(pitch * 0.4, 0.5)
    clusters: list[list[float]] = [[centres[0]]]
    for c in centres[1:]:
        if c - statistics.fmean(clusters[-1]) <= tol:
            clusters[-1].append(c)
        else:
            clusters.append([c])
    return [statistics.fmean(c) for c in clusters]


def _row_cells(row: list[_Piece], columns: list[float]) -> list[str]:
    """The row's cells with empty cells where a numeric column has no number (before the
    row's first number or between two numbers; see the module docstring)."""
    if not columns:
        return [p.text for p in row]
    out: list[str] = []
    expected = None  # the column index the next number should stand in
    first_numeric = True
    for p in row:
        if not p.numeric:
            out.append(p.text)
            continue
        col = min(range(len(columns)), key=lambda i: abs(columns[i] - p.centre))
        if first_numeric:
            expected = 0 if all(not q.numeric for q in row[:row.index(p)]) else col
            first_numeric = False
        if expected is not None and col > expected:
            out.extend([""] * (col - expected))
        out.append(p.text)
        expected = col + 1
    if expected is not None and expected < len(columns):
        # numbers missing at the row's end: empty cells, and the extra tab that tells the
        # table reader the last cell is a blank (grid.grid_lines writes rows the same way)
        out.extend([""] * (len(columns) - expected) + [""])
    return out


_GROUP_LABEL = re.compile(r"^(?:[（(][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}[、.．])")
_FIRST_OF_SEQUENCE = re.compile(r"^(?:1\s*[.．、]|[（(]\s*一\s*[)）]|一\s*[、.．])")
_SAME_COLUMN = 1.0  # mm: label pieces starting this close together stand in one column


def _table_block(lines: list[list[_Piece]], i: int) -> tuple[list[list[_Piece]], int]:
    """The table rows from line i on: lines holding numbers, and between them lines that lie
    wholly left of the numbers (labels wrapped in their cells, labels of row groups). A line
    reaching into the number columns (a header, a caption across the table) ends the block."""
    last = i
    first_number = min(p.x0 for p in lines[i] if p.numeric)
    j = i + 1
    while j < len(lines):
        if any(p.numeric for p in lines[j]):
            first_number = min([first_number] + [p.x0 for p in lines[j] if p.numeric])
            last = j
        elif not all(p.x1 < first_number - 0.5 for p in lines[j]):
            break
        j += 1
    return lines[i:last + 1], last + 1


def _label_columns(block: list[list[_Piece]]) -> list[float]:
    starts = sorted(p.x0 for ln in block for p in ln if not p.numeric)
    columns: list[float] = []
    for x in starts:
        if not columns or x - columns[-1] > _SAME_COLUMN:
            columns.append(x)
    return columns


def _hoist_group_labels(block: list[list[_Piece]]) -> list[list[_Piece]]:
    """A label spanning rows (（三）不予公开 over its eight rows) stands at the middle of its
    span when the cell centres it vertically; the table reader needs it before its first row.
    Its first row is the nearest one above whose label, in the next column to the right, opens
    a sequence (1. / （一） / 一、); the label is moved there, alone on a line. A label already
    on or just above such a row stays."""
    columns = _label_columns(block)

    def column_of(p: _Piece) -> int:
        return min(range(len(columns)), key=lambda k: abs(columns[k] - p.x0))

    out = [list(ln) for ln in block]
    inserts: dict[int, list[_Piece]] = {}
    for i, line in enumerate(out):
        labels = [p for p in line if not p.numeric]
        numbered = any(p.numeric for p in line)
        for p in labels:
            if not _GROUP_LABEL.match(p.text) or (numbered and p is labels[-1]) or (not numbered and len(line) > 1):
                continue  # a row's own label, or a line of several labels: left alone
            rest = [q for q in line if q is not p and not q.numeric]
            following = rest[0] if rest else next((ln[0] for ln in out[i + 1:i + 2] if ln), None)
            if following is not None and _FIRST_OF_SEQUENCE.match(following.text):
                continue  # already at the top of its rows
            col = column_of(p)
            for j in range(i - 1, -1, -1):
                here = [q for q in out[j] if not q.numeric]
                if any(column_of(q) == col for q in here):
                    break  # a sibling's label: the search left this group
                child = [q for q in here if column_of(q) == col + 1]
                if child and _FIRST_OF_SEQUENCE.match(child[0].text):
                    line.remove(p)
                    inserts.setdefault(j, []).append(p)
                    break
    result: list[list[_Piece]] = []
    for i, line in enumerate(out):
        for p in sorted(inserts.get(i, []), key=lambda q: q.x0):
            result.append([p])
        if line:
            result.append(line)
    return result


_OPENS_PARAGRAPH = re.compile(r"\s*(?:[一二三四五六七八九十]{1,3}\s*[、.．]|[（(]\s*[一二三四五六七八九十]{1,3}\s*[）)]|\d{1,2}\s*[、．.]|#)")


def _edge(values: list[float], side: str) -> float | None:
    """The page's text margin: the farthest line start (or end) that another line shares to
    within 1.5 mm (one line's hanging punctuation must not move it)."""
    ordered = sorted(values, reverse=side == "right")
    for v in ordered:
        if sum(abs(v - w) <= 1.5 for w in values) >= 2:
            return v
    return None


def _continues(prev: _Piece, nxt: _Piece, left: float | None, right: float | None) -> bool:
    """A prose line that reaches the right margin goes on in the next line when that one starts
    at the left margin (a new paragraph is indented, a heading opens with its enumerator)."""
    if left is None or right is None or nxt.numeric:
        return False
    return prev.x1 >= right - 2.0 and abs(nxt.x0 - left) <= 1.0 and not _OPENS_PARAGRAPH.match(nxt.text)


def _page_lines(page) -> list[str]:
    lines = [_pieces(line) for line in _lines(page.runs)]
    lines = [ln for ln in lines if ln]
    # drop page numbers standing alone at the top or bottom of the page
    while lines and len(lines[-1]) == 1 and _PAGE_NUMBER.match(lines[-1][0].text):
        lines.pop()
    while lines and len(lines[0]) == 1 and _PAGE_NUMBER.match(lines[0][0].text):
        lines.pop(0)
    out: list[str] = []
    singles = [ln[0] for ln in lines if len(ln) == 1 and not ln[0].numeric]
    left = _edge([p.x0 for p in singles], "left")
    right = _edge([p.x1 for p in singles], "right")
    prose_prev: _Piece | None = None
    i = 0
    while i < len(lines):
        if any(p.numeric for p in lines[i]) and len(lines[i]) > 1:
            prose_prev = None
            block, i = _table_block(lines, i)
            columns = _columns([ln for ln in block if any(p.numeric for p in ln)])
            for ln in _hoist_group_labels(block):
                cells = _row_cells(ln, columns) if any(p.numeric for p in ln) else [p.text for p in ln]
                out.append("\t".join(cells) if len(cells) > 1 else cells[0])
            continue
        ln = lines[i]
        if prose_prev is not None and len(ln) == 1 and _continues(prose_prev, ln[0], left, right):
            out[-1] = _glue(out[-1], ln[0].text)
        else:
            out.append("\t".join(p.text for p in ln) if len(ln) > 1 else ln[0].text)
        prose_prev = ln[0] if len(ln) == 1 and not ln[0].numeric else None
        i += 1
    return out


@register(".ofd")
def load_ofd(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    try:
        import ofdkit
    except ImportError:
        raise LoadError("reading .ofd needs the ofdkit package: pip install ofdkit")

    if data[:4] != b"PK\x03\x04":
        raise LoadError("not an OFD file: an OFD is a ZIP package, and this file is not one")
    try:
        document = ofdkit.open(data)
    except ofdkit.OFDError as exc:
        raise LoadError(f"cannot open OFD: {exc}")
    except Exception as exc:  # zipfile / XML errors from a damaged package
        raise LoadError(f"cannot open OFD: {type(exc).__name__} {exc}".strip())
    warnings = [f"ofd: {w}" for w in document.warnings]
    lines: list[str] = []
    with document:
        if not document.pages:
            raise LoadError("OFD has no pages")
        empty = []
        for n, page in enumerate(document.pages, 1):
            try:
                page_lines = _page_lines(page)
            except Exception as exc:  # one damaged page: say so, read the others
                warnings.append(f"error: ofd: page {n} could not be read ({type(exc).__name__}: {exc})")
                continue
            if not page_lines:
                empty.append(n)
            lines.extend(page_lines)
        title = (document.info.title or "").strip() or None if getattr(document, "info", None) else None
    if not lines:
        raise LoadError("no text in the OFD: its pages are images (scanned); OCR is needed")
    if empty:
        warnings.append(f"error: ofd: pages {', '.join(map(str, empty))} have no text (images only); "
                        f"their content is missing without OCR")
    yield Document(text="\n".join(lines) + "\n", path=str(path), sha256=sha, format="ofd",
                   encoding=None, title=title, warnings=warnings)
