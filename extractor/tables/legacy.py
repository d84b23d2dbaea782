"""The legacy 政府信息公开情况统计表 (up to 2018): indicator / unit / value rows, and their keys."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..template import load, names
from .cells import QuotedNumbers, confirmed_by_quotes, parse_number, quoted_numbers

_START = re.compile(r"统\s*计\s*指\s*标|指\s*标\s*名\s*称|政府信息公开情况统计表")
UNITS = r"人次|万元|条|件|次|篇|个|人|元|项|期|场|份|家|——|—"
# A value ends before a non-digit, or before the next row's enumerator (…17953542.政府公报).
_NUM = r"\d+(?:\.\d+)?(?=\d[.．、]\D|[^\d.．、]|$)"
_VAL = rf"(?:{_NUM}|——|—|/)"
_ROW = re.compile(
    rf"(?P<ind>(?:其中[:：]?\s*)?(?:[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、|\d{{1,2}}[.．、])?"
    rf"[^\s\d|]{{2,40}}?)\s*\|?\s*(?P<unit>{UNITS})(?=[\s|\d—/])\s*\|?\s*"
    rf"(?P<vals>{_VAL}(?:\s*\|?\s*{_VAL})?)?")


_VALID = re.compile(r"^(?:0|[1-9]\d*)(?:\.\d+)?$")
_HEADER_WORDS = re.compile(r"^.*(?:历\s*年\s*累\s*计|统\s*计\s*数|年\s*度)\s*")


@dataclass
class LegacyRead:
    rows: list[dict] = field(default_factory=list)  # indicator, unit, value, start, end
    keys: dict[str, dict] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    span: tuple[int, int] | None = None
    quoted: QuotedNumbers | None = None  # numbers the text quotes, gathered only when a cut needs them


def _flat(text: str) -> str:
    # Delimiters between cells become spaces; offsets are kept (same length).
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def read_legacy(text: str, original: str, at: int | None) -> LegacyRead | None:
    """Rows of the 统计表 starting near `at`; `text` is width-folded, `original` gives the labels."""
    flat = _flat(text)
    for m in _START.finditer(text, at or 0):
        found = _read_from(original, flat, m)
        if found:
            return found
    return None


def _read_from(text: str, flat: str, m: re.Match) -> LegacyRead | None:
    start = m.start()
    two_columns = re.search(r"历\s*年\s*累\s*计", flat[start:start + 300]) is not None
    out = LegacyRead()
    pos = m.end()
    while pos < len(flat):
        r = _ROW.search(flat, pos, min(len(flat), pos + 200))
        if not r or r.start() - pos > 60:
            break
        indicator = _HEADER_WORDS.sub("", text[r.start("ind"):r.end("ind")]).strip(" |:：")
        unit = r.group("unit")
        value, vstart, vend, note = _value(r, two_columns, out, indicator)
        out.rows.append({"indicator": indicator, "unit": None if unit.startswith("—") else unit,
                         "value": value, "start": vstart, "end": vend, "note": note})
        pos = r.end()
    if not out.rows:
        return None
    out.span = (start, pos)
    for key, pattern, _ in load().legacy_keys:
        for row in out.rows:
            if pattern.search(row["indicator"]):
                out.keys[key] = row
                break
    return out


_ENUM = re.compile(r"^(?:其中[:：]?\s*)?(?:[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、|\d{1,2}[.．、])?\s*")


def _prose_of(indicator: str):
    """What names an indicator in running text: the indicator itself (当面申请数), and for a keyed
    row the key's words (主动公开…信息)."""
    core = _ENUM.sub("", indicator).strip()
    prose = ((core,),) if len(core) >= 3 else ()
    t = load()
    for key, pattern, _ in t.legacy_keys:
        if pattern.search(indicator):
            return prose + t.legacy_prose.get(key, ())
    return prose


def _value(r: re.Match, two_columns: bool, out: LegacyRead, indicator: str):
    vals = r.group("vals")
    if not vals:
        return None, r.end("unit"), r.end("unit"), None
    parts = [p for p in re.split(r"[\s|]+", vals) if p]
    first = parts[0]
    vstart = r.start("vals")
    if first.startswith(("—", "/")):
        return None, vstart, vstart + len(first), None
    if two_columns and len(parts) == 1 and len(first) > 1:
        # This year's and the cumulative figure ran together: keep the cut only when it is the
        # one valid cut (no leading zeros, cumulative not below this year's figure).
        cuts = [(first[:i], first[i:]) for i in range(1, len(first))
                if _VALID.match(first[:i]) and _VALID.match(first[i:])
                and parse_number(first[i:]) >= parse_number(first[:i])]
        if len(cuts) == 1:
            return parse_number(cuts[0][0]), vstart, vstart + len(cuts[0][0]), None
        if out.quoted is None:
            out.quoted = quoted_numbers(r.string)
        prose = _prose_of(indicator)
        quoted = out.quoted

        def confirms(_: int, value) -> bool:
            return bool(prose) and any(names(prose, clause) for clause in quoted.get(value, ()))
        pick = confirmed_by_quotes([[parse_number(a)] for a, _ in cuts], confirms)
        if pick is not None:  # the text quotes this year's figure (主动公开政府信息2026条)
            a = cuts[pick][0]
            return (parse_number(a), vstart, vstart + len(a),
                    f"this year's and the cumulative figure ran together ({first}); cut as {a}|{cuts[pick][1]}, "
                    f"the figure the report quotes")
        shown = "; ".join(f"{a}|{b}" for a, b in cuts[:5])
        out.errors.append(f"统计表: '{indicator}': digits '{first}' hold this year's and the cumulative "
                          f"figure run together; {len(cuts)} cuts fit ({shown}); value left null")
        return None, vstart, vstart + len(first), None
    return parse_number(first), vstart, vstart + len(first), None
