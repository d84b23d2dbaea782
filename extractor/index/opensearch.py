"""The feed as an OpenSearch (or Elasticsearch) index: `bulk.ndjson` plus `mapping.json`.

One declarative field list drives both files, so the mapping and the documents cannot drift
apart; each field names the record-schema path it comes from, and `schema_mismatches` checks
every mapping type against the JSON Schema of `Record` (tests/test_index.py runs it). The
mapping is `dynamic: strict`: OpenSearch itself refuses a document with an unmapped field.
Chinese text fields use a Chinese analyzer (smartcn by default); see docs/search.md.
"""
from __future__ import annotations

import datetime as _dt
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..feedschema import FeedLineError, record_json_schema, validate_line
from ..models import SCHEMA_VERSION, SECTION_KEYS
from .sqlite_index import _get, facets

# analyzer name → (index analyzer, search analyzer, plugin that provides it)
ANALYZERS = {
    "smartcn": ("smartcn", "smartcn", "analysis-smartcn"),
    "ik_max_word": ("ik_max_word", "ik_smart", "analysis-ik (third party)"),
    "cjk": ("cjk", "cjk", None),  # built in: CJK bigrams, like the SQLite index; no plugin
}
DEFAULT_ANALYZER = "smartcn"
INT_MAX = 2**31 - 1  # OpenSearch `integer` is 32-bit


@dataclass(frozen=True)
class Field:
    name: str
    type: str                    # keyword, text, integer, float, date, boolean, object
    source: Optional[str]        # record-schema path: a.b for properties, * for map values,
                                 # [] for list items; None for a value derived from several
    get: Callable[[dict, dict], Any]  # (record dict, facets) → value
    properties: tuple["Field", ...] = ()
    keyword_subfield: bool = False  # text with a .raw keyword for exact filters and aggregations


def _count(value):
    """A count as an integer: integral numbers pass, anything else (a misread 2.5) is dropped
    from the document (it stays visible in `record`)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if abs(value) <= INT_MAX else None
    if isinstance(value, float) and value.is_integer() and abs(value) <= INT_MAX:
        return int(value)
    return None


def _date(value):
    """A date only when it is a real YYYY-MM-DD date; the mapping's date type rejects others."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return None
    return value


def _items(key: str, fields: tuple[str, ...]):
    def get(doc, _):
        return [{f: item.get(f) for f in fields} for item in _get(doc, "narrative", key) or []] or None
    return get


def _section(key: str):
    def get(doc, _):
        sec = _get(doc, "sections", key)
        return ((sec.get("heading") or "") + "\n" + (sec.get("text") or "")) if sec else None
    return get


def _facet(name: str, convert=lambda v: v):
    return lambda doc, fc: convert(fc[name])


def _split(name: str):
    return lambda doc, fc: fc[name].split(",") if fc[name] else None


FIELDS: tuple[Field, ...] = (
    Field("id", "keyword", "id", lambda d, fc: d["id"]),
    Field("agency", "text", "meta.agency", _facet("agency"), keyword_subfield=True),
    Field("agency_key", "keyword", "meta.agency_key", _facet("agency_key")),
    Field("province", "keyword", "meta.region.province", _facet("province")),
    Field("city", "keyword", "meta.region.city", _facet("city")),
    Field("county", "keyword", "meta.region.county", _facet("county")),
    Field("level", "keyword", "meta.level", _facet("level")),
    Field("year", "integer", "meta.year", _facet("year")),
    Field("published", "date", "meta.published", _facet("published", _date)),
    Field("template", "keyword", "template", _facet("template")),
    Field("is_report", "boolean", "is_report", _facet("is_report")),
    Field("source_path", "keyword", "source.path", _facet("source_path")),
    Field("source_sha256", "keyword", "source.sha256", _facet("source_sha256")),
    Field("source_format", "keyword", "source.format", lambda d, fc: _get(d, "source", "format")),
    Field("applications_received", "integer", "tables.applications.rows.*.*", _facet("applications_received", _count)),
    Field("applications_granted", "integer", "tables.applications.rows.*.*", _facet("applications_granted", _count)),
    Field("withheld_total", "integer", "tables.applications.rows.*.*", _facet("withheld_total", _count)),
    Field("review_total", "integer", "tables.review_litigation.*.*", _facet("review_total", _count)),
    Field("litigation_total", "integer", "tables.review_litigation.*.*", _facet("litigation_total", _count)),
    Field("problems_count", "integer", None, _facet("problems_count")),
    Field("improvements_count", "integer", None, _facet("improvements_count")),
    Field("platform_kinds", "keyword", "narrative.platforms[].kind", _split("platform_kinds")),
    Field("checks_failed", "integer", None, _facet("checks_failed")),
    Field("checks_failed_ids", "keyword", None, _split("checks_failed_ids")),
    Field("errors_count", "integer", None, _facet("errors_count")),
    Field("narrative_status", "keyword", "narrative.status", lambda d, fc: _get(d, "narrative", "status")),
    Field("problems", "object", "narrative.problems[]", _items("problems", ("text", "evidence")), (
        Field("text", "text", "narrative.problems[].text", None),
        Field("evidence", "text", "narrative.problems[].evidence", None),
    )),
    Field("improvements", "object", "narrative.improvements[]", _items("improvements", ("text", "evidence")), (
        Field("text", "text", "narrative.improvements[].text", None),
        Field("evidence", "text", "narrative.improvements[].evidence", None),
    )),
    Field("platforms", "object", "narrative.platforms[]", _items("platforms", ("name", "kind", "count", "evidence")), (
        Field("name", "text", "narrative.platforms[].name", None, keyword_subfield=True),
        Field("kind", "keyword", "narrative.platforms[].kind", None),
        Field("count", "integer", "narrative.platforms[].count", None),
        Field("evidence", "text", "narrative.platforms[].evidence", None),
    )),
    Field("sections", "object", "sections",
          lambda d, fc: {k: v for k in SECTION_KEYS if (v := _section(k)(d, fc))} or None,
          tuple(Field(k, "text", f"sections.{k}.text", None) for k in SECTION_KEYS)),
    Field("extractor_version", "keyword", "extraction.extractor_version",
          lambda d, fc: _get(d, "extraction", "extractor_version")),
    Field("model", "keyword", "extraction.model", lambda d, fc: _get(d, "extraction", "model")),
    # The whole record, kept in _source for retrieval but not indexed (its maps have free keys).
    Field("record", "object", "", lambda d, fc: d),
)


