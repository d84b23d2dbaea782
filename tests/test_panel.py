"""`extractor panel` on the real Pingtan series (2011–2025), run as a user would: the real
pipeline writes a feed, the CLI writes the panel, the tests read its CSV and Parquet files."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from extractor.panel.writer import COUNT_COLUMNS
import pytest

from helpers import ROOT

PINGTAN = ROOT / "tests" / "data" / "pingtan"
ZONE_2019 = next(PINGTAN.glob("2019_80576_*.txt"))
ZONE_2020 = next(PINGTAN.glob("2020_80595_*.txt"))
BOM = b"\xef\xbb\xbf"
COLUMNS = {
    "reports": "record_id,file,source_row,agency,agency_key,province,city,county,level,year,template,is_report,checks_failed,errors,"
               "source_problems,extraction_problems," + ",".join(COUNT_COLUMNS),
    "cells": "record_id,file,source_row,agency_key,year,table,row,column,value,how,note",
    "findings": "kind,agency_key,file_a,year_a,file_b,year_b,section,similarity,expected,found,message",
}


def cli(*args, env=None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "extractor.cli", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=600)


def extract(inputs, feed: Path) -> None:
    proc = cli("extract", *map(str, inputs), "-o", str(feed), "--llm", "rules", "-q")
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """The Pingtan series extracted into a feed, and the panel written from it."""
    tmp = tmp_path_factory.mktemp("pingtan")
    feed = tmp / "feed.jsonl"
    extract([PINGTAN], feed)
    out = tmp / "panel"
    proc = cli("panel", str(feed), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line.strip()]
    return feed, out, records, proc.stderr


def table(out: Path, name: str) -> list[dict]:
    return pq.read_table(out / f"{name}.parquet").to_pylist()


def cells_of(out: Path, file: Path) -> dict[tuple[str, str, str], dict]:
    return {(c["table"], c["row"], c["column"]): c for c in table(out, "cells") if Path(c["file"]).name == file.name}


def test_record_errors_carry_the_readings_of_a_digit_run(series):
    """The structured field the panel settles from: cells + readings, in the record itself."""
    _, _, records, _ = series
    rec = next(r for r in records if r["source"]["path"].endswith(ZONE_2019.name))
    run = next(e for e in rec["errors"] if e.get("cells") and "licensing.prior_year_items" in e["cells"][0])
    assert run["cells"] == [f"tables.active_disclosure.licensing.{c}" for c in ("prior_year_items", "change", "decisions")]
    assert [396, 0, 181] in run["readings"] and [39, 60, 181] in run["readings"]
    assert rec["tables"]["active_disclosure"]["licensing"]["prior_year_items"] is None  # the record stays its own


def test_2019_cells_settled_by_the_2020_report(series):
    """2019 行政许可3960181 and 行政处罚26480430: one reading each agrees with 2020's 上一年项目数量
    (396, 2648); the hand label (evals/labels/corpus_021…) reads them so too."""
    _, out, _, _ = series
    cells = cells_of(out, ZONE_2019)
    expected = {"licensing": (396, 0, 181), "punishment": (2648, 0, 430)}
    for row, values in expected.items():
        for column, value in zip(("prior_year_items", "change", "decisions"), values):
            c = cells[("active_disclosure", row, column)]
            assert (c["how"], c["value"]) == ("settled", value), c
            assert ZONE_2020.name in c["note"] and "across.prior_items" in c["note"]
    # 行政强制126025: two readings (126|0|25, 1260|2|5) agree with 2020's digits, so it stays null.
    assert cells[("active_disclosure", "enforcement", "prior_year_items")]["how"] == "null"


def test_fees_350_is_never_left_contradicted(series):
    """行政事业性收费350: 2020 prints 上一年项目数量 35. A record that leaves it null gets 35|0 in
    the panel; a record that reads another cut keeps it, and the panel says it is contradicted."""
    _, out, records, _ = series
    rec = next(r for r in records if r["source"]["path"].endswith(ZONE_2019.name))
    fees = rec["tables"]["active_disclosure"]["fees"]
    cells = cells_of(out, ZONE_2019)
    prior, change = cells[("active_disclosure", "fees", "prior_year_items")], cells[("active_disclosure", "fees", "change")]
    findings = [f for f in table(out, "findings")
                if f["kind"] == "across.prior_items" and f["section"] == "active_disclosure.fees.prior_year_items"]
    if fees["prior_year_items"] is None:
        assert (prior["how"], prior["value"], change["value"]) == ("settled", 35, 0)
        assert ZONE_2020.name in prior["note"]
        assert not findings
    else:
        assert prior["how"] == "read" and prior["value"] == fees["prior_year_items"]
        if fees["prior_year_items"] + fees["change"] != 35:
            assert findings and findings[0]["found"] == 35 and findings[0]["year_a"] == 2019
    # and likewise 其他对外管理服务事项100153 (10|0|153) against 2020's digits
    other = cells[("active_disclosure", "other_services", "prior_year_items")]
    if rec["tables"]["active_disclosure"]["other_services"]["prior_year_items"] is None:
        assert (other["how"], other["value"]) == ("settled", 10)
    elif other["value"] + cells[("active_disclosure", "other_services", "change")]["value"] != 10:
        assert any(f["kind"] == "across.prior_items" and f["section"] == "active_disclosure.other_services.prior_year_items"
                   for f in table(out, "findings"))


def test_panel_never_overrides_the_record(series):
    """Every value the record gives is the panel's value, read; settled only where it is null."""
    _, out, records, _ = series
    by_id = {r["id"]: r for r in records}
    settled = 0
    for c in table(out, "cells"):
        rec = by_id[c["record_id"]]
        t = rec["tables"].get(c["table"]) if c["table"] != "legacy_statistics" else {"keys": rec["legacy_statistics"]["keys"]}
        rows = t["rows"] if c["table"] == "applications" else t
        given = rows[c["row"]][c["column"]]
        if given is not None:
            assert (c["how"], c["value"]) == ("read", given)
        else:
            assert c["how"] in ("null", "settled") and c["note"]
            settled += c["how"] == "settled"
    assert settled >= 6


