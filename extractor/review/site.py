"""Write the review site: index.html + data.js for the whole feed, one page per record.

The site is static and self-contained (no server, no network): the pages open from disk, so
data reaches them as script files and inline JSON, never by fetch() (which file:// forbids).
Each record page embeds its feed line as it is and is drawn by assets/record.js, so writing
20,000 pages costs one JSON parse and one file write per record.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..models import SECTION_KEYS
from ..template import load as load_template
from ..audit import extraction_problems, source_problems
from .panel import COPIED, Panel, load_panel
from .source import source_segments

ASSETS = Path(__file__).parent / "assets"
PAGES = "r"
INDEX_FIELDS = ("page", "file", "agency", "year", "template", "province", "tables", "failed",
                "errors", "findings", "copied", "source_problems", "extraction_problems")
_QUOTE = re.compile(r"'([^']{2,80})'")


@dataclass
class SiteSummary:
    records: int = 0
    pages: int = 0
    bad_lines: list[str] = field(default_factory=list)
    findings: int = 0
    settled_cells: int = 0

    def lines(self) -> list[str]:
        out = [f"records: {self.records}  pages: {self.pages}  bad lines: {len(self.bad_lines)}"]
        if self.findings or self.settled_cells:
            out.append(f"panel: {self.findings} findings, {self.settled_cells} cells not plainly read")
        out += self.bad_lines[:20]
        return out


def _script_json(obj_text: str) -> str:
    """JSON text safe inside <script>: '<' only occurs inside JSON strings, where \\u003c is the same."""
    return obj_text.replace("<", "\\u003c")


def agency_group(record: dict) -> str | None:
    meta = record.get("meta") or {}
    return meta.get("agency_key") or meta.get("agency") or None


def tables_found(record: dict) -> list[str]:
    tables = record.get("tables") or {}
    found = [k for k in ("active_disclosure", "applications", "review_litigation") if tables.get(k)]
    if record.get("legacy_statistics"):
        found.append("legacy_statistics")
    return found


def failed_checks(record: dict) -> list[str]:
    return [name for name, c in (record.get("checks") or {}).items() if c.get("status") == "fail"]


def scope_path(scope: str) -> str | None:
    """The provenance key a check item's scope names (overview check: legacy.proactive_total …)."""
    parts = scope.split(".")
    if parts[0] == "legacy" and len(parts) == 2:
        return f"legacy_statistics.keys.{parts[1]}"
    if parts[0] == "applications" and len(parts) == 3:
        return f"tables.applications.rows.{parts[1]}.{parts[2]}"
    if parts[0] in ("active_disclosure", "review_litigation") and len(parts) == 3:
        return f"tables.{scope}"
    return None


def check_spans(record: dict, segments: list[dict]) -> dict[str, list[int]]:
    """Where a check item's quoted words ('主动公开政府信息119条') stand in the source text.

    Keyed "check/item index"; the overview check quotes section 一, so that section is searched first."""
    out = {}
    order = sorted(segments, key=lambda s: s["key"] != "overview")
    for name, check in (record.get("checks") or {}).items():
        for i, item in enumerate(check.get("items") or []):
            m = _QUOTE.search(item.get("message") or "")
            if not m:
                continue
            for seg in order:
                at = seg["text"].find(m.group(1))
                if at >= 0:
                    a = seg["body_start"] + at
                    out[f"{name}/{i}"] = [a, a + len(m.group(1))]
                    break
    return out


def template_js() -> str:
    """The template rows and columns as the pages draw them (from extractor/template/*.csv)."""
    t = load_template()
    rows = [{"table": r.table, "generation": r.generation, "key": r.key, "kind": r.kind, "enum": r.enum,
             "printed": r.printed, "columns": [{"key": c.key, "printed": c.printed} for c in r.columns]}
            for r in t.rows]
    legacy = [{"key": k, "printed": printed} for k, _, printed in t.legacy_keys]
    data = {"rows": rows, "legacy_keys": legacy, "sections": list(SECTION_KEYS)}
    return "window.REVIEW_TEMPLATE=" + _script_json(json.dumps(data, ensure_ascii=False)) + ";\n"


def _page_name(record_id: str, used: set[str]) -> str:
    base = re.sub(r"[^0-9A-Za-z_-]", "_", record_id or "record")[:64] or "record"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}-{n}"
    used.add(name)
    return name


