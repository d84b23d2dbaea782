"""The report audited as written: its structure (sections, ordinals, tables) and its prose.

What an evaluator marks a report down for, apart from its numbers: a section of the national
outline missing, empty or printed under another ordinal, the overview's sub-topics numbered as
if they were the six sections, several numbering systems for one level, a word printed twice, a
clause cut off. Every finding is a `CheckItem` of `audit.<kind>` with its span and whose fault it
is (docs/audit.md). The lists (headings, ordinals, sub-topic phrases, cue words) are data:
extractor/template/audit_*.csv. Precision comes first: a false "the agency got this wrong" is
worse than a miss, so each rule fires only on evidence that leaves little doubt.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .checks import CHECKS
from .models import Check, Sections
from .narrative.prompts import is_table_line
from .template import _read, parse_prose
from .textutil import last_splitlines

KINDS = ("section_missing", "section_empty", "fees_silent", "section_misnumbered", "numbering_mixed",
         "text_duplicated_word", "text_incomplete_sentence", "table_missing")
PREFIX = "audit."
# The national outline (2019 and 2021 generations): six sections under fixed ordinals.
OUTLINE_TEMPLATES = ("2021", "2019")
NUMERALS = "一二三四五六七八九十"
MARKUP_FORMATS = ("html", "htm", "csv", "jsonl")  # text taken out of web pages
_TITLE_REACH = 14  # how far into a heading the section's words may begin (政府信息公开工作存在的…)
_SUBTOPIC_LINE = 24  # a sub-topic heading stands on a short line of its own

# A Chinese ordinal heading: 二、 三． (not （二）, not 第二、, not 一二、 of a list of numerals).
_CN_ENUM = re.compile(rf"(?<![{NUMERALS}第（(〔\[])([{NUMERALS}]{{1,2}})[ \t\u3000]*[、.．][ \t\u3000]*")
_OTHER_ENUM = (("arabic", re.compile(r"(?m)^[#>*\s\u3000]*(\d{1,2})[ \u3000]*[、.．][ \u3000]*")),
               ("part", re.compile(rf"(?m)^[#>*\s\u3000]*第([{NUMERALS}]{{1,2}})部分[、:：,，\s\u3000]*")))
_DATE_LINE = re.compile(r"^\s*\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?\s*$")
_STRIP = re.compile(r"[\s\u3000。.，,；;：:！!、]+")
_FEE_CHARGED = re.compile(r"收取[^。；\n]{0,24}?处理费[^。；\n\d]{0,12}?(\d[\d,]*(?:\.\d+)?)\s*元")


@dataclass(frozen=True)
class AuditData:
    outline: tuple[tuple[str, str, tuple], ...]  # (ordinal, section key, prose words)
    subtopics: tuple[str, ...]
    table_markers: dict[str, tuple[str, tuple[str, ...]]]  # table -> (printed, markers)
    cues: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def data() -> AuditData:
    cues: dict[str, list[str]] = {}
    for c in _read("audit_cues.csv"):
        cues.setdefault(c["kind"], []).append(c["value"])
    return AuditData(
        outline=tuple((s["ordinal"], s["key"], parse_prose(s["words"])) for s in _read("audit_sections.csv")),
        subtopics=tuple(s["phrase"] for s in _read("audit_subtopics.csv")),
        table_markers={t["table"]: (t["printed"], tuple(t["markers"].split("|"))) for t in _read("audit_tables.csv")},
        cues={k: tuple(v) for k, v in cues.items()})


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs a call per field, and a report has dozens
class Heading:
    ordinal: str
    key: str | None  # the outline section its title names, if any
    start: int
    title_start: int
    line_end: int
    own_line: bool  # nothing but the heading on its line (before it: only #, spaces)
    style: str = "cn"


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    a = text.rfind("\n", 0, pos) + 1
    b = text.find("\n", pos)
    return a, (len(text) if b < 0 else b)


@lru_cache(maxsize=1)
def _first_words() -> tuple[re.Pattern, dict[str, list[tuple[str, tuple[str, ...]]]]]:
    by_word: dict[str, list] = {}
    for _, key, prose in data().outline:
        for alt in prose:
            by_word.setdefault(alt[0], []).append((key, alt))
    words = sorted(by_word, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words))), by_word


def _names(title: str) -> str | None:
    """The outline section a heading's title names: its words begin near the start of the title
    (the earliest such word wins)."""
    pattern, by_word = _first_words()
    pos = 0
    while True:
        m = pattern.search(title, pos, _TITLE_REACH + 12)
        if m is None or m.start() > _TITLE_REACH:
            return None
        for key, alt in by_word[m.group(0)]:
            if all(w in title for w in alt[1:]):
                return key
        pos = m.start() + 1


# Where a Chinese ordinal can begin: the regex engine skips to these characters, where _CN_ENUM's
# look-behind made it try every position of the report; matched at each, the same headings.
_ENUM_AT = re.compile(rf"[{NUMERALS}](?=[{NUMERALS}]?[ \t\u3000]*[、.．])")


def _enumerators(text: str):
    end = -1
    for a in _ENUM_AT.finditer(text):
        if a.start() < end:
            continue
        m = _CN_ENUM.match(text, a.start())
        if m:
            end = m.end()
            yield m


def headings(text: str) -> list[Heading]:
    """Chinese-ordinal headings outside table lines, each with the section its title names."""
    out = []
    for m in _enumerators(text):
        a, b = _line_bounds(text, m.start())
        line = text[a:b]
        if "|" in line or "\t" in line:
            continue  # a table row's label (一、本年新收…) or a markdown table cell
        before = text[a:m.start()]
        title = text[m.end():min(b, m.end() + 30)]
        own_line = not before.strip("#>* \u3000\t")
        out.append(Heading(m.group(1), _names(title), m.start(), m.end(), b, own_line))
    return out


# Where a line opens with an arabic or 第…部分 ordinal: _OTHER_ENUM's patterns open with ^, which
# the regex engine tries at every character; this one opens with a newline it can skip to, and
# holds what both patterns need after the marks (possessive: the ordinal is no mark, so giving
# marks back never helps), so that few lines are tried.
_OTHER_ENUM_LINE = re.compile(rf"\n[#>*\s\u3000]*+(?:\d{{1,2}}[ \u3000]*[、.．]|第[{NUMERALS}]{{1,2}}部分)")


def _ordinal_line_starts(text: str) -> list[int]:
    """0 and the line starts _OTHER_ENUM_LINE finds: where _OTHER_ENUM's patterns can match. A
    line start inside the marks run of an earlier one leads to the same ordinal, so it can match
    only inside that one's match."""
    return [0] + [m.start() + 1 for m in _OTHER_ENUM_LINE.finditer(text)]


