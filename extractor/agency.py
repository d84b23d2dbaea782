"""Agency identity: an agency's region, its canonical name, and a key that stays the same for one
agency in every year and spelling (`agency_key`).

The key is `CODE:NAME`: CODE is the six-digit division code of the deepest place the agency
belongs to (the county, or the prefecture, or the province; a special zone sits at the code of
the county it administers), NAME the canonical name of the agency at that place:

    平潭综合实验区 / 平潭综合实验区管委会     -> 350128:平潭综合实验区
    平潭县人民政府                          -> 350128:平潭县人民政府
    平潭综合实验区地方税务局                 -> 350128:平潭综合实验区地方税务局
    河北省科技厅 / 河北省科学技术厅           -> 130000:河北省科学技术厅
    洪泽区人民政府 / 淮安市洪泽区人民政府      -> 320813:洪泽区人民政府

Everything is data: the divisions (extractor/divisions.py), the special zones, the names of a
government body (government_bodies.csv), abbreviations (agency_abbreviations.csv) and OCR
confusions of place names (ocr_confusables.csv), all under extractor/data/.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from .divisions import (CITY, COUNTY, DATA, MUNICIPALITY_CODES, PROVINCE, Division, divisions,
                        ocr_confusables)

UNPLACED = "000000"  # the code part of a key whose agency names no place the data knows
_SPACE = re.compile(r"[\s\u3000]+")
_PLACE_TOKEN = re.compile(r"[\u4e00-\u9fff]{1,9}?(?:自治州|自治县|地区|省|市|县|区|旗|州|盟)")
_AREA = re.compile(r"(?:开发区|高新区|新区|园区|实验区|试验区|合作区)$")
_CONTEXT_CHARS = 6000  # how much of the text may settle an ambiguous place name


@dataclass(frozen=True)
class Identity:
    name: str | None  # the agency's name as the record gives it (meta.agency)
    key: str | None  # meta.agency_key
    province: str | None = None
    city: str | None = None
    county: str | None = None
    level: str = "unknown"


@lru_cache(maxsize=1)
def _tables() -> tuple[list[tuple[str, str]], dict[str, str]]:
    with open(DATA / "agency_abbreviations.csv", encoding="utf-8", newline="") as fh:
        abbreviations = sorted(((r["abbreviation"], r["full"]) for r in csv.DictReader(fh)),
                               key=lambda p: len(p[0]), reverse=True)
    with open(DATA / "government_bodies.csv", encoding="utf-8", newline="") as fh:
        bodies = {r["variant"]: r["governs"] for r in csv.DictReader(fh)}
    return abbreviations, bodies


@lru_cache(maxsize=1)
def _national_prefixes() -> tuple[str, ...]:
    with open(DATA / "national_prefixes.csv", encoding="utf-8", newline="") as fh:
        return tuple(sorted((r["prefix"] for r in csv.DictReader(fh)), key=len, reverse=True))


@lru_cache(maxsize=1)
def _domains() -> dict[str, str]:
    with open(DATA / "gov_domains.csv", encoding="utf-8", newline="") as fh:
        return {r["label"]: r["province_code"] for r in csv.DictReader(fh)}


def clean(name: str) -> str:
    return _SPACE.sub("", name).replace("(", "（").replace(")", "）")


def expand(body: str) -> str:
    """The body with a trailing abbreviation written out (科技厅 -> 科学技术厅)."""
    abbreviations, _ = _tables()
    for short, full in abbreviations:
        if body.endswith(short) and not body.endswith(full):
            return body[:-len(short)] + full
    return body


def _area_body(body: str) -> str:
    """An area's governing body folded to the area (淮安经济技术开发区管理委员会 and …管委会 are
    one agency): the zone variants of government_bodies.csv, where an area word precedes them."""
    _, bodies = _tables()
    for variant in sorted((v for v, g in bodies.items() if g == "zone"), key=len, reverse=True):
        if body.endswith(variant) and _AREA.search(body[:-len(variant)]):
            return body[:-len(variant)]
    return body


# -- places --------------------------------------------------------------------------------------
def _context_score(d: Division, text: str) -> int:
    """How often the text names d's province and prefecture (to choose between 朝阳区s)."""
    div = divisions()
    score = 0
    for anc in (div.parent(d, PROVINCE), div.parent(d, CITY)):
        if anc is not None and anc is not d:
            score += text.count(anc.name)
    return score


