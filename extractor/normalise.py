"""Normalisation: strip what the publishing or scraping site added to a report's text.

`normalise(doc)` is a pure function applied to every Document before the readers. It removes
only what is recognisably not the report — document-sharing-site boilerplate and the page
markers such sites splice into words, site navigation, trailing page chrome and site footers,
Word's conditional comments, HTML entities — and leaves every other character as it was: the
table reader is sensitive to layout. A crawler's header lines (标题: 发布时间: …) are read into
`fields` and `title` and stay in the text. What was removed is noted in `warnings`.
"""
from __future__ import annotations

import dataclasses
import html
import re

from .document import Document

# ---------------------------------------------------------------------------------------------
# (a) Document-sharing sites (wenku-like pages: a .docx previewed page by page)

# Signs of a document-sharing site; two of them make a page one. Each is its own pattern: each
# opens with a literal the regex engine scans for quickly, where their alternation tests a set
# of characters at every character. Signs of different kinds never overlap (their words
# differ), so counting per kind counts what the alternation's findall counted.
_SHARING_SIGNS = tuple(re.compile(p) for p in (
    r"上传人\s*[:：]", r"文档编号\s*[:：]", r"该文档总共\s*\d+\s*页", r"\.(?:docx?|pdf|wps|pptx?)_第\s*\d+\s*页"))
_SHARING_LINES = re.compile(
    r"^[ \t\u3000]*(?:"
    r"收藏\s*分享.{0,10}"
    r"|.{0,40}(?:上传人|文档编号|上传时间)\s*[:：].*"
    r"|.{1,120}\.(?:docx?|pdf|wps|pptx?|xlsx?|txt)_第\s*\d+\s*页"
    r"|第\s*\d+\s*页\s*/\s*共\s*\d+\s*页"
    r"|亲\s*[,，]\s*该文档总共.*"
    r"|资源描述"
    r"|下载\s+相关\s+举报"
    r"|展开阅读全文|相关资源|猜你喜欢|相关搜索|相关文档|全文预览已结束.*"
    r")[ \t\u3000]*(?:\n|\Z)", re.M)
_SHARED_FILE_NAME = re.compile(r"^[ \t\u3000]*(.{2,120}?)\.(?:docx?|pdf|wps)(?:_第\s*\d+\s*页)?[ \t\u3000]*$", re.M)


def _has_sharing_signs(text: str) -> bool:
    """Two signs or more, counting stopped at two."""
    found = 0
    for pattern in _SHARING_SIGNS:
        for _ in pattern.finditer(text):
            found += 1
            if found >= 2:
                return True
    return False


# A page marker: "N、" opening a chunk, i.e. at the very start or right after a blank line.
_PAGE_MARKER = re.compile(r"(\A[ \t\u3000\n]*|\n[ \t\u3000]*\n[ \t\u3000]*)(\d{1,3})、")


def _sharing_site(text: str, warnings: list[str], title: str | None) -> tuple[str, str | None]:
    if not _has_sharing_signs(text):
        return text, title
    if title is None:
        m = _SHARED_FILE_NAME.search(text)
        title = m.group(1).strip() if m else None
    text, n_lines = _SHARING_LINES.subn("", text)
    # The site numbers its page chunks 1、2、3、… at the start of each chunk, cutting words in
    # two (坚持“公开为原那么\n\n2、,不公开为例外). Only the run 1, 2, 3, … counts: a report's own
    # enumeration (1、各级各部门的重视) follows text on the same line, not a chunk break.
    chain, expected = [], 1
    for m in _PAGE_MARKER.finditer(text):
        if int(m.group(2)) == expected:
            chain.append(m)
            expected += 1
    if len(chain) >= 2:
        parts, pos = [], 0
        for m in chain:
            parts.append(text[pos:m.start()])
            if m.group(2) == "1":
                parts.append(m.group(1))  # the first chunk keeps what stands before it
            pos = m.end()  # later chunks join the previous one: the break was the site's
        parts.append(text[pos:])
        text = "".join(parts)
    else:
        chain = []
    warnings.append(f"normalise: removed document-sharing-site boilerplate ({n_lines} lines"
                    + (f", page markers 1、…{len(chain)}、 joined" if chain else "") + ")")
    return text, title


# ---------------------------------------------------------------------------------------------
# (b) Crawler pages: a header block of `name: value` lines, then the page text with its chrome

_HEADER_NAMES = ("标题", "发布时间", "文号", "发布机构", "栏目", "原文链接", "本地目录", "来源", "索引号",
                 "发文日期", "成文日期", "主题分类")
_HEADER_LINE = re.compile(r"^(" + "|".join(_HEADER_NAMES) + r")[ \t]*[:：][ \t]?(.*?)[ \t]*$")
_NAV = re.compile(r"当前位置\s*[:：]")
_NAV_END = re.compile(r"相关链接\s*[:：]\s*(?:-->)?[ \t\u3000]*|-->[ \t\u3000]*")
_NAV_SOURCE = re.compile(r"来源\s*[:：]\s*(\S+)")


def _crawler_header(text: str, doc_fields: dict[str, str], warnings: list[str]) -> str | None:
    """Parse the header lines at the top into fields; returns the 标题 value. The lines stay."""
    found = {}
    for line in text.split("\n", 16)[:15]:
        m = _HEADER_LINE.match(line)
        if m:
            found.setdefault(m.group(1), m.group(2))
    if len(found) < 3:
        return None
    for name, value in found.items():
        if value:
            doc_fields.setdefault(name, value)
    warnings.append(f"normalise: crawler header read into fields ({', '.join(n for n, v in found.items() if v)})")
    return found.get("标题") or None


