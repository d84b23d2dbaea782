"""Rule-based narrative extraction: problems, improvements and platforms from the report's own wording.

Deterministic and offline. Every evidence it returns is a verbatim substring of the text, with
an exact span.

Problems and improvements come from the 存在的主要问题及改进情况 section (or, when the section
splitter found none, from a 主要问题 / 存在问题 heading anywhere in the text). The section is cut
where the plans begin (下一步, 下阶段, 今后, 改进措施, 针对以上…, 工作打算…): before is problems,
after is measures. Each part is itemised by the report's own enumeration (一是/二是, （一）（二）,
1、2、, ①②, 第一、第二), the family whose chain 1, 2, 3… starts first; a part without one is split
into clauses, kept when they carry a problem cue (有待, 不够, 仍需, 薄弱…) or, for measures, open
with a measure verb (加强, 完善, 推进…). The word lists are data: data/cues.csv (one `list` column
naming what each phrase is for) and data/platforms.csv (the channel lexicon); docs/narrative.md
says how each list is used.

Platforms come from a lexicon of channel names (门户网站 → website, 微信公众号 → wechat …) found
in the prose (table lines excluded), one item per channel, with the count of items published on
it when the same clause says so (门户网站全年公开政府信息10条 → 10).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..models import Evidence, Finding, Platform, Sections
from .prompts import is_table_line

DATA = Path(__file__).with_name("data")


@lru_cache(maxsize=None)
def _rows(name: str) -> tuple[dict, ...]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def cue_words(kind: str) -> list[str]:
    """The phrases of one list in data/cues.csv (problem cues, measure verbs, announcements…)."""
    return [r["phrase"] for r in _rows("cues.csv") if r["list"] == kind]


def _alternation(words: list[str]) -> str:
    # longest first, so that 仍然存在 wins over 存在 where both start at one place
    return "|".join(re.escape(w) for w in sorted(dict.fromkeys(words), key=lambda w: (-len(w), w)))


CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"

EVIDENCE_MIN, EVIDENCE_MAX = 8, 60
TEXT_MAX = 40


def cn_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s in CIRCLED:
        return CIRCLED.index(s) + 1
    if len(s) == 1:
        return CN_DIGITS.get(s)
    if len(s) == 2 and s[0] == "十":
        return 10 + CN_DIGITS.get(s[1], 0)
    if len(s) == 2 and s[1] == "十":
        return CN_DIGITS.get(s[0], 0) * 10
    return None


# ------------------------------------------------------------------------------------------
# Text geometry: sentences and clauses with offsets

_HARD_END = "。！？；;!?"
_CLAUSE_END = "，,：:、"


def _sentence_bounds(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end]: split after 。！？； and at hard line breaks.

    A line break is hard when the line before ends a sentence (or a heading-ish colon), the
    next line is blank, or the next line starts an enumeration; OCR breaks mid-sentence are soft.
    """
    out = []
    s = start
    i = start
    while i < end:
        ch = text[i]
        cut = False
        if ch in _HARD_END:
            cut = True
            i += 1
        elif ch == "\n":
            prev = text[s:i].rstrip()
            nxt = text[i + 1:min(end, i + 12)]
            line = text[text.rfind("\n", 0, i) + 1:i].strip()  # the whole printed line
            if (not prev or prev[-1] in _HARD_END + "：:" or not nxt.strip() or nxt[:1] == "\n"
                    or _MARKER_START.match(nxt) or len(line) <= 16):
                cut = True
            i += 1
        else:
            i += 1
        if cut:
            if text[s:i].strip():
                out.append((s, i))
            s = i
    if s < end and text[s:end].strip():
        out.append((s, end))
    return [_trim(text, a, b) for a, b in out if text[a:b].strip()]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in " \t\r\n\u3000":
        a += 1
    while b > a and text[b - 1] in " \t\r\n\u3000":
        b -= 1
    return a, b


