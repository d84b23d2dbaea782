"""The search feed on a real SQLite file: indexing, Chinese search, filters, upserts, rejects,
the OpenSearch export and the CLI wrappers.

The feed is built here from the seed texts and their hand labels (evals/labels), not from the
pipeline, so these tests depend only on the record contract: each record carries the seed's real
sections (extractor.sections.split_sections) and the labelled meta, tables and narrative, whose
evidence is verbatim report text. Expected hits were read off the seed texts (quoted below).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import extractor
from extractor.index import commands, tokenize
from extractor.index.opensearch import document_problems, export_opensearch, mapping, schema_mismatches
from extractor.index.sqlite_index import (MIGRATIONS, NoIndex, SearchIndexError, build_index,
                                          index_summary, match_expression, search)
from extractor.load.text import decode
from extractor.models import (Applications, Check, Extraction, Finding, LegacyStatistics, Meta,
                              Narrative, Platform, Record, Source, Tables)
from extractor.sections import split_sections

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "evals" / "fixtures"
LABELS = ROOT / "evals" / "labels"
SEEDS = sorted(FIXTURES.glob("seed_*.txt"))
# A second feed, of other years: real reports of 平潭综合实验区 (2021 and 2022).
LATER = [FIXTURES / "corpus_023_pingtan-zone-2021.txt", FIXTURES / "corpus_024_pingtan-zone-2022.txt"]


def labelled_record(path: Path) -> Record:
    """A Record for one fixture: its real sections plus the hand label's meta/tables/narrative."""
    data = path.read_bytes()
    text, encoding = decode(data)
    label = json.loads((LABELS / (path.name + ".json")).read_text(encoding="utf-8"))["records"][0]
    sha = hashlib.sha256(data).hexdigest()
    tables, narrative = label["tables"], label["narrative"]
    return Record(
        id=sha[:16],  # as extractor.document.Document.id
        source=Source(path=str(path.relative_to(ROOT)), sha256=sha, format="txt", encoding=encoding),
        is_report=label["is_report"],
        template=label["template"],
        meta=Meta(**label["meta"]),
        sections=split_sections(text),
        tables=Tables(active_disclosure=tables["active_disclosure"],
                      applications=Applications(**tables["applications"]) if tables["applications"] else None,
                      review_litigation=tables["review_litigation"]),
        legacy_statistics=LegacyStatistics(**label["legacy_statistics"]) if label["legacy_statistics"] else None,
        narrative=Narrative(method="labels", status="ok",
                            problems=[Finding(**f) for f in narrative["problems"]],
                            improvements=[Finding(**f) for f in narrative["improvements"]],
                            platforms=[Platform(**p) for p in narrative["platforms"]]),
        checks={k: Check(status=v) for k, v in label["checks"].items()},
        extraction=Extraction(extractor_version=extractor.__version__, backend="labels"),
    )


def write_feed(path: Path, records, extra_lines: dict[int, str] | None = None) -> Path:
    """A JSONL feed; `extra_lines` puts raw lines at given 1-based line numbers."""
    lines = [r.model_dump_json() for r in records]
    for lineno, raw in sorted((extra_lines or {}).items()):
        lines.insert(lineno - 1, raw)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seeds() -> dict[str, Record]:
    """Seed number ("000" … "004") → record."""
    return {p.name[5:8]: labelled_record(p) for p in SEEDS}


@pytest.fixture(scope="module")
def seed_feed(tmp_path_factory, seeds) -> Path:
    return write_feed(tmp_path_factory.mktemp("feed") / "seeds.jsonl", seeds.values())


@pytest.fixture(scope="module")
def db(tmp_path_factory, seed_feed) -> Path:
    path = tmp_path_factory.mktemp("index") / "index.sqlite"
    stats = build_index(seed_feed, path)
    assert (stats.inserted, stats.rejected, stats.reports_total) == (5, [], 5)
    return path


def ids(hits) -> list[str]:
    return [h.id for h in hits]


# ---------------------------------------------------------------------------------------------
# Why the index pre-tokenises: SQLite's trigram tokenizer cannot find a 2-character word.


def test_trigram_tokenizer_misses_two_character_words():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
    conn.execute("INSERT INTO t VALUES ('及时公开低保、特困等人员发放相关信息')")
    assert conn.execute("SELECT count(*) FROM t WHERE t MATCH '低保'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM t WHERE t MATCH '低保、特'").fetchone()[0] == 1


