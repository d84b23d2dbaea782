"""Evidence grounding: where a quoted piece of evidence occurs in the report text, and how well.

A quote is `exact` when it is a substring of the text as is; `normalised` when it occurs once
whitespace and punctuation are removed and full-width forms folded on both sides (the rule of
`extractor.textutil.squash`), in which case the span covers the original characters from the
first to the last matched one; otherwise `not_found`. Offsets are character offsets into the
document text, like every other span in a record.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..models import Evidence
from ..textutil import fold_width

# The characters squash() drops: whitespace, punctuation, symbols, underscore (after folding).
_DROP = re.compile(r"[\s\u3000\W_]", re.UNICODE)


@dataclass(frozen=True)
class _Squashed:
    text: str                  # squashed text
    offsets: tuple[int, ...]   # offsets[i] = index in the original of squashed character i


@lru_cache(maxsize=64)
def _squashed(text: str) -> _Squashed:
    folded = fold_width(text)
    chars, offsets = [], []
    for i, ch in enumerate(folded):
        if not _DROP.match(ch):
            chars.append(ch)
            offsets.append(i)
    return _Squashed("".join(chars), tuple(offsets))


def squash_quote(quote: str) -> str:
    return _DROP.sub("", fold_width(quote))


def locate(quote: str, text: str) -> Evidence:
    """The span of `quote` in `text`: exact, normalised, or not_found (start/end null)."""
    if not quote or not quote.strip():
        return Evidence(match="not_found")
    i = text.find(quote)
    if i >= 0:
        return Evidence(start=i, end=i + len(quote), match="exact")
    stripped = quote.strip()
    i = text.find(stripped)
    if i >= 0:
        return Evidence(start=i, end=i + len(stripped), match="exact")
    needle = squash_quote(quote)
    if not needle:
        return Evidence(match="not_found")
    sq = _squashed(text)
    j = sq.text.find(needle)
    if j < 0:
        return Evidence(match="not_found")
    start, end = sq.offsets[j], sq.offsets[j + len(needle) - 1] + 1
    # a quote that opens or closes with punctuation ("(一)…", "…。") takes as much of the text's
    # own punctuation at that end, so the span covers what was quoted
    folded = fold_width(quote)
    lead = _edge(folded)
    trail = _edge(folded[::-1])
    while lead and start > 0 and _DROP.match(fold_width(text[start - 1])) and not text[start - 1].isspace():
        start -= 1
        lead -= 1
    while trail and end < len(text) and _DROP.match(fold_width(text[end])) and not text[end].isspace():
        end += 1
        trail -= 1
    return Evidence(start=start, end=end, match="normalised")


def _edge(s: str) -> int:
    """How many non-space punctuation characters open `s`."""
    n = 0
    for ch in s.strip():
        if not _DROP.match(ch):
            break
        n += 1
    return n


def is_grounded(quote: str, text: str) -> bool:
    return locate(quote, text).match != "not_found"
