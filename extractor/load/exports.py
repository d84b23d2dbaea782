"""Scraper exports (.csv, .jsonl): one Document per data row, each marked when it is no report.

A row's text is its content column; its title and the other columns become Document.title and
Document.fields. Scraped listings of 政府信息公开年报 also hold rows that are not annual reports
(网站工作年度报表, 法治政府建设 reports, empty pages): those are kept, with `not_report` saying why,
so a feed can account for every row.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import register
from . import text as text_loader

CONTENT_COLUMNS = ("内容", "content", "text", "body", "正文")
TITLE_COLUMNS = ("标题", "title")
# Column names of scraper exports → the field names the crawler headers use (normalise.py).
FIELD_NAMES = {"时间": "发布时间", "发布日期": "发布时间", "日期": "发布时间", "date": "发布时间",
               "published": "发布时间", "访问地址": "原文链接", "url": "原文链接", "link": "原文链接",
               "来源": "发布机构", "source": "发布机构", "一级类别": "栏目", "category": "栏目"}
MIN_CONTENT = 50  # characters of content below which a row holds no report text

_WEBSITE_REPORT = re.compile(r"网站工作年度报表|政府网站年度工作报表|网站工作年报|网站年度报表")
_RULE_OF_LAW = re.compile(r"法治政府建设")
_DISCLOSURE = re.compile(r"信息公开|政务公开")
# 年度报 also catches titles the scraper cut short (…工作年度报...); 本报告 is how reports name themselves.
_ANNUAL = re.compile(r"年度报告|年度报|年报|工作报告|统计表|本报告")
# The outline every generation of the report follows; three of its topics make a report even
# when no word says so (a 2013 report titled 政府信息公开总结, a 2019 one cut to 年度报...).
_OUTLINE = (re.compile(r"总体情况|概述|基本情况"), re.compile(r"主动公开"), re.compile(r"依申请公开|申请公开"),
            re.compile(r"行政复议|行政诉讼"), re.compile(r"存在的?主要问题|存在问题|改进措施|改进情况"))


def classify(title: str | None, content: str) -> str | None:
    """Why a scraped row is not a 政府信息公开 annual report, or None when it is one."""
    title = title or ""
    if _WEBSITE_REPORT.search(title) or _WEBSITE_REPORT.search(content[:300]):
        return "a 政府网站工作年度报表 (website statistics form), not a 政府信息公开 annual report"
    if _RULE_OF_LAW.search(title) or _RULE_OF_LAW.search(content[:200]):
        return "a 法治政府建设 report, not a 政府信息公开 annual report"
    body = re.sub(r"\s+", "", content)
    if len(body) < MIN_CONTENT:
        return f"no report text: content has {len(body)} characters"
    both = f"{title}\n{content}"
    outline = sum(bool(p.search(content)) for p in _OUTLINE)
    if not (_DISCLOSURE.search(both) and (_ANNUAL.search(both) or outline >= 3)):
        return ("does not read as a 政府信息公开 annual report (no 信息公开/政务公开 with "
                "年度报告/年报/工作报告/统计表, nor the report's outline)")
    return None


def _pick(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    for name in wanted:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _row_document(path: Path, sha: str, fmt: str, encoding: str | None, n: int,
                  record: dict, content_col: str, title_col: str | None) -> Document:
    content = "" if record.get(content_col) is None else str(record[content_col])
    # Old-Mac line breaks (\r alone) are common in scraped cells; every later stage reads \n.
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    title = (str(record.get(title_col) or "").strip() or None) if title_col else None
    fields = {}
    for key, value in record.items():
        if key in (content_col, title_col) or key is None or value in (None, ""):
            continue
        name = FIELD_NAMES.get(key.strip(), FIELD_NAMES.get(key.strip().lower(), key.strip()))
        fields.setdefault(name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return Document(text=content, path=str(path), sha256=sha, format=fmt, encoding=encoding, row=n,
                    title=title, fields=fields, not_report=classify(title, content))


@register(".csv")
def load_csv(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    if text_loader.looks_binary(data):
        raise LoadError("binary content, not CSV")
    text, encoding = text_loader.decode(data)
    csv.field_size_limit(1 << 30)  # a whole report in one cell exceeds the 128 KB default
    # The delimiter is read off the header line (csv.Sniffer guesses wrong on Chinese prose).
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",\t;", key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = reader.fieldnames or []
    content_col = _pick(columns, CONTENT_COLUMNS)
    if content_col is None:
        raise LoadError(f"no content column: expected one of {', '.join(CONTENT_COLUMNS)}; "
                        f"found {', '.join(columns) or 'no header'}")
    title_col = _pick(columns, TITLE_COLUMNS)
    try:
        for n, record in enumerate(reader, 1):
            yield _row_document(path, sha, "csv", encoding, n, record, content_col, title_col)
    except csv.Error as exc:
        raise LoadError(f"malformed CSV at data row {reader.line_num}: {exc}")


@register(".jsonl", ".ndjson")
def load_jsonl(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    if text_loader.looks_binary(data):
        raise LoadError("binary content, not JSON lines")
    text, encoding = text_loader.decode(data)
    records = []
    # split on \n only: str.splitlines would also break inside strings holding U+2028
    for line_no, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(f"line {line_no} is not JSON: {exc.msg}")
        if not isinstance(record, dict):
            raise LoadError(f"line {line_no} is not a JSON object")
        records.append(record)
    columns = list(dict.fromkeys(k for r in records for k in r))
    if _pick(columns, CONTENT_COLUMNS) is None:
        raise LoadError(f"no content field: expected one of {', '.join(CONTENT_COLUMNS)}; "
                        f"found {', '.join(columns) or 'no fields'}")
    for n, record in enumerate(records, 1):
        # JSON lines need not share keys: the content and title keys are chosen per record
        keys = list(record)
        content_key = _pick(keys, CONTENT_COLUMNS) or CONTENT_COLUMNS[0]
        yield _row_document(path, sha, "jsonl", encoding, n, record, content_key, _pick(keys, TITLE_COLUMNS))
