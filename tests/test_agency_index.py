"""The index by agency: `agency_key` in the SQLite index, `extractor search --agency-key` listing an
agency's years with its main figures, and the README's search example — on a real feed made by
`extractor extract` from the seeds and the Pingtan series, into a real SQLite file.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.index import sqlite_index
from extractor.index.sqlite_index import agency_years, build_index, search

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "evals" / "fixtures"
PINGTAN = ROOT / "tests" / "data" / "pingtan"


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "extractor.cli", *args], cwd=ROOT, capture_output=True,
                          encoding="utf-8", env=env)


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    seeds = sorted(str(p) for p in SEEDS.glob("seed_*.txt"))
    proc = cli("extract", *seeds, str(PINGTAN), "-o", str(out), "--llm", "rules", "-q")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def db(tmp_path_factory, feed) -> Path:
    path = tmp_path_factory.mktemp("index") / "index.sqlite"
    proc = cli("index", str(feed), "--db", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def test_readme_search_example_finds_its_report(db):
    # README: extractor search 低保 --db index.sqlite --province 河南省 --year 2024
    proc = cli("search", "低保", "--db", str(db), "--province", "河南省", "--year", "2024")
    assert proc.returncode == 0, proc.stderr
    assert "平桥区民政局 · 河南省 信阳市 平桥区 · 2024" in proc.stdout
    assert "seed_002_5f6bec8eadb51f9b.txt" in proc.stdout and "【低保】" in proc.stdout


def test_agency_key_column(db):
    conn = sqlite3.connect(db)
    keys = dict(conn.execute("SELECT agency_key, count(*) FROM reports WHERE agency_key LIKE '350128:%' "
                             "AND is_report = 1 GROUP BY agency_key").fetchall())
    conn.close()
    assert keys == {"350128:平潭综合实验区": 15, "350128:平潭县人民政府": 3, "350128:平潭综合实验区地方税务局": 1}


def test_an_agencys_years_with_their_main_figures(db):
    rows = agency_years(db, "350128:平潭综合实验区")
    assert [r.year for r in rows] == list(range(2011, 2026))
    by_year = {r.year: r for r in rows}
    # 2025 table 三: 本年新收 …154, 总计 …148, 结转下年度 4 2 0 0 0 0 6; table 四: 复议 25 3 8 0 36,
    # 诉讼 3 3 0 0 6 and 3 0 0 0 3.
    r = by_year[2025]
    assert (r.template, r.applications_received, r.results_total, r.carried_to_next_year,
            r.review_total, r.litigation_total) == ("2021", 154, 148, 6, 36, 9)
    # A legacy year: 统计表 受理依申请公开信息总数 1 (2014), no results table.
    assert (by_year[2014].template, by_year[2014].applications_received, by_year[2014].results_total) == ("legacy", 1, None)


def test_search_agency_key_lists_the_series_and_a_code_lists_the_place(db):
    proc = cli("search", "", "--db", str(db), "--agency-key", "350128:平潭县人民政府", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [(r["year"], r["agency"]) for r in json.loads(proc.stdout)] == [
        (2011, "平潭县人民政府"), (2012, "平潭县人民政府"), (2013, "平潭县人民政府")]
    proc = cli("search", "", "--db", str(db), "--agency-key", "350128")
    assert proc.returncode == 0, proc.stderr
    blocks = proc.stdout.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "350128:平潭县人民政府 · 平潭县人民政府 · 3 reports",
        "350128:平潭综合实验区 · 平潭综合实验区管委会 · 15 reports",
        "350128:平潭综合实验区地方税务局 · 平潭综合实验区地方税务局 · 1 report"]
    assert blocks[1].splitlines()[1].split()[:8] == ["year", "template", "received", "results", "carried",
                                                     "review", "litigation", "failed"]
    proc = cli("search", "", "--db", str(db), "--agency-key", "110105:朝阳区人民政府")
    assert proc.returncode == 0 and proc.stdout == "" and "no reports of agency" in proc.stderr


def test_agency_key_as_a_filter_of_a_word_search(db):
    hits = search(db, "依申请公开", agency_key="350128:平潭县人民政府", limit=50)
    assert hits and {h.agency_key for h in hits} == {"350128:平潭县人民政府"}
    assert {h.year for h in hits} <= {2011, 2012, 2013}


def test_an_index_made_before_agency_key_is_upgraded_and_filled(tmp_path, feed, monkeypatch):
    db = tmp_path / "old.sqlite"
    old = [m for m in sqlite_index.MIGRATIONS if m[0] != "0004_agency_key"]
    monkeypatch.setattr(sqlite_index, "MIGRATIONS", old)
    monkeypatch.setattr(sqlite_index, "FACET_COLUMNS", tuple(c for c in sqlite_index.FACET_COLUMNS if c != "agency_key"))
    build_index(feed, db)
    conn = sqlite3.connect(db)
    assert "agency_key" not in [r[1] for r in conn.execute("PRAGMA table_info(reports)")]
    conn.close()
    monkeypatch.undo()
    stats = build_index(feed, db)
    assert stats.migrations_applied == ["0004_agency_key"] and stats.unchanged == stats.lines
    assert len(agency_years(db, "350128:平潭综合实验区")) == 15
