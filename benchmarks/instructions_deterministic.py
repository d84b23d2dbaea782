"""Instructions per report of the deterministic stage, counted by valgrind (callgrind): the
figure that does not move with the load of a shared machine, unlike any timing.

Runs this script again under `valgrind --tool=callgrind`, collecting only while inside
functools.reduce (a C function nothing else in the stage calls), around `--rounds` passes of
`extract_record` over the real fixtures, after a warm-up pass. Needs valgrind (apt install valgrind).

    python benchmarks/instructions_deterministic.py [--rounds 2]
"""
from __future__ import annotations

import argparse
import functools
import gc
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _inner(rounds: int) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_deterministic import real_documents
    from extractor.record import extract_record
    docs = real_documents()
    for doc in docs:
        extract_record(doc)  # warm-up, not counted
    # As run_batch does before its first file. Without it, whether one full collection (~1 M
    # instructions per report of a round) falls inside the counted window swings the figure.
    gc.collect()
    gc.freeze()
    functools.reduce(lambda _, doc: extract_record(doc), docs * rounds, None)  # counted
    print(len(docs) * rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        _inner(args.rounds)
        return
    with tempfile.TemporaryDirectory() as d:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=functools_reduce",
             f"--callgrind-out-file={d}/callgrind.out", sys.executable, __file__, "--inner",
             "--rounds", str(args.rounds)],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    collected = int(re.search(r"Collected : (\d+)", run.stderr).group(1))
    reports = int(run.stdout.split()[-1])
    print(f"{reports} reports ({args.rounds} rounds of the real fixtures): "
          f"{collected / reports / 1e6:.2f} M instructions per report (callgrind)")


if __name__ == "__main__":
    main()