def _line_start_matches(pattern: re.Pattern, text: str, starts: list[int]):
    """pattern.finditer(text) for one of _OTHER_ENUM's patterns, tried only at `starts`
    (_ordinal_line_starts): the same matches, in order."""
    end = 0
    for start in starts:
        if start < end:
            continue
        m = pattern.match(text, start)
        if m:
            end = m.end()
            yield m


def _other_style_headings(text: str) -> list[Heading]:
    out = []
    starts = _ordinal_line_starts(text)
    for style, pattern in _OTHER_ENUM:
        for m in _line_start_matches(pattern, text, starts):
            a, b = _line_bounds(text, m.end())
            line = text[a:b]
            if "|" in line or "\t" in line or len(line.strip()) > _SUBTOPIC_LINE + 6:
                continue
            key = _names(text[m.end():b])
            if key:
                out.append(Heading(m.group(1), key, m.start() + len(m.group(0)) - len(m.group(0).lstrip()),
                                   m.end(), b, True, style))
    return out


# Checks and items are built as dicts and validated together at the end (as checks.py does):
# a model each, a dozen a report, cost more than building them.
def _fail(kind: str, items: list[dict]) -> dict:
    return {"status": "fail" if items else "pass", "items": items}


def _item(scope: str, message: str, responsibility: str, start: int | None = None,
          end: int | None = None) -> dict:
    return dict(scope=scope, status="fail", message=message, responsibility=responsibility,
                     start=start, end=end)