def _clauses(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Clauses of a sentence: split at ，：; and hard ends (、 is kept inside a clause)."""
    out, s = [], a
    for i in range(a, b):
        if text[i] in "，,：:" + _HARD_END:
            if text[s:i].strip():
                out.append(_trim(text, s, i))
            s = i + 1
    if s < b and text[s:b].strip():
        out.append(_trim(text, s, b))
    return out


# ------------------------------------------------------------------------------------------
# Enumerations

_B = r"(?:(?<=^)|(?<=[\s。；;，,：:！？!?\u3000]))"   # an enumerator starts a clause
FAMILIES: list[tuple[str, re.Pattern]] = [
    ("shi", re.compile(_B + r"其?([一二三四五六七八九十]{1,2})是", re.M)),
    ("paren_cn", re.compile(r"[（(]\s*([一二三四五六七八九十]{1,2})\s*[)）]")),
    ("paren_num", re.compile(r"[（(]\s*(\d{1,2})\s*[)）]")),
    ("num", re.compile(_B + r"(\d{1,2})\s*[、.．](?!\d)", re.M)),
    # 1、 run into the words before it (行为1、加强…), as whitespace-stripped web text prints it
    ("num_run_in", re.compile(r"(?<![\d.．A-Za-z%])(\d{1,2})、(?!\d)")),
    ("circled", re.compile(r"([①②③④⑤⑥⑦⑧⑨⑩])")),
    ("di", re.compile(_B + r"第([一二三四五六七八九十]{1,2})[，,、：:是]", re.M)),
    ("cn_dun", re.compile(_B + r"([一二三四五六七八九十]{1,2})\s*[、．]", re.M)),
]
_MARKER_START = re.compile(r"\s*(?:其?[一二三四五六七八九十]{1,2}是|[（(]\s*[一二三四五六七八九十\d]{1,2}\s*[)）]|"
                           r"\d{1,2}\s*[、.．](?!\d)|[①②③④⑤⑥⑦⑧⑨⑩]|第[一二三四五六七八九十]{1,2}[，,、：:是]|"
                           r"[一二三四五六七八九十]{1,2}\s*[、．])")


@dataclass
class Marker:
    start: int      # where the enumerator begins
    body: int       # where the item's words begin
    n: int


ITEM_MIN = 4  # characters between two enumerators: 1、2、3月 is no enumeration


def _chain(text: str, a: int, b: int, pattern: re.Pattern) -> list[Marker]:
    found = []
    for m in pattern.finditer(text, a, b):
        n = cn_number(m.group(1))
        if n is not None:
            found.append(Marker(m.start(), m.end(), n))
    best: list[Marker] = []
    for i, m in enumerate(found):
        if m.n != 1:
            continue
        chain = [m]
        for nxt in found[i + 1:]:
            if nxt.n == chain[-1].n + 1 and nxt.start - chain[-1].body >= ITEM_MIN:
                chain.append(nxt)
            elif nxt.n == 1:
                break
        if len(chain) > len(best):
            best = chain
        if len(best) >= 2:
            break  # the first chain that enumerates at all
    return best if len(best) >= 2 else []


def enumeration(text: str, a: int, b: int) -> list[Marker]:
    """The report's own top-level enumeration in text[a:b]: the chain that starts first."""
    best: list[Marker] = []
    for _, pattern in FAMILIES:
        chain = _chain(text, a, b, pattern)
        if chain and (not best or chain[0].start < best[0].start):
            best = chain
    return best


# ------------------------------------------------------------------------------------------
# Problems and improvements

# Words that mark a clause as admitting a problem (有待, 不够, 薄弱…): data/cues.csv, list "problem".
PROBLEM_CUE = re.compile(_alternation(cue_words("problem")))
PLAN_CUE = re.compile(
    r"下一步|下阶段|下一阶段|下一年度?|下年度?|明年|来年|今后|(?<![待需应须要])改进措施|改进情况|改进工作|"
    r"整改措施|改进方向|(?:作|做)(?:进一步的?)?改进|以下改进|如下改进|针对(?:以上|上述|这些|存在的|此|问题)|"
    r"(?:^|(?<=[，,：:\s])|(?<=下一步)|(?<=下阶段)|(?<=年度)|(?<=年)|(?<=今后))(?:的)?工作(?:打算|计划|重点|思路|安排|举措)|努力方向|采取(?:以下|如下)|(?:打算|计划)如下|"
    r"20\d\d年[，, ]*(?:我|本|全|市|县|区|省)[^。；]{0,12}将")
# A measure opens with a measure verb (加强, 完善…), after adverbs (进一步, 持续…) and modals (将, 要).
MEASURE_VERB = re.compile("^(?:" + _alternation(cue_words("measure_adverb")) + ")*(?:"
                          + _alternation(cue_words("measure_verb")) + ")")
# 提升…水平, 保障…知情权: the aim of the measure before it
_OUTCOME = re.compile("^(?:" + _alternation(cue_words("measure_adverb")) + ")*(?:"
                      + _alternation(cue_words("outcome_verb")) + ").{0,16}(?:"
                      + _alternation(cue_words("outcome_noun")) + ")$")
_PLEDGE = re.compile(_alternation(cue_words("not_measure")))   # 坚持以人民为中心: no measure
# 以高质量的信息公开工作促进科技政策落地: "by X, promote Y", the aim of the measure before it
_AIM = re.compile("^以[^，,。；]{2,24}?(?:" + _alternation(cue_words("outcome_verb")) + ")")
PURPOSE = re.compile(r"^(?:确保|以便|从而|使|为了?|切实保障|保证|推动[^，。]*服务)")
INTRO = re.compile(r"(?:问题|不足|方面|如下|以下|空间|差距|措施|打算|计划|重点|情况)[：:]?$|^(?:主要(?:是|有|表现在|体现在)|具体(?:是|如下)|一是|如)$")
_LEADIN = re.compile(r"^(?:其?[一二三四五六七八九十]{1,2}是|[（(]\s*[一二三四五六七八九十\d]{1,2}\s*[)）]|\d{1,2}\s*[、.．]|"
                     r"[①②③④⑤⑥⑦⑧⑨⑩]|第[一二三四五六七八九十]{1,2}[，,、：:是]?|[一二三四五六七八九十]{1,2}\s*[、．])\s*")
_TEXT_LEADIN = re.compile(r"^(?:(?:主要(?:是|有|表现为|表现在|体现在)|具体(?:是|为)|如|在?今后的?工作中|在?下一步工作中|今后|下一步|同时|此外|另外|"
                          r"[^，,。；]{0,12}?(?:我[市县区省州旗镇乡局委厅办院部署会]|我们|本[市县区局委厅办]|本机关|民政局)将?|将|要)[，,：: ]*)+")
_HEADING_CUT = re.compile(r"存在的?主要问题(?:及改进(?:情况|措施))?|主要问题(?:及|和)?(?:改进(?:情况|措施))?|"
                          r"存在的?问题(?:及改进(?:情况|措施))?|问题及改进(?:情况|措施)?|不足(?:之处)?|改进措施")
_FALLBACK_HEAD = re.compile(r"(?:^|\n|\s)[#\s]*(?:[（(]?[一二三四五六七八九十]{1,2}[)）、．.]?\s*)?"
                            r"(?:政府信息公开工作)?(?:存在的?主要问题|主要问题|存在(?:的)?问题|存在的不足|问题和不足|不足之处)")
_SECTION_HEAD = re.compile(r"\n[#\s]*[一二三四五六七八九十]{1,2}\s*[、.．]")


def problem_region(text: str, sections: Sections | None) -> tuple[int, int] | None:
    """The span of text holding problems and plans (section 五's body), or None."""
    sec = sections.problems_improvements if sections is not None else None
    if sec is not None:
        start = sec.start
        m = _HEADING_CUT.search(text, start, min(sec.end, start + 60))
        if m:
            start = m.end()
        end = sec.end
        other = sections.other if sections is not None else None
        if other is not None and start < other.start < end:
            end = other.start
    else:
        m = _FALLBACK_HEAD.search(text)
        if not m:
            return None
        start = m.end()
        nxt = _SECTION_HEAD.search(text, start)
        end = nxt.start() if nxt else len(text)
        if sections is not None and sections.other is not None and start < sections.other.start < end:
            end = sections.other.start
    # skip the rest of the heading (情况, 措施, punctuation) and stop at the first table-like line
    while start < end and text[start] in "及和与改进情况措施：: \t\u3000#":
        start += 1
    pos = start
    seen_prose = False
    for line in text[start:end].splitlines(keepends=True):
        if line.strip():
            if is_table_line(line) and seen_prose and not _MARKER_START.match(line):
                if len(line.strip()) > 16 or re.search(r"\d", line) or "|" in line or "\t" in line:
                    end = pos
                    break
            seen_prose = seen_prose or len(line.strip()) > 16
        pos += len(line)
    return (start, end) if text[start:end].strip() else None


def _split_plans(text: str, a: int, b: int) -> int:
    """Where the plans begin in text[a:b] (b when they never do)."""
    for s, e in _sentence_bounds(text, a, b):
        sent = text[s:e]
        m = PLAN_CUE.search(sent)
        if not m:
            continue
        # a sentence that admits a problem and only mentions the word (有待改进) is no plan
        if PROBLEM_CUE.search(sent[:m.start()]) and not re.search(r"针对|采取|下一步|下阶段|今后|[将要]", sent):
            continue
        return s
    return b


EVIDENCE_TARGET = 12   # quotes grow clause by clause until they hold this many characters
TEXT_TARGET = 16       # statements likewise
# An item whose first sentence is this short is a heading (（二）规范内容建设。): its statement is
# the heading and the start of the sentence after it, which says what the heading means.
# (Measured on the labels: 10 scores best; labels of longer headings summarise the whole item.)
HEADING_MAX = 10
HEADING_BODY = 14      # characters of that next sentence taken (whole clauses, at least one)
HEADING_QUOTE = 24     # and as many added to the quote


def _cjk_len(s: str) -> int:
    return sum(1 for ch in s if "\u4e00" <= ch <= "\u9fff" or ch.isalnum())


def _grow(text: str, clauses: list[tuple[int, int]], target: int, limit: int) -> tuple[int, int] | None:
    """Whole clauses from the first until they hold `target` characters (at most `limit` long)."""
    if not clauses:
        return None
    a, end = clauses[0][0], clauses[0][1]
    for c0, c1 in clauses[1:]:
        if _cjk_len(text[a:end]) >= target:
            break
        if c1 - a > limit:
            break
        end = c1
    if end - a > limit:
        end = a + limit
    return _trim(text, a, end)


_CIRCUMSTANCE = re.compile("(?:" + _alternation(cue_words("circumstance")) + ")")


def _item_finding(text: str, a: int, b: int, short_ok: bool = False) -> Finding | None:
    """An item that starts at `a` (its enumerator, if any) and runs to `b`."""
    sents = _sentence_bounds(text, a, b)
    if not sents:
        return None
    s0, s1 = sents[0]
    clauses = _clauses(text, s0, s1)
    if len(clauses) > 1 and _CIRCUMSTANCE.match(_LEADIN.sub("", text[clauses[0][0]:clauses[0][1]])):
        # "二是根据…新要求，健全完善政务公开制度": the measure is what follows the 根据 clause
        s0 = clauses[1][0]
        clauses = clauses[1:]
    ev = _grow(text, clauses, EVIDENCE_TARGET, EVIDENCE_MAX)
    if ev is None:
        return None
    e0, e1 = ev
    if e1 < len(text) and e1 + 1 == s1 and text[e1] in "。；;":
        e1 = s1  # keep the full stop of a quote that is the whole sentence
    quote = text[e0:e1]
    if _cjk_len(_LEADIN.sub("", quote)) < (4 if short_ok else 5):
        return None
    # the statement: the item's words without the enumerator; a heading takes its next sentence
    st = _grow(text, _clauses(text, s0, s1), TEXT_TARGET, 200)
    statement = _statement(text[st[0]:st[1]]) if st else _statement(quote)
    if _cjk_len(text[s0:s1]) < HEADING_MAX and len(sents) > 1:
        b0, b1 = _grow(text, _clauses(text, *sents[1]), HEADING_BODY, EVIDENCE_MAX) or sents[1]
        body = _statement(text[b0:b1])
        room = TEXT_MAX - len(statement) - 1
        if len(body) > room:  # cut at a list comma where there is one
            cut = max(body.rfind("、", 0, room), body.rfind("，", 0, room))
            body = body[:cut] if cut >= room // 2 else body[:room]
        if body and room >= 4 and not _LEADIN.match(text[b0:b1]):
            statement = statement + "，" + body
            if HEADING_QUOTE and b0 - e0 <= EVIDENCE_MAX:
                q1 = _grow(text, _clauses(text, *sents[1]), HEADING_QUOTE, EVIDENCE_MAX - (b0 - e0))
                if q1:
                    e1 = q1[1]
                    quote = text[e0:e1]
    return Finding(text=statement, evidence=quote, span=Evidence(start=e0, end=e1, match="exact"))


def _statement(quote: str) -> str:
    """The short statement for a quote: the enumerator and lead-ins dropped, at most TEXT_MAX chars."""
    s = _LEADIN.sub("", quote.strip())
    s = _TEXT_LEADIN.sub("", s)
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"[。；;]", "，", s).rstrip("，,：:、")
    if len(s) > TEXT_MAX:
        cut = max(s.rfind("，", 0, TEXT_MAX), s.rfind(",", 0, TEXT_MAX))
        s = s[:cut] if cut >= 6 else s[:TEXT_MAX]
    return s or quote.strip()[:TEXT_MAX]


