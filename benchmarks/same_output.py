"""Whether a speed change kept the deterministic stage's output: every document of
evals/fixtures (all formats, as the loaders give them) through `extract_record`, each record as
JSON without `extraction.seconds`, written to one file; `--compare OLD` says which records differ.

    python benchmarks/same_output.py OUT.jsonl [--compare BEFORE.jsonl]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_deterministic import real_documents  # noqa: E402
from extractor.record import extract_record  # noqa: E402


def record_lines() -> list[str]:
    lines = []
    for doc in real_documents():
        data = json.loads(extract_record(doc).model_dump_json())
        data["extraction"].pop("seconds", None)
        lines.append(json.dumps(data, ensure_ascii=False, sort_keys=True))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--compare", type=Path)
    args = ap.parse_args()
    lines = record_lines()
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} records written to {args.out}")
    if args.compare:
        old = args.compare.read_text(encoding="utf-8").splitlines()
        differ = [i for i, (a, b) in enumerate(zip(old, lines)) if a != b]
        if len(old) != len(lines) or differ:
            print(f"DIFFERENT: {len(old)} vs {len(lines)} records; differing: {differ}")
            return 1
        print("identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