def _expected() -> dict[str, str]:
    return {key: ordinal for ordinal, key, _ in data().outline}


def _body_after(text: str, h: Heading, following: list[Heading]) -> tuple[int, int]:
    """A section's body: after its printed name (六、其他需要报告的事项) up to the next outline
    heading; in text collapsed onto one line the body runs on after the name on the same line."""
    nxt = next((f.start for f in following if f.start > h.start and f.key is not None), len(text))
    title = text[h.title_start:min(h.line_end, h.title_start + 30)]
    ends = [title.find(w) + len(w) for _, key, prose in data().outline if key == h.key
            for alt in prose for w in alt if w in title]
    begin = h.title_start + (max(ends) if ends else 0)
    m = _NAME_TAIL.match(text, begin, h.line_end)
    begin = m.end() if m else begin
    return begin, max(begin, nxt)


_NAME_TAIL = re.compile(r"[^\n，。：:；;,\d]{0,8}?(?:情况|事项|措施)")


def _content(body: str) -> str:
    """A section body without what is not its content: the agency's sign-off and the date."""
    suffixes = data().cues.get("signoff_suffix", ())
    kept = []
    for line in body.splitlines():
        s = line.strip()
        if not s or _DATE_LINE.match(s):
            continue
        if len(s) <= 25 and not re.search(r"[。，,；;：:]", s) and s.endswith(suffixes):
            continue
        kept.append(s)
    return _STRIP.sub("", "".join(kept))


@lru_cache(maxsize=1)
def _empty_bodies() -> frozenset[str]:
    return frozenset(_STRIP.sub("", e) for e in data().cues.get("empty_body", ()))


def _is_empty(content: str) -> bool:
    return content == "" or content in _empty_bodies()


def _signed_off(text: str) -> bool:
    """Whether the text ends as a report does: a date line among its last lines (the agency's
    sign-off), so nothing after it was lost."""
    tail = [l.strip() for l in last_splitlines(text.rstrip(), 4) if l.strip()]
    return any(_DATE_LINE.match(l) for l in tail)


def _text_in_doubt(text: str, source_format: str | None, ocr: bool) -> bool:
    # A scraper export's text may have lost parts of the page (tables pasted as images, a row
    # cut short) unless it runs to the agency's sign-off; OCR may drop or repeat characters:
    # neither proves the agency printed it so.
    return ocr or (source_format in ("csv", "jsonl") and not _signed_off(text))