def test_cross_year_findings(series):
    _, out, _, _ = series
    findings = table(out, "findings")
    # 2020 规章 对外公开总数量 7, but 2019's total 0 + 2020's 本年新公开数量 0 = 0
    pub = [f for f in findings if f["kind"] == "across.published_total" and f["section"] == "active_disclosure.regulations.total_published"]
    assert len(pub) == 1 and (pub[0]["year_a"], pub[0]["year_b"], pub[0]["expected"], pub[0]["found"]) == (2019, 2020, 0, 7)
    assert pub[0]["file_a"].endswith(ZONE_2019.name) and pub[0]["file_b"].endswith(ZONE_2020.name)
    # the zone's series 2011–2025 is complete under its one agency_key, so no year is missing
    zone_key = next(r["agency_key"] for r in table(out, "reports") if Path(r["file"]).name == ZONE_2019.name)
    assert not [f for f in findings if f["kind"] == "missing_year" and f["agency_key"] == zone_key]
    # soft: 现行有效件数 (2021 format) gives findings, flagged as soft in the message
    assert all("soft" in f["message"] for f in findings if f["kind"] == "across.in_force")


def test_copied_sections(series):
    """Read from the texts: the county reprinted 2011's 五 and 一 in 2012 and 2013, the zone its
    2012 五 in 2013, and the zone's 2019 五 repeats 2016's measures word for word; the zone's
    2016–2025 sections differ year to year."""
    _, out, _, _ = series
    copies = [f for f in table(out, "findings") if f["kind"] == "copied_section"]
    pairs = {(Path(f["file_a"]).name[:10], Path(f["file_b"]).name[:10], f["section"]): f["similarity"] for f in copies}
    for a, b, section in [("2011_80716", "2012_80725", "problems_improvements"),
                          ("2012_80725", "2013_80754", "problems_improvements"),
                          ("2012_80725", "2013_80754", "overview"),
                          ("2012_80734", "2013_80759", "problems_improvements"),
                          ("2016_80485", "2019_80576", "problems_improvements"),
                          # two agencies, one year: the county's and the zone's 2013 一
                          ("2013_80754", "2013_80759", "overview")]:
        assert 0.75 <= pairs[(a, b, section)] <= 1.0, (a, b, section)
    zone_years = {f["year_a"] for f in copies if f["year_a"] and f["year_a"] >= 2016}
    for f in copies:
        if f["year_a"] >= 2016:
            assert f["year_b"] - f["year_a"] != 1, f  # no consecutive pair of the zone 2016–2025
    assert zone_years == {2016}


def test_csv_has_bom_and_the_issue_columns_and_parquet_matches(series):
    _, out, records, _ = series
    for name, header in COLUMNS.items():
        raw = (out / f"{name}.csv").read_bytes()
        assert raw.startswith(BOM)
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert ",".join(rows[0]) == header
        parquet = pq.read_table(out / f"{name}.parquet")
        assert parquet.column_names == header.split(",")
        assert parquet.num_rows == len(rows) - 1
    assert len(table(out, "reports")) == len(records)


