"""The command line: thin commands over the library (extract, eval, schema, index, search, export)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__


def _add_llm_options(p: argparse.ArgumentParser) -> None:
    from . import backends
    backends.add_cli_options(p)


def cmd_extract(args: argparse.Namespace) -> int:
    from .backends import backend_from_args
    from .load import ocr
    from .pipeline import run_batch
    ocr.MODE = args.ocr  # read by the PDF and image loaders, in the workers too (forked after this)
    try:
        backend = backend_from_args(args)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"extractor: {exc}", file=sys.stderr)
        return 2
    try:
        summary = run_batch(args.inputs, Path(args.output), backend=backend, workers=args.workers,
                            concurrency=args.concurrency, resume=not args.no_resume, force=args.force,
                            max_mb=args.max_mb, progress=None if not args.quiet else False)
    except KeyboardInterrupt:
        print("extractor: interrupted; the feed keeps every record written so far — run the same "
              "command again to resume", file=sys.stderr)
        return 130
    finally:
        backend.close()
    for line in summary.lines():
        print(line, file=sys.stderr)
    print(f"feed: {args.output}", file=sys.stderr)
    return 1 if summary.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="extractor",
        description="Chinese government information-disclosure annual reports → typed, checked JSON.")
    parser.add_argument("--version", action="version", version=f"extractor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("extract", help="read reports (files or folders) into a JSONL feed")
    p.add_argument("inputs", nargs="+", help="report files or folders (recursed)")
    p.add_argument("-o", "--output", required=True, help="the JSONL feed to write (appended; resumed)")
    p.add_argument("--workers", type=int, default=1, help="processes for the deterministic stage (default 1)")
    p.add_argument("--force", action="store_true", help="redo every input, starting a new feed")
    p.add_argument("--no-resume", action="store_true",
                   help="start the feed afresh instead of skipping records already in it")
    p.add_argument("--max-mb", type=float, default=20.0, help="refuse files larger than this (default 20)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--ocr", choices=("auto", "always", "never"), default="auto",
                   help="OCR image files and PDF pages without a text layer (auto, default), every PDF page (always), or none")
    _add_llm_options(p)
    p.set_defaults(func=cmd_extract)

    for module in ("extractor.evaluate", "extractor.index.commands"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError as exc:  # a command whose optional parts are missing still explains itself
            print(f"extractor: {module} unavailable: {exc}", file=sys.stderr)
            continue
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
