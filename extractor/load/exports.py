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
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import register
from . import text as text_loader
from ..detect import detect_template, not_report_reason
from ..textutil import fold_width

CONTENT_COLUMNS = ("内容", "content", "text", "body", "正文")
TITLE_COLUMNS = ("标题", "title")
# Column names of scraper exports → the field names the crawler headers use (normalise.py).
FIELD_NAMES = {"时间": "发布时间", "发布日期": "发布时间", "日期": "发布时间", "date": "发布时间",
               "published": "发布时间", "访问地址": "原文链接", "url": "原文链接", "link": "原文链接",
               "来源": "发布机构", "source": "发布机构", "一级类别": "栏目", "category": "栏目"}


def classify(title: str | None, content: str) -> str | None:
    """Why a scraped row is not a 政府信息公开 annual report, or None when it is one: the one
    decision every document gets (detect.not_report_reason, phrases in template/report_shape.csv),
    made here on the row's text before its tables are read."""
    # a row holding a statistical table's headers has the report's tables (read later)
    has_tables = detect_template(fold_width(content))[0] != "none"
    return not_report_reason(title, content, has_tables=has_tables)


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
