"""Chinese text → the token stream the FTS5 index stores, and queries → FTS5 expressions.

SQLite cannot load a Chinese tokenizer from Python, and its trigram tokenizer finds nothing for
a 2-character query (低保, 复议), so text is pre-tokenised here and stored space-separated in an
FTS5 table using the plain `unicode61` tokenizer (docs/search.md):

* grams: one token per CJK character, and a BREAK token where one run of CJK characters ends
  and the next begins with only punctuation or spaces between them (低，保 → 低 BREAK 保). A query
  word is the phrase of its tokens, which matches exactly where the word occurs as a substring
  and never across punctuation. Letters and digits stay whole words.

  (Until "grams-2" the tokens were overlapping bigrams plus a jieba `words` stream; characters
  index 3× faster than bigrams in FTS5 and jieba took 85 % of indexing: docs/performance.md.)

Queries are cut by jieba into words (`query_words`) for the looser match, the words near each
other (sqlite_index.py); the report text is never given to jieba.

Both sides normalise the same way (NFKC per character, lower case), so full-width digits and
letters match half-width ones. `find_spans` reproduces the grams match on the original text so
that snippets show readable Chinese with the match marked.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Bump when the token streams change: an index built with another version is re-tokenised.
TOKENIZER_VERSION = "chars-1"
# jieba's HMM guesses words missing from its dictionary; off, an unknown name (平桥) is cut into
# its characters, which is what the looser match then looks for.
JIEBA_HMM = False
# Between two CJK runs: a private-use character, which unicode61 keeps as a token (category Co)
# and which report text never yields (normalised text drops it as a non-alphanumeric).
BREAK = "\ue000"


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF
            or 0x20000 <= o <= 0x3134F or o == 0x3007)  # 〇 is written among the numerals


def _is_word_char(ch: str) -> bool:
    # What unicode61 keeps as token characters, minus CJK (handled per character).
    return ch.isalnum() and not is_cjk(ch)


@dataclass(frozen=True)
class Unit:
    """One CJK character or one run of letters/digits, with its span in the original text."""
    text: str
    start: int
    end: int
    run: int  # CJK characters of one unbroken run share it; a letter/digit word has its own
    cjk: bool


def _normalised_chars(text: str):
    """(normalised char, original start, original end) for every character of `text`."""
    for i, ch in enumerate(text):
        if ch.isascii() or is_cjk(ch):
            yield ch.lower(), i, i + 1  # fast path: NFKC leaves these alone
        else:
            for n in unicodedata.normalize("NFKC", ch).lower():
                yield n, i, i + 1


def units(text: str) -> list[Unit]:
    out: list[Unit] = []
    run = 0
    prev_cjk = False
    word, w_start, w_end = "", 0, 0
    for ch, start, end in _normalised_chars(text):
        if is_cjk(ch):
            if word:
                out.append(Unit(word, w_start, w_end, run, False))
                run += 1
                word = ""
            if not prev_cjk:
                run += 1
            out.append(Unit(ch, start, end, run, True))
            prev_cjk = True
            continue
        prev_cjk = False
        if _is_word_char(ch):
            if not word:
                w_start = start
            word += ch
            w_end = end
        elif word:
            out.append(Unit(word, w_start, w_end, run, False))
            run += 1
            word = ""
    if word:
        out.append(Unit(word, w_start, w_end, run, False))
    return out


@lru_cache(maxsize=64)
def _cached_units(text: str) -> tuple[Unit, ...]:
    # A snippet looks for several words in the same long section text.
    return tuple(units(text))


def _gram_tokens(us: list[Unit]) -> list[str]:
    toks = []
    for i, u in enumerate(us):
        toks.append(u.text)
        if u.cjk and i + 1 < len(us) and us[i + 1].cjk and us[i + 1].run != u.run:
            toks.append(BREAK)
    return toks


class _NormTable(dict):
    """str.translate table doing what _normalised_chars does, filled on first sight of a char."""

    def __missing__(self, o: int) -> str:
        ch = chr(o)
        value = ch.lower() if ch.isascii() or is_cjk(ch) else unicodedata.normalize("NFKC", ch).lower()
        self[o] = value
        return value


_NORM = _NormTable()
_CJK_CLASS = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0003134f\u3007"  # as is_cjk
_TOKEN_RE = re.compile(f"([{_CJK_CLASS}]+)|((?:(?![{_CJK_CLASS}])[^\\W_])+)")


def grams(text: str) -> str:
    """The grams stream of `text`: its CJK characters, letter/digit words and run BREAKs.

    The same tokens as `units` gives (tests check it on every fixture), made with one
    translate and one regex because indexing spends its time here."""
    out = []
    prev_run = False
    for run, word in _TOKEN_RE.findall(text.translate(_NORM)):
        if run:
            if prev_run:
                out.append(BREAK)  # two runs with only punctuation between them
            out.append(" ".join(run))
            prev_run = True
        else:
            out.append(word)
            prev_run = False
    return " ".join(out)


_JIEBA = None


def _jieba():
    """jieba, its dictionary loaded once and its logging quietened."""
    global _JIEBA
    if _JIEBA is None:
        import jieba
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _JIEBA = jieba
    return _JIEBA


def _normalise(text: str) -> str:
    return text.translate(_NORM)


def _keep_word(w: str) -> bool:
    # Letters, digits and CJK only (CJK characters are alphanumeric to Python): no punctuation.
    return w.isalnum()


def query_words(part: str) -> list[str]:
    """A query word cut by jieba into the words it is made of (precise mode, a partition)."""
    return [w for w in _jieba().cut(_normalise(part), HMM=JIEBA_HMM) if _keep_word(w)]


def quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def gram_phrase(part: str) -> str | None:
    """The FTS5 phrase matching `part` in a grams column, or None when it has nothing to match."""
    toks = _gram_tokens(units(part))
    return " + ".join(quote(t) for t in toks) if toks else None


def find_spans(text: str, part: str) -> list[tuple[int, int]]:
    """Where `part` occurs in `text` as the grams phrase matches it: (start, end) offsets into
    the original text, so a snippet can mark exactly what the index matched."""
    q = units(part)
    if not q:
        return []
    d = _cached_units(text)
    spans = []
    n = len(q)
    i = 0
    while i + n <= len(d):
        ok = True
        for k in range(n):
            du, qu = d[i + k], q[k]
            if du.cjk != qu.cjk or du.text != qu.text:
                ok = False
                break
            if k and qu.cjk and q[k - 1].cjk and d[i + k - 1].cjk:
                # Same run in the query ⇔ same run in the document (adjacent bigram tokens).
                if (qu.run == q[k - 1].run) != (du.run == d[i + k - 1].run):
                    ok = False
                    break
        if ok:
            spans.append((d[i].start, d[i + n - 1].end))
            i += n
        else:
            i += 1
    return spans
