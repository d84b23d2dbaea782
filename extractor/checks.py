"""Checks: the template's identities over the tables, and section 一's numbers against them."""
from __future__ import annotations

import itertools
import re

from pydantic import TypeAdapter

from .models import Check, CheckItem, Sections
from .template import load

OVERVIEW_CHECK = "overview.numbers_match_tables"
SOFT_PROBLEMS_EMPTY = "problems_section.not_empty"

# Numbers section 一 quotes, and the table cell each must equal. (pattern, table path)
_QUOTED = (
    # (?:共|累计|全年)?(?:收到|受理|新收)… spelt as one alternation (the same matches, tried in the
    # same order), so that the regex engine can skip to the characters a match can start with.
    (re.compile(r"(?:共(?:收到|受理|新收)|累计(?:收到|受理|新收)|全年(?:收到|受理|新收)|收到|受理|新收)"
                r"[^，。；\d]{0,12}?申请(?:共|合计)?\s*(\d+)\s*(?:件|个|条)"),
     ("applications", "new_received", "total")),
    (re.compile(r"未(?:收到|受理)(?:任何)?(?:政府信息公开|依申请公开)[^，。；\d]{0,6}?(?:申请|事项)()"),
     ("applications", "new_received", "total")),
    (re.compile(r"主动公开(?:政府)?信息(?:共|合计)?\s*(\d+)\s*条"), ("legacy", "proactive_total", None)),
    (re.compile(r"行政复议(?:案件)?(?:共)?\s*(\d+)\s*(?:件|起)"), ("review_litigation", "review", "total")),
)


def _aggregate(items: list[CheckItem]) -> str:
    statuses = {i.status for i in items}
    if "fail" in statuses:
        return "fail"
    if not items or "not_assessable" in statuses:
        return "not_assessable"
    return "pass"


def _aggregate_statuses(statuses: set[str]) -> str:
    """_aggregate over plain item statuses (an empty set: no items)."""
    if "fail" in statuses:
        return "fail"
    if not statuses or "not_assessable" in statuses:
        return "not_assessable"
    return "pass"


# The checks are built as plain dicts and validated in one pass (pydantic-core): a model per
# item, a few dozen per report, cost more than the identities themselves.
CHECKS = TypeAdapter(dict[str, Check])


def identity_checks(tables: dict) -> dict[str, Check]:
    """Every identity of the template, per column or per row; tables as the record holds them."""
    out: dict[str, dict] = {}
    columns_of: dict[str, tuple[list[str], tuple[str, ...]]] = {}  # per table, found once
    for ident in load().identities:
        table = tables.get(ident.table)
        if table is None:
            out[ident.id] = {"status": "not_assessable", "items": [
                {"scope": "table", "status": "not_assessable", "message": f"no {ident.table} table"}]}
            continue
        rows = table["rows"] if "rows" in table else table
        items = []
        if ident.scope == "row":
            terms: dict[tuple, tuple] = {}  # a table's rows mostly share one set of columns
            for row, cols in rows.items():
                present = tuple(cols)
                if present not in terms:
                    terms[present] = ident.terms(present)
                status, left, right = ident.evaluate_terms(cols, *terms[present])
                items.append({"scope": row, "status": status, "left": left, "right": right})
        else:
            if ident.table not in columns_of:
                columns_of[ident.table] = (list(dict.fromkeys(itertools.chain.from_iterable(rows.values()))), tuple(rows))
            columns, row_keys = columns_of[ident.table]
            for col in columns:
                status, left, right = ident.evaluate_column(rows, row_keys, col)
                items.append({"scope": col, "status": status, "left": left, "right": right})
        out[ident.id] = {"status": _aggregate_statuses({i["status"] for i in items}), "items": items}
    return CHECKS.validate_python(out)


def overview_check(sections: Sections, tables: dict, legacy_keys: dict | None) -> Check:
    """Numbers quoted in 一、总体情况 against the tables (seed 001: 119 条 quoted, 111 in the table)."""
    items: list[CheckItem] = []
    text = sections.overview.text if sections.overview else ""
    for pattern, (table, row, col) in _QUOTED:
        m = pattern.search(text)
        if not m:
            continue
        quoted = int(m.group(1) or 0)  # 未收到…申请 quotes zero
        if table == "legacy":
            value = (legacy_keys or {}).get(row)
        else:
            t = tables.get(table)
            rows = (t or {}).get("rows", t) if t else None
            value = rows.get(row, {}).get(col) if rows else None
        if value is None:
            continue
        accepted = [value]
        if row == "new_received":
            # 受理 N 件 often counts last year's carried-over applications too.
            carried = rows.get("carried_over", {}).get(col)
            if carried is not None:
                accepted.append(value + carried)
        status = "pass" if any(abs(quoted - v) < 1e-6 for v in accepted) else "fail"
        items.append(CheckItem(scope=f"{table}.{row}" + (f".{col}" if col else ""), status=status,
                               left=quoted, right=value,
                               message=f"section 一 says '{m.group(0)}', the table says {value:g}"))
    return Check(status=_aggregate(items) if items else "not_assessable", items=items)


# Section 五 holding nothing but whitespace, punctuation and 无: matched from its start, so a
# real section stops the regex at its first character (removing them all scanned the whole text).
_ONLY_EMPTY_MARKS = re.compile(r"(?:[\s。.，,]|无)*")


def soft_checks(sections: Sections) -> dict[str, Check]:
    out = {}
    p = sections.problems_improvements
    if p is not None:
        empty = _ONLY_EMPTY_MARKS.fullmatch(p.text) is not None
        out[SOFT_PROBLEMS_EMPTY] = Check(status="fail" if empty else "pass", items=[CheckItem(
            scope="problems_improvements", status="fail" if empty else "pass",
            message="section 五 is empty or only 无" if empty else None)])
    return out
