"""The review site: built from a real feed (the five seeds and three Pingtan reports, extracted by
the real pipeline), checked as files and then opened in a real headless Chromium (Debian's
package, driven by Playwright)."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from extractor import audit

from helpers import FIXTURES, ROOT, SEEDS

from extractor.review.panel import CELL_COLUMNS, FINDING_COLUMNS
from extractor.review.source import source_segments

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PINGTAN = [FIXTURES / n for n in ("corpus_018_pingtan-zone-2016.txt", "corpus_021_pingtan-zone-2019.txt",
                                  "corpus_023_pingtan-zone-2021.txt")]
SCREENSHOT_ENV = "EXTRACTOR_REVIEW_SCREENSHOT"  # set to docs/review.png to refresh the README's picture


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "extractor.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def read_feed(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def script_data(path: Path, name: str):
    """The object a generated script file assigns (window.NAME=…;)."""
    text = path.read_text(encoding="utf-8")
    prefix = f"window.{name}="
    assert text.startswith(prefix)
    return json.loads(text[len(prefix):].rstrip().rstrip(";"))


def page_data(path: Path) -> dict:
    m = re.search(r'<script id="data" type="application/json">(.*?)</script>', path.read_text(encoding="utf-8"), re.S)
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review-feed") / "feed.jsonl"
    # paths relative to the repository, as a user in it would type them (and as the pages show them)
    cli("extract", *(str(p.relative_to(ROOT)) for p in SEEDS + PINGTAN), "-o", str(out), "-q", "--no-resume")
    return out


@pytest.fixture(scope="module")
def records(feed) -> list[dict]:
    return read_feed(feed)


def by_name(records, fragment: str) -> dict:
    return next(r for r in records if fragment in r["source"]["path"])


@pytest.fixture(scope="module")
def panel_dir(tmp_path_factory, records) -> Path:
    """A panel folder following `extractor panel`'s column contract (UTF-8 with BOM)."""
    folder = tmp_path_factory.mktemp("panel")
    z16, z19, z21 = (by_name(records, n) for n in ("corpus_018", "corpus_021", "corpus_023"))
    with open(folder / "findings.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FINDING_COLUMNS)
        w.writerow(["copied_section", "pingtan-zone", z19["source"]["path"], 2019, z21["source"]["path"], 2021,
                    "problems_improvements", "0.93", "", "", "section 五 of 2021 repeats 2019's"])
        w.writerow(["missing_year", "pingtan-zone", z16["source"]["path"], 2016, z19["source"]["path"], 2019,
                    "", "", "2017", "", "no report for 2017, 2018"])
    with open(folder / "cells.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CELL_COLUMNS)
        w.writerow([z19["id"], z19["source"]["path"], "", "pingtan-zone", 2019, "active_disclosure", "licensing",
                    "prior_year_items", "39", "settled", "by the 2020 report of the same agency: 上一年项目数量 39"])
        w.writerow([z19["id"], z19["source"]["path"], "", "pingtan-zone", 2019, "active_disclosure", "regulations",
                    "new_made", "0", "read", ""])
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory, feed) -> Path:
    out = tmp_path_factory.mktemp("site")
    cli("review", str(feed), "-o", str(out))
    return out


@pytest.fixture(scope="module")
def panel_site(tmp_path_factory, feed, panel_dir) -> Path:
    out = tmp_path_factory.mktemp("panel-site")
    cli("review", str(feed), "-o", str(out), "--panel", str(panel_dir))
    return out


# ---- the files ---------------------------------------------------------------------------------

def test_source_segments_put_every_span_on_its_own_text(records):
    """The source pane is rebuilt from the feed's sections; every cell span and grounded quote
    must read its own text there, and the rebuilt text must be the real normalised text."""
    from extractor.load import load_path
    from extractor.record import normalise
    checked = confirmed = 0
    for r in records:
        segs = source_segments(r)
        text = normalise(next(iter(load_path(ROOT / r["source"]["path"])))).text
        for s in segs:
            assert s["start"] <= s["body_start"] <= s["body_start"] + len(s["text"]) <= s["end"]
            if s["confirmed"]:  # placed by its spans: exactly where the normalised text has it
                assert text[s["body_start"]:s["body_start"] + len(s["text"])] == s["text"], (r["source"]["path"], s["key"])
                confirmed += 1
        for key, p in r["provenance"].items():
            seg = next((s for s in segs if s["body_start"] <= p["start"] and p["end"] <= s["body_start"] + len(s["text"])), None)
            if seg is not None:
                a = p["start"] - seg["body_start"]
                assert seg["text"][a:a + len(p["text"])] == p["text"], key
                checked += 1
    assert checked > 500 and confirmed >= 20


def test_index_data_lists_every_record_with_its_failed_checks(site, records):
    index = script_data(site / "data.js", "REVIEW_INDEX")
    fields = {f: i for i, f in enumerate(index["fields"])}
    assert len(index["rows"]) == len(records) == 8
    rows = {row[fields["file"]]: row for row in index["rows"]}
    for r in records:
        row = rows[r["source"]["path"]]
        failed = sorted(k for k, c in r["checks"].items() if c["status"] == "fail")
        assert sorted(row[fields["failed"]].split()) == failed
        assert (site / "r" / f"{row[fields['page']]}.html").exists()
        assert row[fields["source_problems"]] == audit.source_problems(r)  # issue 16's counts, sortable
        assert row[fields["extraction_problems"]] == audit.extraction_problems(r)
    assert rows[by_name(records, "seed_001")["source"]["path"]][fields["failed"]] == "overview.numbers_match_tables"


def test_seed_001_page_carries_the_119_vs_111_mismatch_and_where_119_is_written(site, records):
    r = by_name(records, "seed_001")
    data = page_data(site / "r" / f"{r['id']}.html")
    item = data["record"]["checks"]["overview.numbers_match_tables"]["items"][0]
    assert (item["left"], item["right"], item["status"]) == (119, 111, "fail")
    a, b = data["extra"]["check_spans"]["overview.numbers_match_tables/0"]
    segs = {s["key"]: s for s in source_segments(r)}
    ov = segs["overview"]
    assert ov["text"][a - ov["body_start"]:b - ov["body_start"]] == "主动公开政府信息119条"
    assert data["extra"]["scope_paths"]["overview.numbers_match_tables"] == ["legacy_statistics.keys.proactive_total"]


def test_same_agency_years_are_grouped(site, records):
    """The feed's meta.agency_key groups an agency's years (the zone, whatever its spelling)."""
    groups = script_data(site / "agencies.js", "REVIEW_AGENCIES")
    zone = groups["350128:平潭综合实验区"]
    assert [y for _, y, _ in zone] == [2016, 2019, 2021]


def test_agency_key_groups_spellings_when_the_feed_has_it(tmp_path, records):
    """meta.agency_key (one key per agency, whatever the spelling) wins over meta.agency."""
    lines = []
    for r in records:
        r = json.loads(json.dumps(r))
        if "pingtan" in r["source"]["path"]:
            r["meta"]["agency_key"] = "fj-pingtan-zone"
            if "2021" in r["source"]["path"]:
                r["meta"]["agency"] = "平潭综合实验区管委会"
        lines.append(json.dumps(r, ensure_ascii=False))
    feed = tmp_path / "keyed.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("review", str(feed), "-o", str(tmp_path / "site"))
    groups = script_data(tmp_path / "site" / "agencies.js", "REVIEW_AGENCIES")
    assert list(groups) == ["fj-pingtan-zone"]
    assert [y for _, y, _ in groups["fj-pingtan-zone"]] == [2016, 2019, 2021]


def test_a_rerun_leaves_no_orphan_pages(tmp_path, feed):
    out = tmp_path / "site"
    cli("review", str(feed), "-o", str(out))
    one = tmp_path / "one.jsonl"
    one.write_text(feed.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    cli("review", str(one), "-o", str(out))
    assert len(list((out / "r").glob("*.html"))) == 1


def test_site_is_self_contained(site):
    """No script, style or image is fetched from anywhere but the site itself."""
    for f in site.rglob("*"):
        if f.suffix in (".html", ".css", ".js") and f.is_file():
            text = f.read_text(encoding="utf-8")
            assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text), f
            assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text), f
            assert "@import" not in text and "fetch(" not in text, f


