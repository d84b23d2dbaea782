"""The LLM response models: what the model must return, with the grounding validators.

These are the contract with the model (their JSON Schema is sent, and hashed into the cache key);
the record keeps its own models (`extractor.models.Finding`, `Platform`), and `to_record` converts.

Grounding: when validated with a context `{"text": <report text>}`, every `evidence` must occur
in the report (exactly, or after whitespace/punctuation normalisation). A quote that does not
raises a ValueError whose message is the re-ask instruction instructor sends back to the model.
Without a context (reading a cached answer, salvaging the last attempt) nothing is checked here;
`ground()` then drops the ungrounded items and says which.

The typed fields (problem `area`, improvement `addresses`, `prior_year_rectification`,
`information_fees`) are optional, so an answer without them still validates; their quotes ground
like every other, and a fee number must be printed in its quote (`number_in_quote`).
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .. import models as record_models
from .grounding import locate, squash_quote

MIN_QUOTE = 4  # characters (punctuation and spaces aside) a quote needs to ground anything

PlatformKindLLM = Literal[
    "website", "wechat", "weibo", "short_video", "app", "gazette",
    "bulletin_board", "hotline", "press_conference", "other",
]

_NOT_FOUND = ("evidence {quote!r} is not a verbatim quote from the report: it does not occur in the "
              "text between the <report> tags. Copy 8-60 consecutive characters exactly as printed "
              "in the report, or leave this item out.")
_TOO_SHORT = ("evidence {quote!r} is too short to show where the report says this: copy 8-60 consecutive "
              "characters exactly as printed in the report, or leave this item out.")


def grounding_error(quote: str, text: str):
    """(Evidence span, None) when `quote` grounds in `text`, else (span, why not)."""
    span = locate(quote, text)
    if len(squash_quote(quote)) < MIN_QUOTE:
        return span.model_copy(update={"start": None, "end": None, "match": "not_found"}), _TOO_SHORT.format(quote=quote[:80])
    if span.match == "not_found":
        return span, _NOT_FOUND.format(quote=quote[:80])
    return span, None


def _reason(why: str) -> str:
    return "evidence too short to ground" if "too short" in why else "evidence not found in the report"


def _check_grounded(value: str, info: ValidationInfo) -> str:
    ctx = info.context if info is not None else None
    text = ctx.get("text") if isinstance(ctx, dict) else None
    if text is not None:
        _, why = grounding_error(value, text)
        if why:
            raise ValueError(why)
    return value


class FindingItem(BaseModel):
    """One problem the report admits, or one measure it plans."""
    model_config = ConfigDict(extra="ignore")
    text: str = Field(description="one short statement in Chinese (at most 40 characters)")
    evidence: str = Field(description="verbatim quote from the report (8-60 characters) that supports it")

    @field_validator("evidence")
    @classmethod
    def _grounded(cls, v: str, info: ValidationInfo) -> str:
        return _check_grounded(v, info)


class ProblemItem(FindingItem):
    """One problem the report admits, with what it is about."""
    area: Optional[record_models.ProblemArea] = Field(None, description=(
        "what the problem is about: 主动公开, 依申请公开, 政策解读, 平台建设, 队伍建设, 制度机制, "
        "监督考核, or 其他"))


class ImprovementItem(FindingItem):
    """One measure the report plans, with the problems it answers."""
    addresses: list[int] = Field(default_factory=list, description=(
        "0-based indices into problems of the problems this measure answers, only where the report "
        "ties them (numbered to mirror them, or naming the problem's subject); else []"))


class RectificationItem(BaseModel):
    """What the report says it did about the problems of last year's report."""
    model_config = ConfigDict(extra="ignore")
    rectified: bool = Field(description="true when it says what it did about them, false when it says "
                                        "they were not dealt with")
    evidence: str = Field(description="verbatim quote from the report (8-60 characters)")

    @field_validator("evidence")
    @classmethod
    def _grounded(cls, v: str, info: ValidationInfo) -> str:
        return _check_grounded(v, info)


_NUMBER = re.compile(r"\d[\d,，]*(?:[.．]\d+)?")
_NOTHING = re.compile(r"[0０零]|未|无|没有|不|免")
_NOT_PRINTED = ("{what} {value} is not printed in its evidence {quote!r}: give a number only when the "
                "report prints it (0 for 未收取/未发出), copied with the words around it, else null.")


def number_in_quote(value: float, quote: str) -> bool:
    """Whether `value` is printed in `quote`: as a number, or for 0 as 0/零/未/无 (未收取信息处理费)."""
    if value == 0:
        return bool(_NOTHING.search(quote))
    for m in _NUMBER.finditer(quote):
        digits = re.sub(r"[,，]", "", m.group()).replace("．", ".")
        try:
            if abs(float(digits) - float(value)) < 1e-6:
                return True
        except ValueError:
            continue
    return False


class FeesItem(BaseModel):
    """Section 六's information-processing fees, as printed."""
    model_config = ConfigDict(extra="ignore")
    notices: Optional[int] = Field(None, description="收费通知 issued, as printed; null when not stated")
    amount: Optional[Union[int, float]] = Field(None, description="信息处理费 charged in 元, as printed; 0 for "
                                                      "未收取信息处理费; null when not stated")
    evidence: str = Field(description="verbatim quote from the report that prints the numbers (8-60 characters)")

    @field_validator("evidence")
    @classmethod
    def _grounded(cls, v: str, info: ValidationInfo) -> str:
        return _check_grounded(v, info)

    @model_validator(mode="after")
    def _printed(self) -> "FeesItem":
        for what, value in (("notices", self.notices), ("amount", self.amount)):
            if value is not None and not number_in_quote(value, self.evidence):
                raise ValueError(_NOT_PRINTED.format(what=what, value=value, quote=self.evidence[:80]))
        return self


