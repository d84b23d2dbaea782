"""Table grids → TSV lines: the one rendering of a real table (HTML, DOCX, PDF) into text, so
every format hands the table reader the same layout."""
from __future__ import annotations

import re


_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’"
_BREAK_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]*\n\s*|[ \t]*\n\s*(?=[{_CJK}])")


def join_wrapped(text: str) -> str:
    """A cell's text on one line: a break next to a Chinese character is a wrap (joined with
    nothing, 商业\\n企业 → 商业企业); any other break or tab becomes one space."""
    text = _BREAK_NEXT_TO_CJK.sub("", text.replace("\r", "\n"))
    return re.sub(r"[\t\n\x0b\x0c]+", " ", text).strip()


def grid_lines(grid: list[list[str | None]]) -> list[str]:
    """TSV lines for an expanded table grid: one line per grid row, cells joined by tabs.

    A cell is its text, '' when the cell is empty, or None for a position covered by a merged
    (rowspan/colspan) cell; both are written as empty cells so no number shifts column.
    A row given as a single cell is one cell across the whole grid (a caption such as
    第二十条第（一）项, or a line of prose in a bordered frame): it is written as its text alone.
    Two rules keep the table reader's count of cells right at the end of a row:
    - positions covered by a span at the end of a row (行政许可 | 550 spanning three columns)
      are not written: they follow every number, so they shift none, and the reader would
      count them as blank cells;
    - a row whose last cell is an empty cell ends with an extra tab: the reader takes a
      trailing tab as closing the row, so the empty cell survives as a blank (null).
    Rows with no text at all are skipped.
    """
    out = []
    for row in grid:
        cells = [join_wrapped(c) if c else c for c in row]
        if not any(cells):
            continue
        if len(cells) == 1:
            out.append(cells[0])
            continue
        while cells and cells[-1] is None:
            cells.pop()
        line = "\t".join(c or "" for c in cells)
        if not cells[-1]:
            line += "\t"
        out.append(line)
    return out


def expand_spans(rows: list[list[tuple[str, int, int]]]) -> list[list[str | None]]:
    """Place (text, rowspan, colspan) cells, given row by row as HTML lists them, into a grid:
    the origin position of a cell holds its text, every other position it covers holds None.
    A row that is one cell spanning every column comes out as a single-cell row (a caption)."""
    origins: list[dict[int, tuple[str, int]]] = []
    taken: set[tuple[int, int]] = set()
    for r, cells in enumerate(rows):
        c = 0
        origin: dict[int, tuple[str, int]] = {}
        for text, rowspan, colspan in cells:
            while (r, c) in taken:  # skip positions a cell from a row above spans into
                c += 1
            taken.update((r + dr, c + dc) for dr in range(rowspan) for dc in range(colspan))
            origin[c] = (text, colspan)
            c += colspan
        origins.append(origin)
    width = max((c + 1 for _, c in taken), default=0)
    grid: list[list[str | None]] = []
    for origin in origins:
        if len(origin) == 1 and 0 in origin and origin[0][1] >= width:
            grid.append([origin[0][0]])
        else:
            grid.append([origin[c][0] if c in origin else None for c in range(width)])
    return grid
