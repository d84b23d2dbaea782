"""Plain text and markdown files: encoding detection (BOM, UTF-8, UTF-16, GB18030) and decoding."""
from __future__ import annotations

import codecs

from ..document import LoadError

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def looks_binary(data: bytes) -> bool:
    """True for content that is not text in any encoding we read (images, archives, executables).

    NUL bytes mean binary, except in UTF-16 without a BOM, where they sit on one parity only
    (the high byte of ASCII characters) and the whole decodes to printable text.
    """
    sample = data[:4096]
    if not sample or any(sample.startswith(b) for b, _ in _BOMS):
        return False
    zeros = sample.count(0)
    if not zeros:
        return False
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if max(even, odd) < 0.9 * zeros:
        return True
    try:
        text = sample[: len(sample) // 2 * 2].decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return True
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    return printable < 0.95 * len(text)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name). Tries BOMs, UTF-8, UTF-16 without BOM, then GB18030 (a superset of GBK)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[:4096]
    if b"\x00" in sample:
        le = sample[1::2].count(0) > sample[0::2].count(0)
        name = "utf-16-le" if le else "utf-16-be"
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise LoadError(f"cannot decode text: not UTF-8, UTF-16 or GB18030 ({exc.reason} at byte {exc.start})")
    return text, "gb18030"
