"""Whole-batch figures: throughput against --workers, and peak memory against batch size.

Writes N report files to a temp folder — the texts of the real fixtures (every document the
loaders give for evals/fixtures, as bench_deterministic.py times them), cycled, each copy made
distinct — runs `extractor extract` on them as a user would, and prints wall time, reports per
second and the peak resident memory of the extract process (VmHWM).

    python benchmarks/bench_batch.py [--reports 1000] [--workers 1 2] [--memory 1000 10000]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_deterministic import real_documents  # noqa: E402


def write_reports(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    texts = [d.text for d in real_documents()]
    for i in range(n):
        (folder / f"r{i:05d}.txt").write_text(texts[i % len(texts)] + f"\n（第{i}份）\n", encoding="utf-8")


# The CLI, reporting its own peak RSS (VmHWM) on exit. rusage's ru_maxrss is no use here: Linux
# carries the forking parent's peak over into the child, so it shows this script's size.
_MEASURED_CLI = """
import atexit, sys
from extractor.cli import main
def peak():
    hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]
    sys.stdout.write(f'VmHWM {hwm}\\n')
atexit.register(peak)
sys.exit(main(sys.argv[1:]))
"""


def run(folder: Path, feed: Path, workers: int) -> tuple[float, float]:
    """(seconds, peak RSS in MiB of the main process) of one `extractor extract` run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", _MEASURED_CLI, "extract", str(folder), "-o", str(feed), "--llm", "rules",
           "--workers", str(workers), "--quiet"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    kib = int(proc.stdout.split("VmHWM")[-1].split()[0])
    return seconds, kib / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--memory", type=int, nargs="*", default=[1000, 10000],
                    help="batch sizes for the peak-memory comparison (empty to skip)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "reports"
        write_reports(folder, args.reports)
        print(f"throughput, {args.reports} files (whole command: discovery, hashing, extraction, feed writing):")
        for w in args.workers:
            seconds, rss = run(folder, tmp / f"w{w}.jsonl", w)
            print(f"  --workers {w}: {seconds:.2f} s, {args.reports / seconds:.0f} reports/s, peak RSS {rss:.0f} MiB "
                  f"(main process)")
        if args.memory:
            print("peak memory against batch size (--workers 1):")
            peaks = []
            for n in args.memory:
                f = tmp / f"m{n}"
                write_reports(f, n)
                seconds, rss = run(f, tmp / f"m{n}.jsonl", 1)
                peaks.append(rss)
                print(f"  {n:>6} reports: peak RSS {rss:.0f} MiB, {seconds:.1f} s")
            if len(peaks) > 1:
                print(f"  largest / smallest batch: {peaks[-1] / peaks[0]:.2f}x")


if __name__ == "__main__":
    main()