def _mapping_of(f: Field, analyzer: str) -> dict:
    if f.name == "record":
        return {"type": "object", "enabled": False}
    if f.type == "object":
        return {"type": "object", "properties": {p.name: _mapping_of(p, analyzer) for p in f.properties}}
    if f.type == "text":
        index_an, search_an, _ = ANALYZERS[analyzer]
        m = {"type": "text", "analyzer": index_an}
        if search_an != index_an:
            m["search_analyzer"] = search_an
        if f.keyword_subfield:
            m["fields"] = {"raw": {"type": "keyword", "ignore_above": 256}}
        return m
    if f.type == "date":
        return {"type": "date", "format": "yyyy-MM-dd"}
    return {"type": f.type}


def mapping(analyzer: str = DEFAULT_ANALYZER) -> dict:
    """The index body for `PUT /reports`: settings and a strict mapping of every exported field."""
    if analyzer not in ANALYZERS:
        raise ValueError(f"unknown analyzer {analyzer!r}: choose one of {', '.join(ANALYZERS)}")
    return {
        "settings": {"number_of_shards": 1},
        "mappings": {
            "dynamic": "strict",
            "_meta": {"generated_by": "extractor export --to opensearch", "schema_version": SCHEMA_VERSION,
                      "analyzer": analyzer, "analyzer_plugin": ANALYZERS[analyzer][2]},
            "properties": {f.name: _mapping_of(f, analyzer) for f in FIELDS},
        },
    }


def document(doc: dict) -> dict:
    """The OpenSearch document of one record (a `Record.model_dump(mode="json")` dict); null
    values are left out, as OpenSearch treats a missing field and null alike."""
    fc = facets(doc)
    out = {}
    for f in FIELDS:
        value = f.get(doc, fc)
        if value is not None:
            out[f.name] = value
    return out


# ---------------------------------------------------------------------------------------------
# Checks: documents against the mapping, the mapping against the record schema.


