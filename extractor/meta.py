"""Metadata: agency, reported year, published date, region and level, as far as the text says.
The agency's canonical name, key and region come from extractor/agency.py."""
from __future__ import annotations

import re

from .agency import identify, names_a_place
from .document import Document
from .models import Meta, Region, Sections
from .textutil import first_splitlines

REPORT_WORDS = re.compile(r"信息公开|政务公开")
_YEAR_IN_BRACKETS = re.compile(r"[（(]\s*(?P<year>(?:19|20)\d{2})\s*年\s*度?\s*[)）]")
_DATE_UNDER_TITLE = re.compile(r"[（(]\s*(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*[)）]")
_AGENCY_AFTER_YEAR = re.compile(r"(?:19|20)\d{2}\s*年\s*度?\s*(?P<agency>[\u4e00-\u9fff]{2,20}?)(?:政府信息公开|信息公开|政务公开)")
_NOT_AGENCY = re.compile(r"信息公开|统计表|报告|年报|^关于")
_YEAR_IN_TITLE = re.compile(r"(?P<year>(?:19|20)\d{2})\s*年\s*度?\s*(?:[\u4e00-\u9fff]{0,8}?)(?:政府信息公开|信息公开|政务公开)")
_AGENCY_IN_TITLE = re.compile(r"^[#\s]*(?P<agency>[\u4e00-\u9fff（）()·]{2,40}?)\s*(?:关于)?\s*(?:19|20)\d{2}\s*年")
_FIELD_AGENCY = re.compile(r"(?:发布机构|来源|填报单位(?:\(盖章\)|（盖章）)?)[ \t]*[:：][ \t]*(?P<agency>[\u4e00-\u9fff]{2,30})")
_PUBLISHED = re.compile(r"(?:发布时间|发布日期|成文日期|印发日期|公开日期)\s*[:：]?\s*(?P<y>(?:19|20)\d{2})\s*[-/年.]\s*(?P<m>\d{1,2})\s*[-/月.]\s*(?P<d>\d{1,2})")
_PERIOD = re.compile(r"统计(?:期限|周期|时限)[^。\n]{0,12}?(?P<year>(?:19|20)\d{2})\s*年")
_OPENING_YEAR = re.compile(r"^\s*(?P<year>(?:19|20)\d{2})\s*年")
_PAGE_LABEL = re.compile(r"正文|全文|原文|内容|附件|目录|标题")  # a page's labels, not an agency
_CONTACT_AGENCY = re.compile(r"(?:请与|请联系[:：]?)[ \t]*(?P<agency>[\u4e00-\u9fff]{2,30}?)(?:信息公开[\u4e00-\u9fff]{0,8})?办公室")


def title_of(doc: Document) -> str | None:
    if doc.title:
        return doc.title.strip()
    lines = [re.sub(r"^(?:标题|题目)[ \t]*[:：]", "", l.strip().lstrip("#")).strip()
             for l in first_splitlines(doc.text, 15)]
    lines = [l for l in lines if l]
    for i, line in enumerate(lines):
        if (REPORT_WORDS.search(line) and not re.search(r"报告|年报", line) and i + 1 < len(lines)
                and re.fullmatch(r"(?:工作)?(?:年度)?(?:报告|年报)", lines[i + 1])):
            line = line + lines[i + 1]  # 2024 年上海市科委政府信息公开工作 / 年度报告
        if 6 <= len(line) <= 80 and REPORT_WORDS.search(line) and re.search(r"报告|年报", line):
            # A title broken after the agency: 洪泽区人民政府 / 2023 年政府信息公开工作年度报告
            if (i and re.match(r"(?:19|20)\d{2}\s*年", line) and re.fullmatch(r"[\u4e00-\u9fff（）()]{2,30}", lines[i - 1])
                    and not _PAGE_LABEL.fullmatch(lines[i - 1])):
                return lines[i - 1] + line
            return line
    return None


def _agency(doc: Document, title: str | None) -> str | None:
    agency = None
    if title:
        m = _AGENCY_IN_TITLE.search(title) or _AGENCY_AFTER_YEAR.search(title)
        if m and not _NOT_AGENCY.search(m.group("agency")):
            agency = m.group("agency")
    if not agency:
        m = _FIELD_AGENCY.search(doc.text[:3000]) or _FIELD_AGENCY.search(doc.text)
        if m:
            agency = m.group("agency")
    if not agency:
        # 如对本报告有任何疑问，请联系：河北省科技厅办公室
        m = _CONTACT_AGENCY.search(doc.text[:3000])
        if m and not _NOT_AGENCY.search(m.group("agency")) and names_a_place(m.group("agency")):
            agency = m.group("agency")
    return agency or None


def _year(doc: Document, title: str | None, sections: Sections) -> int | None:
    if title:
        m = _YEAR_IN_TITLE.search(title) or _YEAR_IN_BRACKETS.search(title)
        if m:
            return int(m.group("year"))
    m = _YEAR_IN_TITLE.search(doc.text[:400])  # a title broken over lines
    if m and re.search(r"报告|年报", doc.text[m.end():m.end() + 30]):
        return int(m.group("year"))
    m = _PERIOD.search(doc.text)
    if m:
        return int(m.group("year"))
    if sections.overview is not None:
        m = _OPENING_YEAR.search(sections.overview.text[:40])
        if m:
            return int(m.group("year"))
    return None


def _published(doc: Document) -> str | None:
    m = _DATE_UNDER_TITLE.search(doc.text[:600])  # (2026年1月23日) printed under the title
    if m:
        return f"{int(m.group('y')):04d}-{int(m.group('m')):02d}-{int(m.group('d')):02d}"
    for source in (doc.fields.get("发布时间", ""), doc.fields.get("时间", ""), doc.text[:2000]):
        m = _PUBLISHED.search(source) or re.match(
            r"\s*(?P<y>(?:19|20)\d{2})\s*[-/年.]\s*(?P<m>\d{1,2})\s*[-/月.]\s*(?P<d>\d{1,2})", source)
        if m:
            return f"{int(m.group('y')):04d}-{int(m.group('m')):02d}-{int(m.group('d')):02d}"
    return None


def extract_meta(doc: Document, sections: Sections) -> Meta:
    title = title_of(doc)
    who = identify(_agency(doc, title), doc.text, doc.fields)
    return Meta(agency=who.name, agency_key=who.key, year=_year(doc, title, sections),
                published=_published(doc),
                region=Region(province=who.province, city=who.city, county=who.county), level=who.level)
