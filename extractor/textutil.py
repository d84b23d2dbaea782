"""Character-level helpers shared by the stages: width folding that keeps offsets intact."""
from __future__ import annotations

import re

# Full-width ASCII (！..～) and the ideographic space fold to their half-width forms one
# character for one character, so spans found in the folded text are spans in the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_FOLD[0xA0] = 0x20


# str.translate with a dict looks every character up in Python; most of a report is ideographs
# that do not fold, so only the runs that do are found (in C) and translated.
_FOLDABLE = re.compile("[\uff01-\uff5e\u3000\xa0]+")


def _fold_run(m: re.Match) -> str:
    return m.group().translate(_FOLD)


def fold_width(text: str) -> str:
    """Full-width digits, letters and punctuation to half-width; same length as the input."""
    return _FOLDABLE.sub(_fold_run, text)


_SPACE_PUNCT = re.compile(r"[\s\u3000\W_]+", re.UNICODE)


def squash(text: str) -> str:
    """Text with whitespace and punctuation removed and widths folded: for tolerant matching."""
    return _SPACE_PUNCT.sub("", fold_width(text))