def _type_ok(value, mtype: str) -> bool:
    if mtype in ("keyword", "text"):
        return isinstance(value, str)
    if mtype == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= INT_MAX
    if mtype in ("float", "double", "long"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if mtype == "boolean":
        return isinstance(value, bool)
    if mtype == "date":
        return _date(value) is not None
    if mtype == "object":
        return isinstance(value, dict)
    return False


def document_problems(doc: dict, properties: dict, prefix: str = "") -> list[str]:
    """Why `doc` would not index under `properties` (a mapping's properties): an unmapped field
    (the mapping is strict) or a value of the wrong type. Empty when it fits."""
    problems = []
    for key, value in doc.items():
        path = prefix + key
        spec = properties.get(key)
        if spec is None:
            problems.append(f"{path}: not in the mapping")
            continue
        if spec.get("enabled") is False:
            continue  # stored, not indexed: any JSON is accepted
        mtype = spec.get("type", "object")
        for v in value if isinstance(value, list) else [value]:
            if v is None:
                continue
            if not _type_ok(v, mtype):
                problems.append(f"{path}: {json.dumps(v, ensure_ascii=False)[:40]} is not a valid {mtype}")
            elif mtype == "object":
                problems += document_problems(v, spec.get("properties", {}), path + ".")
    return problems


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _alternatives(schema: dict, node: dict) -> list[dict]:
    node = _resolve(schema, node)
    if "anyOf" in node:
        return [a for alt in node["anyOf"] for a in _alternatives(schema, alt)]
    return [node]


def _json_types(schema: dict, node: dict) -> set[str]:
    out = set()
    for alt in _alternatives(schema, node):
        t = alt.get("type")
        if isinstance(t, list):
            out |= set(t)
        elif t:
            out.add(t)
        elif "enum" in alt or "const" in alt:
            vals = alt.get("enum", [alt.get("const")])
            out |= {"string" if isinstance(v, str) else "null" if v is None else "number" for v in vals}
    return out


def _schema_at(schema: dict, path: str) -> list[dict]:
    """The schema nodes at a field path (several where a union branches), [] when none exists."""
    nodes = [schema]
    for part in [p for p in path.replace("[]", ".[]").split(".") if p]:
        nxt = []
        for node in nodes:
            for alt in _alternatives(schema, node):
                if part == "[]" and alt.get("type") == "array":
                    nxt.append(alt["items"])
                elif part == "*" and isinstance(alt.get("additionalProperties"), dict):
                    nxt.append(alt["additionalProperties"])
                elif part in alt.get("properties", {}):
                    nxt.append(alt["properties"][part])
        nodes = nxt
    return nodes


_COMPATIBLE = {  # mapping type → JSON Schema types it can hold (null is always allowed)
    "keyword": {"string"}, "text": {"string"}, "date": {"string"}, "boolean": {"boolean"},
    "integer": {"integer"}, "long": {"integer"}, "float": {"integer", "number"},
    "double": {"integer", "number"}, "object": {"object"},
}


def schema_mismatches(analyzer: str = DEFAULT_ANALYZER, schema: Optional[dict] = None) -> list[str]:
    """Mapping fields whose type cannot hold what the record schema says their source is.

    `integer` is accepted for a Cell (integer or number): the exported counts are whole numbers
    by definition, and `_count` leaves a fractional misreading out of the document."""
    schema = schema or record_json_schema()
    out = []

    def walk(fields, prefix=""):
        for f in fields:
            if f.source is None:
                continue
            nodes = _schema_at(schema, f.source)
            if not nodes:
                out.append(f"{prefix}{f.name}: source {f.source!r} is not in the record schema")
                continue
            types = set().union(*(_json_types(schema, n) for n in nodes)) - {"null"}
            if not types & _COMPATIBLE[f.type]:
                out.append(f"{prefix}{f.name}: mapped {f.type}, schema says {sorted(types)} at {f.source}")
            walk(f.properties, prefix + f.name + ".")

    walk(FIELDS)
    return out


# ---------------------------------------------------------------------------------------------
# Export


@dataclass
class ExportStats:
    bulk_path: str
    mapping_path: str
    documents: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def export_opensearch(feed_path, out_dir, index: str = "reports", analyzer: str = DEFAULT_ANALYZER) -> ExportStats:
    """Write `out_dir/bulk.ndjson` (an index action and a document per valid feed line) and
    `out_dir/mapping.json`. Invalid lines are skipped and listed with their line numbers."""
    t0 = time.perf_counter()
    body = mapping(analyzer)
    out = Path(out_dir)
    with open(feed_path, encoding="utf-8-sig") as fh:  # open first: no empty output for a missing feed
        out.mkdir(parents=True, exist_ok=True)
        stats = ExportStats(bulk_path=str(out / "bulk.ndjson"), mapping_path=str(out / "mapping.json"))
        with open(out / "bulk.ndjson", "w", encoding="utf-8", newline="\n") as bulk:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = validate_line(line, lineno)
                except FeedLineError as exc:
                    stats.rejected.append((lineno, str(exc)))
                    continue
                doc = document(record.model_dump(mode="json"))
                problems = document_problems(doc, body["mappings"]["properties"])
                if problems:  # a bug here, not in the feed: refuse to write what OpenSearch rejects
                    raise AssertionError(f"line {lineno}: export does not fit its mapping: {problems}")
                bulk.write(json.dumps({"index": {"_index": index, "_id": doc["id"]}}) + "\n")
                bulk.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
                stats.documents += 1
    (out / "mapping.json").write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    stats.seconds = round(time.perf_counter() - t0, 3)
    return stats
