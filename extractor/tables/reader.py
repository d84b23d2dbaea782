"""Layout-independent table reading: row labels as anchors, the numbers between them as cells.

Every text layout met (one cell per line, tabs, pipes, markdown, OCR tables split across pages,
whole tables on one line) reduces to the same thing: the template's row labels appear in order,
and the cells of a row are the value tokens between its label and the next one. A row whose label
the scrape lost is recovered from its position between the labels that remain.
"""
from __future__ import annotations

import itertools
import operator
import re
from dataclasses import dataclass, field
from typing import Callable

from ..template import Row, names
from .cells import DIGIT, Token, confirmed_by_quotes, delimited_cells, line_cells, parse_number, tokenize, NULL_MARK, NUMBER
from .segment import segmentations

MAX_COMBINATIONS = 5000
DIGIT_RUN = re.compile(r"\d+")
_TEXT = operator.attrgetter("text")
_ONE_MINUS = str.maketrans({"−": "-", "—": "-", "–": "-"})  # one character for one: offsets kept


@dataclass(slots=True)
class CellRead:
    value: int | float | None
    start: int
    end: int
    text: str
    unit: str | None = None
    note: str | None = None


@dataclass
class TableRead:
    """What a reader found: cells[row][column] (None cell = null), with spans and errors. A cell
    is a CellRead, or the Token it was read from as it stands (the same fields)."""
    cells: dict[str, dict[str, CellRead | Token | None]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    found_rows: int = 0
    span: tuple[int, int] | None = None
    # Segments whose digit runs had several readings: (rows, candidate cell lists, error message)
    ambiguous: list[tuple[list[Row], list[list[CellRead]], str]] = field(default_factory=list)

    def values(self) -> dict[str, dict[str, int | float | None]]:
        return {r: {c: (v.value if v else None) for c, v in cols.items()} for r, cols in self.cells.items()}


RowAccept = Callable[[Row, list[int | float]], bool]


def find_anchors(text: str, start: int, end: int, rows: list[Row]) -> list[tuple[Row, int, int] | tuple[Row, None, None]]:
    """Each row's label, searched in template order from where the previous one was found."""
    out: list = []
    cursor = start
    for row in rows:
        m = row.pattern.search(text, cursor, end) if row.pattern is not None else None
        if m:
            out.append((row, m.start(), m.end()))
            cursor = m.end()
        else:
            out.append((row, None, None))
    return out


def read_rows(text: str, start: int, end: int, rows: list[Row], accept: RowAccept,
              label: str, last_row_ends_table: bool = True) -> TableRead:
    """Read the rows of one table from text[start:end] (width-folded)."""
    result = TableRead()
    anchors = find_anchors(text, start, end, rows)
    # Group: each found label opens a segment; rows whose label is missing join the open segment.
    segments: list[tuple[int, list[Row]]] = []  # (segment start offset, value rows)
    bounds: list[int] = []
    pending_before_first: list[Row] = []
    last_found = max((i for i, (_, s, _) in enumerate(anchors) if s is not None), default=-1)
    for i, (row, s, e) in enumerate(anchors):
        if s is None and i > last_found and row.kind == "row":
            # After the last label found the table is cut off (a truncated scrape): the rows
            # are missing, not merged into the last row's numbers.
            result.cells[row.key] = {c.key: None for c in row.columns}
            result.errors.append(f"{label}: row {row.key} ({row.printed}) not found; the table ends before it")
            continue
        if s is not None:
            result.found_rows += row.kind == "row"
            segments.append((e, [row] if row.kind == "row" else []))
            bounds.append(s)
        elif row.kind == "row":
            if segments:
                segments[-1][1].append(row)
            else:
                pending_before_first.append(row)
    for row in pending_before_first:
        result.cells[row.key] = {c.key: None for c in row.columns}
        result.errors.append(f"{label}: row {row.key} ({row.printed}) not found")
    for i, (seg_start, seg_rows) in enumerate(segments):
        seg_end = bounds[i + 1] if i + 1 < len(bounds) else end
        if not seg_rows:
            continue
        is_last = i + 1 == len(segments)
        _fit_segment(text, seg_start, seg_end, seg_rows, accept, result, label, is_last and last_row_ends_table)
    return result


def _assign(result: TableRead, seg_rows: list[Row], cells: list[CellRead | None]) -> None:
    i = 0
    for row in seg_rows:
        result.cells[row.key] = {}
        for col in row.columns:
            result.cells[row.key][col.key] = cells[i]
            i += 1


def _token_cell(t: Token, note: str | None = None) -> CellRead | None:
    return CellRead(t.value, t.start, t.end, t.text, t.unit, note)


def _fit_segment(text: str, a: int, b: int, seg_rows: list[Row], accept: RowAccept,
                 result: TableRead, label: str, take_first: bool) -> None:
    if len(seg_rows) == 1:  # the common case, without a generator per segment
        width, signed = seg_rows[0].width, seg_rows[0].signed
    else:
        width, signed = sum(r.width for r in seg_rows), any(r.signed for r in seg_rows)
    tokens = tokenize(text, a, b, signed)
    if signed and len(tokens) >= width and not _signs_fit(tokens, seg_rows):
        tokens = tokenize(text, a, b)  # a minus landing on a column that is never negative is no sign
    if len(tokens) == width or (len(tokens) > width and take_first):
        _assign(result, seg_rows, _admitted(tokens[:width], seg_rows, result, label))
        return
    if len(tokens) > width:
        _assign(result, seg_rows, _admitted(tokens[:width], seg_rows, result, label))
        result.errors.append(f"{label}: {_names(seg_rows)}: {len(tokens)} numbers where {width} cells are; "
                             f"read the first {width}, ignored {' '.join(t.text for t in tokens[width:])}")
        return
    # Fewer tokens than cells: explicit blank cells, or digits of several cells run together.
    if all(r.kind == "block" for r in seg_rows):
        cells = _value_line(text, a, b, width)  # table 四: its fifteen cells are one grid line
        if cells is not None:
            _assign(result, seg_rows, [_delimited_cell(text, c, s, e) for c, s, e in cells])
            return
    if len(seg_rows) == 1:
        cells = delimited_cells(text, a, b)
        if cells is not None:
            while len(cells) > width and cells[0][0] == "":
                cells = cells[1:]
            if len(cells) == width and all(c == "" or NULL_MARK.match(c) or NUMBER.fullmatch(c)
                                           for c, _, _ in cells):
                _assign(result, seg_rows, [_delimited_cell(text, c, s, e) for c, s, e in cells])
                return
    if (tokens and all(t.kind == "num" and (signed or not t.text.startswith(("+", "-"))) for t in tokens)
            and sum(len(t.text) for t in tokens) >= width):
        _segment_runs(text, tokens, seg_rows, accept, result, label)
        return
    _assign(result, seg_rows, [None] * width)
    result.errors.append(f"{label}: {_names(seg_rows)}: found {len(tokens)} of {width} values "
                         f"({' '.join(t.text for t in tokens) or 'none'}); cells left null")


def _names(seg_rows: list[Row]) -> str:
    return ", ".join(r.key for r in seg_rows)


def _admitted(tokens: list[Token], seg_rows: list[Row], result: TableRead, label: str) -> list[CellRead | None]:
    """One cell per token, except a value its column cannot hold (a negative or fractional count,
    money past the cent): that cell is null, with the reason."""
    if all(map(str.isdigit, map(_TEXT, tokens))):  # whole, not negative: any column holds it
        return tokens  # each token is its cell (value, span, text, unit, note)
    cells = []
    columns = [(r, c) for r in seg_rows for c in r.columns]
    for t, (row, col) in zip(tokens, columns):
        if t.kind == "num" and not col.admits(t.value, t.text, t.unit):
            result.errors.append(f"{label}: {row.key}.{col.key}: '{t.text}' cannot be a {col.kind.replace('_', ' ')} "
                                 f"({col.printed}); cell left null")
            cells.append(None)
        else:
            cells.append(_token_cell(t))
    return cells


def _signs_fit(tokens: list[Token], seg_rows: list[Row]) -> bool:
    """Whether, read one token per cell, every negative number falls on a column allowing it."""
    columns = [c for r in seg_rows for c in r.columns]
    return all(t.value is None or t.value >= 0 or col.signed for t, col in zip(tokens, columns))


def _value_line(text: str, a: int, b: int, width: int) -> list[tuple[str, int, int]] | None:
    """The one tab/pipe-delimited line in text[a:b] holding `width` value cells, blanks included."""
    pos = a
    while pos < b:
        stop = text.find("\n", pos, b)
        stop = b if stop < 0 else stop
        line = text[pos:stop]
        if "\t" in line or "|" in line:
            parts = line_cells(text, pos, stop)
            if line.strip().startswith("|") and parts and parts[0][0] == "":
                parts = parts[1:]  # a markdown row's opening pipe
            if line.rstrip(" \r").endswith(("|", "\t")) and parts and parts[-1][0] == "":
                parts = parts[:-1]  # a closing pipe or tab
            values = [c for c, _, _ in parts]
            if (len(parts) == width and any(NUMBER.fullmatch(v) for v in values)
                    and all(v == "" or NULL_MARK.match(v) or NUMBER.fullmatch(v) for v in values)):
                return parts
        pos = stop + 1
    return None


def _delimited_cell(text: str, c: str, s: int, e: int) -> CellRead | None:
    if not c or NULL_MARK.match(c):
        return None
    off = text.find(c, s, e)
    return CellRead(parse_number(c), off, off + len(c), c)


def _chunks(seg_rows: list[Row], values: list) -> list[list]:
    out, i = [], 0
    for r in seg_rows:
        out.append(values[i:i + r.width])
        i += r.width
    return out


def _segment_runs(text: str, tokens: list[Token], seg_rows: list[Row], accept: RowAccept,
                  result: TableRead, label: str) -> None:
    width = sum(r.width for r in seg_rows)
    names = ", ".join(r.key for r in seg_rows)
    groups = [t.text.replace(",", "").translate(_ONE_MINUS) for t in tokens]

    def accept_row(i: int, parts: list[str]) -> bool:
        # Plausibility (whole counts, negatives only where allowed, 总数 >= 新公开) rejects a
        # reading before the identities judge it; it never makes one.
        values = [parse_number(p) for p in parts]
        unit = tokens[-1].unit if i == len(seg_rows) - 1 else None  # the unit printed after the run
        return seg_rows[i].plausible(values, parts, unit) and accept(seg_rows[i], values)

    def last_of_row(i: int, parts: list[str]) -> str | None:
        if seg_rows[i].columns[-1].key != "total" or any("." in p for p in parts):
            return None  # only a total column is the sum of the cells before it
        return str(sum(int(p) for p in parts))

    cuts, examined = segmentations(groups, [r.width for r in seg_rows], accept_row, last_of_row)
    if examined < 0:
        _assign(result, seg_rows, [None] * width)
        result.errors.append(f"{label}: {names}: digits '{' '.join(groups)}' run together admit too many "
                             f"readings to examine; cells left null")
        return
    candidates = []
    for cut in cuts:
        cells = []
        for n, (g, off) in enumerate(cut):
            nxt = cut[n + 1] if n + 1 < len(cut) and cut[n + 1][0] == g else None
            t = tokens[g]
            stop = t.start + (nxt[1] if nxt else len(groups[g]))
            piece = text[t.start + off:stop]
            cells.append(CellRead(parse_number(piece), t.start + off, stop, piece,
                                  t.unit if not nxt else None, "digits run together; cut by identities"))
        candidates.append(cells)
    if len(candidates) == 1:
        _assign(result, seg_rows, candidates[0])
        return
    _assign(result, seg_rows, _common_cells(candidates, width))
    if candidates:
        shown = "; ".join(",".join(c.text for c in cand) for cand in candidates[:4])
        more = f" (+{len(candidates) - 4} more)" if len(candidates) > 4 else ""
        message = (f"{label}: {names}: digits '{' '.join(groups)}' run together have "
                   f"{len(candidates)} readings: {shown}{more}; cells left null"
                   + ("" if all(c is None for c in _cells_of(result, seg_rows))
                      else " (except those the same in every reading)"))
        result.ambiguous.append((seg_rows, candidates, message))
        result.errors.append(message)
    else:
        result.errors.append(f"{label}: {names}: digits '{' '.join(groups)}' run together have no "
                             f"reading that satisfies the identities ({examined} cuts examined); cells left null")


def _cells_of(result: TableRead, seg_rows: list[Row]) -> list[CellRead | None]:
    return [result.cells[r.key][c.key] for r in seg_rows for c in r.columns]


def _common_cells(candidates: list[list[CellRead]], width: int) -> list[CellRead | None]:
    """The cells every reading reads alike (same digits, same place): certain whichever reading
    is true (0+34636: 上一年项目数量 0 in each). The others stay null."""
    out: list[CellRead | None] = [None] * width
    if not candidates:
        return out
    for i in range(width):
        first = candidates[0][i]
        if all((c[i].start, c[i].end) == (first.start, first.end) for c in candidates[1:]):
            out[i] = CellRead(first.value, first.start, first.end, first.text, first.unit,
                              "digits run together; the same in every reading")
    return out


def resolve_with_columns(result: TableRead, consistent: Callable[[dict], bool], label: str) -> None:
    """Settle ambiguous digit runs jointly: keep the combination of readings under which the
    column identities hold. Exactly one survivor is taken; otherwise the cells stay null."""
    if not result.ambiguous:
        return
    options = [cands for _, cands, _ in result.ambiguous]
    total = 1
    for o in options:
        total *= len(o)
    if total > MAX_COMBINATIONS:
        return
    survivors = []
    for combo in itertools.product(*options):
        trial = {r: dict(cols) for r, cols in result.cells.items()}
        for (seg_rows, _, _), cells in zip(result.ambiguous, combo):
            for row, chunk in zip(seg_rows, _chunks(seg_rows, list(cells))):
                trial[row.key] = {c.key: v for c, v in zip(row.columns, chunk)}
        values = {r: {c: (v.value if v else None) for c, v in cols.items()} for r, cols in trial.items()}
        if consistent(values):
            survivors.append(trial)
    if len(survivors) == 1:
        result.cells = survivors[0]
        settled = {message for _, _, message in result.ambiguous}
        result.errors = [e for e in result.errors if e not in settled]
        for k in {row.key for seg_rows, _, _ in result.ambiguous for row in seg_rows}:
            for c in result.cells[k].values():
                if c:
                    c.note = "digits run together; cut by row and column identities"
        result.ambiguous = []


def read_by_lines(text: str, start: int, end: int, rows: list[Row], label: str) -> TableRead:
    """Fallback for scrambled layouts (OCR tables whose labels drifted away from their numbers).

    A line holding exactly one row's width of numbers is a row's line. With a row label on it the
    label names the row (table 二, rows of unequal width); when the table's rows are all of one
    width, the full lines fill the rows in template order, and a last row printed with a blank
    cell is read from its own labelled line.
    """
    value_rows = [r for r in rows if r.kind == "row"]
    result = TableRead()
    lines: list[tuple[int, int, list[Token]]] = []
    widths = {r.width for r in value_rows}
    pos = start
    if len(widths) == 1 and len(DIGIT_RUN.findall(text, start, end)) < (len(value_rows) - 1) * min(widths):
        # Rows of one width are read only from at least all but one full line, each number
        # holding a digit run: with fewer runs (digits run together) no line need be read.
        pos = end
    while pos < end:
        stop = text.find("\n", pos, end)
        stop = end if stop < 0 else stop
        toks = tokenize(text, pos, stop) if DIGIT.search(text, pos, stop) else None  # no digit, no row
        if toks and all(t.kind == "num" for t in toks):
            lines.append((pos, stop, toks))
        pos = stop + 1
    if len(widths) == 1:
        width = widths.pop()
        full = [toks for _, _, toks in lines if len(toks) == width]
        if len(full) in (len(value_rows), len(value_rows) - 1):
            note = "row read by its position among the table's lines"
            for toks, row in zip(full, value_rows):
                result.cells[row.key] = {c.key: _token_cell(t, note) for c, t in zip(row.columns, toks)}
            if len(full) == len(value_rows) - 1:
                last = value_rows[-1]
                m = last.pattern.search(text, start, end)
                cells = _raw_cells(text, m.end(), end) if m else None
                if cells is not None and len(cells) == width:
                    result.cells[last.key] = {c.key: _delimited_cell(text, v, s, e)
                                              for c, (v, s, e) in zip(last.columns, cells)}
    else:
        for a, b, toks in lines:
            for row in value_rows:
                m = row.pattern.search(text, a, b) if row.pattern is not None else None
                if m and row.key not in result.cells:
                    after = tokenize(text, m.end(), b)
                    if len(after) == row.width:
                        result.cells[row.key] = {c.key: _token_cell(t) for c, t in zip(row.columns, after)}
                        break
    result.found_rows = len(result.cells)
    for row in value_rows:
        if row.key not in result.cells:
            result.cells[row.key] = {c.key: None for c in row.columns}
            result.errors.append(f"{label}: row {row.key} ({row.printed}) not found")
    return result


def _raw_cells(text: str, start: int, end: int) -> list[tuple[str, int, int]] | None:
    """Pipe/tab cells of the line after a label, a trailing empty cell kept (a printed blank)."""
    stop = text.find("\n", start, end)
    stop = end if stop < 0 else stop
    stretch = text[start:stop]
    if "|" not in stretch and "\t" not in stretch:
        return None
    parts = line_cells(text, start, stop)
    if stretch.rstrip().endswith("|") and parts[-1][0] == "":
        parts.pop()  # the closing pipe of a markdown row opens no cell
    return parts[1:]


def confirm_with_quotes(result: TableRead, quoted) -> None:
    """Settle a digit run that the identities left open when the report's own prose quotes the
    cells of exactly one reading, each in a clause naming its row and column (平潭 2022: 8855698,
    and the text says 现行有效行政规范性文件698件, 本年度制发的规范性文件88件: 88|55|698)."""
    still = []
    for seg_rows, candidates, message in result.ambiguous:
        cells = [(r, c) for r in seg_rows for c in r.columns]

        def confirms(i: int, value, cells=cells) -> bool:
            row, col = cells[i]
            return bool(col.prose) and any(names(row.prose, clause) and names(col.prose, clause)
                                           for clause in quoted.get(value, ()))
        pick = confirmed_by_quotes([[c.value for c in cand] for cand in candidates], confirms)
        if pick is None:
            still.append((seg_rows, candidates, message))
            continue
        for c in candidates[pick]:
            c.note = "digits run together; cut confirmed by numbers the report quotes"
        _assign(result, seg_rows, candidates[pick])
        result.errors.remove(message)
    result.ambiguous = still
