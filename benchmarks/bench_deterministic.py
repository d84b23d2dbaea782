"""Throughput of the deterministic stage (template, sections, meta, tables, checks) on one core.

Generates varied reports — synthetic 2021-format reports in every text layout plus the real text
fixtures — and times `extract_record` on each, in this one process. Prints reports per second
and the per-report p50 / p99.

    python benchmarks/bench_deterministic.py [--reports 1000] [--seed 1]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from extractor.document import Document  # noqa: E402
from extractor.record import extract_record  # noqa: E402
from synth import random_report  # noqa: E402


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    real = [p.read_text(encoding="utf-8-sig") for p in sorted((ROOT / "evals" / "fixtures").glob("*.txt"))]
    real += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "evals" / "fixtures").glob("*.md"))
             if "SOURCES" not in p.name]
    texts = []
    for i in range(n):
        texts.append(rng.choice(real) if i % 5 == 0 else random_report(rng)[0])
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    texts = corpus(args.reports, args.seed)
    extract_record(Document(text=texts[0], path="warm.txt", sha256="0" * 64, format="txt"))  # compile patterns
    times = []
    started = time.perf_counter()
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        extract_record(Document(text=text, path=f"r{i}.txt", sha256=f"{i:064d}", format="txt"))
        times.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000
    chars = sum(len(t) for t in texts)
    print(f"reports: {len(texts)} (1 in 5 a real fixture, the rest synthetic in 6 layouts), "
          f"{chars / len(texts):.0f} chars on average")
    print(f"deterministic stage, one core: {len(texts) / wall:.0f} reports/s")
    print(f"per report: p50 {p(0.50):.2f} ms  p99 {p(0.99):.2f} ms  max {times[-1] * 1000:.2f} ms  "
          f"mean {statistics.mean(times) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