def _choose(found: tuple[Division, ...], text: str) -> Division | None:
    if len(found) == 1:
        return found[0]
    scores = [(_context_score(d, text), d) for d in found]
    best = max(s for s, _ in scores)
    winners = [d for s, d in scores if s == best]
    return winners[0] if best > 0 and len(winners) == 1 else None  # no guess between equals


def parse_places(name: str, text: str = "", ocr: bool = True) -> tuple[list[Division], int, str]:
    """The chain of places a name starts with (province, prefecture, county or zone; any may be
    missing), where the chain ends in the name, and the name with OCR-confused place names
    corrected (沐阳县 -> 沭阳县) when exactly one correction is a real place."""
    div = divisions()
    context = text[:_CONTEXT_CHARS]
    chain: list[Division] = []
    pos = 0
    while pos < len(name):
        within = chain[-1] if chain else None
        found, end = div.match_prefix(name, pos, within)
        if not found and ocr:
            found, end, name = _ocr_corrected(name, pos, within)
        if not found:
            break
        d = _choose(found, context)
        if d is None:
            break
        chain.append(d)
        pos = end
        if d.rank == COUNTY or d.zone:
            break  # nothing lies within a county or a zone
    return chain, pos, name


def _ocr_corrected(name: str, pos: int, within: Division | None
                   ) -> tuple[tuple[Division, ...], int, str]:
    m = _PLACE_TOKEN.match(name, pos)
    if not m:
        return (), pos, name
    token = m.group(0)
    div = divisions()
    options = {d for found in div.variants(token, ocr_confusables()) for d in found
               if within is None or (d.within(within) and d != within)}
    if len(options) != 1:
        return (), pos, name
    d = options.pop()
    fixed = d.name if len(d.name) == len(token) else None
    if fixed is None:  # the alias matched, not the full name: keep the alias's spelling
        for i, ch in enumerate(token):
            for alt in ocr_confusables().get(ch, ""):
                cand = token[:i] + alt + token[i + 1:]
                if d in div.by_name.get(cand, ()):
                    fixed = cand
    if fixed is None:
        return (), pos, name
    return (d,), pos + len(fixed), name[:pos] + fixed + name[m.end():]


def printed_prefix(name: str, first: Division | None, text: str) -> str:
    """The longest run of place names the text prints right before `name` that leads to it:
    洪泽区人民政府 printed as 淮安市洪泽区人民政府; 民政局 printed as 平桥区民政局. `first` is
    the first place `name` itself names (None when it names none)."""
    div = divisions()
    best = ""
    start = seen = 0
    while seen < 12:
        i = text.find(name, start)
        if i < 0:
            break
        seen += 1
        start = i + 1
        prefix, at, d = "", i, first
        if d is None:  # the division printed right before the name, longest name first
            for n in range(min(div.max_len, i), 1, -1):
                found = div.by_name.get(text[i - n:i])
                if found and text[i - n:i] in div.stems and not name.startswith("市"):
                    found = tuple(x for x in found if x.rank != CITY)  # 淮安 + 民政局 is no 淮安市 name
                d = _choose(found, text[:_CONTEXT_CHARS]) if found else None
                if d is not None:
                    prefix, at = text[i - n:i], i - n
                    break
            if d is None:
                continue
        for rank in (CITY, PROVINCE):  # then its prefecture and province, if printed before it
            anc = div.parent(d, rank)
            if anc is None or anc == d or (d.rank <= rank and not d.zone):
                continue
            for alias in div.names_of(anc):
                if at >= len(alias) and text.startswith(alias, at - len(alias)):
                    prefix, at = alias + prefix, at - len(alias)
                    break
        if len(prefix) > len(best):
            best = prefix
    return best


