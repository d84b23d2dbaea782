"""The record: the feed contract of docs/templates.md, as pydantic models.

Everything a user reads in the JSONL feed is declared here; `extractor schema` prints the JSON
Schema generated from `Record`, and every record written is validated against it.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import NotRequired, TypedDict  # pydantic needs typing_extensions' TypedDict on 3.11

SCHEMA_VERSION = "1.0"

Template = Literal["2021", "2019", "legacy", "none"]
Level = Literal["province", "city", "county", "district", "unknown"]
CheckStatus = Literal["pass", "fail", "not_assessable"]
# Whose fault a failed check is: the report's own printed numbers or text (`source`), or a
# reading in doubt (`extraction`: a digit-run cut, an OCR cell, a row placed by position).
Responsibility = Literal["source", "extraction"]
PlatformKind = Literal[
    "website", "wechat", "weibo", "short_video", "app", "gazette",
    "bulletin_board", "hotline", "press_conference", "other",
]
# What a problem the report admits is about (docs/narrative.md#typed-fields).
ProblemArea = Literal["主动公开", "依申请公开", "政策解读", "平台建设", "队伍建设", "制度机制", "监督考核", "其他"]
PROBLEM_AREAS: tuple[str, ...] = ProblemArea.__args__
SECTION_KEYS = ("overview", "active_disclosure", "applications", "review_litigation",
                "problems_improvements", "other")

# A cell: an integer, a decimal for money, or null (blank, "/", "—", not found). Never 0 for blank.
Cell = Optional[Union[int, float]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(Strict):
    path: str
    sha256: str
    format: str = Field(description="txt, md, html, docx, pdf, image, csv, jsonl")
    encoding: Optional[str] = Field(None, description="detected text encoding; null for binary formats")
    row: Optional[int] = Field(None, description="1-based data row for scraper exports (CSV/JSONL)")
    title: Optional[str] = None


class Region(Strict):
    province: Optional[str] = None
    city: Optional[str] = None
    county: Optional[str] = None


class Meta(Strict):
    agency: Optional[str] = None
    agency_key: Optional[str] = Field(
        None, description="one value for one agency in every year and spelling: CODE:NAME, the six-digit "
        "division code of its place (000000 when none is known) and its canonical name (350128:平潭综合实验区)")
    year: Optional[int] = Field(None, description="the year reported on, not the year published")
    published: Optional[str] = Field(None, description="YYYY-MM-DD where printed")
    region: Region = Field(default_factory=Region)
    level: Level = "unknown"


class Section(Strict):
    heading: str
    start: int = Field(description="character offset of the heading in the document text")
    end: int
    text: str


class Sections(Strict):
    overview: Optional[Section] = None
    active_disclosure: Optional[Section] = None
    applications: Optional[Section] = None
    review_litigation: Optional[Section] = None
    problems_improvements: Optional[Section] = None
    other: Optional[Section] = None


class Applications(Strict):
    rows: dict[str, dict[str, Cell]]


class Tables(Strict):
    active_disclosure: Optional[dict[str, dict[str, Cell]]] = None
    applications: Optional[Applications] = None
    review_litigation: Optional[dict[str, dict[str, Cell]]] = None


class LegacyRow(Strict):
    indicator: str
    unit: Optional[str] = None
    value: Cell = None


class LegacyStatistics(Strict):
    rows: list[LegacyRow] = Field(default_factory=list)
    keys: dict[str, Cell] = Field(default_factory=dict)


class Evidence(Strict):
    """Where a quote was found in the document text: the grounding of a narrative item."""
    start: Optional[int] = None
    end: Optional[int] = None
    match: Literal["exact", "normalised", "not_found"] = "not_found"


class Finding(Strict):
    text: str = Field(description="one short statement of the problem or measure")
    evidence: str = Field(description="verbatim quote from the report that supports it")
    span: Optional[Evidence] = None
    area: Optional[ProblemArea] = Field(None, description="problems only: what the problem is about; "
                                                          "null on improvements (and where not decided)")
    addresses: list[int] = Field(default_factory=list, description=(
        "improvements only: 0-based indices into narrative.problems of the problems this measure "
        "answers, where the report ties them (numbered to mirror them, or naming their subject); "
        "empty when it does not"))


class PriorYearRectification(Strict):
    """What the report says about last year's problems (针对上年度报告中提到的问题…整改)."""
    rectified: bool = Field(description="true: it says what it did about them; false: it says they "
                                        "were not (yet) dealt with")
    evidence: str = Field(description="verbatim quote from the report")
    span: Optional[Evidence] = None


class InformationFees(Strict):
    """Section 六's fees (信息处理费): numbers only where the report prints them."""
    notices: Optional[int] = Field(None, description="收费通知 issued, as printed; null when not stated")
    amount: Optional[Union[int, float]] = Field(None, description="信息处理费 charged, in 元 as printed; 0 for "
                                                      "未收取信息处理费; null when not stated")
    evidence: str = Field(description="verbatim quote from the report that states the numbers")
    span: Optional[Evidence] = None


