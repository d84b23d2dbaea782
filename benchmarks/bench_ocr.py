"""OCR accuracy, speed and memory on scan-like pages of a real report.

corpus_001 (a text-layer PDF with hand labels) is rendered with pypdfium2 at the scan's dpi,
optionally turned and JPEG-compressed with Pillow, wrapped into an image-only PDF, and read
through the real loader (rendered for OCR at --render dpi) and record stages. Each variant runs
in its own process so its peak memory is its own.

    python benchmarks/bench_ocr.py                 # the default variants
    python benchmarks/bench_ocr.py --variant 150:0.8:70:200

A variant is scan_dpi:angle:jpeg_quality:render_dpi (quality 0 = no JPEG). Printed per variant:
wall and CPU seconds per page (all five pages are OCRed; CPU time counts
onnxruntime's threads, so it is the steadier figure on a shared machine), table cells equal to the labels, wrong cells that are not
null, whether every wrong cell is null or fails an identity, and the process's peak RSS.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from scans import flat  # noqa: E402
REPORT = "corpus_001_huaian-hongze-district-gov-2023.pdf"
DEFAULT = ["150:0:0:150", "150:0.8:70:150", "150:0.8:70:200", "200:0.8:70:200", "150:1.5:50:200"]


def _failing(record) -> set:
    return {(n, i.scope) for n, c in record.checks.items() for i in c.items if i.status == "fail"}


def one(variant: str) -> dict:
    from scans import image_pdf, page_images

    from extractor.load import load_path, ocr
    from extractor.record import extract_record

    dpi, angle, quality, render = variant.split(":")
    ocr.RENDER_DPI = int(render)
    ocr.PROGRESS = False
    fixture = ROOT / "evals" / "fixtures" / REPORT
    truth = flat(json.loads((ROOT / "evals" / "labels" / f"{REPORT}.json").read_text())["records"][0]["tables"])
    baseline = _failing(extract_record(next(load_path(fixture))))
    with tempfile.TemporaryDirectory() as tmp:
        images = page_images(fixture, dpi=int(dpi), angle=float(angle), quality=int(quality))
        pdf = image_pdf(images, Path(tmp) / "scan.pdf", int(dpi))
        ocr.engine()  # model loading is not a page's time
        started, cpu = time.perf_counter(), time.process_time()
        doc = next(load_path(pdf))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    record = extract_record(doc)
    got = flat({k: v for k, v in record.model_dump()["tables"].items() if v})
    wrong = {k: (v, got.get(k)) for k, v in truth.items() if got.get(k) != v}
    wrong_not_null = {k: vg for k, vg in wrong.items() if vg[1] is not None}
    caught = not wrong_not_null or bool(_failing(record) - baseline)
    return {"variant": variant, "pages": len(images), "s_per_page": round(seconds / len(images), 2),
            "cpu_s_per_page": round(cpu / len(images), 2),
            "cells_right": len(truth) - len(wrong), "cells": len(truth),
            "wrong_not_null": len(wrong_not_null), "wrong_caught": caught,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "wrong": {k: list(v) for k, v in list(wrong.items())[:8]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", help="scan_dpi:angle:quality:render_dpi (repeatable)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one), ensure_ascii=False))
        return
    from importlib.metadata import version

    print(f"rapidocr {version('rapidocr')}, onnxruntime {version('onnxruntime')}; report {REPORT}; "
          f"{len(__import__('os').sched_getaffinity(0))} cores")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}")
    print(f"{'variant (dpi:angle:jpeg:render)':34} {'s/page':>7} {'cpu s/pg':>8} {'cells right':>12} {'wrong≠null':>10} "
          f"{'caught':>6} {'peak MB':>8}")
    for variant in args.variant or DEFAULT:
        out = subprocess.run([sys.executable, __file__, "--one", variant], capture_output=True, text=True)
        if out.returncode:
            print(f"{variant:34} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{variant:34} {r['s_per_page']:7.2f} {r['cpu_s_per_page']:8.2f} {r['cells_right']:>5}/{r['cells']:<6} "
              f"{r['wrong_not_null']:>10} {str(r['wrong_caught']):>6} {r['peak_rss_mb']:8}")
        if r["wrong"]:
            print(f"    wrong (label, read): {r['wrong']}")


if __name__ == "__main__":
    main()
