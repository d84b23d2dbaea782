"""Copied-section detection at scale: 100,000 sections 五 through the panel's CopyFinder
(datasketch MinHash, LSH bands on disk, rapidfuzz verification). Time and peak memory.

Sections are made by mutating the real ones (sections 一 and 五 of the eval fixtures and the
Pingtan series): sentences dropped, swapped in from other reports, 我区/我县 swapped, figures
changed; one report in ten reprints its agency's previous year, one in fifty another agency's
text of the same year. `--in-memory` measures datasketch's own MinHashLSH (dict storage) on the
same sections instead, for the comparison in docs/panel.md.

    python benchmarks/bench_copies.py --sections 100000
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
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from memory import peak_rss_mib  # noqa: E402

from extractor.panel.copies import LSH_THRESHOLD, NUM_PERM, CopyFinder, normalise, shingles  # noqa: E402

SWAPS = [("我区", "我县"), ("我局", "我委"), ("管委会", "人民政府")]


def real_sections(work: Path) -> list[str]:
    feed = work / "real.jsonl"
    subprocess.run([sys.executable, "-m", "extractor.cli", "extract", str(ROOT / "evals" / "fixtures"),
                    str(ROOT / "tests" / "data" / "pingtan"), "-o", str(feed), "--llm", "rules", "-q"],
                   cwd=ROOT, check=True, capture_output=True)
    out = []
    for line in feed.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for k in ("overview", "problems_improvements"):
            text = ((rec.get("sections") or {}).get(k) or {}).get("text") or ""
            if len(text) > 200:
                out.append(text)
    return out


def synthetic(real: list[str], n: int, seed: int = 11):
    rng = random.Random(seed)
    pool = [s for t in real for s in re.split(r"(?<=[。；])", t) if len(s) > 8]
    last: dict[int, str] = {}
    by_year: dict[int, str] = {}
    for i in range(n):
        agency, year = i // 10, 2016 + i % 10
        r = rng.random()
        if r < 0.1 and agency in last:
            text = last[agency]
        elif r < 0.12 and year in by_year:
            text = by_year[year].replace("我区", "我县")
        else:
            base = [s for s in re.split(r"(?<=[。；])", rng.choice(real)) if s]
            text = "".join(rng.choice(pool) if rng.random() < 0.5 else s for s in base if rng.random() > 0.2)
            text = re.sub(r"\d+", lambda m: str(rng.randint(1, 999)), text)
            for a, b in SWAPS:
                if rng.random() < 0.5:
                    text = text.replace(a, b)
        last[agency] = by_year[year] = text
        yield i, f"agency{agency}", year, {"sections": {"problems_improvements": {"text": text}}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sections", type=int, default=100_000)
    ap.add_argument("--in-memory", action="store_true", help="datasketch MinHashLSH with its dict storage instead")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        real = real_sections(Path(tmp))
        rss0 = peak_rss_mib()
        t0, c0 = time.perf_counter(), time.process_time()
        if args.in_memory:
            from datasketch import MinHash, MinHashLSH
            template = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=zlib.crc32)
            lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
            candidates = 0
            for i, _, _, rec in synthetic(real, args.sections):
                m = MinHash(num_perm=NUM_PERM, permutations=template.permutations, scheme=template.scheme,
                            hashfunc=zlib.crc32)
                m.update_batch(shingles(normalise(rec["sections"]["problems_improvements"]["text"])))
                candidates += len(lsh.query(m))
                lsh.insert(i, m)
            t1 = time.perf_counter()
            rss = peak_rss_mib()
            print(f"{args.sections} sections, datasketch MinHashLSH in memory: {t1 - t0:.1f} s wall, "
                  f"{time.process_time() - c0:.1f} s CPU, "
                  f"{candidates} candidate pairs, peak RSS {rss:.0f} MiB (before: {rss0:.0f} MiB)")
            return
        finder = CopyFinder(str(Path(tmp) / "copies.sqlite"))
        for i, key, year, rec in synthetic(real, args.sections):
            finder.add(i, key, year, rec)
        t1 = time.perf_counter()
        verified = sum(1 for _ in finder.pairs())
        t2 = time.perf_counter()
        candidates = finder.candidates
        finder.close()
        rss = peak_rss_mib()
        print(f"{args.sections} sections (from {len(real)} real ones): MinHash + bands {t1 - t0:.1f} s, "
              f"candidates + verification {t2 - t1:.1f} s ({candidates} candidate pairs, {verified} copies), "
              f"total {t2 - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU "
              f"({args.sections / (time.process_time() - c0):.0f} sections per CPU second); peak RSS {rss:.0f} MiB "
              f"(before: {rss0:.0f} MiB)")


if __name__ == "__main__":
    main()
