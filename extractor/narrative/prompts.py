"""Prompt loading and hashing, and the choice of the report text the model is shown.

A prompt is a file in `prompts/` (at the repository root; `EXTRACTOR_PROMPTS_DIR` moves it) with a
front-matter header naming it and its version, then a `## system` and a `## user` part; the user
part holds `{{report}}`, where the report text goes, between <report> tags. The prompt hash is
the sha256 of the file's bytes: any edit changes it, and so the cache key.

The model sees what its fields need: all of 五 (problems_improvements) and 六 (other), and the
paragraphs of 一 (overview) that name a platform, a problem or a figure, with table-like lines
removed; when the report has no 五 the whole text minus table-like lines is sent. Only past the
`max_chars` ceiling is the text cut, 五 and 六 first. `Selection.omitted` says what was left out.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..models import Sections

DEFAULT_PROMPT = "narrative.v2.md"
DEFAULT_MAX_CHARS = 12000  # a ceiling for the context window, not a budget: 五 and 六 are sent whole
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


PROBLEM_WORDS = re.compile(r"问题|不足|短板|薄弱|差距|有待|仍需|亟需|欠缺|滞后|不够|不到位|不平衡|整改")
FIGURE = re.compile(r"\d")
LONG_PARAGRAPH = 300  # characters: a longer paragraph of 一 is weighed sentence by sentence
_SENTENCE_END = re.compile(r"(?<=[。！？；;!?])")


@dataclass(frozen=True)
class Selection:
    """The text a model is shown, and what of the report was left out of it."""
    text: str
    report_chars: int
    omitted: tuple[str, ...] = ()

    def summary(self) -> dict:
        return {"sent_chars": len(self.text), "report_chars": self.report_chars, "omitted": list(self.omitted)}


def _platform_terms() -> re.Pattern:
    from . import rules  # the platform lexicon the rules backend uses
    return rules.PLATFORM_TERMS


def overview_units(body: str) -> list[str]:
    """Paragraphs of 一, a long one cut into its sentences."""
    units = []
    for para in body.split("\n"):
        para = para.strip()
        if not para:
            continue
        if len(para) <= LONG_PARAGRAPH:
            units.append(para)
        else:
            units.extend(s.strip() for s in _SENTENCE_END.split(para) if s.strip())
    return units


def overview_for_fields(body: str) -> tuple[str, int, int]:
    """The paragraphs (or sentences) of 一 that name a platform, a problem or a figure:
    (text, units kept, units in all)."""
    terms = _platform_terms()
    units = overview_units(body)
    kept = [u for u in units if terms.search(u) or PROBLEM_WORDS.search(u) or FIGURE.search(u)]
    return "\n".join(kept), len(kept), len(units)


def select_input(text: str, sections: Sections | None, max_chars: int = DEFAULT_MAX_CHARS) -> Selection:
    """What the model is shown: all of 五 and 六 and the parts of 一 the fields need, tables
    removed; without a 五, the whole text minus tables. Cut to `max_chars` only past that
    ceiling; the Selection says what was left out."""
    omitted: list[str] = ["tables (the statistical tables are read deterministically)"]
    if sections is not None and sections.problems_improvements is not None:
        parts: list[tuple[str, str, str]] = []   # (key, heading, body)
        for key in ("overview", "problems_improvements", "other"):
            sec = getattr(sections, key)
            if sec is None:
                continue
            body = strip_tables(sec.text)
            if key == "overview" and body:
                body, kept, total = overview_for_fields(body)
                if kept < total:
                    omitted.append(f"overview: {total - kept} of {total} paragraphs or sentences "
                                   f"(no platform, problem or figure named)")
            if body:
                parts.append((key, sec.heading, body))
        for key in ("active_disclosure", "applications", "review_litigation"):
            if getattr(sections, key) is not None:
                omitted.append(f"{key} (a table section)")
        total_len = sum(len(h) + len(b) + 3 for _, h, b in parts)
        if total_len > max_chars:
            # Past the ceiling: 五 and 六 first, then what of 一 still fits.
            budget, cut = max_chars, {}
            for key, heading, body in sorted(parts, key=lambda p: p[0] == "overview"):
                room = max(0, budget - len(heading) - 3)
                cut[key] = truncate(body, room) if room else ""
                if len(cut[key]) < len(body):
                    omitted.append(f"{key}: cut at {len(cut[key])} of {len(body)} characters "
                                   f"(the {max_chars}-character ceiling)")
                budget -= len(heading) + len(cut[key]) + 3
            parts = [(k, h, cut[k]) for k, h, _ in parts]
        chosen = [h + "\n" + b for _, h, b in parts if b]
        if chosen:
            return Selection("\n\n".join(chosen), len(text), tuple(omitted))
    body = strip_tables(text)
    if len(body) <= max_chars:
        return Selection(body, len(text), tuple(omitted))
    # Keep the start (the overview) and the end (problems and plans come last).
    head = truncate(body, int(max_chars * 0.4))
    tail_start = len(body) - (max_chars - len(head) - 8)
    nl = body.find("\n", tail_start)
    tail = body[nl + 1:] if 0 <= nl < tail_start + 200 else body[tail_start:]
    omitted.append(f"the middle of the text: {len(body) - len(head) - len(tail)} characters "
                   f"(no section 五 found; the {max_chars}-character ceiling)")
    return Selection(head + "\n……\n" + tail, len(text), tuple(omitted))