def test_grams_give_every_character_one_token_and_queries_the_matching_phrase():
    # FTS5's unicode61 keeps the BREAK character as a token, so a phrase cannot bridge two runs.
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 0')")
    conn.executemany("INSERT INTO t VALUES (?)", [(tokenize.grams("及时公开低保、特困等人员"),),
                                                  (tokenize.grams("低，保"),)])
    count = "SELECT count(*) FROM t WHERE t MATCH ?"
    assert conn.execute(count, (tokenize.gram_phrase("低保"),)).fetchone()[0] == 1
    assert conn.execute(count, (tokenize.gram_phrase("低，保"),)).fetchone()[0] == 1
    assert conn.execute(count, (tokenize.gram_phrase("保特"),)).fetchone()[0] == 0
    assert tokenize.grams("公开低保，A股") == "公 开 低 保 a 股"
    assert tokenize.grams("低保，特困") == f"低 保 {tokenize.BREAK} 特 困"  # runs stay apart
    assert tokenize.gram_phrase("低保") == '"低" + "保"'
    assert tokenize.gram_phrase("微信公众号") == '"微" + "信" + "公" + "众" + "号"'
    assert tokenize.gram_phrase("保") == '"保"'
    assert tokenize.gram_phrase("，。") is None
    text = "打通平桥民政微信公众号载体，发布2024 年"
    assert [text[a:b] for a, b in tokenize.find_spans(text, "微信公众号")] == ["微信公众号"]
    assert [text[a:b] for a, b in tokenize.find_spans(text, "2024年")] == ["2024 年"]
    assert tokenize.find_spans(text, "载体发布") == []  # the comma breaks the run, as in the index


def test_fast_grams_equal_the_unit_tokens_snippets_are_built_from():
    # grams() (indexing) and units() (query phrases, snippet spans) must cut text identically.
    for path in sorted(FIXTURES.glob("*.txt")) + sorted(FIXTURES.glob("*.md")):
        text = decode(path.read_bytes())[0]
        assert tokenize.grams(text) == " ".join(tokenize._gram_tokens(tokenize.units(text))), path.name
    odd = "全角ＡＢＣ１２３ 〇 ㈠ 豈 İstanbul Straße ⅷ ½ a_b e\u0301"
    assert tokenize.grams(odd) == " ".join(tokenize._gram_tokens(tokenize.units(odd)))


# ---------------------------------------------------------------------------------------------
# Chinese search on the seeds


def test_two_character_word_low_income_allowance(db, seeds):
    # seed 001: "及时将低保、救灾等工作情况进行公示"; seed 002: "及时公开低保、特困等人员发放相关信息"
    hits = search(db, "低保")
    assert sorted(ids(hits)) == sorted([seeds["001"].id, seeds["002"].id])
    for h in hits:
        assert "【低保】" in h.snippet and h.field.startswith("sections.")


def test_wechat_official_account_only_where_written(db, seeds):
    # Only seed 002 writes 微信公众号 ("打通平桥民政微信公众号载体"); seed 004 has only 公众号.
    hits = search(db, "微信公众号")
    assert ids(hits) == [seeds["002"].id]
    assert "【微信公众号】" in hits[0].snippet
    assert seeds["004"].id in ids(search(db, "公众号"))


def test_policy_interpretation_best_first(db, seeds):
    # seed 000's 一、总体情况: "政策解读9条"; seed 001 only as a 统计表 row "3.政策解读稿件发布数".
    hits = search(db, "政策解读")
    assert ids(hits) == [seeds["000"].id, seeds["001"].id]
    assert hits[0].field == "sections.overview"
    assert "【政策解读】9条" in hits[0].snippet
    assert hits[0].score < hits[1].score  # bm25: lower is better


def test_common_word_in_every_report_ranks_most_mentions_first(db, seeds):
    hits = search(db, "信息公开")
    assert sorted(ids(hits)) == sorted(r.id for r in seeds.values())
    # seed 003 mentions 信息公开 64 times (the others 14–31) and has it in each of its problems.
    assert hits[0].id == seeds["003"].id
    assert [h.score for h in hits] == sorted(h.score for h in hits)
    assert all("【信息公开】" in h.snippet for h in hits)


def test_review_and_words_all_required(db, seeds):
    assert len(search(db, "复议")) == 5  # every report has its 复议 section
    # Words separated by spaces are all required: only seed 000 names a 热线 ("24小时值班热线").
    assert ids(search(db, "热线 复议")) == [seeds["000"].id]
    assert search(db, "低保 热线") == []


