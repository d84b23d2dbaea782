"""Section splitting: the text → the six sections of the national outline, with spans.

Headings are found by phrase after a Chinese-numeral enumerator (一、 二. 三．), in order, so a
heading printed twice, marked up with #, or numbered differently (legacy outlines) still lands on
its key; a sub-heading with brackets （一） is never a section heading.
"""
from __future__ import annotations

import re

from .models import Sections
from .template import GAP, load, phrase_pattern

_NUMERAL = r"(?<![\u4e00-\u9fffA-Za-z（(])[#\s]*[一二三四五六七八九十]{1,2}" + GAP + r"[、.．]" + GAP
_HEADING_MAX = 40  # characters a heading may run before its text starts (collapsed layouts)


def _patterns() -> list[tuple[str, re.Pattern]]:
    out = []
    for key, phrases in load().sections:
        alts = "|".join(phrase_pattern(p) for p in phrases)
        out.append((key, re.compile(_NUMERAL + r"[^\n。]{0,12}?(?:" + alts + r")", re.M)))
    return out


_COMPILED: list[tuple[str, re.Pattern]] | None = None
# Where a numeral enumerator (一、 十二．) could begin: every heading match holds one, right after
# its run of '#'/spaces. The patterns open with a look-behind and an optional run, which the
# regex engine can only try at every character of the report; trying them at these few places
# (and the run before each) finds the same leftmost match.
_ENUMERATOR_AT = re.compile(r"[一二三四五六七八九十](?=[一二三四五六七八九十]?" + GAP + r"[、.．])")


def _first_heading(pattern: re.Pattern, text: str, cursor: int, numerals: list[int]) -> re.Match | None:
    """pattern.search(text, cursor), tried only where a heading can start."""
    for q in numerals:
        if q < cursor:
            continue
        p = q
        # the run of '#' and whitespace before the numeral (str.isspace is the regex \s)
        while p > cursor and (text[p - 1] == "#" or text[p - 1].isspace()):
            p -= 1
        for start in range(p, q + 1):
            m = pattern.match(text, start)
            if m:
                return m
    return None


def split_sections(text: str) -> Sections:
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = _patterns()
    found: list[tuple[str, int, int]] = []
    cursor = 0
    numerals = [m.start() for m in _ENUMERATOR_AT.finditer(text)]
    for key, pattern in _COMPILED:
        m = _first_heading(pattern, text, cursor, numerals)
        if not m:
            continue
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip("#\n\r\t >*|")))
        line_end = text.find("\n", m.end())
        heading_end = line_end if 0 <= line_end - m.end() <= _HEADING_MAX else m.end()
        found.append((key, start, heading_end))
        cursor = heading_end
    out = {}
    for i, (key, start, heading_end) in enumerate(found):
        end = found[i + 1][1] if i + 1 < len(found) else len(text)
        body = text[heading_end:end]
        # A heading printed twice: drop the repeat at the top of the body.
        heading = text[start:heading_end].strip()
        out[key] = {"heading": heading, "start": start, "end": end, "text": body.strip()}
    return Sections.model_validate(out)  # one validation, not a model per section
