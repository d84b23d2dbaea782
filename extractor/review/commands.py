"""`extractor review FEED -o SITE [--panel DIR]`: the static review site."""
from __future__ import annotations


def register(sub) -> None:
    from .site import cmd_review
    p = sub.add_parser("review", help="write a static HTML site to check a feed's records by hand")
    p.add_argument("feed", help="the JSONL feed (from `extractor extract`)")
    p.add_argument("-o", "--output", required=True, help="the site folder to write (index.html inside)")
    p.add_argument("--panel", default=None,
                   help="a folder written by `extractor panel` (findings.csv, cells.csv): adds cross-year findings")
    p.set_defaults(func=cmd_review)
