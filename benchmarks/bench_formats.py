"""Seconds to load one .doc, .wps, .ofd and .xlsx report (the files the tests make: corpus 003's
tables written by python-docx → LibreOffice .doc, reportlab PDF → easyofd OFD, openpyxl).

    python benchmarks/bench_formats.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from extractor.load import load_path  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from test_formats import SOURCES, label_of, report_blocks, write_docx  # noqa: E402
    from test_office_formats import to_doc, write_ofd, write_tables_xlsx  # noqa: E402

    label = label_of(SOURCES[2])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {}
        if shutil.which("soffice"):
            write_docx(report_blocks(label), tmp / "report.docx")
            files[".doc"] = to_doc(tmp / "report.docx", tmp / "doc")
            files[".wps"] = tmp / "report.wps"
            shutil.copy(files[".doc"], files[".wps"])
        with contextlib.redirect_stdout(sys.stderr):  # easyofd prints as it writes
            write_ofd(label, tmp / "report.ofd")
        files[".ofd"] = tmp / "report.ofd"
        write_tables_xlsx(label, tmp / "tables.xlsx")
        files[".xlsx"] = tmp / "tables.xlsx"
        for suffix, path in files.items():
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                list(load_path(path))
                times.append(time.perf_counter() - t)
            print(f"{suffix:6} {path.stat().st_size:>7} bytes  median {statistics.median(times):.3f} s  "
                  f"min {min(times):.3f} s  ({args.repeat} loads)")


if __name__ == "__main__":
    main()
