"""The `panel` subcommand. Exit codes: 0 done; 1 done, but some feed lines or feeds were rejected."""
from __future__ import annotations


def cmd_panel(args) -> int:
    from .build import main_panel
    return main_panel(args.feed, args.output)


def register(sub) -> None:
    p = sub.add_parser("panel", help="feeds → the agency-year panel (reports, cells, findings) as CSV and Parquet")
    p.add_argument("feed", nargs="+", help="JSONL feeds written by `extractor extract`")
    p.add_argument("-o", "--output", required=True, help="folder for reports/cells/findings .csv and .parquet")
    p.set_defaults(func=cmd_panel)
