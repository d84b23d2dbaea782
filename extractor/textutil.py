"""Character-level helpers shared by the stages: width folding that keeps offsets intact."""
from __future__ import annotations

import re

# Full-width ASCII (！..～) and the ideographic space fold to their half-width forms one
# character for one character, so spans found in the folded text are spans in the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_FOLD[0xA0] = 0x20


# str.translate with a dict looks every character up in Python; a report holds a handful of the
# 96 foldable characters (，（）：…): one regex pass names the ones present, and replacing each is
# done in C. The targets are ASCII, never a source, so the order of the replacements does not matter.
_FOLDABLE = re.compile("[\uff01-\uff5e\u3000\xa0]")  # the keys of _FOLD, as ranges: cheaper to test


def fold_width(text: str) -> str:
    """Full-width digits, letters and punctuation to half-width; same length as the input."""
    for wide in set(_FOLDABLE.findall(text)):
        text = text.replace(wide, chr(_FOLD[ord(wide)]))
    return text


# A report is split into lines only where a stage reads its first or its last few: a stretch
# at that end that holds more than n line breaks has those n lines whole.
_LINES_STRETCH = 2000


def first_splitlines(text: str, n: int) -> list[str]:
    """text.splitlines()[:n], without splitting the whole of a long text."""
    lines = text[:_LINES_STRETCH].splitlines()
    return lines[:n] if len(lines) > n else text.splitlines()[:n]


def last_splitlines(text: str, n: int) -> list[str]:
    """text.splitlines()[-n:], without splitting the whole of a long text."""
    lines = text[-_LINES_STRETCH:].splitlines()
    return lines[-n:] if len(lines) > n else text.splitlines()[-n:]


_SPACE_PUNCT = re.compile(r"[\s\u3000\W_]+", re.UNICODE)


def squash(text: str) -> str:
    """Text with whitespace and punctuation removed and widths folded: for tolerant matching."""
    return _SPACE_PUNCT.sub("", fold_width(text))
