"""Cell parsing: a stretch of table text → the value tokens it holds (numbers, null marks, blanks)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# Works on width-folded text (textutil.fold_width), so only half-width forms appear here.
NUMBER = re.compile(r"[+\-]?\d+(?:,\d{3})+(?:\.\d+)?|[+\-]?\d+(?:\.\d+)?")
# In a row with a column that may be negative (本年增/减), a dash before a digit is a sign:
# - (and the folded full-width －), the minus sign −, and the em/en dashes scrapes put for it.
MINUS_SIGNS = "-−—–"
_SIGN = "[+" + re.escape(MINUS_SIGNS) + "]?"
SIGNED_NUMBER = re.compile(rf"{_SIGN}\d+(?:,\d{{3}})+(?:\.\d+)?|{_SIGN}\d+(?:\.\d+)?")
_TO_MINUS = str.maketrans({"−": "-", "—": "-", "–": "-", ",": None})
UNIT = re.compile(r"\s*(万元|元|件|条|个|次|人|项|篇|期|场)")
NOT_A_VALUE_AFTER = re.compile(r"\s*(年|月|日|号|时|%|‰|\.\D)")  # dates, ratios, enumerators
NULL_MARK = re.compile(r"^(?:[/\\—–\-─━_]+|无|空)$")
LAYOUT_ONLY = re.compile(r"^:?-{3,}:?$")  # markdown table rule |---|, not a cell
ENUMERATOR_AFTER = re.compile(r"[.、][\u4e00-\u9fff]")  # 0000002.其他: the 2 opens the next label
IDEOGRAPH = re.compile(r"[\u4e00-\u9fff]")
SHORT_LABEL = re.compile(r"^[\u4e00-\u9fff]{1,4}\d{1,2}$")  # 数据1, 列2: placeholder headers
CELL = re.compile(r"[^\s|]+")  # what stands between the splits: one cell's text
DIGIT = re.compile(r"\d")


@dataclass(slots=True, init=False)
class Token:
    kind: str  # num, null
    text: str
    start: int
    end: int
    unit: str | None = None
    value: int | float | None = None  # parsed from text when not given
    # A token read as a cell as it stands is the table's cell (reader.CellRead's fields): no
    # copy per cell, and a note where the reading needs one.
    note: str | None = None

    # Written out rather than generated + __post_init__: one call per token instead of two
    # (a report makes hundreds of tokens).
    def __init__(self, kind: str, text: str, start: int, end: int, unit: str | None = None,
                 value: int | float | None = None) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end
        self.unit = unit
        self.value = parse_number(text) if kind == "num" and value is None else value
        self.note = None


def parse_number(text: str) -> int | float:
    if text.isascii() and text.isdigit():
        return int(text)
    t = text.translate(_TO_MINUS)
    if "." in t:
        return float(Decimal(t))
    return int(t)


def tokenize(text: str, start: int, end: int, signed: bool = False) -> list[Token]:
    """Value tokens between start and end of width-folded text, in order.

    A whole cell that is a null mark (/, —, 无) is a null token; numbers inside cells are number
    tokens; all other text (labels, header words, notes) separates tokens and is dropped.
    `signed`: the stretch is a row with a column that allows negatives, where a dash right
    before a digit is a minus sign (35-15 is 35 and −15), not a separator.
    """
    tokens: list[Token] = []
    # The cells are CELL's matches: runs of what is neither whitespace nor a pipe, which is what
    # str.split gives once pipes are spaces (str.isspace is the regex \s), in one C call. Each
    # one's offset is the first place it occurs after the previous cell (only separators stand
    # between two cells, and a cell holds none), which str.find gives without a match object.
    stretch = text[start:end]
    pos = start
    find = text.find
    for cell in (stretch.replace("|", " ") if "|" in stretch else stretch).split():
        a = find(cell, pos)
        pos = a + len(cell)
        if cell.isascii() and cell.isdigit():  # the common case: a bare number
            tokens.append(Token("num", cell, a, pos, None, int(cell)))
        else:
            _cell_tokens(text, a, pos, tokens, signed)
    return tokens


def _cell_tokens(text: str, a: int, b: int, out: list[Token], signed: bool = False) -> None:
    if a >= b:
        return
    cell = text[a:b]
    if cell.isascii() and cell.isdigit():  # the common case: a bare number
        out.append(Token("num", cell, a, b))
        return
    if not DIGIT.search(cell):  # label or header text, or a null mark: no number in it
        if NULL_MARK.match(cell) and not LAYOUT_ONLY.match(cell):
            out.append(Token("null", cell, a, b))
        return
    if SHORT_LABEL.match(cell):
        return
    for m in (SIGNED_NUMBER if signed else NUMBER).finditer(text, a, b):
        s, e = m.start(), m.end()
        if text[s] in "+" + MINUS_SIGNS and s > a and (text[s - 1].isascii() and text[s - 1].isalpha()
                                             if signed else text[s - 1].isalnum()):
            s += 1  # a hyphen between words is not a sign
        if s > a and e < b and IDEOGRAPH.match(text, s - 1) and IDEOGRAPH.match(text, e):
            continue  # a number inside a phrase (保留4位小数) belongs to the text
        if ENUMERATOR_AFTER.match(text, e) and "." not in text[s:e]:
            e -= 1  # the last digit is the enumerator of the label that follows
            if e <= s:
                continue
        elif NOT_A_VALUE_AFTER.match(text, e) and not text[e:e + 1].isspace():
            continue
        unit = UNIT.match(text, e, b)
        out.append(Token("num", text[s:e], s, e, unit.group(1) if unit else None))


def line_cells(text: str, start: int, stop: int) -> list[tuple[str, int, int]]:
    """text[start:stop] split at every tab and pipe: (stripped cell, start, end) for each cell."""
    cells, pos = [], start
    for m in re.finditer(r"[\t|]", text[start:stop]):
        cells.append((text[pos:start + m.start()].strip(), pos, start + m.start()))
        pos = start + m.end()
    cells.append((text[pos:stop].strip(), pos, stop))
    return cells


def delimited_cells(text: str, start: int, end: int) -> list[tuple[str, int, int]] | None:
    """The explicit cells (tab- or pipe-delimited) of one line after a label, blanks included.

    Only a single-line stretch with tab/pipe delimiters has explicit blank cells; elsewhere blank
    is indistinguishable from layout and this returns None.
    """
    line_end = text.find("\n", start, end)
    stop = end if line_end < 0 else line_end
    stretch = text[start:stop]
    if "\t" not in stretch and "|" not in stretch:
        return None
    cells = line_cells(text, start, stop)[1:]  # what stands between the label and the first delimiter is the label's tail
    if cells and cells[-1][0] == "":
        cells = cells[:-1]  # a trailing delimiter closes the row, it opens no cell
    return cells


# A number with its unit, the number starting a digit run: `(?<![\d.])\d+…` with the look-behind
# moved after the first digit, so that the regex engine can skip to digits.
QUOTED = re.compile(r"(\d(?<![\d.]\d)\d*(?:\.\d+)?)\s*(?:件|条|个|项|次|篇|万元|元)")
CLAUSE_PUNCTUATION = "，,。；;！!？?：:、\n"  # what ends the clause before a quoted number


class QuotedNumbers:
    """Numbers the report states with a unit (698件, 2026条), each with the clauses that quote it
    (the text from the last punctuation before the number up to it: 集中公开现行有效行政规范性文件):
    evidence for settling a digit run, when the clause names the cell's row and column.
    `get(value)` gives the clauses; they are cut out only for the values asked about."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._at: dict[int | float, list[int]] = {}
        for m in QUOTED.finditer(text):
            self._at.setdefault(parse_number(m.group(1)), []).append(m.start())
        self._clauses: dict[int | float, list[str]] = {}

    def get(self, value, default=()) -> list[str]:
        if value not in self._at:
            return list(default)
        if value not in self._clauses:
            self._clauses[value] = [self._clause(s) for s in self._at[value]]
        return self._clauses[value]

    def __getitem__(self, value) -> list[str]:
        if value not in self._at:
            raise KeyError(value)
        return self.get(value)

    def _clause(self, s: int) -> str:
        lo = max(0, s - 80)
        start = max(self.text.rfind(p, lo, s) for p in CLAUSE_PUNCTUATION)
        return self.text[start + 1 if start >= 0 else lo:s]


def quoted_numbers(text: str) -> QuotedNumbers:
    return QuotedNumbers(text)


def confirmed_by_quotes(candidates: list[list], confirms) -> int | None:
    """Index of the one candidate reading the report's own prose settles, else None.

    `confirms(i, value)`: whether a clause of the text quotes `value` naming the row and column
    of cell i. A candidate is settled when at least one of its cells is confirmed and every
    multi-digit cell is accounted for: confirmed itself, or the one cell left unconfirmed (the
    digits of a run being fixed, the others fix it). A number quoted anywhere for anything
    settles nothing (平潭 2019: 350 is not 3|50 because some sentence says 50条).
    """
    settled = []
    for n, values in enumerate(candidates):
        confirmed = [v is not None and confirms(i, v) for i, v in enumerate(values)]
        if not any(confirmed):
            continue
        open_cells = [v for v, ok in zip(values, confirmed) if not ok]
        if len(open_cells) <= 1 or all(v is None or (isinstance(v, int) and abs(v) < 10) for v in open_cells):
            settled.append(n)
    return settled[0] if len(settled) == 1 else None
