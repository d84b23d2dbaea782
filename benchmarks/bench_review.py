"""Review-site figures: `extractor review` on a large feed, and how fast its pages open.

Extracts the real text fixtures (the five seeds and the corpus's text reports) with the real
pipeline, repeats those records to N lines with distinct ids and file names, runs
`extractor review` on that feed as a user would, then opens index.html and one record page in
headless Chromium (Debian's, through Playwright) and prints the load times.

    python benchmarks/bench_review.py [--records 20000] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "evals" / "fixtures"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def cli(*args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "extractor.cli", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def big_feed(folder: Path, n: int) -> Path:
    real = folder / "real.jsonl"
    inputs = sorted(str(p) for p in FIXTURES.iterdir() if p.suffix in (".txt", ".md"))
    cli("extract", *inputs, "-o", str(real), "-q", "--no-resume")
    lines = [json.loads(l) for l in real.read_text(encoding="utf-8").splitlines() if l.strip()]
    feed = folder / "feed.jsonl"
    with open(feed, "w", encoding="utf-8") as out:
        for i in range(n):
            r = json.loads(json.dumps(lines[i % len(lines)]))
            r["id"] = f"{r['id'][:8]}{i:08x}"
            p = Path(r["source"]["path"])
            r["source"]["path"] = str(p.with_name(f"{p.stem}-{i:05d}{p.suffix}"))
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    return feed


def open_times(site: Path, record_page: Path) -> dict:
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    out = {}
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True,
                                                   args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        for name, path in (("index", site / "index.html"), ("record", record_page)):
            for attempt in ("cold", "warm"):
                page = ctx.new_page()
                started = time.perf_counter()
                page.goto(path.as_uri())
                page.wait_for_selector("body[data-ready='1']")
                wall = time.perf_counter() - started
                nav = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                out[f"{name} {attempt}"] = (wall, nav / 1000)
                if name == "index" and attempt == "warm":
                    for label, action in (("filter 'has failed checks'", "input[data-flag=fail]"),
                                          ("sort by year", "th[data-sort=year]")):
                        t = time.perf_counter()
                        page.click(action)
                        page.wait_for_timeout(0)
                        out[label] = (time.perf_counter() - t, None)
                page.close()
        ctx.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--keep", default=None, help="write the feed and site here instead of a temp folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        feed = big_feed(folder, args.records)
        site = folder / "site"
        shutil.rmtree(site, ignore_errors=True)
        seconds = cli("review", str(feed), "-o", str(site))
        pages = list((site / "r").glob("*.html"))
        size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
        print(f"feed: {args.records} records, {feed.stat().st_size / 2**20:.0f} MiB")
        print(f"extractor review: {seconds:.1f} s ({args.records / seconds:.0f} records/s), "
              f"{len(pages)} pages, site {size / 2**20:.0f} MiB, data.js {(site / 'data.js').stat().st_size / 2**20:.2f} MiB")
        seed1 = next(f for f in pages if f.name.startswith(("314670ee",)))  # seed 001's page
        for name, (wall, nav) in open_times(site, seed1).items():
            print(f"open {name}: {wall:.2f} s" + (f" (load event at {nav:.2f} s)" if nav is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