def test_query_word_matches_through_its_jieba_words(db, seeds):
    # 公开申请 is written in seeds 000, 002, 003 and 004 but never in seed 001, which writes
    # "依申请公开政府信息": the jieba words 公开 + 申请 near each other reach it too.
    hits = search(db, "公开申请")
    assert seeds["001"].id in ids(hits)
    by_id = {h.id: h for h in hits}
    assert "【公开申请】" in by_id[seeds["000"].id].snippet
    assert "【申请】【公开】" in by_id[seeds["001"].id].snippet


def test_nothing_found_and_nothing_to_search(db):
    assert search(db, "养老院") == []
    with pytest.raises(ValueError, match="nothing to search"):
        search(db, "，。！")
    # Query text never reaches FTS5 syntax: quotes and operators are just characters.
    assert search(db, 'NEAR("低保" OR') == []
    assert match_expression("") is None


# ---------------------------------------------------------------------------------------------
# Filters


def test_filters(db, seeds):
    assert ids(search(db, "信息公开", year=2016)) == [seeds["001"].id]
    assert ids(search(db, "信息公开", agency="卫辉")) == [seeds["004"].id]
    assert ids(search(db, "信息公开", province="湖南")) == [seeds["000"].id]
    assert ids(search(db, "信息公开", template="legacy")) == [seeds["001"].id]
    assert ids(search(db, "信息公开", level="district")) == [seeds["002"].id]
    # Table 三 new_received total: seed 000 received 1 application, 002/004 none; legacy seed 001's
    # 统计表 says 收到申请数 0; seed 003 has no table, so any bound leaves it out.
    assert ids(search(db, "信息公开", min_applications=1)) == [seeds["000"].id]
    assert sorted(ids(search(db, "信息公开", max_applications=0))) == sorted(
        seeds[k].id for k in ("001", "002", "004"))
    # has_problem: seed 001 "二是网上办事功能不够完善", "三是网上互动不够畅通"
    hits = search(db, "", has_problem="网上")
    assert ids(hits) == [seeds["001"].id]
    assert hits[0].field.startswith("narrative.problems") and "【网上】" in hits[0].snippet
    assert len(search(db, "", has_problem=True)) == 5


def test_filters_alone_list_newest_first(db, seeds):
    hits = search(db, "", year=2024)
    assert sorted(ids(hits)) == sorted([seeds["000"].id, seeds["002"].id])
    assert all(h.score is None and h.snippet == "" for h in hits)
    assert [h.year for h in search(db, "")][:3] == [2024, 2024, 2022]
    assert len(search(db, "", limit=2)) == 2


def test_filter_columns(db, seeds):
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT agency, province, city, level, year, template, applications_received, "
                       "applications_granted, withheld_total, review_total, litigation_total, "
                       "problems_count, improvements_count, platform_kinds, checks_failed "
                       "FROM reports WHERE id = ?", (seeds["000"].id,)).fetchone()
    assert row == ("益阳市民政局", "湖南省", "益阳市", "city", 2024, "2021", 1, 1, 0, 0, 0, 3, 3,
                   "hotline,other,website", 0)
    # Legacy seed 001: counts from its 统计表 (复议 1); its overview-vs-table check failed.
    row = conn.execute("SELECT applications_received, review_total, litigation_total, checks_failed, "
                       "checks_failed_ids FROM reports WHERE id = ?", (seeds["001"].id,)).fetchone()
    assert row == (0, 1, 0, 1, "overview.numbers_match_tables")
    conn.close()


# ---------------------------------------------------------------------------------------------
# Upserts, feeds of other years, rejected lines, migrations


def test_reindex_same_feed_is_idempotent(tmp_path, seed_feed):
    db = tmp_path / "i.sqlite"
    build_index(seed_feed, db)
    before = index_summary(db)
    stats = build_index(seed_feed, db)
    assert (stats.inserted, stats.updated, stats.unchanged) == (0, 0, 5)
    assert stats.migrations_applied == []
    assert index_summary(db) == before == {"reports": 5, "fts_rows": 5,
                                           "migrations": [name for name, _ in MIGRATIONS]}
    assert len(search(db, "低保")) == 2