def _enumerated(text: str, a: int, b: int, markers: list[Marker]) -> list[tuple[int, int]]:
    spans = []
    for i, m in enumerate(markers):
        end = markers[i + 1].start if i + 1 < len(markers) else b
        spans.append((m.start, end))
    return spans


# "存在X、Y、Z等问题": a list of problems inside one clause
_LISTED = re.compile(r"(?:存在|有|是|如|表现在|体现在)着?[：:]?(?P<list>[^。；;]{4,120}?)等(?:方面的)?"
                     r"(?:问题|不足|短板|情况|现象|薄弱环节|(?=[。；;，,]|$))")


def _listed_problems(text: str, a: int, b: int) -> list[tuple[int, int]] | None:
    """The pieces of a 'X、Y、Z等问题' list in text[a:b], each carrying a problem cue."""
    m = _LISTED.search(text, a, b)
    if not m:
        return None
    l0, l1 = m.span("list")
    pieces = []
    for c0, c1 in _split(text, l0, l1, "，,"):
        # 、 joins facets of one problem (不同源、不便捷) unless each side is a problem of its own
        parts = _split(text, c0, c1, "、")
        if len(parts) > 1 and all(_cjk_len(text[x:y]) >= LISTED_PART_MIN and PROBLEM_CUE.search(text, x, y)
                                  for x, y in parts):
            pieces.extend(parts)
        else:
            pieces.append((c0, c1))
    # every piece of a list that ends 等问题 is a problem; one cue somewhere says the list is one
    if not any(PROBLEM_CUE.search(text, x, y) for x, y in pieces):
        return None
    keep = [p for p in pieces if _cjk_len(text[p[0]:p[1]]) >= 4 and not _generic(text[p[0]:p[1]])]
    return keep or None


