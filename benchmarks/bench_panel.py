"""`extractor panel` at scale: peak memory for N and 10×N records, and rows written per second.

The feed is made from the real Pingtan series (tests/data/pingtan, extracted with the real
pipeline once): each synthetic record is a real record under a new id, agency and year, with
sections 一/五 mutated (sentences dropped, swapped in from other reports, 我区/我县 swapped), so
that the copy finder meets realistic near-duplicates and the cross-year checks real tables.
Each size runs in a fresh process, so its peak RSS is its own.

    python benchmarks/bench_panel.py --records 2000 20000
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from memory import peak_rss_mib  # noqa: E402

SWAPS = [("我区", "我县"), ("区", "县"), ("管委会", "人民政府")]


def real_records(work: Path) -> list[dict]:
    feed = work / "pingtan.jsonl"
    subprocess.run([sys.executable, "-m", "extractor.cli", "extract", str(ROOT / "tests" / "data" / "pingtan"),
                    "-o", str(feed), "--llm", "rules", "-q"], cwd=ROOT, check=True, capture_output=True)
    return [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line.strip()]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。；])", text) if s]


def mutate(text: str, pool: list[str], rng: random.Random) -> str:
    out = []
    for s in sentences(text):
        r = rng.random()
        if r < 0.25:
            continue
        out.append(rng.choice(pool) if r < 0.6 else s)
    text = "".join(out)
    for a, b in SWAPS:
        if rng.random() < 0.5:
            text = text.replace(a, b)
    return text


def write_feed(path: Path, base: list[dict], n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    reports = [r for r in base if r.get("is_report") and r["meta"].get("year")]
    pool = [s for r in reports for k in ("overview", "problems_improvements")
            for s in sentences(((r["sections"].get(k) or {}).get("text")) or "")]
    years = 15
    with open(path, "w", encoding="utf-8") as fh:
        previous: dict[str, dict] = {}
        for i in range(n):
            agency, year = i // years, 2011 + i % years
            rec = json.loads(json.dumps(rng.choice(reports)))
            rec["id"] = f"{i:016x}"
            rec["source"]["path"] = f"synthetic/agency{agency:05d}/{year}.txt"
            rec["meta"]["agency"] = f"合成机构{agency:05d}"
            if "agency_key" in rec["meta"]:
                rec["meta"]["agency_key"] = f"synthetic:{agency:05d}"
            rec["meta"]["year"] = year
            for k in ("overview", "problems_improvements"):
                sec = rec["sections"].get(k)
                if not sec:
                    continue
                if k in previous and rng.random() < 0.1:  # one in ten reprints last year's text
                    sec["text"] = previous[k]
                else:
                    sec["text"] = mutate(sec["text"], pool, rng)
                previous[k] = sec["text"]
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def run_one(feed: str, out: str) -> None:
    from extractor.panel import build_panel
    t0, c0 = time.perf_counter(), time.process_time()
    summary = build_panel([feed], out)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss = peak_rss_mib()
    rows = sum(summary.rows.values())
    print(json.dumps({"records": summary.records, "seconds": round(seconds, 2), "cpu": round(cpu, 2),
                      "rows": summary.rows, "rows_per_s": round(rows / cpu),
                      "records_per_s": round(summary.records / cpu),
                      "peak_rss_mib": round(rss, 1), "findings": dict(summary.findings),
                      "settled": summary.settled_cells}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        run_one(*args.run)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = real_records(work)
        for n in args.records:
            feed = work / f"feed-{n}.jsonl"
            write_feed(feed, base, n)
            mb = feed.stat().st_size / 2**20
            proc = subprocess.run([sys.executable, __file__, "--run", str(feed), str(work / f"panel-{n}")],
                                  cwd=ROOT, capture_output=True, text=True, check=True)
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{n:>7} records ({mb:.0f} MiB feed): {result['seconds']} s wall, {result['cpu']} s CPU; per CPU "
                  f"second {result['records_per_s']} records, {result['rows_per_s']} rows; peak RSS {result['peak_rss_mib']} MiB; rows {result['rows']}; "
                  f"findings {result['findings']}; settled {result['settled']}")
            feed.unlink()


if __name__ == "__main__":
    main()
