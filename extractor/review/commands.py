"""`extractor review FEED -o SITE [--panel DIR]`: the static review site."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import HelpFormatter
    from .site import cmd_review
    p = sub.add_parser(
        "review", help="write a static HTML site to check a feed's records by hand", formatter_class=HelpFormatter,
        description="Write a static site (index.html and one page per record) that opens from disk in any "
                    "browser, no server and no network: the tables as printed with every cell's state and "
                    "source span, the checks with their numbers, the narrative quotes, the errors.",
        epilog="examples:\n  extractor review feed.jsonl -o site/\n"
               "  extractor review feed.jsonl -o site/ --panel panel/\n\n"
               "reads: a JSONL feed written by extractor extract; with --panel, the findings.csv and "
               "cells.csv of extractor panel\n\n"
               "exit codes:\n  0  site written\n  1  written, but some feed lines could not be read (named on stderr)\n"
               "  2  could not run (no feed, unreadable panel)")
    p.add_argument("feed", help="the JSONL feed (from `extractor extract`)")
    p.add_argument("-o", "--output", required=True, help="the site folder to write (index.html inside)")
    p.add_argument("--panel", default=None,
                   help="a folder written by `extractor panel` (findings.csv, cells.csv): adds cross-year findings")
    p.set_defaults(func=cmd_review)