class Platform(Strict):
    name: str
    kind: PlatformKind
    evidence: str
    count: Optional[int] = Field(None, description="items published on it, where the report says")
    span: Optional[Evidence] = None


class Narrative(Strict):
    method: Optional[str] = Field(None, description="rules, openai, local: which backend produced it")
    status: Literal["ok", "failed", "skipped", "pending"] = Field(
        "skipped", description="pending: asked in a batch file, answer not read yet (a later run fills it in)")
    error: Optional[str] = None
    problems: list[Finding] = Field(default_factory=list)
    improvements: list[Finding] = Field(default_factory=list)
    platforms: list[Platform] = Field(default_factory=list)
    prior_year_rectification: Optional[PriorYearRectification] = Field(
        None, description="null when the report says nothing about last year's problems")
    information_fees: Optional[InformationFees] = Field(
        None, description="null when the report says nothing about fees")


class CheckItem(Strict):
    scope: str = Field(description="the column, row or block the identity was applied to")
    status: CheckStatus
    left: Optional[float] = None
    right: Optional[float] = None
    message: Optional[str] = None
    responsibility: Optional[Responsibility] = Field(
        None, description="source: the report's printed numbers or text are at fault (every cell read from "
                          "explicit cells or settled uniquely); extraction: the reading is in doubt "
                          "(a digit-run cut, an OCR cell, a row recovered by position). See docs/audit.md")
    start: Optional[int] = Field(None, description="character offset in the document text of what the item is about")
    end: Optional[int] = None


class Check(Strict):
    status: CheckStatus
    items: list[CheckItem] = Field(default_factory=list)


# Where a value stands in the document text. A TypedDict, not a model: a 2021 report has ~200
# of them, and pydantic validates a TypedDict several times faster than it builds model
# instances (docs/performance.md). Records built here carry every key (`make_provenance`).
class Provenance(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")
    start: int
    end: int
    text: str
    unit: NotRequired[Annotated[Optional[str], Field(json_schema_extra={"default": None})]]
    note: NotRequired[Annotated[Optional[str], Field(json_schema_extra={"default": None})]]
    page: NotRequired[Annotated[Optional[int], Field(
        description="1-based page (PDF page or image frame) of a value read by OCR", json_schema_extra={"default": None})]]
    box: NotRequired[Annotated[Optional[list[float]], Field(
        description="OCR box [x0, top, x1, bottom]: PDF points, or pixels for an image file",
        json_schema_extra={"default": None})]]


class ProvenanceAsBuilt(TypedDict):
    """Provenance as make_provenance builds it, for validating the stage's own output: every key
    is there, so the check for keys of no field (extra="forbid", which costs more than checking
    the types) has nothing to find. Feed lines read back are validated as Provenance."""
    start: int
    end: int
    text: str
    unit: Optional[str]
    note: Optional[str]
    page: Optional[int]
    box: Optional[list[float]]


def make_provenance(start: int, end: int, text: str, unit: str | None = None, note: str | None = None,
                    page: int | None = None, box: list[float] | None = None) -> Provenance:
    """A provenance entry with every key, in the order the feed prints them."""
    return {"start": start, "end": end, "text": text, "unit": unit, "note": note, "page": page, "box": box}


class Error(Strict):
    stage: str
    message: str
    # A digit run left null because it has several readings: the cells it leaves null (dotted
    # value paths) and each reading's values in that order, so that cross-report views (the
    # panel) can settle it from other years without parsing the message.
    cells: Optional[list[str]] = None
    readings: Optional[list[list[Cell]]] = None


class NarrativeInput(Strict):
    """What of the report the narrative model was shown."""
    sent_chars: int
    report_chars: int
    omitted: list[str] = Field(default_factory=list, description="what was left out, and why")


class Extraction(Strict):
    extractor_version: str
    schema_version: str = SCHEMA_VERSION
    backend: Optional[str] = None
    model: Optional[str] = None
    prompt_version: Optional[str] = None
    prompt_hash: Optional[str] = None
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    narrative_input: Optional[NarrativeInput] = None
    seconds: float = 0.0


class Record(Strict):
    id: str = Field(description="stable: sha256 of the input bytes (and row), so the same input gives the same id")
    source: Source
    is_report: bool = True
    template: Template = "none"
    meta: Meta = Field(default_factory=Meta)
    sections: Sections = Field(default_factory=Sections)
    tables: Tables = Field(default_factory=Tables)
    legacy_statistics: Optional[LegacyStatistics] = None
    narrative: Narrative = Field(default_factory=Narrative)
    checks: dict[str, Check] = Field(default_factory=dict)
    provenance: dict[str, Provenance] = Field(default_factory=dict,
                                              description="dotted value path -> span in the document text")
    errors: list[Error] = Field(default_factory=list)
    extraction: Extraction
