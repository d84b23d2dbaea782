"""HTML pages (.html, .htm): the page's own text, with site chrome dropped and tables as TSV rows.

Also home of `grid_lines`, the one rendering of a table grid into text that the DOCX and PDF
loaders share, so every format hands the table reader the same layout.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import register
from . import text as text_loader

# ---------------------------------------------------------------------------------------------
# Table grids → TSV lines (shared with docx.py and pdf.py)

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


# ---------------------------------------------------------------------------------------------
# Decoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
# A declared Chinese charset is decoded as its superset: pages labelled gb2312 routinely hold
# GBK-only characters (e.g. 镕, 堃), and GB18030 reads all of them the same way.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
              "cp936": "gb18030", "hz-gb-2312": "gb18030"}


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in <meta charset> or <meta http-equiv content=...charset=>."""
    m = _META_CHARSET.search(data[:8192])
    if not m:
        return None
    name = m.group(1).decode("ascii", "ignore").lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(data: bytes) -> tuple[str, str, list[str]]:
    """(text, encoding, warnings). A BOM wins, then the declared charset, then detection."""
    warnings = []
    declared = declared_charset(data)
    has_bom = data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if declared and not has_bom and not declared.startswith("utf-16"):
        try:
            return data.decode(declared), declared, warnings
        except UnicodeDecodeError:
            warnings.append(f"declared charset {declared} does not fit the bytes; encoding detected instead")
    text, encoding = text_loader.decode(data)
    return text, encoding, warnings


# ---------------------------------------------------------------------------------------------
# Rendering

_DROP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "aside", "iframe", "select",
              "button", "input", "textarea", "template", "svg", "object", "embed", "head"}
_CHROME = re.compile(r"nav|menu|footer|header|breadcrumb|share|sidebar", re.I)
_BLOCK = {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
          "ol", "dl", "dt", "dd", "blockquote", "pre", "address", "figure", "figcaption", "center",
          "table", "tr", "td", "th", "caption", "hr", "form", "fieldset", "body", "html"}


def _tag(el) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _text_len(el) -> int:
    return len(re.sub(r"\s+", "", el.text_content() or ""))


def _drop_chrome(root) -> list[str]:
    """Remove non-content elements; returns a short note per kind removed."""
    dropped: dict[str, int] = {}
    for el in list(root.iter()):
        tag = _tag(el)
        if tag in _DROP_TAGS and el.getparent() is not None:
            if tag != "head":  # <head> never holds page text: not worth a warning
                dropped[tag] = dropped.get(tag, 0) + 1
            el.drop_tree()
    total = _text_len(root) or 1
    for el in list(root.iter()):
        if not _tag(el) or el.getparent() is None or _tag(el) in ("body", "html"):
            continue
        m = _CHROME.search(f"{el.get('id', '')} {el.get('class', '')}")
        # An element holding much of the page is the content wrapper, whatever its class says.
        if m and _text_len(el) < 0.4 * total:
            key = m.group(0).lower()
            dropped[key] = dropped.get(key, 0) + 1
            el.drop_tree()
    return [f"{k} ×{n}" for k, n in sorted(dropped.items())]


class _Lines:
    """Accumulates rendered text: inline text runs join into the current line; blocks break."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []

    def add(self, text: str) -> None:
        if text:
            self.current.append(text)

    def newline(self) -> None:
        # HTML whitespace rules: runs collapse to one space; &nbsp; is a plain space here
        line = re.sub(r"[ \t\r\n\f\v\xa0]+", " ", "".join(self.current)).strip()
        if line:
            self.lines.append(line)
        self.current = []

    def block(self, lines: list[str]) -> None:
        self.newline()
        self.lines.extend(lines)


def _is_data_table(table) -> bool:
    # A table holding other tables lays out the page; only innermost tables carry data.
    return not any(_tag(d) == "table" for d in table.iterdescendants())


def _cell_text(cell) -> str:
    """A cell's text; its block breaks (<br>, <p>) become newlines for join_wrapped."""
    out = _Lines()
    _render(cell, out)
    out.newline()
    return "\n".join(out.lines)


def _table_grid(table) -> list[list[str | None]]:
    rows = []
    for tr in table.iter("tr"):  # a data table has no nested table, so these are all its rows
        cells = []
        for td in tr:
            if _tag(td) not in ("td", "th"):
                continue
            cells.append((_cell_text(td), _span(td.get("rowspan")), _span(td.get("colspan"))))
        if cells:
            rows.append(cells)
    return expand_spans(rows)


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(str(value).strip()), 1000))
    except (TypeError, ValueError):
        return 1


def _render(el, out: _Lines) -> None:
    tag = _tag(el)
    if not tag:  # a comment or processing instruction: only its tail is page text
        pass
    elif tag == "br":
        out.newline()
    elif tag == "table" and _is_data_table(el):
        out.block(grid_lines(_table_grid(el)))
    else:
        if tag in _BLOCK:
            out.newline()
        out.add(el.text or "")
        for child in el:
            _render(child, out)
        if tag in _BLOCK:
            out.newline()
    out.add(el.tail or "")


def html_to_text(markup: str) -> tuple[str, str | None, list[str]]:
    """(text, title, warnings) of an HTML page."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(markup)
    except Exception as exc:  # lxml raises ParserError for an empty or hopeless document
        raise LoadError(f"cannot parse HTML: {exc}")
    title = None
    t = root.find(".//title")
    if t is not None and (t.text_content() or "").strip():
        title = re.sub(r"\s+", " ", t.text_content()).strip()
    else:
        h1 = root.find(".//h1")
        if h1 is not None and h1.text_content().strip():
            title = re.sub(r"\s+", " ", h1.text_content()).strip()
    dropped = _drop_chrome(root)
    body = root.find("body")
    out = _Lines()
    _render(body if body is not None else root, out)
    out.newline()
    warnings = [f"html: dropped site chrome ({', '.join(dropped)})"] if dropped else []
    return "\n".join(out.lines) + "\n", title, warnings


@register(".html", ".htm", ".xhtml", ".shtml")
def load_html(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    if text_loader.looks_binary(data):
        raise LoadError("binary content, not HTML")
    markup, encoding, warnings = decode_html(data)
    # lxml refuses str input that still declares an encoding in an XML prolog
    markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", markup)
    text, title, more = html_to_text(markup)
    if not text.strip():
        raise LoadError("no text in the page (empty, or content loaded by script)")
    yield Document(text=text, path=str(path), sha256=sha, format="html", encoding=encoding,
                   title=title, warnings=warnings + more)
