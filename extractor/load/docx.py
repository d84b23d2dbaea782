"""Word files (.docx): the body's paragraphs and tables in document order, tables as TSV rows.

python-docx reports a merged cell once per grid position it covers (the same underlying <w:tc>
for a horizontal span, the span's first cell for a vertical one); its text is written once, at
its first position, and the positions it also covers are empty, so no number shifts column.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import register
from .grid import grid_lines

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _table_grid(table) -> list[list[str | None]]:
    # Identity of the <w:tc> elements tells a merged cell's repeats apart. They are kept
    # referenced in `seen`: lxml hands out the same proxy object only while one is alive.
    seen: dict[int, object] = {}
    grid: list[list[str | None]] = []
    for row in table.rows:
        cells = row.cells
        tcs = [c._tc for c in cells]
        if len(tcs) > 1 and all(tc is tcs[0] for tc in tcs) and id(tcs[0]) not in seen:
            seen[id(tcs[0])] = tcs[0]
            grid.append([_cell_text(cells[0])])  # one cell across the grid: a caption
            continue
        out: list[str | None] = []
        for cell, tc in zip(cells, tcs):
            if id(tc) in seen:
                out.append(None)  # a position covered by a merged cell already written
            else:
                seen[id(tc)] = tc
                out.append(_cell_text(cell))
        grid.append(out)
    return grid


def _cell_text(cell) -> str:
    # a cell's paragraphs are its wrapped lines; grid_lines joins them
    parts = [p.text for p in cell.paragraphs]
    for nested in cell.tables:  # rare; keep its words rather than lose them
        parts.extend(grid_lines(_table_grid(nested)))
    return "\n".join(parts)


def _blocks(parent, doc) -> Iterator[str]:
    """Lines of a body-like element's children, in order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in parent.iterchildren():
        if child.tag == _W + "p":
            text = Paragraph(child, doc).text
            if text.strip():
                yield from text.split("\n")  # <w:br/> line breaks
        elif child.tag == _W + "tbl":
            yield from grid_lines(_table_grid(Table(child, doc)))
        elif child.tag == _W + "sdt":  # content controls wrap ordinary paragraphs and tables
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _blocks(content, doc)


@register(".docx")
def load_docx(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    import docx

    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise LoadError("this is a legacy Word .doc file named .docx; convert it to .docx or PDF first")
        raise LoadError("not a .docx file (not a ZIP package)")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError/ValueError/PackageNotFoundError
        raise LoadError(f"cannot open .docx: {type(exc).__name__} {exc}".strip())
    lines = [ln.rstrip() if "\t" not in ln else ln for ln in _blocks(document.element.body, document)]
    text = "\n".join(lines) + "\n"
    if not text.strip():
        raise LoadError("empty document: no text in the body (text boxes and images are not read)")
    title = (document.core_properties.title or "").strip() or None
    yield Document(text=text, path=str(path), sha256=sha, format="docx", encoding=None, title=title)
