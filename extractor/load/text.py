"""Plain text and markdown files: encoding detection (BOM, UTF-8, UTF-16, GB18030) and decoding."""
from __future__ import annotations

import codecs

from ..document import LoadError

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _texty(ch: str) -> bool:
    """A character a report's text is made of: ASCII, CJK and its punctuation, fullwidth forms."""
    o = ord(ch)
    return (0x20 <= o < 0x7F or ch in "\t\n\r\f" or 0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F
            or 0xFF00 <= o <= 0xFFEF or 0x2000 <= o <= 0x206F or 0x3400 <= o <= 0x4DBF
            or 0xA0 <= o <= 0xFF or 0x2460 <= o <= 0x24FF or 0x2500 <= o <= 0x257F or 0xFE30 <= o <= 0xFE4F)


def utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes read as UTF-16 text without a BOM, else None.

    Both byte orders are tried and the one whose characters are those of text wins. Counting
    NUL bytes by parity is not enough: Chinese text has few ASCII characters, and a character
    such as 一 (U+4E00) puts its NUL on the other parity."""
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) < 2:
        return None
    best, best_share = None, 0.0
    for name in ("utf-16-le", "utf-16-be"):
        text = sample.decode(name, errors="replace")
        share = sum(_texty(ch) for ch in text) / len(text)
        if share > best_share:
            best, best_share = name, share
    return best if best_share >= 0.95 else None


def looks_binary(data: bytes) -> bool:
    """True for content that is not text in any encoding we read (images, archives, executables).

    NUL bytes mean binary, except in UTF-16 without a BOM, whose characters read as text."""
    sample = data[:4096]
    if not sample or any(sample.startswith(b) for b, _ in _BOMS):
        return False
    if not sample.count(0):
        return False
    return utf16_without_bom(sample) is None


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name). Tries BOMs, UTF-8, UTF-16 without BOM, then GB18030 (a superset of GBK)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    name = utf16_without_bom(data[:4096])
    if name is not None:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise LoadError(f"cannot decode text: not UTF-8, UTF-16 or GB18030 ({exc.reason} at byte {exc.start})")
    return text, "gb18030"
