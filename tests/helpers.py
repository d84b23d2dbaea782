"""Shared test helpers: fixture paths, hand labels, and re-laying a table into other layouts."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # the synthetic report generator
FIXTURES = ROOT / "evals" / "fixtures"
LABELS = ROOT / "evals" / "labels"
SEEDS = sorted(FIXTURES.glob("seed_*.txt"))


def label(fixture: str, row: int | None = None) -> dict:
    data = json.loads((LABELS / f"{fixture}.json").read_text(encoding="utf-8"))
    for rec in data["records"]:
        if rec.get("row") == row:
            return rec
    raise KeyError(row)


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")
