"""Excel workbooks (.xlsx, .xlsm): every sheet's used range as a table grid, rendered to TSV lines
by grid.grid_lines, as HTML/DOCX/PDF tables are. Agencies attach the statistical tables as a
workbook; one holding only the tables reads as the report's tables (the template is detected
from the header cells, as for any report).

openpyxl (MIT) is the standard reader. The workbook is opened with data_only=True, so a formula
cell gives the value Excel last saved for it; a formula with no saved value (a file written by a
program and never opened in Excel) is empty and the record says so, as a missing value is never
made up. Merged ranges: the top-left cell holds the text, the positions it covers are None (no
number shifts column); a row that is one merged cell across the used width is a caption.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import register
from .grid import grid_lines

_DEFAULT_SHEET = ("sheet", "工作表", "sheet1")


def _cell_text(value, number_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and "%" in (number_format or ""):
            return f"{value * 100:g}%"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _sheet_grid(ws, formulas) -> tuple[list[list[str | None]], int]:
    """(grid, count of formula cells without a saved value) for one worksheet."""
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and str(c.value).strip() != "":
                cells[(c.row, c.column)] = _cell_text(c.value, c.number_format)
    unsaved = 0
    if formulas is not None:
        for row in formulas.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("=") and (c.row, c.column) not in cells:
                    unsaved += 1
    covered: set[tuple[int, int]] = set()
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for rng in ws.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = (rng.max_row, rng.max_col)
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    covered.add((r, c))
                    cells.pop((r, c), None)
    if not cells:
        return [], unsaved
    # Tables side by side with the sheet's other tables are rare; tables one below another,
    # with empty rows between, are common: each such block is its own grid, as wide as its
    # own cells, so a narrow table is not padded to the width of a wide one.
    row_numbers = sorted({r for r, _ in cells} | {r for r, _ in covered})
    blocks: list[list[int]] = []
    for r in row_numbers:
        if blocks and r == blocks[-1][-1] + 1:
            blocks[-1].append(r)
        else:
            blocks.append([r])
    first_col = min(c for _, c in cells)
    grid: list[list[str | None]] = []
    for block in blocks:
        inside = set(block)
        last_col = max([c for r, c in cells if r in inside]
                       + [spans[k][1] for k in spans if k[0] in inside])
        for r in block:
            # one merged cell across the block: a caption (第二十条第（一）项, a table title)
            span = spans.get((r, first_col))
            if span and span[1] >= last_col and span[0] == r and (r, first_col) in cells:
                grid.append([cells[(r, first_col)]])
                continue
            grid.append([None if (r, c) in covered else cells.get((r, c), "")
                         for c in range(first_col, last_col + 1)])
    return grid, unsaved


@register(".xlsx", ".xlsm")
def load_xlsx(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    try:
        import openpyxl
    except ImportError:
        raise LoadError("reading .xlsx needs the openpyxl package: pip install openpyxl")

    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise LoadError("this is a legacy Excel .xls file named .xlsx; save it as .xlsx or CSV")
        raise LoadError("not an .xlsx file (not a ZIP package)")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises KeyError/InvalidFileException/BadZipFile/...
        raise LoadError(f"cannot open .xlsx: {type(exc).__name__} {exc}".strip())
    lines: list[str] = []
    warnings: list[str] = []
    unsaved_total = 0
    for ws in wb.worksheets:
        grid, unsaved = _sheet_grid(ws, formulas[ws.title] if ws.title in formulas.sheetnames else None)
        unsaved_total += unsaved
        rows = grid_lines(grid)
        if not rows:
            continue
        title = ws.title.strip()
        if title and title.lower().rstrip("0123456789") not in _DEFAULT_SHEET:
            lines.append(title)  # a sheet named 二、主动公开政府信息情况 names its table
        lines.extend(rows)
    if unsaved_total:
        warnings.append(f"error: xlsx: {unsaved_total} formula cell(s) have no saved value (the workbook "
                        f"was never recalculated); they read as empty")
    if not lines:
        raise LoadError("empty workbook: no cell holds a value")
    title = (wb.properties.title or "").strip() or None
    yield Document(text="\n".join(lines) + "\n", path=str(path), sha256=sha, format="xlsx",
                   encoding=None, title=title, warnings=warnings)