def _record_page(record: dict, raw: str, page: str, extra: dict) -> str:
    meta = record.get("meta") or {}
    title = " ".join(str(x) for x in (meta.get("agency") or Path(record["source"]["path"]).name,
                                      meta.get("year") or "") if x)
    data = '{"record":' + raw + ',"extra":' + json.dumps(extra, ensure_ascii=False) + "}"
    return (
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)} · review</title>"
        "<link rel=\"stylesheet\" href=\"../assets/review.css\"></head><body class=\"record\">"
        f"<header class=\"top\"><a href=\"../index.html\">← all reports</a>"
        f"<h1>{html.escape(title)}</h1></header>"
        "<main id=\"app\"><p>Loading… (this page needs JavaScript)</p></main>"
        f"<script id=\"data\" type=\"application/json\">{_script_json(data)}</script>"
        "<script src=\"../assets/template.js\"></script><script src=\"../agencies.js\"></script>"
        "<script src=\"../assets/record.js\"></script></body></html>\n")


def _index_page(count: int, has_panel: bool) -> str:
    return (
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Review · 政府信息公开工作年度报告</title>"
        "<link rel=\"stylesheet\" href=\"assets/review.css\"></head>"
        f"<body class=\"index\" data-panel=\"{'1' if has_panel else '0'}\">"
        f"<header class=\"top\"><h1>Review: {count} records</h1></header>"
        "<main id=\"app\"><p>Loading… (this page needs JavaScript)</p></main>"
        "<script src=\"data.js\"></script><script src=\"assets/index.js\"></script></body></html>\n")


def build_site(feed: Path, out: Path, panel_dir: Path | None = None) -> SiteSummary:
    feed, out = Path(feed), Path(out)
    panel = load_panel(panel_dir) if panel_dir else Panel()
    summary = SiteSummary(findings=panel.findings, settled_cells=panel.cells)
    pages_dir = out / PAGES
    pages_dir.mkdir(parents=True, exist_ok=True)
    for stale in pages_dir.glob("*.html"):  # a re-run over a smaller feed leaves no orphan pages
        stale.unlink()
    (out / "assets").mkdir(exist_ok=True)
    for asset in ("review.css", "index.js", "record.js"):
        shutil.copyfile(ASSETS / asset, out / "assets" / asset)
    (out / "assets" / "template.js").write_text(template_js(), encoding="utf-8")

    rows: list[list] = []
    groups: dict[str, list[list]] = {}
    used: set[str] = set()
    with open(feed, encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
                source = record["source"]
                path = source["path"]
            except (ValueError, KeyError, TypeError) as exc:
                summary.bad_lines.append(f"{feed}:{n}: not a record ({exc}); skipped")
                continue
            summary.records += 1
            page = _page_name(str(record.get("id") or n), used)
            meta = record.get("meta") or {}
            findings = panel.findings_by_file.get(path, [])
            group = agency_group(record)
            segments = source_segments(record)
            extra = {
                "page": page, "group": group,
                "segments": [{k: s[k] for k in ("key", "body_start", "confirmed")} for s in segments],
                "check_spans": check_spans(record, segments),
                "scope_paths": {name: [scope_path(i.get("scope") or "") for i in c.get("items") or []]
                                for name, c in (record.get("checks") or {}).items()},
                "findings": findings,
                "cells": panel.cells_by_record.get(record.get("id") or "", {}),
                "panel": panel_dir is not None,
            }
            (pages_dir / f"{page}.html").write_text(_record_page(record, line, page, extra), encoding="utf-8")
            summary.pages += 1
            year = meta.get("year")
            rows.append([page, path, meta.get("agency") or "", year, record.get("template") or "none",
                         (meta.get("region") or {}).get("province") or "", len(tables_found(record)),
                         " ".join(failed_checks(record)), len(record.get("errors") or []), len(findings),
                         1 if any(f["kind"] == COPIED for f in findings) else 0,
                         source_problems(record), extraction_problems(record)])
            if group:
                groups.setdefault(group, []).append([page, year, path])

    index = {"fields": INDEX_FIELDS, "rows": rows}
    (out / "data.js").write_text(
        "window.REVIEW_INDEX=" + _script_json(json.dumps(index, ensure_ascii=False, separators=(",", ":"))) + ";\n",
        encoding="utf-8")
    siblings = {k: sorted(v, key=lambda r: (r[1] is None, r[1] or 0)) for k, v in groups.items() if len(v) > 1}
    (out / "agencies.js").write_text(
        "window.REVIEW_AGENCIES=" + _script_json(json.dumps(siblings, ensure_ascii=False, separators=(",", ":"))) + ";\n",
        encoding="utf-8")
    (out / "index.html").write_text(_index_page(summary.records, panel_dir is not None), encoding="utf-8")
    return summary


def cmd_review(args) -> int:
    try:
        summary = build_site(Path(args.feed), Path(args.output), Path(args.panel) if args.panel else None)
    except (OSError, ValueError) as exc:
        print(f"extractor review: {exc}", file=sys.stderr)
        return 2
    for line in summary.lines():
        print(line, file=sys.stderr)
    print(f"site: {Path(args.output) / 'index.html'}", file=sys.stderr)
    return 1 if summary.bad_lines else 0
