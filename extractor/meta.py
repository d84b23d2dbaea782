"""Metadata: agency, reported year, published date, region and level, as far as the text says."""
from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from .document import Document
from .models import Meta, Region, Sections

REPORT_WORDS = re.compile(r"信息公开|政务公开")
_YEAR_IN_BRACKETS = re.compile(r"[（(]\s*(?P<year>(?:19|20)\d{2})\s*年\s*度?\s*[)）]")
_DATE_UNDER_TITLE = re.compile(r"[（(]\s*(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*[)）]")
_AGENCY_AFTER_YEAR = re.compile(r"(?:19|20)\d{2}\s*年\s*度?\s*(?P<agency>[\u4e00-\u9fff]{2,20}?)(?:政府信息公开|信息公开|政务公开)")
_NOT_AGENCY = re.compile(r"信息公开|统计表|报告|年报")
_YEAR_IN_TITLE = re.compile(r"(?P<year>(?:19|20)\d{2})\s*年\s*度?\s*(?:[\u4e00-\u9fff]{0,8}?)(?:政府信息公开|信息公开|政务公开)")
_AGENCY_IN_TITLE = re.compile(r"^[#\s]*(?P<agency>[\u4e00-\u9fff（）()·]{2,40}?)\s*(?:关于)?\s*(?:19|20)\d{2}\s*年")
_FIELD_AGENCY = re.compile(r"(?:发布机构|来源|填报单位(?:\(盖章\)|（盖章）)?)[ \t]*[:：][ \t]*(?P<agency>[\u4e00-\u9fff]{2,30})")
_PUBLISHED = re.compile(r"(?:发布时间|发布日期|成文日期|印发日期|公开日期)\s*[:：]?\s*(?P<y>(?:19|20)\d{2})\s*[-/年.]\s*(?P<m>\d{1,2})\s*[-/月.]\s*(?P<d>\d{1,2})")
_PERIOD = re.compile(r"统计(?:期限|周期|时限)[^。\n]{0,12}?(?P<year>(?:19|20)\d{2})\s*年")
_OPENING_YEAR = re.compile(r"^\s*(?P<year>(?:19|20)\d{2})\s*年")
_PLACE = r"[\u4e00-\u9fff]{1,8}?(?:省|自治区|市|县|区|旗|州|盟)"
_GENERIC_AGENCY = re.compile(r"^(?:市|县|区|省)?[\u4e00-\u9fff]{0,6}(?:局|委员会|委|办公室|厅|中心|院|所)$")
_AGENCY_SUFFIX = r"(?:人民政府|政府|管委会|管理委员会|[\u4e00-\u9fff]{1,10}?(?:局|厅|委员会|委|办公室|中心|院))"
MUNICIPALITIES = {"北京市", "天津市", "上海市", "重庆市"}


@lru_cache(maxsize=1)
def _city_patterns() -> tuple[re.Pattern, re.Pattern]:
    """(a prefecture at the start of a name, a prefecture named with 市 anywhere), longest first."""
    names = sorted(gazetteer()[1], key=len, reverse=True)
    alts = "|".join(map(re.escape, names))
    return (re.compile(rf"(?P<c>{alts})(?P<suffix>市|州|盟|地区|自治州)?"), re.compile(rf"(?P<c>{alts})市"))


@lru_cache(maxsize=1)
def gazetteer() -> tuple[dict[str, str], dict[str, str]]:
    """(province short/full name -> full name, prefecture city name -> province)."""
    provinces, cities = {}, {}
    with open(Path(__file__).parent / "data" / "regions.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            full = row["province"]
            short = re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)$", "", full)
            provinces[full], provinces[short] = full, full
            for c in row["cities"].split():
                cities[c] = full
    return provinces, cities


def title_of(doc: Document) -> str | None:
    if doc.title:
        return doc.title.strip()
    lines = [re.sub(r"^(?:标题|题目)[ \t]*[:：]", "", l.strip().lstrip("#")).strip()
             for l in doc.text.splitlines()[:15]]
    lines = [l for l in lines if l]
    for i, line in enumerate(lines):
        if 6 <= len(line) <= 80 and REPORT_WORDS.search(line) and re.search(r"报告|年报", line):
            # A title broken after the agency: 洪泽区人民政府 / 2023 年政府信息公开工作年度报告
            if i and re.match(r"(?:19|20)\d{2}\s*年", line) and re.fullmatch(r"[\u4e00-\u9fff（）()]{2,30}", lines[i - 1]):
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
    provinces, cities = gazetteer()
    if agency and not agency.startswith(tuple(provinces) + tuple(cities)):
        # 洪泽区人民政府 in the title, 淮安市洪泽区人民政府 in the text: the fuller name.
        m = re.search(rf"([\u4e00-\u9fff]{{1,8}}?(?:省|市)){re.escape(agency)}", doc.text[:4000])
        if m and (m.group(1)[:-1] in cities or m.group(1) in provinces.values()):
            agency = m.group(1) + agency
    if agency and _GENERIC_AGENCY.match(agency) and not re.match(_PLACE, agency):
        # "民政局" in a title: the text names the place (平桥区民政局).
        bare = re.sub(r"^(市|县|区|省)", "", agency)
        m = re.search(rf"(?<![\u4e00-\u9fff])({_PLACE}){re.escape(bare)}|({_PLACE}){re.escape(bare)}", doc.text)
        if m:
            agency = (m.group(1) or m.group(2)) + bare
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


def _region(agency: str | None, text: str) -> tuple[Region, str]:
    provinces, cities = gazetteer()
    province = city = county = None
    name = agency or ""
    for p in sorted(provinces, key=len, reverse=True):
        if name.startswith(p):
            province = provinces[p]
            name = name[len(p):] if p == province else name
            break
    if province in MUNICIPALITIES:
        rest = name[len(province):] if name.startswith(province) else name
        m = re.match(r"([\u4e00-\u9fff]{1,6}?(?:区|县))", rest)
        county = m.group(1) if m else None
        return Region(province=province, city=None, county=county), ("district" if county else "province")
    at_start, named = _city_patterns()
    m = at_start.match(name)
    if m and (m.group("suffix") or m.group("c").endswith(("盟", "州"))):
        city, province = m.group(0), province or cities[m.group("c")]
        name = name[m.end():]
    m = re.match(r"([\u4e00-\u9fff]{1,6}?(?:县|区|旗|市))(?!场)", name)
    if m and not re.match(r"(?:市|县|区)$", m.group(1)):
        county = m.group(1)
    if county and not city:
        # A county named alone: its prefecture is the gazetteer city the text names most.
        counts: dict[str, int] = {}
        for found in named.finditer(text, 0, 6000):
            counts[found.group("c")] = counts.get(found.group("c"), 0) + 1
        if counts:
            best = max(counts, key=counts.get)
            city, province = best + "市", province or cities[best]
    level = "unknown"
    if county:
        level = "district" if county.endswith("区") else "county"
    elif city:
        level = "city"
    elif province:
        level = "province"
    return Region(province=province, city=city, county=county), level


def extract_meta(doc: Document, sections: Sections) -> Meta:
    title = title_of(doc)
    agency = _agency(doc, title)
    region, level = _region(agency, doc.text)
    return Meta(agency=agency, year=_year(doc, title, sections), published=_published(doc),
                region=region, level=level)