def test_duckdb_query_of_the_docs_runs(series):
    """The query docs/panel.md shows, run over the Parquet files."""
    duckdb = pytest.importorskip("duckdb")
    _, out, _, _ = series
    doc = (ROOT / "docs" / "panel.md").read_text(encoding="utf-8")
    query = re.search(r"```sql\n(.*?)```", doc, re.S).group(1).replace("panel/", f"{out}/")
    rows = duckdb.sql(query).fetchall()
    settled = [r for r in rows if r[-1] == "settled"]
    assert any(r[3] == "licensing" and r[4] == "prior_year_items" and r[5] == 396 for r in settled), rows


def test_series_findings_and_bad_lines(tmp_path):
    """A year taken out of the series, a report there twice, and a broken feed line."""
    src = tmp_path / "reports"
    src.mkdir()
    for f in PINGTAN.glob("20*_*.txt"):
        if not f.name.startswith("2017_"):
            shutil.copy(f, src / f.name)
    twice = next(PINGTAN.glob("2018_*.txt"))
    (src / "again").mkdir()
    # the same report posted again (one byte more: the feed skips inputs it has already read)
    (src / "again" / twice.name).write_bytes(twice.read_bytes() + b"\n")
    feed = tmp_path / "feed.jsonl"
    extract([src], feed)
    with open(feed, "a", encoding="utf-8") as fh:
        fh.write('{"id": "broken"\n')
    out = tmp_path / "panel"
    proc = cli("panel", str(feed), str(tmp_path / "missing.jsonl"), "-o", str(out))
    assert proc.returncode == 1 and "not valid JSON" in proc.stderr and "missing.jsonl" in proc.stderr
    findings = table(out, "findings")
    missing = [f for f in findings if f["kind"] == "missing_year" and f["expected"] == 2017]
    assert len(missing) == 1 and (missing[0]["year_a"], missing[0]["year_b"]) == (2016, 2018)
    dup = [f for f in findings if f["kind"] == "duplicate_year" and f["year_a"] == 2018]
    assert len(dup) == 1 and {Path(dup[0]["file_a"]).name, Path(dup[0]["file_b"]).name} == {twice.name}
    assert len(table(out, "reports")) == len(list(src.rglob("*.txt")))


def test_cross_year_identities_are_template_data(series, tmp_path):
    """Drop across.prior_items from a copy of the template: the settling and its findings go."""
    feed, _, _, _ = series
    template = tmp_path / "template"
    shutil.copytree(ROOT / "extractor" / "template", template)
    lines = (template / "across.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (template / "across.csv").write_text("".join(l for l in lines if not l.startswith("across.prior_items")), encoding="utf-8")
    out = tmp_path / "panel"
    proc = cli("panel", str(feed), "-o", str(out), env={"EXTRACTOR_TEMPLATE_DIR": str(template)})
    assert proc.returncode == 0, proc.stderr
    cells = table(out, "cells")
    assert not [c for c in cells if c["how"] == "settled" and "across.prior_items" in c["note"]]
    licensing = [c for c in cells if Path(c["file"]).name == ZONE_2019.name and c["row"] == "licensing"]
    assert licensing and all(c["how"] == "null" for c in licensing)
    kinds = {f["kind"] for f in table(out, "findings")}
    assert "across.prior_items" not in kinds and "across.published_total" in kinds


def test_null_cells_say_why(series):
    """A legacy 统计表 value left null (this year's and the cumulative figure run together) carries
    the record's error, matched to its key; a digit-run cell its run's message."""
    _, out, _, _ = series
    cells = cells_of(out, next(PINGTAN.glob("2015_*.txt")))
    # 主动公开文件数 294981916: the report's own sentence 2015年主动公开政府信息2949条 settles 2949|81916;
    # 政府网站公开数 2949819162 (the same run and the next row's ordinal) stays null with its readings.
    proactive = cells[("legacy_statistics", "keys", "proactive_total")]
    assert proactive["how"] == "read" and proactive["value"] in (2949, "2949")
    website = cells[("legacy_statistics", "keys", "website")]
    assert website["how"] == "null" and "294981916" in website["note"]
    enforcement = cells_of(out, ZONE_2019)[("active_disclosure", "enforcement", "decisions")]
    assert enforcement["how"] == "null" and "126025" in enforcement["note"]
