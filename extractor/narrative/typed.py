"""The typed narrative fields, read by rules from the report text and the items already found.

One job: given a report's text and sections and the problems/improvements the rules backend
found (`extractor.narrative.rules.extract`), fill in

- each problem's `area` (the area of the first cue of `areas.csv` in its text + evidence, else 其他);
- each improvement's `addresses`, conservatively: the i-th measure answers the i-th problem when
  section 五 says its measures answer the problems just listed (针对上述问题…) and there are as
  many of each; otherwise a measure answers the problems it shares a specific subject cue with
  (`ties=yes` in areas.csv: 解读, 依申请, 队伍…); else empty;
- `prior_year_rectification`: a sentence naming last year's report or problems and what was done;
- `information_fees`: the clause that prints the 信息处理费 amount (number + 元) or says nothing
  was charged (0), and a 收费通知 count where printed; never a number the report does not print.

The cue words are data (`areas.csv`, `typed_cues.csv` beside this module). Every quote is a
verbatim substring of the text, with its span.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..models import Evidence, Finding, InformationFees, PriorYearRectification, Sections
from .prompts import is_table_line

_HERE = Path(__file__).resolve().parent
OTHER_AREA = "其他"


def _rows(name: str) -> list[dict[str, str]]:
    with open(_HERE / name, encoding="utf-8", newline="") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    return list(csv.DictReader(lines))


@dataclass(frozen=True)
class _Cues:
    areas: tuple[tuple[str, str, bool], ...]     # (area, cue, ties), file order
    words: dict[tuple[str, str], tuple[str, ...]]  # (field, kind) -> cues

    def of(self, field: str, kind: str) -> tuple[str, ...]:
        return self.words.get((field, kind), ())


@lru_cache(maxsize=1)
def cues() -> _Cues:
    areas = tuple((r["area"], r["cue"], r["ties"].strip() == "yes") for r in _rows("areas.csv"))
    words: dict[tuple[str, str], list[str]] = {}
    for r in _rows("typed_cues.csv"):
        words.setdefault((r["field"], r["kind"]), []).append(r["cue"])
    return _Cues(areas, {k: tuple(v) for k, v in words.items()})


# -- area -------------------------------------------------------------------------------------

def area_of(text: str) -> str:
    """The area of the cue that occurs first in `text` (the longer one at the same offset)."""
    best: tuple[int, int, str] | None = None   # (offset, -length, area)
    for area, cue, _ in cues().areas:
        i = text.find(cue)
        if i >= 0 and (best is None or (i, -len(cue)) < best[:2]):
            best = (i, -len(cue), area)
    return best[2] if best else OTHER_AREA


def _item_text(f: Finding) -> str:
    return f.text + "。" + f.evidence


# -- addresses --------------------------------------------------------------------------------

def _tie_cues(text: str) -> set[str]:
    return {cue for _, cue, ties in cues().areas if ties and cue in text}


MEASURE_CONTEXT = 150  # characters of the sentence after a heading read for its subject
HEADING_CHARS = 16     # a measure this short that ends at a full stop is a heading


def _measure_text(f: Finding, text: str | None) -> str:
    """A measure's text + evidence; when the measure is a heading (（二）继续完善信息公开机制。),
    also the sentence after it, which says what the heading means."""
    out = _item_text(f)
    span = f.span
    if not text or span is None or span.end is None:
        return out
    end = span.end
    if text[end - 1:end] != "。" and text[end:end + 1] == "。":
        end += 1
    if text[end - 1:end] != "。" or len(f.evidence.strip("。 ")) > HEADING_CHARS:
        return out
    tail = text[end:end + MEASURE_CONTEXT]
    stop = min((i for i in (tail.find("。"), tail.find("\n")) if i >= 0), default=len(tail))
    return out + tail[:stop]


def addresses(problems: list[Finding], improvements: list[Finding], five: str | None,
              text: str | None = None) -> list[list[int]]:
    """For each improvement, the indices of the problems it answers (possibly none)."""
    if not problems or not improvements:
        return [[] for _ in improvements]
    if five and len(problems) == len(improvements) >= 2 and any(c in five for c in cues().of("addresses", "mirror")):
        return [[i] for i in range(len(improvements))]
    problem_cues = [_tie_cues(_item_text(p)) for p in problems]
    out = []
    for imp in improvements:
        mine = _tie_cues(_measure_text(imp, text))
        out.append([i for i, pc in enumerate(problem_cues) if pc & mine])
    return out


# -- sentences and clauses outside the tables -------------------------------------------------

_SENTENCE = re.compile(r"[^。；;！？!?\n]+")
_CLAUSE = re.compile(r"[^。；;！？!?\n，,]+")


def _pieces(text: str, pattern: re.Pattern, start: int = 0, end: int | None = None):
    """(start, end, piece) of each sentence or clause of text[start:end] on a prose line."""
    end = len(text) if end is None else end
    for m in pattern.finditer(text, start, end):
        piece = m.group()
        a = m.start() + len(piece) - len(piece.lstrip())
        b = m.end() - (len(piece) - len(piece.rstrip()))
        if b - a < 4:
            continue
        line_start = text.rfind("\n", 0, a) + 1
        line_end = text.find("\n", b)
        line = text[line_start:line_end if line_end >= 0 else len(text)]
        if is_table_line(line) or "\t" in line or line.count("|") >= 2:
            continue
        yield a, b, text[a:b]


# -- information fees -------------------------------------------------------------------------

_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*元")
MAX_FEE_GAP = 120  # characters between the clause of one fee figure and the next
_NOTICES = re.compile(r"收费通知(?:书)?[^\d，。；]{0,6}?(\d+)\s*[件份次]")


def _number(s: str) -> int | float:
    v = float(s)
    return int(v) if v.is_integer() and "." not in s else v


def information_fees(text: str, sections: Sections | None) -> InformationFees | None:
    """The fees the report says it charged: from section 六 when it has one, else anywhere."""
    other = sections.other if sections is not None else None
    if other is not None:
        found = _fees_in(text, other.start, other.end)
        if found is not None:
            return found
    return _fees_in(text, 0, len(text))


def _fees_in(text: str, start: int, end: int) -> InformationFees | None:
    c = cues()
    topic, exclude, none = c.of("information_fees", "topic"), c.of("information_fees", "exclude"), \
        c.of("information_fees", "none")
    amount = notices = None
    quotes: list[tuple[int, int]] = []
    for a, b, clause in _pieces(text, _CLAUSE, start, end):
        if not any(t in clause for t in topic) or any(x in clause for x in exclude):
            continue
        if quotes and a - quotes[0][1] > MAX_FEE_GAP:
            break   # a second figure this far from the first is about something else
        n = _NOTICES.search(clause)
        m = _AMOUNT.search(clause)
        nothing = any(w in clause for w in none)
        got = False
        if notices is None and (n or (nothing and "收费通知" in clause)):
            notices = int(n.group(1)) if n else 0
            got = True
        fees_named = any(t in clause for t in topic if t != "收费通知")
        if amount is None and (m or (nothing and fees_named)):
            amount = _number(m.group(1)) if m else 0
            got = True
        if got:
            quotes.append((a, b))
        if amount is not None and notices is not None:
            break
    if not quotes:
        return None
    a, b = quotes[0][0], quotes[-1][1]
    return InformationFees(notices=notices, amount=amount, evidence=text[a:b],
                           span=Evidence(start=a, end=b, match="exact"))


# -- last year's problems ---------------------------------------------------------------------

MAX_SENTENCE = 200  # characters: a longer "sentence" is a table scraped into one line


def prior_year_rectification(text: str) -> PriorYearRectification | None:
    """The first sentence that names last year's report or problems and what was (not) done."""
    c = cues()
    prior, exclude = c.of("prior_year_rectification", "prior"), c.of("prior_year_rectification", "exclude")
    problem = c.of("prior_year_rectification", "problem")
    done, not_done = c.of("prior_year_rectification", "done"), c.of("prior_year_rectification", "not_done")
    for a, b, sentence in _pieces(text, _SENTENCE):
        if b - a > MAX_SENTENCE:
            continue   # a scrape's run-together table, not a statement
        bare = sentence
        for x in exclude:
            bare = bare.replace(x, "")
        if not any(p in bare for p in prior) or not any(p in bare for p in problem):
            continue
        if any(w in bare for w in not_done):
            rectified = False
        elif any(w in bare for w in done):
            rectified = True
        else:
            continue
        return PriorYearRectification(rectified=rectified, evidence=sentence,
                                      span=Evidence(start=a, end=b, match="exact"))
    return None


# -- all of it --------------------------------------------------------------------------------

def fill(text: str, sections: Sections | None, problems: list[Finding], improvements: list[Finding]
         ) -> tuple[list[Finding], list[Finding], PriorYearRectification | None, InformationFees | None]:
    """Copies of the items with `area` / `addresses` set, and the two report-level fields."""
    typed_problems = [p.model_copy(update={"area": area_of(_item_text(p))}) for p in problems]
    five = sections.problems_improvements.text if sections is not None and sections.problems_improvements else None
    typed_improvements = [imp.model_copy(update={"addresses": addr})
                          for imp, addr in zip(improvements, addresses(problems, improvements, five, text))]
    return typed_problems, typed_improvements, prior_year_rectification(text), information_fees(text, sections)