class PlatformItem(BaseModel):
    """One publishing channel the report names."""
    model_config = ConfigDict(extra="ignore")
    name: str = Field(description="the channel's name as printed, e.g. 门户网站, 官方微信")
    kind: PlatformKindLLM = Field(description="website, wechat, weibo, short_video, app, gazette, "
                                              "bulletin_board, hotline, press_conference, or other")
    evidence: str = Field(description="verbatim quote from the report that names the channel")
    count: Optional[int] = Field(None, description="items published on it when the report says how "
                                                   "many (全年公开工作信息20余条 -> 20), else null")

    @field_validator("evidence")
    @classmethod
    def _grounded(cls, v: str, info: ValidationInfo) -> str:
        return _check_grounded(v, info)


class NarrativeResponse(BaseModel):
    """Problems, improvements and platforms of one annual report, each grounded in a quote."""
    model_config = ConfigDict(extra="ignore")
    problems: list[ProblemItem] = Field(default_factory=list, description="shortcomings the report admits (存在问题, 不足)")
    improvements: list[ImprovementItem] = Field(default_factory=list, description="measures it plans (改进措施, 下一步, 将…)")
    platforms: list[PlatformItem] = Field(default_factory=list, description="publishing channels it names")
    prior_year_rectification: Optional[RectificationItem] = Field(
        None, description="what it says it did about last year's problems (针对上年度报告中提到的问题…整改); "
                          "null when it says nothing about them")
    information_fees: Optional[FeesItem] = Field(
        None, description="section 六's fees: 收费通知 count and 信息处理费 amount; null when it says nothing")


def schema_hash(model: type[BaseModel] = NarrativeResponse) -> str:
    """sha256 of the response model's JSON Schema: changing a field invalidates cached answers."""
    blob = json.dumps(model.model_json_schema(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def ground(response: NarrativeResponse, text: str) -> tuple[dict, list[str]]:
    """The record's narrative fields (keyword arguments of `extractor.models.Narrative`) with
    spans; items whose evidence is not in `text` are dropped and reported in the error list."""
    errors: list[str] = []
    kept: dict[str, list[int]] = {}   # field -> response indices kept (to renumber addresses)

    def findings(items: list[FindingItem], field: str) -> list[record_models.Finding]:
        out, kept[field] = [], []
        for i, it in enumerate(items):
            span, why = grounding_error(it.evidence, text)
            if why:
                errors.append(f"narrative.{field}[{i}] dropped: {_reason(why)}: {it.evidence[:60]!r}")
                continue
            kept[field].append(i)
            out.append(record_models.Finding(text=it.text.strip() or it.evidence, evidence=it.evidence, span=span,
                                             area=getattr(it, "area", None)))
        return out

    problems = findings(response.problems, "problems")
    improvements = findings(response.improvements, "improvements")
    # addresses point at the model's problem list: renumber them to the problems kept
    renumber = {old: new for new, old in enumerate(kept["problems"])}
    for rec, i in zip(improvements, kept["improvements"]):
        wanted = response.improvements[i].addresses
        rec.addresses = sorted({renumber[a] for a in wanted if a in renumber})
        if len(rec.addresses) < len(set(wanted)):
            errors.append(f"narrative.improvements[{i}].addresses: dropped indices with no grounded problem "
                          f"({sorted(set(wanted) - set(renumber))})")
    platforms = []
    for i, p in enumerate(response.platforms):
        span, why = grounding_error(p.evidence, text)
        if why:
            errors.append(f"narrative.platforms[{i}] dropped: {_reason(why)}: {p.evidence[:60]!r}")
            continue
        count = p.count if p.count is None or p.count >= 0 else None
        platforms.append(record_models.Platform(name=p.name.strip() or p.evidence, kind=p.kind,
                                                evidence=p.evidence, count=count, span=span))
    rectification = None
    r = response.prior_year_rectification
    if r is not None:
        span, why = grounding_error(r.evidence, text)
        if why:
            errors.append(f"narrative.prior_year_rectification dropped: {_reason(why)}: {r.evidence[:60]!r}")
        else:
            rectification = record_models.PriorYearRectification(rectified=r.rectified, evidence=r.evidence, span=span)
    fees = None
    f = response.information_fees
    if f is not None:
        span, why = grounding_error(f.evidence, text)
        unprinted = [w for w, v in (("notices", f.notices), ("amount", f.amount))
                     if v is not None and not number_in_quote(v, f.evidence)]
        if why:
            errors.append(f"narrative.information_fees dropped: {_reason(why)}: {f.evidence[:60]!r}")
        elif unprinted:
            errors.append(f"narrative.information_fees dropped: {', '.join(unprinted)} not printed in its evidence")
        elif f.notices is not None and f.notices < 0 or f.amount is not None and f.amount < 0:
            errors.append("narrative.information_fees dropped: a negative number")
        else:
            fees = record_models.InformationFees(notices=f.notices, amount=f.amount, evidence=f.evidence, span=span)
    return {"problems": problems, "improvements": improvements, "platforms": platforms,
            "prior_year_rectification": rectification, "information_fees": fees}, errors
