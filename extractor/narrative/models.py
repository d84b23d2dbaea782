"""The LLM response models: what the model must return, with the grounding validators.

These are the contract with the model (their JSON Schema is sent, and hashed into the cache key);
the record keeps its own models (`extractor.models.Finding`, `Platform`), and `to_record` converts.

Grounding: when validated with a context `{"text": <report text>}`, every `evidence` must occur
in the report (exactly, or after whitespace/punctuation normalisation). A quote that does not
raises a ValueError whose message is the re-ask instruction instructor sends back to the model.
Without a context (reading a cached answer, salvaging the last attempt) nothing is checked here;
`ground()` then drops the ungrounded items and says which.
"""
from __future__ import annotations

import hashlib
import json
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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
    problems: list[FindingItem] = Field(default_factory=list, description="shortcomings the report admits (存在问题, 不足)")
    improvements: list[FindingItem] = Field(default_factory=list, description="measures it plans (改进措施, 下一步, 将…)")
    platforms: list[PlatformItem] = Field(default_factory=list, description="publishing channels it names")


def schema_hash(model: type[BaseModel] = NarrativeResponse) -> str:
    """sha256 of the response model's JSON Schema: changing a field invalidates cached answers."""
    blob = json.dumps(model.model_json_schema(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def ground(response: NarrativeResponse, text: str) -> tuple[
        list[record_models.Finding], list[record_models.Finding], list[record_models.Platform], list[str]]:
    """Record items with spans; items whose evidence is not in `text` are dropped and reported."""
    errors: list[str] = []

    def findings(items: list[FindingItem], field: str) -> list[record_models.Finding]:
        out = []
        for i, it in enumerate(items):
            span, why = grounding_error(it.evidence, text)
            if why:
                errors.append(f"narrative.{field}[{i}] dropped: {_reason(why)}: {it.evidence[:60]!r}")
                continue
            out.append(record_models.Finding(text=it.text.strip() or it.evidence, evidence=it.evidence, span=span))
        return out

    problems = findings(response.problems, "problems")
    improvements = findings(response.improvements, "improvements")
    platforms = []
    for i, p in enumerate(response.platforms):
        span, why = grounding_error(p.evidence, text)
        if why:
            errors.append(f"narrative.platforms[{i}] dropped: {_reason(why)}: {p.evidence[:60]!r}")
            continue
        count = p.count if p.count is None or p.count >= 0 else None
        platforms.append(record_models.Platform(name=p.name.strip() or p.evidence, kind=p.kind,
                                                evidence=p.evidence, count=count, span=span))
    return problems, improvements, platforms, errors
