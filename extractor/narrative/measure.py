"""Measure a narrative backend against the hand labels: precision / recall / F1 per field.

    python -m extractor.narrative.measure [--llm rules] [--fixtures evals/fixtures] [--labels evals/labels] [-v]

Items are matched one-to-one on character bigrams of text + evidence (name + evidence for
platforms), best Dice first, a pair counting when Dice >= 0.5 (the rule of extractor.scoring,
whose functions are used when present). Also reported: platform kind and count agreement on the
matched pairs, and the share of predicted evidence found verbatim in the text.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..sections import split_sections

FIELDS = ("problems", "improvements", "platforms")


def match(pred: list[dict], gold: list[dict], field: str) -> list[tuple[int, int, float]]:
    def key(i: dict) -> str:
        return (i.get("name", "") if field == "platforms" else i.get("text", "")) + i.get("evidence", "")
    from ..scoring import match_items
    return match_items(pred, gold, key)


def documents(fixtures: Path, labels: Path):
    """(fixture name, row, text, label narrative) for every labelled report with a narrative."""
    from ..load import load_path
    for lf in sorted(labels.glob("*.json")):
        label = json.loads(lf.read_text(encoding="utf-8"))
        fx = fixtures / label["fixture"]
        wanted = {r.get("row"): r["narrative"] for r in label["records"] if r.get("narrative")}
        if not wanted or not fx.exists():
            continue
        try:
            docs = list(load_path(fx))
        except Exception as exc:  # noqa: BLE001
            print(f"skip {fx.name}: {exc}", file=sys.stderr)
            continue
        for doc in docs:
            if doc.row in wanted:
                yield fx.name, doc.row, doc.text, wanted[doc.row]


def run(backend, fixtures: Path, labels: Path, verbose: bool = False) -> dict:
    tot = {f: {"tp": 0, "fp": 0, "fn": 0} for f in FIELDS}
    kinds = counts = counted = 0
    found = total_pred = 0
    per_doc = []
    started = time.monotonic()
    for name, row, text, gold in documents(fixtures, labels):
        res = backend.narrate(text, split_sections(text))
        nar = res.narrative.model_dump()
        line = {"fixture": name, "row": row}
        for f in FIELDS:
            pred, g = nar[f], gold.get(f) or []
            pairs = match(pred, g, f)
            tot[f]["tp"] += len(pairs)
            tot[f]["fp"] += len(pred) - len(pairs)
            tot[f]["fn"] += len(g) - len(pairs)
            line[f] = f"{len(pairs)}/{len(pred)}p/{len(g)}g"
            for p in pred:
                total_pred += 1
                found += p["evidence"] in text
            if f == "platforms":
                for i, j, _ in pairs:
                    kinds += pred[i]["kind"] == g[j]["kind"]
                    if g[j].get("count") is not None or pred[i].get("count") is not None:
                        counted += 1
                        counts += pred[i].get("count") == g[j].get("count")
            if verbose:
                mp, mg = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
                for j, it in enumerate(g):
                    if j not in mg:
                        print(f"  MISS {name}:{row} {f}: {it.get('text') or it.get('name')} | {it['evidence']}")
                for i, it in enumerate(pred):
                    if i not in mp:
                        print(f"  EXTRA {name}:{row} {f}: {it.get('text') or it.get('name')} | {it['evidence']}")
        per_doc.append(line)
    scores = {}
    for f, c in tot.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        scores[f] = {"precision": round(p, 3), "recall": round(r, 3),
                     "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0, **c}
    matched_platforms = tot["platforms"]["tp"]
    return {"fields": scores, "platform_kind_agreement": round(kinds / matched_platforms, 3) if matched_platforms else None,
            "platform_count_agreement": round(counts / counted, 3) if counted else None,
            "evidence_verbatim": round(found / total_pred, 3) if total_pred else None,
            "documents": per_doc, "seconds": round(time.monotonic() - started, 2)}


def main(argv: list[str] | None = None) -> int:
    from ..backends import add_cli_options, backend_from_args
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", default="evals/fixtures")
    ap.add_argument("--labels", default="evals/labels")
    ap.add_argument("-v", "--verbose", action="store_true", help="list missed and extra items")
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_cli_options(ap)
    args = ap.parse_args(argv)
    backend = backend_from_args(args)
    try:
        out = run(backend, Path(args.fixtures), Path(args.labels), args.verbose)
    finally:
        backend.close()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    for d in out["documents"]:
        print(f"{d['fixture'][:40]:40} {str(d['row']):>4}  " + "  ".join(f"{f}={d[f]}" for f in FIELDS))
    print()
    for f, s in out["fields"].items():
        print(f"{f:13} P={s['precision']:.3f} R={s['recall']:.3f} F1={s['f1']:.3f}  (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})")
    print(f"platform kind agreement {out['platform_kind_agreement']}, count agreement "
          f"{out['platform_count_agreement']}, evidence verbatim {out['evidence_verbatim']}, {out['seconds']}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
