"""Throughput of the deterministic stage (template, sections, meta, tables, checks) on one core.

Measures REAL reports: every labelled fixture in evals/fixtures (text, markdown, PDF, CSV rows),
loaded once up front (loading is not the stage measured), then `extract_record` timed on each,
round after round, in this one process. Prints reports per second and per-report p50 / p99.
`--synthetic N` also times N synthetic 2021-format reports (benchmarks/synth.py), printed
separately: they are shorter and cleaner than real reports and flatter the figure.

    python benchmarks/bench_deterministic.py [--rounds 50] [--synthetic 0] [--profile]
"""
from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from extractor.document import Document  # noqa: E402
from extractor.load import load_path  # noqa: E402
from extractor.record import extract_record  # noqa: E402


def real_documents() -> list[Document]:
    """Every report among the fixtures, as the loaders give it (non-reports in CSVs included:
    the stage classifies them too)."""
    docs: list[Document] = []
    for path in sorted((ROOT / "evals" / "fixtures").iterdir()):
        if path.name.endswith(".md") and "SOURCES" in path.name:
            continue
        try:
            docs.extend(load_path(path))
        except Exception as exc:  # pragma: no cover - a fixture the loaders cannot read
            print(f"skipped {path.name}: {exc}", file=sys.stderr)
    return docs


def _time(docs: list[Document], rounds: int) -> tuple[float, float, list[float], list[float]]:
    """(wall seconds, CPU seconds of this process, CPU seconds of each round, per-report CPU
    seconds). CPU time is the figure for "one core": on a machine shared with other work, wall
    time also counts the time the scheduler gave to others, and the fastest round is the one
    least slowed by them (caches and cores shared with other processes, a virtual machine's
    stolen time); the median round is what a round typically gets."""
    times = []
    per_round = []
    started, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        r0 = time.process_time()
        for doc in docs:
            t0 = time.process_time()
            extract_record(doc)
            times.append(time.process_time() - t0)
        per_round.append(time.process_time() - r0)
    return time.perf_counter() - started, time.process_time() - cpu0, per_round, times


def _report(name: str, docs: list[Document], wall: float, cpu: float, rounds: list[float], times: list[float]) -> None:
    times = sorted(times)
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000
    chars = sum(len(d.text) for d in docs) / len(docs)
    n = len(times)
    print(f"{name}: {len(docs)} reports x {n // len(docs)} rounds, {chars:.0f} chars on average")
    print(f"  deterministic stage, one core: {n / cpu:.0f} reports/s of CPU time, "
          f"{len(docs) / min(rounds):.0f} reports/s in the fastest round, "
          f"{len(docs) / statistics.median(rounds):.0f} in the median round ({n / wall:.0f} reports/s of wall time)")
    print(f"  per report (CPU): p50 {p(0.50):.2f} ms  p99 {p(0.99):.2f} ms  max {times[-1] * 1000:.2f} ms  "
          f"mean {statistics.mean(times) * 1000:.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=50, help="passes over the real reports (default 50)")
    ap.add_argument("--synthetic", type=int, default=0, help="also time this many synthetic reports")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="cProfile one pass instead, top 25 by own time")
    args = ap.parse_args()
    docs = real_documents()
    for doc in docs:
        extract_record(doc)  # compile patterns, load the template, warm caches
    gc.freeze()  # as run_batch does before its first file: long-lived objects out of the collector's passes
    if args.profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        _time(docs, max(1, args.rounds // 10))
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return
    _report("real reports (evals/fixtures)", docs, *_time(docs, args.rounds))
    if args.synthetic:
        from synth import random_report
        rng = random.Random(args.seed)
        synth = [Document(text=random_report(rng)[0], path=f"s{i}.txt", sha256=f"{i:064d}", format="txt")
                 for i in range(args.synthetic)]
        _report("synthetic 2021-format reports (benchmarks/synth.py, 6 layouts)", synth, *_time(synth, 1))


if __name__ == "__main__":
    main()
