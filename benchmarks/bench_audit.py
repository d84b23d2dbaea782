"""What the audit (extractor/audit.py) and the responsibility judgement (extractor/responsibility.py)
add to the deterministic stage, on the real reports of evals/fixtures, one core.

Times `extract_record` on every fixture report three ways, interleaved round by round so that
other load on the machine hits all three alike, and prints the fastest round of each (ms per
report): as shipped, without the audit, without the audit and the responsibility judgement.

    python benchmarks/bench_audit.py [--rounds 15]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import extractor.record as record  # noqa: E402
from extractor.load import load_path  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    docs = [record.normalise(d) for p in sorted((ROOT / "evals" / "fixtures").iterdir()) for d in load_path(p)]
    docs = [d for d in docs if not d.not_report and d.text.strip()]
    shipped = (record.audit_checks, record.assign_responsibility)
    ways = {"as shipped": shipped,
            "without audit": (lambda *a, **k: {}, shipped[1]),
            "without audit and responsibility": (lambda *a, **k: {}, lambda *a, **k: None)}
    best = {k: float("inf") for k in ways}
    for _ in range(args.rounds):
        for name, (audit, assign) in ways.items():
            record.audit_checks, record.assign_responsibility = audit, assign
            t = time.perf_counter()
            for d in docs:
                record.extract_record(d, normalised=True)
            best[name] = min(best[name], (time.perf_counter() - t) / len(docs) * 1000)
    record.audit_checks, record.assign_responsibility = shipped
    base = best["without audit and responsibility"]
    print(f"{len(docs)} real reports, fastest of {args.rounds} rounds, ms per report:")
    for name, ms in best.items():
        print(f"  {name:34s} {ms:6.3f}  ({(ms / base - 1) * 100:+.0f}%)")


if __name__ == "__main__":
    main()