def _navigation(text: str, fields: dict[str, str], warnings: list[str]) -> str:
    """Drop the breadcrumb block (当前位置： 首页 > … 微信 微博 … 相关链接： -->)."""
    m = _NAV.search(text)
    if not m:
        return text
    line_end = text.find("\n", m.start())
    line_end = len(text) if line_end < 0 else line_end
    end = _NAV_END.search(text, m.end(), min(line_end, m.end() + 400))
    if end:
        stop = end.end()
    elif line_end - m.start() <= 150:  # a breadcrumb line of its own
        stop = min(line_end + 1, len(text))
    else:
        return text  # no clear end: leave the text alone rather than cut into the report
    src = _NAV_SOURCE.search(text, m.start(), stop)
    if src:
        fields.setdefault("来源", src.group(1))
    warnings.append(f"normalise: removed site navigation ({stop - m.start()} characters from 当前位置)")
    return text[:m.start()] + text[stop:]


_TRAILING_CHROME = re.compile(
    r"(?:^|(?<=[\s】\]]))[【\[]?(?:附件下载|扫一扫(?:在手机上?打开(?:当前页)?)?|分享到\s*[:：]?|打印(?:本页|此页|页面)?"
    r"|关闭(?:窗口|本页|页面)?|收藏(?:本页)?|返回顶部|保存本页|微信|微博|QQ空间)[】\]]?\s*\Z")


def _trailing_chrome(text: str, warnings: list[str]) -> str:
    """附件下载, 扫一扫在手机打开当前页, 分享到, 【打印】【关闭】… ending a scraped page."""
    removed = []
    final_newline = text.endswith("\n")
    while True:
        # A match ends the text and is a short word plus spaces: search only the last stretch
        # (from the start of the string the regex tried every position of the report).
        m = _TRAILING_CHROME.search(text, max(0, len(text.rstrip()) - 40))
        if not m or m.start() == 0:
            break
        removed.append(m.group(0).strip())
        text = text[:m.start()]
    if removed:
        text = text.rstrip() + ("\n" if final_newline else "")
        warnings.append(f"normalise: removed trailing page chrome ({' '.join(reversed(removed))})")
    return text


_FOOTER_LINE = re.compile(r"^[ \t\u3000]*(?:copyright|©|版权所有|主办单位|承办单位|技术支持|网站标识码|经营许可证"
                          r"|.{0,40}ICP备|.{0,40}公网安备|当前位置\s*[:：].{0,100}$)", re.I)


def _site_footer(text: str, warnings: list[str]) -> str:
    """Copyright/ICP lines (and a breadcrumb among them) at the very end of a scraped page."""
    lines = text.split("\n")
    end = len(lines)
    cut = None
    while end > 0:
        line = lines[end - 1]
        if not line.strip():
            end -= 1
        elif len(line) <= 160 and _FOOTER_LINE.match(line):
            end -= 1
            cut = end
        else:
            break
    if cut is None:
        return text
    warnings.append(f"normalise: removed site footer ({len(lines) - cut} trailing lines: copyright/ICP)")
    return "\n".join(lines[:cut]).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# (c) Word's conditional comments leaked into text; (d) HTML entities

_WORD_BLOCK = re.compile(r"<!--\[if[^\]]{0,40}\]>.{0,5000}?<!\[endif\]-->", re.S)
_WORD_MARKS = re.compile(r"<!--\[if[^\]]{0,40}\]-->|<!--\[endif\]-->|<!\[if[^\]]{0,40}\]>|<!\[endif\]>")
_ENTITY = re.compile(r"&(?:nbsp|ensp|emsp|thinsp|amp|lt|gt|quot|apos|ldquo|rdquo|lsquo|rsquo|mdash|ndash"
                     r"|middot|hellip|times|divide|deg|plusmn|yen|copy|reg|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});"
                     r"|&nbsp(?![A-Za-z;])")
_SPACES = {"\xa0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " "}


def _word_leftovers(text: str, warnings: list[str]) -> str:
    text, a = _WORD_BLOCK.subn("", text)
    text, b = _WORD_MARKS.subn("", text)
    if a + b:
        warnings.append(f"normalise: removed {a + b} Word conditional comment(s) (<!--[if …]-->)")
    return text


def _entities(text: str, warnings: list[str]) -> str:
    total = 0
    for _ in range(2):  # twice: scrapes double-escape (&amp;nbsp;)
        def one(m: re.Match) -> str:
            s = html.unescape(m.group(0) if m.group(0).endswith(";") else m.group(0) + ";")
            return _SPACES.get(s, s)
        text, n = _ENTITY.subn(one, text)
        total += n
        if not n:
            break
    if total:
        warnings.append(f"normalise: decoded {total} HTML entit{'y' if total == 1 else 'ies'} (&nbsp; …)")
    return text


# ---------------------------------------------------------------------------------------------

def normalise(doc: Document) -> Document:
    """The document with site-added text removed; everything else byte-identical."""
    text = doc.text
    fields = dict(doc.fields)
    warnings: list[str] = []
    title = doc.title
    text, title = _sharing_site(text, warnings, title)
    header_title = _crawler_header(text, fields, warnings)
    title = title or header_title
    text = _navigation(text, fields, warnings)
    text = _word_leftovers(text, warnings)
    text = _entities(text, warnings)
    text = _site_footer(text, warnings)
    text = _trailing_chrome(text, warnings)
    if text == doc.text and fields == doc.fields and title == doc.title:
        return doc
    return dataclasses.replace(doc, text=text, fields=fields, title=title,
                               warnings=list(doc.warnings) + warnings)