def test_panel_findings_and_settled_cells_reach_the_pages(panel_site, records):
    index = script_data(panel_site / "data.js", "REVIEW_INDEX")
    fields = {f: i for i, f in enumerate(index["fields"])}
    rows = {row[fields["file"]]: row for row in index["rows"]}
    z19 = by_name(records, "corpus_021")
    assert rows[z19["source"]["path"]][fields["findings"]] == 2
    assert rows[z19["source"]["path"]][fields["copied"]] == 1
    assert rows[by_name(records, "corpus_018")["source"]["path"]][fields["copied"]] == 0
    data = page_data(panel_site / "r" / f"{z19['id']}.html")
    assert {f["kind"] for f in data["extra"]["findings"]} == {"copied_section", "missing_year"}
    # a plain read is not carried to the page; the settled cell is
    assert list(data["extra"]["cells"]) == ["tables.active_disclosure.licensing.prior_year_items"]


def test_panel_without_the_contract_columns_is_a_clear_error(tmp_path, feed):
    (tmp_path / "findings.csv").write_text("\ufeffkind,file\ncopied_section,x\n", encoding="utf-8")
    proc = cli("review", str(feed), "-o", str(tmp_path / "site"), "--panel", str(tmp_path), check=False)
    assert proc.returncode == 2
    assert "missing columns" in proc.stderr and "agency_key" in proc.stderr


