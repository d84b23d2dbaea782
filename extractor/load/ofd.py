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
- in a block of consecutive rows holding numbers, the numbers' centres are clustered into
  columns; where a row has no number in a column it gets an empty cell, so no number shifts
  column. A block ends at two lines in a row without numbers (a caption and a header), so the
  rows of 二's one-value blocks (行政许可) are not padded to the three columns of its first
  block. A column that no row of its block fills cannot be seen: then the row reads one value
  short and the reader leaves it null.
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


def _page_lines(page) -> list[str]:
    lines = [_pieces(line) for line in _lines(page.runs)]
    lines = [ln for ln in lines if ln]
    # drop page numbers standing alone at the top or bottom of the page
    while lines and len(lines[-1]) == 1 and _PAGE_NUMBER.match(lines[-1][0].text):
        lines.pop()
    while lines and len(lines[0]) == 1 and _PAGE_NUMBER.match(lines[0][0].text):
        lines.pop(0)
    out: list[str] = []
    i = 0
    while i < len(lines):
        # a block of table rows: lines holding numbers, allowing one line without numbers
        # between them (a label that wrapped inside its cell)
        if any(p.numeric for p in lines[i]) and len(lines[i]) > 1:
            j = i + 1
            while j < len(lines):
                if any(p.numeric for p in lines[j]):
                    j += 1
                elif j + 1 < len(lines) and any(p.numeric for p in lines[j + 1]) and len(lines[j + 1]) > 1:
                    j += 2
                else:
                    break
            block = lines[i:j]
            columns = _columns([ln for ln in block if any(p.numeric for p in ln)])
            for ln in block:
                cells = _row_cells(ln, columns) if any(p.numeric for p in ln) else [p.text for p in ln]
                out.append("\t".join(cells) if len(cells) > 1 else cells[0])
            i = j
            continue
        ln = lines[i]
        out.append("\t".join(p.text for p in ln) if len(ln) > 1 else ln[0].text)
        i += 1
    return out


@register(".ofd")
def load_ofd(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    import ofdkit

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
