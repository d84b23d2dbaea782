"""Template detection: which generation of the national format the report's tables follow."""
from __future__ import annotations

import re

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