def audit_checks(text: str, template: str, sections: Sections, tables: dict, source_format: str | None = None,
                 ocr: bool = False, include_hidden: bool = False) -> dict[str, Check]:
    """Every audit kind that applies, as `audit.<kind>` checks (items only for findings).
    Kinds measured below the precision bar (audit_kinds.csv) are left out unless include_hidden."""
    shown = shown_kinds() if not include_hidden else set(KINDS)
    out: dict[str, Check] = {}
    doubtful_text = "extraction" if _text_in_doubt(text, source_format, ocr) else "source"
    text_resp = "extraction" if ocr else "source"
    # An empty slot in an enumeration (、，) is also what a page leaves when a converter drops an
    # image or a link's markup: in a web page or a scrape, not provably the agency's.
    cut_resp = "extraction" if ocr or source_format in MARKUP_FORMATS else "source"
    outline = template in OUTLINE_TEMPLATES
    hs = headings(text) if outline else []
    named = [h for h in hs if h.key is not None]
    expected = _expected()

    if outline:
        # section_misnumbered: (a) an outline section under another ordinal; (b) the overview's
        # sub-topics numbered as top-level sections, ahead of the outline's own headings.
        items = []
        for h in named:
            if h.ordinal != expected[h.key]:
                items.append(_item(h.key, f"section {expected[h.key]} ({h.key}) printed as {h.ordinal}、"
                                          f"{text[h.title_start:h.line_end][:30].strip()}", "source",
                                   h.start, h.line_end))
        overview_at = next((h.start for h in named if h.key == "overview"), None)
        if overview_at is not None:
            nxt = next((h.start for h in named if h.start > overview_at and h.key != "overview"), len(text))
            for h in hs:
                if h.key is not None or not (overview_at < h.start < nxt) or not h.own_line:
                    continue
                title = text[h.title_start:h.line_end].strip()
                if h.ordinal == "一" or h.ordinal not in expected.values() or len(title) > _SUBTOPIC_LINE \
                        or "。" in title:
                    continue
                phrase = next((p for p in data().subtopics if 0 <= title.find(p) <= 8), None)
                if phrase:
                    items.append(_item("overview", f"the overview's sub-topic '{title}' is numbered {h.ordinal}、 "
                                                   f"as a top-level section", "source", h.start, h.line_end))
        out["section_misnumbered"] = _fail("section_misnumbered", items)

        # numbering_mixed: outline headings in more than one numbering system.
        style_of = {h.key: "cn" for h in named}
        others = _other_style_headings(text)
        for h in others:
            style_of.setdefault(h.key, h.style)
        styles = Counter(style_of.values())
        items = []
        if len(styles) > 1:
            shown_styles = ", ".join(f"{s}: {', '.join(k for k, v in style_of.items() if v == s)}" for s in styles)
            items.append(_item("outline", f"section headings numbered in {len(styles)} systems ({shown_styles})",
                               "source"))
        out["numbering_mixed"] = _fail("numbering_mixed", items)

        # section_missing / section_empty / fees_silent
        found = {h.key for h in named} | {h.key for h in others}
        found |= {k for k in type(sections).model_fields if getattr(sections, k) is not None}
        items = [_item(key, f"no section {ordinal} ({key}) heading", doubtful_text)
                 for ordinal, key, _ in data().outline if key not in found]
        out["section_missing"] = _fail("section_missing", items)
        items = []
        bodies: dict[str, str] = {}
        for key in ("problems_improvements", "other"):
            h = next((h for h in named if h.key == key and h.ordinal == expected[key]),
                     next((h for h in named if h.key == key), None))
            if h is None:
                continue
            a, b = _body_after(text, h, named)
            bodies[key] = _content(text[a:b])
            if _is_empty(bodies[key]):
                said = bodies[key]
                # An explicit 无 is the report's own word even in a scrape; nothing at all may be
                # the scrape's loss.
                items.append(_item(key, f"section {expected[key]} ({key}) is "
                                        + (f"only '{said}'" if said else "empty"),
                                   "source" if said else doubtful_text, h.start, b))
        out["section_empty"] = _fail("section_empty", items)
        if template == "2021":
            charged = _fees_charged(text, tables, sections)
            items = []
            if charged:
                six = bodies.get("other", "")
                if not any(w in six for w in data().cues.get("fee_words", ())):
                    items.append(_item("other", f"{charged}, and section 六 says nothing of the fees",
                                       doubtful_text))
            out["fees_silent"] = _fail("fees_silent", items)

        # table_missing: a table of the template the text holds no trace of.
        items = []
        for table, (printed, markers) in data().table_markers.items():
            if tables.get(table) is None and not any(m in text for m in markers):
                items.append(_item(table, f"no table {printed}", doubtful_text))
        out["table_missing"] = _fail("table_missing", items)

    out["text_duplicated_word"] = _fail("text_duplicated_word", [
        _item("prose", f"'{w}' printed twice: …{ctx}…", text_resp, a, b) for a, b, w, ctx in duplicated_words(text)])
    out["text_incomplete_sentence"] = _fail("text_incomplete_sentence", [
        _item("prose", f"clause cut off: …{ctx}…", cut_resp, a, b) for a, b, ctx in incomplete_sentences(text)])
    return CHECKS.validate_python({PREFIX + k: v for k, v in out.items() if k in shown})