LISTED_PART_MIN = 8  # a 、-part this long, with its own cue, is a problem of its own


def _split(text: str, a: int, b: int, seps: str) -> list[tuple[int, int]]:
    out, s = [], a
    for i in range(a, b + 1):
        if i == b or text[i] in seps:
            if text[s:i].strip():
                out.append(_trim(text, s, i))
            s = i + 1
    return out


SHORT_HOST = 12        # ...when that one is no longer than this
SHORT_MEASURE = 6       # a measure clause this short (强化监督管理) is a facet of the one before it
SENTENCE_ITEM_MAX = 1   # measured on the labels: each measure clause (with the aim after it) is a measure
CHUNK = 1               # (grouping them 2 or 3 to a sentence scored lower)


def _ends_as_measure(clause: str, core: str, kind: str) -> bool:
    """明确公开重点 is a measure that ends like an introduction (…重点：); one with a colon, or
    without a measure verb, introduces what follows."""
    return kind != "problems" and not clause.rstrip().endswith(("：", ":")) and bool(MEASURE_VERB.search(core)) \
        and not _INTRO_WORDS.search(core)


_INTRO_WORDS = re.compile(r"如下|以下|几个方面|措施$|打算$|计划$")


def _clause_items(text: str, a: int, b: int, kind: str) -> list[tuple[int, int]]:
    """Items of an un-enumerated part: problem clauses; measures as runs of measure clauses."""
    out = []
    listing = False   # inside "如：A；B；C。"
    announced = False  # the sentence before said "仍存在一些不足。"
    for s, e in _sentence_bounds(text, a, b):
        if kind == "problems":
            ends_list = text[e - 1] in "；;"
            if listing and not PLAN_CUE.search(text, s, e):
                if _cjk_len(text[s:e]) >= 4:
                    out.append((s, e))
                listing = ends_list
                continue
            m = _EXAMPLES.search(text, s, e)
            if m is None and announced:   # "…仍存在一些不足。主要是A；B；C。"
                m = _EXAMPLE_START.match(text, s, e)
            announced = bool(_ANNOUNCED.search(text, s, e)) and text[e - 1] in "。.!！"
            listing = bool(m) and ends_list and _cjk_len(text[m.end():e]) >= 4
            if listing:
                out.append((m.end(), e))
                continue
        listed = _listed_problems(text, s, e) if kind == "problems" else None
        if listed:
            out.extend(listed)
            rest_from = _LISTED.search(text, s, e).end()
        else:
            rest_from = s
        measures, pieces = [], []   # pieces: the clause starts of each measure
        cls = _clauses(text, rest_from, e)
        semicolon_part = any(ch in "；;" for ch in text[max(a, e - 1):e + 1])

        def short_follows(k: int) -> bool:
            if k + 1 >= len(cls):
                return False
            nxt = _TEXT_LEADIN.sub("", text[cls[k + 1][0]:cls[k + 1][1]].strip())
            return _cjk_len(nxt) <= SHORT_MEASURE and bool(MEASURE_VERB.search(nxt)) and not _OUTCOME.search(nxt)
        for k, (c0, c1) in enumerate(cls):
            clause = text[c0:c1]
            core = _TEXT_LEADIN.sub("", _LEADIN.sub("", clause.strip()))
            if _cjk_len(core) < 4 or (INTRO.search(clause.strip()) and not _ends_as_measure(clause, core, kind)):
                continue
            if kind == "problems":
                if PROBLEM_CUE.search(core) and not PLAN_CUE.search(clause) and not _generic(core):
                    out.append((c0, c1))
            elif kind != "problems" and measures and measures[-1][1] >= c0 - 2 and _AIM.match(core):
                measures[-1] = (measures[-1][0], c1)   # 强化制度保障，以高质量的信息公开工作促进…: its aim
            elif measures and measures[-1][1] >= c0 - 2 and _CIRCUMSTANCE.match(core):
                measures[-1] = (measures[-1][0], c1)   # 主动加强政策解读，结合图表…丰富解读材料
            elif not PURPOSE.search(core) and MEASURE_VERB.search(core) and not _PLEDGE.search(core):
                aim_follows = k + 1 < len(cls) and _AIM.match(text[cls[k + 1][0]:cls[k + 1][1]].strip())
                # a short facet joins a short measure (不断完善规章制度，强化监督管理); after a long one,
                # or one that has its facet already, short clauses pair up (丰富公开平台，创新公开形式)
                # (a ；-part is one measure of the report's own list: its facets all join)
                joins = measures and _cjk_len(core) <= SHORT_MEASURE and not aim_follows and (
                    semicolon_part or len(pieces[-1]) == 1 and (
                        _cjk_len(text[measures[-1][0]:measures[-1][1]]) <= SHORT_HOST or not short_follows(k)))
                paired = measures and len(pieces[-1]) > 1 and _cjk_len(core) <= SHORT_MEASURE and not semicolon_part
                if measures and measures[-1][1] >= c0 - 2 and ((_OUTCOME.search(core) and not paired) or joins):
                    measures[-1] = (measures[-1][0], c1)   # 加强培训，提升队伍水平: one measure
                    if not _OUTCOME.search(core):
                        pieces[-1].append(c0)
                else:
                    measures.append((c0, c1))
                    pieces.append([c0])
        if measures:
            size = len(measures) if len(measures) <= SENTENCE_ITEM_MAX else CHUNK
            for i in range(0, len(measures), size):
                group = measures[i:i + size]
                out.append((group[0][0], group[-1][1]))
    return out


