"""The feed's JSON Schema: generated from `Record`, committed as docs/record.schema.json, and in
agreement with `validate_line` (what the index accepts is what the schema says)."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from extractor.feedschema import FeedLineError, record_json_schema, schema_text, validate_line
from extractor.models import (Applications, Check, CheckItem, Error, Evidence, Extraction, Finding,
                              LegacyRow, LegacyStatistics, Meta, Narrative, Platform, Provenance,
                              Record, Region, Section, Sections, Source, Tables)

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "record.schema.json"


def minimal() -> Record:
    return Record(id="0123456789abcdef", source=Source(path="a.txt", sha256="0" * 64, format="txt"),
                  extraction=Extraction(extractor_version="0.1.0"))


def full() -> Record:
    """Every part of the record filled, with values as the templates give them."""
    return Record(
        id="c67c284a41079efd-r3",
        source=Source(path="reports.csv", sha256="c" * 64, format="csv", encoding="gb18030", row=3,
                      title="益阳市民政局2024年度信息公开工作年度报告"),
        template="2021",
        meta=Meta(agency="益阳市民政局", year=2024, published="2025-01-26",
                  region=Region(province="湖南省", city="益阳市"), level="city"),
        sections=Sections(overview=Section(heading="一、总体情况", start=10, end=40, text="全年主动公开通知公告60条")),
        tables=Tables(
            active_disclosure={"regulations": {"issued": 0, "repealed": 0, "in_force": 0},
                               "fees": {"amount_wan_yuan": 25.1}},
            applications=Applications(rows={"new_received": {"natural_person": 1, "total": 1},
                                            "withheld_state_secret": {"natural_person": None}}),
            review_litigation={"review": {"upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0}}),
        legacy_statistics=LegacyStatistics(rows=[LegacyRow(indicator="收到申请数", unit="件", value=0)],
                                           keys={"applications_received": 0, "fees_wan_yuan": 0.0}),
        narrative=Narrative(method="rules", status="ok",
                            problems=[Finding(text="政策解释需加强", evidence="一是政策解释要加强",
                                              span=Evidence(start=5, end=14, match="exact"))],
                            platforms=[Platform(name="民政官方网站", kind="website", evidence="民政官方网站", count=3)]),
        checks={"applications.balance": Check(status="pass", items=[
            CheckItem(scope="total", status="pass", left=1, right=1)])},
        provenance={"tables.applications.rows.new_received.total": Provenance(start=100, end=101, text="1")},
        errors=[Error(stage="tables", message="row label missing; recovered by position")],
        extraction=Extraction(extractor_version="0.1.0", backend="rules", calls=1, seconds=0.5),
    )


def test_committed_schema_is_the_generated_one():
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == record_json_schema(), (
        "docs/record.schema.json is out of date with extractor/models.py; regenerate it with:\n"
        "    extractor schema > docs/record.schema.json")
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "docs/record.schema.json is not formatted as `extractor schema` prints it; regenerate it with:\n"
        "    extractor schema > docs/record.schema.json")


@pytest.mark.parametrize("record", [minimal(), full()], ids=["minimal", "full"])
def test_records_from_the_models_validate_against_the_schema(record):
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    line = record.model_dump_json()
    jsonschema.validate(json.loads(line), schema, cls=jsonschema.Draft202012Validator)
    assert validate_line(line, 1) == record


def _mutated(change) -> str:
    doc = json.loads(full().model_dump_json())
    change(doc)
    return json.dumps(doc, ensure_ascii=False)


BAD = {
    "year as text": (lambda d: d["meta"].__setitem__("year", "2024"), "meta.year"),
    "cell as text": (lambda d: d["tables"]["applications"]["rows"]["new_received"].__setitem__("total", "1"),
                     "tables.applications.rows.new_received.total"),
    "unknown level": (lambda d: d["meta"].__setitem__("level", "town"), "meta.level"),
    "unknown field": (lambda d: d.__setitem__("colour", "red"), "colour"),
    "missing source": (lambda d: d.pop("source"), "source"),
    "platform kind": (lambda d: d["narrative"]["platforms"][0].__setitem__("kind", "tv"),
                      "narrative.platforms[0].kind"),
    "is_report as 1": (lambda d: d.__setitem__("is_report", 1), "is_report"),
}


@pytest.mark.parametrize("name", BAD)
def test_validate_line_and_schema_reject_the_same_lines(name):
    change, field = BAD[name]
    line = _mutated(change)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(line), record_json_schema(), cls=jsonschema.Draft202012Validator)
    with pytest.raises(FeedLineError) as err:
        validate_line(line, 42)
    assert isinstance(err.value, ValueError)
    assert (err.value.lineno, err.value.field) == (42, field)
    assert str(err.value).startswith(f"line 42: field {field}: ")


def test_validate_line_names_the_line_of_broken_json():
    with pytest.raises(ValueError, match=r"^line 7: not valid JSON"):
        validate_line('{"id": "x", ', 7)