def test_a_bad_feed_line_is_reported_and_the_rest_written(tmp_path, feed):
    lines = feed.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], "{not json", lines[1]]) + "\n", encoding="utf-8")
    proc = cli("review", str(bad), "-o", str(tmp_path / "site"), check=False)
    assert proc.returncode == 1
    assert "bad.jsonl:2: not a record" in proc.stderr
    assert len(list((tmp_path / "site" / "r").glob("*.html"))) == 2


# ---- in the browser ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        yield ctx
        ctx.close()


class Page:
    """A page opened from disk, with every console error and uncaught exception collected."""

    def __init__(self, ctx, path: Path, width: int = 1280):
        self.errors: list[str] = []
        self.page = ctx.new_page()
        self.page.set_viewport_size({"width": width, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=15000)

    def close(self):
        assert self.errors == []
        self.page.close()


def test_browser_index_lists_every_record_and_filters(browser, site, records):
    p = Page(browser, site / "index.html")
    rows = p.page.locator("#rows tr")
    assert rows.count() == len(records)
    seed1 = p.page.locator("#rows tr", has_text="seed_001")
    assert "overview.numbers_match_tables" in seed1.inner_text()
    p.page.check("input[data-flag=fail]")
    failing = [r for r in records if any(c["status"] == "fail" for c in r["checks"].values())]
    assert rows.count() == len(failing) < len(records)  # audit.* findings are failed checks too
    assert "seed_001" in " ".join(rows.all_inner_texts())
    p.page.uncheck("input[data-flag=fail]")
    p.page.select_option("select[data-f=template]", "2021")
    assert rows.count() == sum(r["template"] == "2021" for r in records)
    p.page.select_option("select[data-f=template]", "")
    p.page.click("th[data-sort=year]")
    years = [t.strip() for t in p.page.locator("#rows tr td:nth-child(3)").all_inner_texts()]
    assert [y for y in years if y] == sorted(y for y in years if y)
    p.page.click("#rows tr:has-text('seed_001') a")
    p.page.wait_for_selector("body[data-ready='1']")
    assert "焦作市民政局" in p.page.title()
    p.close()


def test_browser_seed_001_shows_119_against_111_and_the_sentence(browser, site, records, tmp_path):
    r = by_name(records, "seed_001")
    p = Page(browser, site / "r" / f"{r['id']}.html")
    check = p.page.locator(".check.fail", has_text="overview.numbers_match_tables")
    assert "119 ≠ 111" in check.inner_text()
    assert "主动公开政府信息119条" in check.inner_text()
    check.locator("[data-span^='check:']").click()
    hit = "".join(p.page.locator(".source-text .hit").all_inner_texts())
    assert hit == "主动公开政府信息119条"
    shot = tmp_path / "seed_001.png"
    p.page.evaluate("window.scrollTo(0, 0)")
    p.page.screenshot(path=str(shot))  # the README's picture: the mismatch and its sentence
    assert shot.stat().st_size > 20000
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(shot, ROOT / os.environ[SCREENSHOT_ENV])
    check.locator("text=show the table value").click()
    assert "".join(p.page.locator(".source-text .hit").all_inner_texts()) == "111"
    p.close()


def _span_visible(page) -> dict:
    return page.evaluate("""() => {
        const pane = document.getElementById('source').getBoundingClientRect();
        const el = document.querySelector('.source-text .hit').getBoundingClientRect();
        return {inPane: el.top >= pane.top && el.bottom <= pane.bottom,
                inWindow: el.top >= 0 && el.bottom <= window.innerHeight};
    }""")


def test_browser_clicking_a_cell_highlights_its_source_span(browser, site, records, tmp_path):
    r = by_name(records, "seed_000")
    p = Page(browser, site / "r" / f"{r['id']}.html")
    # the table 三 has the template's 25 rows (2021: （六）其他处理 in three)
    assert p.page.locator("table.apps tr[data-row]").count() == 25
    path = "tables.applications.rows.results_total.total"
    span = r["provenance"][path]
    cell = p.page.locator(f"td.c[data-p='{path}']")
    assert cell.inner_text() == str(r["tables"]["applications"]["rows"]["results_total"]["total"])
    cell.click()
    hits = p.page.locator(".source-text .hit")
    assert "".join(hits.all_inner_texts()) == span["text"]
    assert [int(hits.first.get_attribute("data-a")), int(hits.last.get_attribute("data-b"))] == [span["start"], span["end"]]
    assert _span_visible(p.page) == {"inPane": True, "inWindow": True}
    assert "selected" in cell.get_attribute("class")
    assert path in p.page.locator("#span-info").inner_text()
    # a narrative quote: highlighted in the text, and a click finds it
    quote = r["narrative"]["problems"][0]
    p.page.locator("[data-span='n:problems/0']").click()
    assert "".join(hits.all_inner_texts()) == quote["evidence"]
    p.page.locator("td.c[data-p='tables.review_litigation.review.total']").click()
    shot = tmp_path / "review.png"
    p.page.locator("td.c[data-p='tables.applications.rows.new_received.total']").click()
    p.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20000
    p.close()


def test_browser_null_and_settled_cells_say_why(browser, panel_site, records):
    z19 = by_name(records, "corpus_021")
    p = Page(browser, panel_site / "r" / f"{z19['id']}.html")
    null = p.page.locator("td.c[data-p='tables.active_disclosure.punishment.decisions']")
    assert "null" in null.get_attribute("class") and null.inner_text() == "null"
    null.click()
    assert "punishment: digits" in p.page.locator("#span-info").inner_text()
    settled = p.page.locator("td.c[data-p='tables.active_disclosure.licensing.prior_year_items']")
    assert "settled" in settled.get_attribute("class") and settled.inner_text() == "39"
    assert "2020 report" in settled.get_attribute("title")
    findings = p.page.locator("table.findings")
    assert "copied_section" in findings.inner_text() and "missing_year" in findings.inner_text()
    # the other years of the agency link to their pages
    links = p.page.locator(".years a")
    assert sorted(links.all_inner_texts()) == ["2016", "2021"]
    links.first.click()
    p.page.wait_for_selector("body[data-ready='1']")
    assert "2016" in p.page.title()
    p.close()


def test_browser_index_with_a_panel_filters_copied_sections(browser, panel_site, records):
    p = Page(browser, panel_site / "index.html")
    assert p.page.locator("th[data-sort=findings]").count() == 1
    p.page.check("input[data-flag=copied]")
    rows = p.page.locator("#rows tr")
    assert sorted(t.split("\t")[0] for t in rows.all_inner_texts()) == sorted(
        by_name(records, n)["source"]["path"] for n in ("corpus_021", "corpus_023"))
    assert "copied" in rows.first.inner_text()
    p.close()


def test_browser_markup_in_the_feed_is_shown_as_text(browser, tmp_path, records):
    """A report's text is data: '</script>' or tags in it neither break the page nor run."""
    r = json.loads(json.dumps(by_name(records, "seed_000")))
    evil = "</script><script>window.PWNED=1</script><b>bold</b>"
    r["errors"].append({"stage": "load", "message": evil})
    r["meta"]["agency"] = "<img src=x onerror=window.PWNED=2>益阳市民政局"
    feed = tmp_path / "evil.jsonl"
    feed.write_text(json.dumps(r, ensure_ascii=False) + "\n", encoding="utf-8")
    cli("review", str(feed), "-o", str(tmp_path / "site"))
    for path in (tmp_path / "site" / "index.html", tmp_path / "site" / "r" / f"{r['id']}.html"):
        p = Page(browser, path)
        assert p.page.evaluate("window.PWNED") is None
        assert p.page.locator("b", has_text="bold").count() == 0
        p.close()
    p = Page(browser, tmp_path / "site" / "r" / f"{r['id']}.html")
    assert evil in p.page.locator("h2:has-text('Errors') + ul").inner_text()
    p.close()


@pytest.mark.parametrize("page", ["index", "seed_000"])
def test_browser_phone_width_has_no_sideways_page_scroll(browser, site, records, page):
    path = site / "index.html" if page == "index" else site / "r" / f"{by_name(records, page)['id']}.html"
    p = Page(browser, path, width=390)
    width, wide = p.page.evaluate("""() => [document.documentElement.scrollWidth,
        Array.from(document.querySelectorAll('*')).filter(e => e.getBoundingClientRect().right > 391
            && !e.parentElement.closest('.scroll-x, .source-pane')).map(e => e.tagName + '.' + e.className)]""")
    assert width <= 391, wide
    if page == "index":  # the header cells shown line up with the row cells shown
        shown = p.page.evaluate("""() => [...['thead th', '#rows tr:first-child td']].map(sel =>
            Array.from(document.querySelectorAll(sel)).filter(e => getComputedStyle(e).display !== 'none').length)""")
        assert shown[0] == shown[1] and shown[0] >= 7
    fonts = p.page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in fonts
    p.close()


def test_browser_every_fixture_page_opens_without_errors(browser, tmp_path):
    """All 44 records of evals/fixtures (PDF, CSV exports with non-report rows, OCR markdown,
    legacy tables): each page draws, and every read cell's span is marked in the source text."""
    feed = tmp_path / "fixtures.jsonl"
    cli("extract", str(FIXTURES.relative_to(ROOT)), "-o", str(feed), "-q", "--no-resume", check=False)
    records = read_feed(feed)
    assert len(records) >= 40
    cli("review", str(feed), "-o", str(tmp_path / "site"))
    index = Page(browser, tmp_path / "site" / "index.html")
    assert "of %d records" % len(records) in index.page.locator("#count").inner_text()
    index.close()
    for r in records:
        p = Page(browser, tmp_path / "site" / "r" / f"{r['id']}.html")
        marked = set(p.page.evaluate("""() => Array.from(document.querySelectorAll('.source-text .p.cell'))
                                           .map(e => e.dataset.a)"""))
        starts = {str(v["start"]) for v in r["provenance"].values()}
        assert starts <= marked, (r["source"]["path"], sorted(starts - marked)[:5])
        p.close()
