"""Prompt loading and hashing, and the choice of the report text the model is shown.

A prompt is a file in `prompts/` (at the repository root; `EXTRACTOR_PROMPTS_DIR` moves it) with a
front-matter header naming it and its version, then a `## system` and a `## user` part; the user
part holds `{{report}}`, where the report text goes, between <report> tags. The prompt hash is
the sha256 of the file's bytes: any edit changes it, and so the cache key.

The model sees sections 一 (overview), 五 (problems_improvements) and 六 (other) only, with any
table-like lines removed; when the report has no 五 the whole text minus table-like lines is sent.
Either way the text is cut to `max_chars` at paragraph or sentence boundaries, 五 first.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..models import Sections

DEFAULT_PROMPT = "narrative.v1.md"
DEFAULT_MAX_CHARS = 6000
REPORT_OPEN, REPORT_CLOSE = "<report>", "</report>"


def prompts_dir() -> Path:
    env = os.environ.get("EXTRACTOR_PROMPTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "prompts"


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str
    sha256: str
    path: str

    @property
    def label(self) -> str:
        """What goes into records: e.g. narrative.v1."""
        return f"{self.name}.v{self.version}"

    def render(self, report_text: str) -> list[dict[str, str]]:
        """Chat messages with the report text as delimited data."""
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": self.user.replace("{{report}}", neutralise(report_text))}]


def neutralise(report_text: str) -> str:
    """The report as data: it cannot close (or reopen) the <report> block it is placed in.

    The angle brackets of a literal <report>/</report> inside the text become full-width; grounding
    folds widths and ignores punctuation, so a quote copied from the neutralised text still matches.
    """
    return re.sub(r"<(\s*/?\s*report\s*)>", r"＜\1＞", report_text, flags=re.I)


class PromptError(ValueError):
    pass


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_PART = re.compile(r"^##\s*(system|user)\s*$", re.M | re.I)


def parse_prompt(raw: bytes, path: str = "<prompt>") -> Prompt:
    text = raw.decode("utf-8")
    m = _FRONT.match(text)
    if not m:
        raise PromptError(f"{path}: no front-matter header (--- name/version ---)")
    header = {}
    for line in m.group(1).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            header[k.strip()] = v.strip()
    if "version" not in header:
        raise PromptError(f"{path}: the header has no version")
    body = text[m.end():]
    parts: dict[str, str] = {}
    marks = list(_PART.finditer(body))
    for i, mk in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        parts[mk.group(1).lower()] = body[mk.end():end].strip()
    if "system" not in parts or "user" not in parts:
        raise PromptError(f"{path}: needs a '## system' and a '## user' part")
    if "{{report}}" not in parts["user"]:
        raise PromptError(f"{path}: the user part has no {{{{report}}}} placeholder")
    return Prompt(name=header.get("name", Path(path).stem), version=header["version"],
                  system=parts["system"], user=parts["user"],
                  sha256=hashlib.sha256(raw).hexdigest(), path=path)


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int) -> Prompt:
    return parse_prompt(Path(path).read_bytes(), path)


def load_prompt(name_or_path: str | os.PathLike = DEFAULT_PROMPT) -> Prompt:
    p = Path(name_or_path)
    if not p.is_absolute() and not p.exists():
        p = prompts_dir() / p
    if not p.exists():
        raise PromptError(f"prompt file not found: {p}")
    return _load(str(p), p.stat().st_mtime_ns)


# ---------------------------------------------------------------------------------------------
# What the model is shown

_NUMERIC_LINE = re.compile(r"^[\s\d.,，．%％/／\-—–:：()（）|、]*$")
_SENTENCE_MARK = re.compile(r"[。，,；;：:！？!?]")
_HEADING = re.compile(r"^[#\s]*[一二三四五六七八九十]{1,2}\s*[、.．]")


def is_table_line(line: str) -> bool:
    """A line that belongs to a statistics table rather than to prose."""
    s = line.strip()
    if not s:
        return False
    if _NUMERIC_LINE.match(s):
        return True
    cells = [c for c in re.split(r"\t|\|", s) if c.strip()]
    if ("\t" in s or s.count("|") >= 1) and len(cells) >= 2:
        numeric = sum(1 for c in cells if _NUMERIC_LINE.match(c.strip()))
        if numeric >= 1 or len(max(cells, key=len)) < 20:
            return True
    if s.endswith("|") and len(s) < 60:
        return True
    if len(s) <= 16 and not _SENTENCE_MARK.search(s) and not _HEADING.match(s):
        return True  # a table cell on its own line (one-cell-per-line scrapes)
    return False


def strip_tables(text: str) -> str:
    out, blank = [], False
    for line in text.splitlines():
        if is_table_line(line):
            continue
        if not line.strip():
            if blank:
                continue
            blank = True
        else:
            blank = False
        out.append(line.rstrip())
    return "\n".join(out).strip()


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a paragraph, else sentence, boundary."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for sep in ("\n", "。", "；", "，"):
        i = cut.rfind(sep)
        if i >= limit * 0.6:
            return cut[:i + 1].rstrip()
    return cut


def select_input(text: str, sections: Sections | None, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The report text the model is shown: 一, 五, 六 without tables, else the whole text."""
    parts = []
    if sections is not None and sections.problems_improvements is not None:
        budget = {"problems_improvements": int(max_chars * 0.6), "other": int(max_chars * 0.1)}
        chosen = {}
        for key in ("problems_improvements", "other", "overview"):
            sec = getattr(sections, key)
            if sec is None:
                continue
            body = strip_tables(sec.text)
            if not body:
                continue
            chosen[key] = (sec.heading, body)
        used = 0
        for key in ("problems_improvements", "other"):
            if key in chosen:
                heading, body = chosen[key]
                body = truncate(body, budget[key])
                chosen[key] = (heading, body)
                used += len(heading) + len(body) + 2
        if "overview" in chosen:
            heading, body = chosen["overview"]
            chosen["overview"] = (heading, truncate(body, max(0, max_chars - used - len(heading) - 2)))
        for key in ("overview", "problems_improvements", "other"):
            if key in chosen and chosen[key][1]:
                parts.append(chosen[key][0] + "\n" + chosen[key][1])
        if parts:
            return "\n\n".join(parts)
    body = strip_tables(text)
    if len(body) <= max_chars:
        return body
    # Keep the start (the overview) and the end (problems and plans come last).
    head = truncate(body, int(max_chars * 0.4))
    tail_start = len(body) - (max_chars - len(head) - 8)
    nl = body.find("\n", tail_start)
    tail = body[nl + 1:] if 0 <= nl < tail_start + 200 else body[tail_start:]
    return head + "\n……\n" + tail