def test_feed_of_other_years_adds_and_changed_record_replaces(tmp_path, seed_feed, seeds):
    db = tmp_path / "i.sqlite"
    build_index(seed_feed, db)
    later = [labelled_record(p) for p in LATER]
    stats = build_index(write_feed(tmp_path / "later.jsonl", later), db)
    assert (stats.inserted, stats.reports_total) == (2, 7)
    assert index_summary(db)["fts_rows"] == 7
    # 平潭 reports' problems: "政策解读形式不够丰富…" (2021), "政策解读形式单一…" (2022)
    found = ids(search(db, "政策解读"))
    assert set(found) == {seeds["000"].id, seeds["001"].id} | {r.id for r in later}
    assert ids(search(db, "政策解读", year=2022)) == [later[1].id]

    changed = seeds["004"].model_copy(deep=True)
    changed.meta.agency = "卫辉市民政事务局"
    changed.narrative.problems = changed.narrative.problems[:1]
    stats = build_index(write_feed(tmp_path / "fix.jsonl", [changed]), db)
    assert (stats.updated, stats.reports_total) == (1, 7)
    assert index_summary(db)["fts_rows"] == 7
    hit = search(db, "民政事务局")
    assert ids(hit) == [changed.id] and hit[0].agency == "卫辉市民政事务局"
    # The old FTS row is gone: the dropped problem ("信息报送意识有待加强") no longer matches
    # as a problem, though the words are still in the report's section text.
    assert search(db, "", has_problem="信息报送意识") == []
    assert ids(search(db, "信息报送意识")) == [changed.id]


def test_records_that_are_not_reports_are_indexed_but_hidden_by_default(tmp_path, seeds):
    not_report = Record(id="feedbeefcafe0001-r7", is_report=False,
                        source=Source(path="scrape.csv", sha256="f" * 64, format="csv", row=7,
                                      title="2024年政府网站工作年度报表 低保专栏"),
                        extraction=Extraction(extractor_version=extractor.__version__))
    db = tmp_path / "i.sqlite"
    build_index(write_feed(tmp_path / "feed.jsonl", [seeds["002"], not_report]), db)
    assert ids(search(db, "低保")) == [seeds["002"].id]
    hits = search(db, "低保", include_non_reports=True)
    assert sorted(ids(hits)) == sorted([seeds["002"].id, not_report.id])
    assert next(h for h in hits if h.id == not_report.id).field == "source.title"


def test_bad_lines_are_rejected_with_line_numbers(tmp_path, seeds):
    bad_year = json.loads(seeds["000"].model_dump_json())
    bad_year["meta"]["year"] = "2024"
    feed = write_feed(tmp_path / "feed.jsonl", [seeds["000"], seeds["002"]],
                      {2: '{"id": "truncated', 3: json.dumps(bad_year, ensure_ascii=False)})
    stats = build_index(feed, tmp_path / "i.sqlite")
    assert [n for n, _ in stats.rejected] == [2, 3]
    assert stats.rejected[0][1].startswith("line 2: not valid JSON")
    assert stats.rejected[1][1].startswith("line 3: field meta.year:")
    assert (stats.lines, stats.inserted, stats.reports_total) == (4, 2, 2)


