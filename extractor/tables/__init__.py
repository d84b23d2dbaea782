"""Tables 二, 三 and 四 of the 2019/2021 formats, read from width-folded document text."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..template import Row, load
from .cells import quoted_numbers
from .reader import (TableRead, _fit_segment, confirm_with_quotes, read_by_lines, read_rows,
                     resolve_with_columns)

_ARTICLE_20 = re.compile(r"第\s*二十\s*条\s*第\s*[(（]\s*一\s*[)）]\s*项")
_REVIEW_START = re.compile(r"行\s*政\s*复\s*议")
_LITIGATION = re.compile(r"行\s*政\s*诉\s*讼")
_SPLIT_FORM = re.compile(r"逾期不补正|缴纳费用")  # （六）其他处理 printed as its three sub-rows
_REVIEW_END = re.compile(r"[五六][\s]*[、.．][^\n]{0,12}?(?:问题|改进|其他需要报告|其他事项)|存在的?主要问题")
# Table 三 ends where table 四 begins (its heading, sometimes misprinted, or its header cells).
_APPLICATIONS_END = re.compile(r"四\s*[、.．]\s*政府信息公开|行政复议[\s\S]{0,30}?行政诉讼|结果\s*维持")


@dataclass
class TablesRead:
    active_disclosure: TableRead | None = None
    applications: TableRead | None = None
    review_litigation: TableRead | None = None
    errors: list[str] = field(default_factory=list)


@lru_cache(maxsize=None)
def _identities(table: str, scope: str):
    return [i for i in load().identities if i.table == table and i.scope == scope]


@lru_cache(maxsize=None)
def _row_accept(table: str):
    ids = _identities(table, "row")

    def accept(row: Row, values: list) -> bool:
        mapping = {c.key: v for c, v in zip(row.columns, values)}
        return all(i.evaluate(mapping)[0] != "fail" for i in ids)
    return accept


def _columns_consistent(values: dict[str, dict]) -> bool:
    columns = {c for cols in values.values() for c in cols}
    row_keys = tuple(values)
    for ident in _identities("applications", "column"):
        for col in columns:
            if ident.evaluate_column(values, row_keys, col)[0] == "fail":
                return False
    return True


def read_applications(text: str, start: int = 0) -> TableRead | None:
    rows_all = load().table_rows("applications")
    first = rows_all[0].pattern.search(text, start)
    if not first:
        return None
    a = first.start()
    end_m = _APPLICATIONS_END.search(text, a)
    b = end_m.start() if end_m else min(len(text), a + 8000)
    split = _SPLIT_FORM.search(text, a, b) is not None
    rows = [r for r in rows_all if r.generation == "any" or r.generation == ("split" if split else "single")]
    result = read_rows(text, a, b, rows, _row_accept("applications"), "table 三")
    if result.found_rows < 4:
        return None  # a phrase in prose, not a table
    resolve_with_columns(result, _columns_consistent, "table 三")
    if result.errors:
        # Labels out of place (OCR): read line by line, and keep that reading only when it is
        # complete and every identity holds, so that a fallback never adds a doubtful number.
        by_lines = read_by_lines(text, a, b, rows, "table 三")
        if not by_lines.errors and _no_identity_fails("applications", by_lines.values()):
            by_lines.errors.append("table 三: labels out of place; rows read line by line, identities hold")
            result = by_lines
    result.span = (a, b)
    return result


def _no_identity_fails(table: str, values: dict[str, dict]) -> bool:
    from ..checks import identity_checks
    wrapped = {"rows": values} if table == "applications" else values
    checks = identity_checks({table: wrapped})
    return all(c.status != "fail" for k, c in checks.items() if k.startswith(table + "."))


def read_active_disclosure(text: str, generation: str, header_at: int | None,
                           stop: int | None) -> TableRead | None:
    if header_at is None or generation not in ("2021", "2019"):
        return None
    rows = [r for r in load().table_rows("active_disclosure", generation) if r.generation == generation]
    # The table starts at its first 第二十条 group heading when that precedes the column header.
    first_group = _ARTICLE_20.search(text, max(0, header_at - 1500), header_at)
    a = first_group.start() if first_group else header_at
    b = stop if stop is not None and stop > a else min(len(text), a + 3000)
    result = read_rows(text, a, b, rows, _row_accept("active_disclosure"), "table 二",
                       last_row_ends_table=True)
    if result.errors and not result.ambiguous:
        by_lines = read_by_lines(text, a, b, rows, "table 二")
        if not by_lines.errors:
            by_lines.errors.append("table 二: labels out of place; rows read line by line")
            result = by_lines
    if result.found_rows == 0:
        return None
    header_at = a
    result.span = (header_at, b)
    return result


def read_review_litigation(text: str, start: int) -> TableRead | None:
    m = _REVIEW_START.search(text, start)
    while m and not _LITIGATION.search(text, m.end(), m.end() + 400):
        m = _REVIEW_START.search(text, m.end())
    if not m:
        return None
    a = m.start()
    end_m = _REVIEW_END.search(text, a)
    b = end_m.start() if end_m else min(len(text), a + 2500)
    blocks = load().table_rows("review_litigation")
    result = TableRead()
    _fit_segment(text, a, b, blocks, _row_accept("review_litigation"), result, "table 四", take_first=True)
    if all(v is None for cols in result.cells.values() for v in cols.values()) and not result.ambiguous:
        if "found 0 of" in " ".join(result.errors):
            return None
    result.found_rows = len(blocks)
    result.span = (a, b)
    return result


def read_tables(text: str, template: str, header_at: int | None) -> TablesRead:
    """All tables of a 2019/2021 report; text must be width-folded."""
    out = TablesRead()
    if template not in ("2021", "2019"):
        return out
    start = header_at or 0
    out.applications = read_applications(text, start)
    apps_at = out.applications.span[0] if out.applications else None
    out.active_disclosure = read_active_disclosure(text, template, header_at, apps_at)
    after = out.applications.span[1] if out.applications else (apps_at or start)
    out.review_litigation = read_review_litigation(text, after)
    reads = [r for r in (out.active_disclosure, out.applications, out.review_litigation) if r and r.ambiguous]
    if reads:
        quoted = quoted_numbers(text)
        for r in reads:
            confirm_with_quotes(r, quoted)
    return out