# "但仍存在一些不足和薄弱环节", "仍在不足": an announcement of problems, not a problem
_ANNOUNCE_VERB = "(?:" + _alternation(cue_words("announce_verb")) + ")"
_ANNOUNCE_NOUN = "(?:" + _alternation(cue_words("announce_noun")) + ")"
_GENERIC_PROBLEM = re.compile(r"^(?:但|不过)?(?:仍然?|还|也|依然|尚)?" + _ANNOUNCE_VERB + r"着?(?:一些|一定的?|若干|以下|如下|部分)?"
                              + _ANNOUNCE_NOUN + r"|(?:不足|问题)(?:之处)?(?:和|与|及)(?:不足|问题|薄弱环节|短板)$|"
                              r"^(?:主要|具体)?(?:表现|体现)(?:在|为)")


_GENERIC_FILLER = re.compile(r"但|不过|仍然?|还|也|依然|尚|" + _alternation(cue_words("announce_verb")) +
                             r"|着|一些|一定的?|若干|以下|如下|部分|个别|待解决的?|亟待解决的?|"
                             r"需要解决的?|主要|的|和|与|及|方面|几个|[，,、：:\s]")
_ANNOUNCED = re.compile(_ANNOUNCE_VERB + r"着?[^。；;，,]{0,8}?" + _ANNOUNCE_NOUN + r"[。.!！]?$")
_EXAMPLE_START = re.compile(r"(?:" + _alternation(cue_words("example_intro")) + r")(?![何实期])[：:，,\s]*")
# "…不足，如：A；B；C。": after an announcement and an example lead-in, each ；-part is a problem
_EXAMPLES = re.compile(_ANNOUNCE_NOUN + r"[^。；;]{0,8}?[，,：:\s]*(?:" + _alternation(cue_words("example_intro"))
                       + r")(?![何实期])[：:，,\s]*")
_GENERIC_WORDS = re.compile(r"(?:问题|不足|短板|差距|薄弱环节|困难|之处|弱项|环节|情况)+")


def _generic(core: str) -> bool:
    """A clause that only announces problems (仍存在一些问题与不足)."""
    return bool(_GENERIC_PROBLEM.search(core)) or bool(_GENERIC_WORDS.fullmatch(_GENERIC_FILLER.sub("", core)))


