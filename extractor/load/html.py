"""HTML pages (.html, .htm): the page's own text, with site chrome dropped and tables as TSV rows."""
from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import register
from . import text as text_loader
from .grid import expand_spans, grid_lines

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