def _fees_charged(text: str, tables: dict, sections: Sections) -> str | None:
    """What says a 信息处理费 was charged: a positive amount collected, or fee notices unpaid."""
    other = sections.other
    for m in _FEE_CHARGED.finditer(text):
        if other is not None and other.start <= m.start() < other.end:
            continue  # said in 六 itself
        if float(m.group(1).replace(",", "")) > 0:
            return f"the report says '{m.group(0)}'"
    rows = ((tables.get("applications") or {}).get("rows")) or {}
    unpaid = (rows.get("other_overdue_fee") or {}).get("total")
    if unpaid:
        return f"table 三 counts {unpaid:g} applications closed for an unpaid fee notice"
    return None


def _in_prose(text: str, pos: int, seen: dict[int, tuple[int, bool]]) -> tuple[int, bool]:
    """(line start, whether the line holding `pos` is prose): not a table line, no tab, no pipe."""
    a = text.rfind("\n", 0, pos) + 1
    if a not in seen:
        b = text.find("\n", pos)
        line = text[a:len(text) if b < 0 else b]
        seen[a] = (a, "|" not in line and "\t" not in line and not is_table_line(line))
    return seen[a]


_DOUBLED_UNIT = re.compile(r"([\u4e00-\u9fff]{2,4})\1")
_UNIT_LENGTHS = (2, 3, 4)


def _doubled_units(text: str, chars: str = "") -> list[tuple[int, int, str]]:
    """What `_DOUBLED_UNIT.finditer` finds, (start, end, word), then what `([chars])\\1` finds (an
    ideograph of `chars` twice running), found faster: nearly every character of a report is an
    ideograph, so the patterns try each one. numpy marks where text[i:i+k] == text[i+k:i+2k] for
    some k (one vector comparison per k); the patterns' matches are then taken only there, left
    to right without overlap, as finditer would."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    n = len(codes)
    ideograph = (codes >= 0x4E00) & (codes <= 0x9FFF)
    starts = np.zeros(n, dtype=bool)
    twice = (codes[:-1] == codes[1:]) & ideograph[:-1]  # twice[i]: text[i] == text[i+1], an ideograph
    for k in _UNIT_LENGTHS:
        if n < 2 * k:
            continue
        same = (codes[:-k] == codes[k:]) & ideograph[:-k]  # same[i]: text[i] == text[i+k], an ideograph
        doubled = same[:n - 2 * k + 1].copy()
        for j in range(1, k):
            doubled &= same[j:n - 2 * k + 1 + j]
        starts[:n - 2 * k + 1] |= doubled
    out, end = [], -1
    for i in np.flatnonzero(starts).tolist():
        if i < end:
            continue
        m = _DOUBLED_UNIT.match(text, i)
        if m:
            out.append((m.start(), m.end(), m.group(1)))
            end = m.end()
    end = -1
    for i in np.flatnonzero(twice).tolist() if chars else ():
        if i >= end and text[i] in chars:
            out.append((i, i + 2, text[i]))
            end = i + 2
    return out


@lru_cache(maxsize=1)
def _doubled_chars() -> tuple[str, re.Pattern | None]:
    """Characters that, printed twice running, are a slip (的的; audit_cues.csv doubled_char): the
    ideographs, which _doubled_units finds, and a pattern for any others. Two matches of
    `([chars])\\1` overlap only when they are of one character, so the two sets are found apart."""
    chars = "".join(data().cues.get("doubled_char", ()))
    ideographs = "".join(c for c in chars if 0x4E00 <= ord(c) <= 0x9FFF)
    others = "".join(c for c in chars if c not in ideographs)
    return ideographs, (re.compile(f"([{re.escape(others)}])\\1") if others else None)


@lru_cache(maxsize=1)
def _incomplete() -> tuple[re.Pattern, ...]:
    ends = data().cues.get("incomplete_end", ())
    patterns = [re.compile(r"、[ \t\u3000]*[，。；,;]")]
    if ends:
        patterns.append(re.compile("(?:" + "|".join(map(re.escape, ends)) + r")[ \t\u3000]*[。；;]"))
    return tuple(patterns)


def duplicated_words(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, word, context) of a word printed twice running (资金资金, 的的), in prose lines.
    The patterns run over the whole text; only the rare lines they hit are judged prose or table."""
    allowed = data().cues.get("doubled_allowed", ())
    ideographs, others = _doubled_chars()
    hits = _doubled_units(text, ideographs)
    if others is not None:
        hits += [(m.start(), m.end(), m.group(1)) for m in others.finditer(text)]
    out, seen = [], {}
    for a, b, w in sorted(hits):
        if len(w) > 1 and len(set(w)) == 1:
            continue  # 常常常常: a reduplication doubled, not a word
        window = text[max(0, a - 4):b + 4]
        if any(text[a:b] in p and p in window for p in allowed):
            continue
        line_start, prose = _in_prose(text, a, seen)
        if not prose:
            continue
        out.append((a, b, w, text[max(line_start, a - 8):b + 8].split("\n")[0]))
    return _dedupe(out)


