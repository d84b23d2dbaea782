"""Template detection: which generation of the national format the report's tables follow."""
from __future__ import annotations

import re
from functools import lru_cache

from .template import load

_APPLICATIONS = re.compile(r"本年新收|本[\s]*年[\s]*新[\s]*收")


def detect_template(text: str) -> tuple[str, int | None]:
    """(template, offset of the evidence) from the table headers, never from the year.

    2021 and 2019 differ in table 二's columns; legacy reports carry a 统计表; a report whose
    table 二 was lost but whose table 三 survived is told apart by table 三's （六） rows.
    """
    hits = []
    for template, pattern in load().detection:
        m = pattern.search(text)
        if m:
            hits.append((m.start(), template))
    modern = [h for h in hits if h[1] in ("2021", "2019")]
    if modern:
        pos, template = min(modern)
        return template, pos
    m = _APPLICATIONS.search(text)
    if m and re.search(r"结转下年度", text[m.start():]):
        split = re.search(r"逾期不补正|缴纳费用", text[m.start():m.start() + 6000])
        return ("2021" if split else "2019"), m.start()
    if hits:
        pos, template = min(hits)
        return template, pos
    return "none", None


# ---------------------------------------------------------------------------------------------
# Is this document an annual report at all? A report has the shape of one: its title (ending in
# 政府信息公开工作年度报告 or a variant), its opening naming itself (本报告…, 现公布…), its
# sections (three or more of the outline's headings), or its tables (read with numbers). Chinese text about the reports — a 通知 asking for them, a
# policy, a README, a page of site navigation — has none of these, or announces another kind of
# document in its title. The phrases are data: template/report_shape.csv.

MIN_REPORT_TEXT = 50  # characters, whitespace aside, below which there is no report text
_TITLE_LINES = 3  # a title printed over up to three lines (2024 年上海市科委政府信息公开工作 / 年度报告)
_TITLE_MAX = 80
_TRAILING = re.compile(r"[\s.。…·_\-—:：]+$|[（(【\[][^（()）【】\[\]]{0,16}[)）】\]]\s*$")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_SITE_SUFFIX = re.compile(r"\s*(?:[_｜|]| - | — ).*$")


@lru_cache(maxsize=None)
def _shape(kind: str) -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((p, reason) for k, p, reason in load().report_shape if k == kind)


def _clean_title(title: str) -> str:
    """A title without its site suffix (…年度报告_平桥区人民政府), markdown marks, a trailing
    bracket (（2022年度）) or a cut-off mark (…年度报...)."""
    t = _SITE_SUFFIX.sub("", title.strip().lstrip("#* \u3000"))
    for _ in range(3):
        t2 = _TRAILING.sub("", t)
        if t2 == t:
            break
        t = t2
    return t


@lru_cache(maxsize=1)
def _ending_type() -> re.Pattern:
    """Whether any document-type pattern has a match ending where the text ends: no such match,
    then none of finditer's matches ends there either."""
    return re.compile("(?:" + "|".join(p.pattern for p, _ in _shape("document_type")) + r")\Z")


def _ends_with(text: str, pattern: re.Pattern) -> bool:
    return any(m.end() == len(text) for m in pattern.finditer(text))


def _first_lines(text: str, within: int, wanted: int) -> list[str]:
    """The first `wanted` non-blank lines among the first `within` lines, stripped (what
    `[l.strip() for l in text.split("\\n", within)[:within] if l.strip()][:wanted]` gives, without
    splitting, or copying, the rest of the text)."""
    out: list[str] = []
    pos = 0
    for _ in range(within):
        stop = text.find("\n", pos)
        line = (text[pos:] if stop < 0 else text[pos:stop]).strip()
        if line:
            out.append(line)
            if len(out) == wanted:
                break
        if stop < 0:
            break
        pos = stop + 1
    return out


def title_candidates(title: str | None, text: str) -> list[str]:
    """The document's title as given, and its first lines joined one, two and three at a time."""
    out = [_clean_title(title)] if title and title.strip() else []
    lines = _first_lines(text, 40, _TITLE_LINES)
    for k in range(1, len(lines) + 1):
        joined = "".join(lines[:k])
        if len(joined) <= _TITLE_MAX:
            out.append(_clean_title(joined))
    return [t for t in out if t]


def _is_title_of_report(candidate: str) -> bool:
    if any(p.search(candidate) for p, _ in _shape("not_title")):
        return False  # a line of site navigation, not a title
    # the phrase after an agency or a year: 政府信息公开年报 alone names a site's column
    return any(m.end() == len(candidate) and m.start() > 0
               for p, _ in _shape("title") for m in p.finditer(candidate))


def _lists_reports(text: str) -> bool:
    """A page listing reports (a site's column of them): lines naming reports of three or more
    different years. A report's own page repeats its one title (crawler headers, breadcrumb)."""
    patterns = [p for p, _ in _shape("title")]
    years = set()
    for line in text.split("\n"):
        for p in patterns:
            for m in p.finditer(line):
                year = _YEAR.findall(line[max(0, m.start() - 30):m.start()])
                if year:
                    years.add(year[-1])
    return len(years) >= 3


def count_sections(sections) -> int:
    return sum(getattr(sections, key) is not None for key in type(sections).model_fields)


def not_report_reason(title: str | None, text: str, sections_found: int | None = None,
                      has_tables: bool = False) -> str | None:
    """Why a document is not a 政府信息公开 annual report, or None when it has a report's shape.

    `sections_found`: how many of the outline's six section headings the text has (computed
    here when not given); `has_tables`: whether a statistical table was read with numbers.
    """
    title = title or ""
    opening = text[:300]
    for pattern, reason in _shape("other_report"):
        if pattern.search(title) or pattern.search(opening):
            return reason
    candidates = title_candidates(title, text)
    first = candidates[0] if candidates else ""
    transmits = any(p.search(first) for p, _ in _shape("transmits"))
    # Only when some document-type word ends the title is each asked (in order, for its reason).
    types = _shape("document_type") if first and _ending_type().search(first) else ()
    for pattern, reason in types:
        if _ends_with(first, pattern) and not (transmits and has_tables):
            # 关于印发…年度报告的通知 carrying the report's own tables is the report
            return f"{reason}: its title is {first[:60]}"
    # Characters other than whitespace: str.split() and the regex \s both take Unicode's
    # whitespace (Py_UNICODE_ISSPACE). The opening nearly always holds enough of them; only a
    # short or blank text is counted whole.
    if sum(map(len, opening.split())) < MIN_REPORT_TEXT:
        body_chars = sum(map(len, text.split()))
        if body_chars < MIN_REPORT_TEXT:
            return f"no report text: content has {body_chars} characters"
    if has_tables:
        return None
    if _lists_reports(text):
        return "a list of annual reports (a site's navigation or column page)"
    if any(_is_title_of_report(c) for c in candidates):
        return None
    # a report announcing itself in its opening: 本报告根据《条例》…, 现公布本机关…年度报告
    if any(p.search(opening) for p, _ in _shape("self_reference")) and \
            any(p.search(opening) for p, _ in _shape("disclosure")):
        return None
    if sections_found is None:
        from .sections import split_sections
        sections_found = count_sections(split_sections(text))
    if sections_found >= 3:
        return None
    return ("does not have the shape of a 政府信息公开 annual report: no report title "
            "(…政府信息公开工作年度报告), fewer than three of its section headings, no statistical table")