def region_from_links(fields: dict[str, str]) -> tuple[Division | None, bool]:
    """(province, whether the host is a department of that province's government) from the
    record's own source links: kjt.hebei.gov.cn is a department of 河北省."""
    domains = _domains()
    for key in ("来源网站", "原文链接", "访问地址", "url", "link"):
        value = fields.get(key) or ""
        host = (urlsplit(value).hostname or "").lower() if "//" in value else ""
        parts = host.split(".")
        if len(parts) >= 3 and parts[-2:] == ["gov", "cn"] and parts[-3] in domains:
            d = divisions().by_code.get(domains[parts[-3]])
            return d, len(parts) >= 4 and parts[-4] != "www"
    return None, False


# -- identity ------------------------------------------------------------------------------------
def identify(agency: str | None, text: str = "", fields: dict[str, str] | None = None) -> Identity:
    """The agency's canonical name, key and region, from its printed name and its own report."""
    div = divisions()
    _, bodies = _tables()
    name = clean(agency) if agency else ""
    national = next((p for p in _national_prefixes() if name.startswith(p) and len(name) > len(p)), "")
    if national:
        # 国家税务总局平潭综合实验区税务局: a national organ's branch, placed by what follows
        chain, pos, rest = parse_places(name[len(national):], text)
        if chain:
            deepest = chain[-1]
            province, city, county = div.chain(deepest)
            level = ("district" if county.name.endswith("区") else "county") if county else \
                "city" if city else "province"
            return Identity(name=national + rest, key=f"{_key_code(deepest)}:{national}{deepest.name}{expand(rest[pos:])}",
                            province=province.name if province else None, city=city.name if city else None,
                            county=county.name if county else None, level=level)
    chain, pos, name = parse_places(name, text) if name else ([], 0, "")
    if name and text:
        prefix = printed_prefix(name, chain[0] if chain else None, text)
        if not prefix and not chain and len(name) > 2 and name[0] in "省市县区":
            # 市民政局 in a title, 焦作市民政局 in the text
            bare = name[1:]
            prefix = printed_prefix(bare, None, text)
            name = bare if prefix else name
        if prefix:
            name = prefix + name
            chain, pos, name = parse_places(name, text)
    deepest = chain[-1] if chain else None
    body = name[pos:]
    governs = bodies.get(body)
    if deepest is not None and deepest.zone and (body == "" or governs == "zone"):
        key_name, shown = deepest.name, name if body else name + deepest.body
    elif deepest is not None and (body == "" or governs == "division"):
        key_name = deepest.name + "人民政府"
        shown = name[:pos] + "人民政府"
    else:
        key_name = (deepest.name if deepest else "") + _area_body(expand(body))
        shown = name[:pos] + expand(body) if name else None
    province, city, county = div.chain(deepest)
    level = "unknown"
    if deepest is None and fields:
        province, department = region_from_links(fields)
        level = "province" if province is not None and department else "unknown"
    elif county is not None:
        level = "district" if county.name.endswith("区") else "county"
    elif city is not None:
        level = "city"
    elif province is not None:
        level = "province"
    if deepest is None:
        key = f"{UNPLACED}:{expand(clean(agency))}" if agency else None
    else:
        key = f"{_key_code(deepest)}:{key_name}"
    return Identity(name=shown or None, key=key,
                    province=province.name if province else None,
                    city=city.name if city else None,
                    county=county.name if county else None, level=level)


def _key_code(d: Division) -> str:
    # a municipality's prefecture entry is the province itself (310000 for 上海市's departments)
    return d.province_code if d.rank == CITY and d.province_code in MUNICIPALITY_CODES else d.code


def names_a_place(name: str) -> bool:
    """True when the name starts with a place the divisions know (河北省科技厅, 平潭县人民政府)."""
    return bool(parse_places(clean(name), ocr=False)[0])


def agency_key(agency: str | None, text: str = "") -> str | None:
    """The key of an agency from its printed name (and, optionally, its report's text, which
    can settle an ambiguous place name such as 朝阳区)."""
    return identify(agency, text).key
