"""The source text a record's spans point into, rebuilt from the feed's sections.

The feed does not carry the whole normalised text; it carries each section's heading, its
[start, end) offsets in that text and its body (heading and surrounding whitespace stripped).
The body's exact offset inside [start, end) is fixed by the spans that land in it: every
provenance span and grounded narrative quote must read its own text at its own offset. Text
outside every section (the title lines before 一) is not in the feed and is shown as a gap.
"""
from __future__ import annotations

from collections import Counter

from ..models import SECTION_KEYS


def _spans(record: dict) -> list[tuple[int, int, str]]:
    out = [(p["start"], p["end"], p["text"]) for p in record.get("provenance", {}).values()]
    narrative = record.get("narrative") or {}
    for kind in ("problems", "improvements", "platforms"):
        for item in narrative.get(kind) or []:
            span = item.get("span") or {}
            if span.get("match") == "exact" and span.get("start") is not None:
                out.append((span["start"], span["end"], item["evidence"]))
    return out


def _body_offset(section: dict, spans: list[tuple[int, int, str]]) -> tuple[int, int]:
    """(offset of the body from section start, how many spans confirm it)."""
    start, end, body = section["start"], section["end"], section["text"]
    room = max(0, end - start - len(body))
    votes: Counter[int] = Counter()
    for a, b, text in spans:
        if not text or not (start <= a < end):
            continue
        # k = a - start - i lies in [0, room], so the span's text can only sit at i in this window
        lo, hi = max(0, a - start - room), a - start
        i = body.find(text, lo, hi + len(text))
        while 0 <= i <= hi:
            votes[a - start - i] += 1
            i = body.find(text, i + 1, hi + len(text))
    if votes:
        k, n = votes.most_common(1)[0]
        return k, n
    # No span lands here (nothing on the page points into it, so only the offsets shown depend on
    # this): the heading, then as much whitespace before the body as after it, is the usual layout.
    heading = len(section.get("heading") or "")
    if heading > room:
        return room, 0
    return heading + (room - heading) // 2, 0


def source_segments(record: dict) -> list[dict]:
    """Sections in text order as {key, heading, start, body_start, text, confirmed}."""
    spans = _spans(record)
    out = []
    sections = record.get("sections") or {}
    for key in SECTION_KEYS:
        s = sections.get(key)
        if not s:
            continue
        k, n = _body_offset(s, spans)
        out.append({"key": key, "heading": s["heading"], "start": s["start"], "end": s["end"],
                    "body_start": s["start"] + k, "text": s["text"], "confirmed": n})
    out.sort(key=lambda seg: seg["start"])
    return out
