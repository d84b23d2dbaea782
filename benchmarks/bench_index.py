"""Throughput of `extractor index` on a feed of real reports.

Extracts the eval fixtures (real reports: seeds and corpus) once with the offline `rules`
narrative, then repeats their records with distinct ids (and distinct paths) until the feed holds
`--reports` lines, and times `build_index` on it into a fresh SQLite file. Prints reports per
second (wall clock, and per CPU-second: the machine may be shared), the index size, and the time
of a few searches over the result; `--profile` shows where the indexing time goes.

    python benchmarks/bench_index.py [--reports 3000] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.index.sqlite_index import build_index, search  # noqa: E402

QUERIES = ("低保", "信息公开", "公开申请", "微信公众号 热线", "复议")


def real_records(tmp: Path) -> list[dict]:
    """The fixtures' records, as `extractor extract --llm rules` writes them."""
    feed = tmp / "fixtures.jsonl"
    subprocess.run([sys.executable, "-m", "extractor.cli", "extract", str(ROOT / "evals" / "fixtures"),
                    "-o", str(feed), "--llm", "rules", "--workers", "1", "-q", "--no-resume"],
                   check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line.strip()]


def make_feed(records: list[dict], n: int, path: Path) -> int:
    chars = 0
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            rec = json.loads(json.dumps(records[i % len(records)]))
            rec["id"] = f"{i:016x}"
            rec["source"]["path"] = f"bench/{i:06d}/{rec['source']['path'].rsplit('/', 1)[-1]}"
            line = json.dumps(rec, ensure_ascii=False)
            chars += sum(len(s.get("text") or "") for s in (rec.get("sections") or {}).values() if s)
            fh.write(line + "\n")
    return chars


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=3000)
    ap.add_argument("--profile", action="store_true", help="print the top functions by cumulative time")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        records = real_records(tmp)
        feed = tmp / "feed.jsonl"
        chars = make_feed(records, args.reports, feed)
        db = tmp / "index.sqlite"
        prof = cProfile.Profile() if args.profile else None
        t0, c0 = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        stats = build_index(feed, db)
        if prof:
            prof.disable()
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"real records: {len(records)} distinct (evals/fixtures), feed: {stats.lines} lines, "
              f"{chars / max(1, stats.lines):.0f} section chars per report")
        print(f"indexed {stats.inserted} reports in {secs:.2f} s: {stats.inserted / secs:.0f} reports/s "
              f"(CPU {cpu:.2f} s: {stats.inserted / cpu:.0f} reports per CPU-second on one core)")
        print(f"index file: {db.stat().st_size / 2**20:.1f} MB")
        for q in QUERIES:
            search(db, q, limit=20)  # warm: jieba's dictionary is loaded by the first query
            t0 = time.perf_counter()
            hits = search(db, q, limit=20)
            print(f"search {q!r}: {(time.perf_counter() - t0) * 1000:.0f} ms, {len(hits)} hits shown")
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