def _nested(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """An item that enumerates sub-items of its own ((三)规范… 1、… 2、…) stands for them: they
    are the measures; its heading only groups them."""
    out = []
    for s, e in spans:
        body = _LEADIN.match(text, s)
        sub = enumeration(text, body.end() if body else s, e)
        head = text[body.end() if body else s:sub[0].start].strip() if sub else ""
        # a heading line (no sentence of its own, or one ending in a colon) over its sub-items;
        # "一是加强培训，（1）每季度一次；（2）…" is one measure with its details
        if sub and (not re.search(r"[，,。；;]", head) or head[-1:] in "：:"):
            out.extend(_enumerated(text, s, e, sub))
        else:
            out.append((s, e))
    return out


def _items(text: str, a: int, b: int, kind: str) -> list[Finding]:
    if a >= b:
        return []
    markers = enumeration(text, a, b)
    out: list[Finding] = []
    if markers:
        for s, e in _nested(text, _enumerated(text, a, b, markers)):
            f = _item_finding(text, s, e)
            if f is not None:
                out.append(f)
        return out
    for s, e in _clause_items(text, a, b, kind):
        f = _item_finding(text, s, e, short_ok=True)
        if f is not None:
            out.append(f)
    return out


def problems_improvements(text: str, sections: Sections | None) -> tuple[list[Finding], list[Finding]]:
    region = problem_region(text, sections)
    if region is None:
        return [], []
    a, b = region
    split = _split_plans(text, a, b)
    problems = _items(text, a, split, "problems")
    improvements = _items(text, split, b, "improvements")
    if split == b and problems:
        # no plan cue at all: enumerated items that open with a measure are measures
        keep, moved = [], []
        for f in problems:
            core = _TEXT_LEADIN.sub("", _LEADIN.sub("", f.evidence))
            (moved if MEASURE_VERB.search(core) and not PROBLEM_CUE.search(f.evidence) else keep).append(f)
        problems, improvements = keep, improvements + moved
    return _dedupe(problems), _dedupe(improvements)


def _dedupe(items: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in items:
        key = (f.span.start, f.span.end)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


# ------------------------------------------------------------------------------------------
# Platforms

# (term, kind); longer terms win where one contains another.
# Channel names and their kind (data/platforms.csv); longer terms win where one contains another.
LEXICON: list[tuple[str, str]] = [(r["term"], r["kind"]) for r in _rows("platforms.csv")]
_TERM = re.compile(_alternation([t for t, _ in LEXICON]))
PLATFORM_TERMS = _TERM  # the lexicon as one pattern; the LLM input selection reads it too
KIND = dict(LEXICON)
# Synonyms that name the same channel (one item for both): the same_as column.
_CANON = {r["term"]: r["same_as"] for r in _rows("platforms.csv") if r["same_as"]}
# Not a channel: a share button row (微信 微博 QQ空间), a statistics row (政府公报公开 条 7)
_CHROME = re.compile(r"QQ空间|分享到|扫一扫|打印本页|关闭窗口")
_STAT_ROW = re.compile(r"\s*(?:公开)?(?:政府信息)?数?\s*(?:条|件|个)\s*\d")
# Not a channel although a channel word is inside: data/cues.csv, list "not_channel" (网站群, 新媒体工作人员…)
_NOT_CHANNEL = re.compile(_alternation(cue_words("not_channel")))
# The sentence saying where this report can be downloaded names a site, but not as a channel used.
_ABOUT_REPORT = re.compile(r"本报告[^。]{0,80}(?:下载|查阅)")


def _about_report(text: str, s: int, e: int, la: int, lb: int) -> bool:
    """The mention is in the sentence telling where this report can be downloaded."""
    a = max(la, max(text.rfind(ch, la, s) for ch in "。！？\n") + 1)
    ends = [j for j in (text.find(ch, e, lb) for ch in "。！？\n") if j >= 0]
    return bool(_ABOUT_REPORT.search(text, a, min(ends) if ends else lb))


_GAZETTE_ROW = re.compile(r"(\d[.、．])?政府公报公开(?:政府信息)?数?\s*条\s+(\d+)\s+\d+(?=\s)")
_ONE_PER_KIND = {"website", "wechat", "weibo", "short_video", "app", "gazette", "hotline", "press_conference"}
# Words printed before a channel that end its name (在, 通过, 发布…): data/cues.csv, list "name_stop".
_STOP = re.compile(".*(?:" + _alternation(cue_words("name_stop")) + ")", re.S)
_COUNT = re.compile(r"(\d[\d,，]*)\s*(?:余|多)?\s*(条|篇|件|期|场|次|个|则)(?!次)")
_PUBLISH = re.compile(r"发布|公开|推送|编发|发表|制作|刊登|刊发|刊出|报送|更新|转载|推出|召开|举办|播出|印发|编印|上传|转发|采用")


def _name(text: str, start: int, term: str, clause_start: int) -> str:
    """The channel's printed name: the term with the modifier printed just before it."""
    before = text[max(clause_start, start - 14):start]
    q = re.search(r"[“\"《「][^”\"》」]{1,14}[”\"》」]\s*$", before)
    if q:
        return before[q.start():].strip() + term
    before = re.split(r"[^\u4e00-\u9fffA-Za-z0-9]", before)[-1]   # punctuation ends the name
    before = re.sub(r"^.*\d+[年月日]", "", before)
    m = _STOP.match(before)
    prefix = before[m.end():] if m else before
    t = None
    for t in _TERM.finditer(prefix):
        pass
    if t is not None:
        prefix = prefix[t.end():]
    return prefix[-6:] + term


_SUFFIX = re.compile(r"平台|[“\"「][^”\"」，。；]{2,12}[”\"」]")


def _name_suffix(text: str, end: int, clause_end: int) -> str:
    """What the report prints right after the term as part of the name: 平台 (政务新媒体平台), or
    the channel's own quoted name (政务微信“河北教育发布”)."""
    m = _SUFFIX.match(text, end, clause_end)
    return m.group(0) if m else ""


def _count(text: str, end: int, clause_end: int, next_mention: int) -> tuple[int | None, int]:
    """(items published, where the count ends) read after a mention, or (None, end)."""
    stop = min(clause_end, next_mention)
    window = text[end:stop]
    m = _COUNT.search(window)
    if not m:
        return None, end
    gap = window[:m.start()]
    # the number right after the name (微信31条), or after a publishing verb (全年公开政府信息10条)
    if gap.strip() and not _PUBLISH.search(gap):
        return None, end
    if window[max(0, m.start(2) - 1):m.start(2)] == "人":
        return None, end
    try:
        return int(m.group(1).replace(",", "").replace("，", "")), end + m.end()
    except ValueError:
        return None, end


def _prose_lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        if line.strip() and not is_table_line(line):
            spans.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    return spans


def _skip_spans(sections: Sections | None) -> list[tuple[int, int]]:
    if sections is None:
        return []
    return [(sec.start, sec.end) for sec in (sections.applications, sections.review_litigation) if sec is not None]


@dataclass
class _Mention:
    start: int
    end: int
    term: str
    line: tuple[int, int]


# A channel named inside the title of a document (《…关于印发政府网站与政务新媒体检查指标…的通知》) is not one used.
_DOC_TITLE = re.compile(r"关于|通知|意见|办法|规定|条例|指标|方案|规范")


def _in_document_title(text: str, s: int, e: int, a: int, b: int) -> bool:
    o, c = text.rfind("《", a, s), text.find("》", e, b)
    if o < 0 or c < 0 or "》" in text[o:s] or c - o > 80:
        return False
    return bool(_DOC_TITLE.search(text, o, c))


# A clause that names the means (依托/通过/利用 X): the next clause says what went out through it.
_MEANS = re.compile(r"\s*(?:依托|通过|利用|借助|依靠)")
# A medium that reported on the agency (河北日报客户端报道“…”) covered it; the agency did not publish there.
_COVERAGE = re.compile("(?:" + _alternation(cue_words("coverage_verb")) + ")")
# "…微信关注总量达5.1万余人，全年发布信息1500条": a clause opening with the year's publishing counts for the channel before it
_YEAR_PUBLISH = re.compile(r"\s*(?:全年|年内|本年度?|今年|共|累计)(?:共|累计)?(?:" + _PUBLISH.pattern + ")")
# “两微”平台, “两微一端”: a count of channel kinds (微博+微信, +客户端) names a group, not one channel
_CHANNEL_GROUP = re.compile(r"^[“\"][一二两双三四][微端网屏号][一二两双三四]?[微端网屏号]?[”\"]")
_QUOTED_PLATFORM = re.compile(r"[“\"][^”\"，。；、\s]{2,10}[”\"]平台")


def _mentions(text: str, sections: Sections | None) -> list[_Mention]:
    skip = _skip_spans(sections)
    out = []
    for a, b in _prose_lines(text):
        for m in _TERM.finditer(text, a, b):
            s, e = m.span()
            if any(x <= s < y for x, y in skip):
                continue
            if _CHROME.search(text, max(a, s - 20), min(b, e + 20)):
                continue
            if (m.group(0).endswith("栏") and text[e:e + 1] == "目") or _STAT_ROW.match(text, e) or _NOT_CHANNEL.match(text, max(a, s - 4)) or \
                    _NOT_CHANNEL.search(text[max(a, s - 4):min(b, e + 4)]):
                continue
            if _in_document_title(text, s, e, a, b) or _COVERAGE.match(text, e) or \
                    (m.group(0).endswith("刊") and text[e:e + 1] in "发登载出"):   # 简报刊发2篇: 刊发 is the verb
                continue
            out.append(_Mention(s, e, m.group(0), (a, b)))
        # a platform the report names in quotes (依托“政策直通车”平台), a channel of its own
        for m in _QUOTED_PLATFORM.finditer(text, a, b):
            if any(x <= m.start() < y for x, y in skip) or _TERM.search(m.group(0)) or _CHANNEL_GROUP.search(m.group(0)):
                continue
            out.append(_Mention(m.start(), m.end(), m.group(0), (a, b)))
    out.sort(key=lambda mn: mn.start)
    return out


def platforms(text: str, sections: Sections | None) -> list[Platform]:
    mentions = _mentions(text, sections)
    pi = sections.problems_improvements if sections is not None else None

    def in_plans(pos: int) -> bool:
        return pi is not None and pi.start <= pos < pi.end
    found: dict[tuple, tuple[tuple, Platform]] = {}
    order: list[tuple] = []
    last_key = None
    for i, mn in enumerate(mentions):
        s, e, term, (la, lb) = mn.start, mn.end, mn.term, mn.line
        kind = KIND.get(term, "other")
        c0 = max(text.rfind(ch, la, s) for ch in "，,。；;！？：:\n")
        c0 = la if c0 < la else c0 + 1
        ends = [j for j in (text.find(ch, e, lb) for ch in "，,。；;！？\n") if j >= 0]
        c1 = min(ends) if ends else lb
        next_mention = mentions[i + 1].start if i + 1 < len(mentions) else len(text)
        count, count_end = _count(text, e, c1, next_mention)
        name = _name(text, s, term, c0) + _name_suffix(text, e, c1)
        if count is None and text[c1:c1 + 1] in "，," and (
                (_cjk_len(text[c0:c1]) <= 14 and _MEANS.match(text, c0, s))
                or (_cjk_len(text[c0:c1]) <= 20 and _YEAR_PUBLISH.match(text, c1 + 1))):
            # a short clause naming the channel, and the next one saying what went out there
            # (依托“政策直通车”平台，整理发布…政策性文件50多个)
            ends = [j for j in (text.find(ch, c1 + 1, lb) for ch in "，,。；;！？\n") if j >= 0]
            n1 = min(ends) if ends else lb
            if n1 <= next_mention and _PUBLISH.search(text, c1 + 1, n1):
                m = _COUNT.search(text, c1 + 1, n1)
                if m and text[m.start(2) - 1:m.start(2)] != "人" and _PUBLISH.search(text, c1 + 1, m.start()):
                    count, count_end, c1 = int(re.sub(r"[,，]", "", m.group(1))), m.end(), n1
        q0, q1 = _platform_quote(text, c0, c1, s, max(e, count_end), la)
        item = Platform(name=name, kind=kind, evidence=text[q0:q1], count=count,
                        span=Evidence(start=q0, end=q1, match="exact"))
        # the mention to keep: one outside the problems-and-plans section (what the report did,
        # not what it will do), saying it published there, with a count, with a longer name
        score = (not _about_report(text, s, e, la, lb), not in_plans(s), bool(_PUBLISH.search(text, c0, c1)), count is not None, len(name) > len(term))
        key = (kind,) if kind in _ONE_PER_KIND else (kind, _CANON.get(term, term))
        if kind == "website" and re.search(r"[“《\"]", name):
            key = (kind, name)   # a site printed with its own name (“中国·平潭”政府门户网站) is one of its own
        if key in found and count is not None and found[key][1].count is not None \
                and found[key][1].name != name and kind in _ONE_PER_KIND:
            key = key + (name,)   # two sites that each say how many items went out: two channels
        prev = mentions[i - 1] if i else None
        if prev is not None and prev.end == s and KIND.get(prev.term) == "website" and kind == "other":
            continue   # 政府网站在线访谈: a column of the site, not a channel of its own
        if prev is not None and KIND.get(prev.term) == kind and kind == "bulletin_board" and re.fullmatch(r"和[\u4e00-\u9fff]{0,3}", text[prev.end:s]) \
                and last_key in found and found[last_key][1].span.start == q0:
            # 电子显示屏和电子触摸屏: two screens named as one pair, one channel
            sc, it = found[last_key]
            found[last_key] = (sc, it.model_copy(update={"name": it.name + text[prev.end:e]}))
            continue
        last_key = key
        if key not in found:
            found[key] = (score, item)
            order.append(key)
        elif score > found[key][0]:
            found[key] = (score, item)
    out = [found[k][1] for k in order]
    if not any(p.kind == "gazette" for p in out):
        # the 2008 template's statistics row "2.政府公报公开 条 7 7" (this year, cumulative): a
        # gazette with this year's count, read only when the numbers are printed apart
        m = _GAZETTE_ROW.search(text)
        if m and int(m.group(2)) > 0:
            out.append(Platform(name="政府公报", kind="gazette", evidence=m.group(0), count=int(m.group(2)),
                                span=Evidence(start=m.start(), end=m.end(), match="exact")))
    return out


SHORT_QUOTE = 12   # a platform clause shorter than this that opens a sentence takes the next clause


def _platform_quote(text: str, c0: int, c1: int, s: int, e: int, line_start: int) -> tuple[int, int]:
    """The clause naming the platform (with the previous clause when short), at most EVIDENCE_MAX long."""
    c0, c1 = _trim(text, c0, c1)
    if _cjk_len(text[c0:c1]) < EVIDENCE_MIN and c0 > line_start:
        p = max(text.rfind(ch, line_start, c0 - 1) for ch in "，,。；;！？：:\n")
        c0 = _trim(text, max(line_start, p + 1), c1)[0]
    elif _cjk_len(text[c0:c1]) < SHORT_QUOTE and text[c1:c1 + 1] in "，," and (
            not text[line_start:c0].strip() or text[line_start:c0].rstrip()[-1] in "。！？"):
        # a short sentence opening (开设“在线访谈”栏目，定期组织…参加在线访谈): the next clause says what it is
        ends = [j for j in (text.find(ch, c1 + 1) for ch in "，,。；;！？\n") if j >= 0]
        n1 = min(ends) if ends else len(text)
        if n1 - c0 <= EVIDENCE_MAX:
            c1 = n1
    # a list of channels (通过政府网站、政务新媒体、…《平潭时报》、电视广播等媒介进行公开) is quoted whole
    if c1 - c0 <= 40 or (c1 - c0 <= EVIDENCE_MAX and len(_TERM.findall(text, c0, c1)) >= 3):
        return c0, c1
    a = max(c0, s - 12)
    b = min(c1, max(e, s + 16) + 4, a + EVIDENCE_MAX)
    if b < c1:
        cut = max(text.rfind(ch, max(e, s + 8), b) for ch in "、,，")
        if cut > 0:
            b = cut
    return _trim(text, a, b)


def extract(text: str, sections: Sections | None) -> tuple[list[Finding], list[Finding], list[Platform]]:
    """(problems, improvements, platforms) of one report, every evidence a verbatim span."""
    problems, improvements = problems_improvements(text, sections)
    return problems, improvements, platforms(text, sections)