def _dedupe(found):
    out, last_end = [], -1
    for f in sorted(found):
        if f[0] < last_end:
            continue
        out.append(f)
        last_end = f[1]
    return out


def incomplete_sentences(text: str) -> list[tuple[int, int, str]]:
    """(start, end, context) of a clause cut off: an enumeration comma (、) with nothing after it
    before the next clause mark, or a clause ending on a word that needs what follows (以及。)."""
    out, seen = [], {}
    for p in _incomplete():
        for m in p.finditer(text):
            line_start, prose = _in_prose(text, m.start(), seen)
            if prose:
                out.append((m.start(), m.end(), text[max(line_start, m.start() - 12):m.end() + 6].split("\n")[0]))
    return _dedupe(out)


@lru_cache(maxsize=1)
def kind_table() -> dict[str, dict[str, str]]:
    return {k["kind"]: k for k in _read("audit_kinds.csv")}


def shown_kinds() -> set[str]:
    """Kinds shown by default: measured precision at or above the bar (audit_kinds.csv)."""
    return {k for k, row in kind_table().items() if row.get("shown") == "yes"}


def counts(record) -> dict[str, int]:
    """Findings per `kind:responsibility` over every failed check item of a record (dict or
    Record): audit kinds by their kind, the identities and the text-vs-table check as `identity`
    and `overview_numbers`. For the index, the review pages and the panel."""
    checks = record.get("checks") if isinstance(record, dict) else {k: v.model_dump() for k, v in record.checks.items()}
    out: Counter = Counter()
    for cid, check in (checks or {}).items():
        if cid.startswith(PREFIX):
            kind = cid[len(PREFIX):]
        elif cid.startswith("overview."):
            kind = "overview_numbers"
        elif cid.startswith(("applications.", "review_litigation.", "active_disclosure.")):
            kind = "identity"
        else:
            continue
        for item in (check or {}).get("items") or []:
            if item.get("status") == "fail":
                out[f"{kind}:{item.get('responsibility') or 'unknown'}"] += 1
    return dict(sorted(out.items()))


def source_problems(record) -> int:
    """How many failed items are the report's own fault: what to sort agencies by."""
    return sum(n for k, n in counts(record).items() if k.endswith(":source"))


def extraction_problems(record) -> int:
    """How many failed items rest on a reading in doubt."""
    return sum(n for k, n in counts(record).items() if k.endswith(":extraction"))


# Every count key, in a fixed order: the columns of a table of reports (panel, review index).
COUNT_KINDS = ("identity", "overview_numbers") + KINDS
COUNT_KEYS = tuple(f"{k}:{r}" for k in COUNT_KINDS for r in ("source", "extraction"))


def count_columns(record) -> dict[str, int]:
    """counts() as fixed columns, zeros included: `source_problems`, `extraction_problems`, then
    one `<kind>_<responsibility>` column per COUNT_KEYS (section_misnumbered_source …), so that
    every row of a reports table has the same columns whatever the report holds."""
    c = counts(record)
    out = {"source_problems": sum(n for k, n in c.items() if k.endswith(":source")),
           "extraction_problems": sum(n for k, n in c.items() if k.endswith(":extraction"))}
    out.update({k.replace(":", "_"): c.get(k, 0) for k in COUNT_KEYS})
    return out