def test_changed_tokenizer_is_caught_and_the_index_retokenised(tmp_path, seed_feed):
    db = tmp_path / "i.sqlite"
    build_index(seed_feed, db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE settings SET value = 'an older tokenizer' WHERE key = 'tokenizer'")
    conn.execute("DELETE FROM reports_fts")  # as if the old streams were useless now
    conn.commit()
    conn.close()
    with pytest.raises(SearchIndexError, match="run extractor index on it again"):
        search(db, "低保")
    stats = build_index(seed_feed, db)  # rebuilt from the stored record JSON
    assert (stats.retokenised, stats.unchanged) == (5, 5)
    assert len(search(db, "低保")) == 2


def test_index_of_the_jieba_words_era_is_migrated_and_retokenised(tmp_path, seed_feed, seeds):
    # An index made before 0004: its FTS table has the sixth column `words` and the old streams.
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, statements in MIGRATIONS:
        if name >= "0004":
            break
        for sql in statements:
            conn.execute(sql)
        conn.execute("INSERT INTO migrations VALUES (?, datetime('now'))", (name,))
    conn.execute("INSERT INTO settings VALUES ('tokenizer', 'grams-words-1')")
    conn.close()
    assert "words" in [r[1] for r in sqlite3.connect(db).execute("PRAGMA table_info(reports_fts)")]
    with pytest.raises(SearchIndexError, match="run extractor index on it again"):
        search(db, "低保")
    build_index(seed_feed, db)
    cols = [r[1] for r in sqlite3.connect(db).execute("PRAGMA table_info(reports_fts)")]
    assert "words" not in cols and "sections" in cols
    assert sorted(ids(search(db, "低保"))) == sorted([seeds["001"].id, seeds["002"].id])
    assert seeds["001"].id in ids(search(db, "公开申请"))  # the looser match, now on characters


def test_missing_index_is_not_created(tmp_path):
    missing = tmp_path / "none.sqlite"
    with pytest.raises(NoIndex, match="no index at .*none.sqlite: run extractor index first"):
        search(missing, "低保")
    assert not missing.exists()


def test_missing_feed_leaves_no_index(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_index(tmp_path / "nope.jsonl", tmp_path / "i.sqlite")
    assert not (tmp_path / "i.sqlite").exists()


# ---------------------------------------------------------------------------------------------
# OpenSearch export


def test_opensearch_export_fits_its_mapping(tmp_path, seed_feed, seeds):
    stats = export_opensearch(seed_feed, tmp_path / "os")
    assert (stats.documents, stats.rejected) == (5, [])
    body = json.loads((tmp_path / "os" / "mapping.json").read_text(encoding="utf-8"))
    props = body["mappings"]["properties"]
    assert body["mappings"]["dynamic"] == "strict"
    assert props["problems"]["properties"]["text"]["analyzer"] == "smartcn"
    lines = (tmp_path / "os" / "bulk.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10
    for action, source in zip(lines[0::2], lines[1::2]):
        action, doc = json.loads(action), json.loads(source)
        assert action == {"index": {"_index": "reports", "_id": doc["id"]}}
        assert document_problems(doc, props) == []
        assert Record.model_validate(doc["record"]).id == doc["id"]
    docs = {json.loads(s)["id"]: json.loads(s) for s in lines[1::2]}
    d0 = docs[seeds["000"].id]
    assert (d0["year"], d0["published"], d0["applications_received"]) == (2024, "2025-01-26", 1)
    # The checker catches what OpenSearch would refuse.
    assert document_problems({"id": "x", "colour": "red"}, props) == ["colour: not in the mapping"]
    assert document_problems({"year": "2024"}, props) == ['year: "2024" is not a valid integer']


def test_opensearch_mapping_types_match_the_record_schema():
    assert schema_mismatches() == []
    for analyzer in ("smartcn", "ik_max_word", "cjk"):
        assert schema_mismatches(analyzer) == []
    assert mapping("ik_max_word")["mappings"]["properties"]["agency"]["search_analyzer"] == "ik_smart"
    with pytest.raises(ValueError, match="unknown analyzer"):
        mapping("standard-ish")


# ---------------------------------------------------------------------------------------------
# CLI wrappers (extractor/cli.py registers these; run here through commands.main)


def test_cli_index_search_export_schema(tmp_path, seed_feed, seeds, capsys):
    db = tmp_path / "cli.sqlite"
    assert commands.main(["index", str(seed_feed), "--db", str(db)]) == 0
    assert "5 new" in capsys.readouterr().err

    assert commands.main(["search", "低保", "--db", str(db), "--json", "--year", "2024"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["id"] for h in hits] == [seeds["002"].id] and "【低保】" in hits[0]["snippet"]

    assert commands.main(["search", "微信公众号", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. 平桥区民政局") and "【微信公众号】" in out

    assert commands.main(["search", "低保", "--db", str(tmp_path / "missing.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no index at") and err.rstrip().endswith("run extractor index first")

    bad = write_feed(tmp_path / "bad.jsonl", [seeds["001"]], {2: "[]"})
    assert commands.main(["index", str(bad), "--db", str(db)]) == 1
    assert "line 2: field (record)" in capsys.readouterr().err
    assert commands.main(["index", str(tmp_path / "none.jsonl"), "--db", str(db)]) == 2
    assert "no feed at" in capsys.readouterr().err

    assert commands.main(["export", "--to", "opensearch", str(seed_feed), "-o", str(tmp_path / "os")]) == 0
    assert (tmp_path / "os" / "bulk.ndjson").exists() and (tmp_path / "os" / "mapping.json").exists()
    capsys.readouterr()

    assert commands.main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Record"


def test_cli_runs_as_a_process(tmp_path, db):
    # As a user runs it: a fresh interpreter, UTF-8 output, exit status.
    proc = subprocess.run([sys.executable, "-m", "extractor.index.commands", "search", "政策解读",
                           "--db", str(db), "--limit", "1"], cwd=ROOT, capture_output=True,
                          encoding="utf-8", env={"PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8",
                                                 "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "益阳市民政局" in proc.stdout and "【政策解读】" in proc.stdout


def test_every_subcommand_and_search_option_is_documented():
    import argparse
    parser = argparse.ArgumentParser(prog="extractor")
    sub = parser.add_subparsers()
    commands.register(sub)
    doc = (ROOT / "docs" / "search.md").read_text(encoding="utf-8")
    for name, p in sub.choices.items():
        assert f"extractor {name}" in doc, f"docs/search.md does not show `extractor {name}`"
        for action in p._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help":
                    assert opt in doc, f"docs/search.md does not mention {name} {opt}"
