"""The `panel` subcommand. Exit codes: 0 done; 1 done, but some feed lines or feeds were rejected."""
from __future__ import annotations


def cmd_panel(args) -> int:
    from .build import main_panel
    return main_panel(args.feed, args.output)


def register(sub) -> None:
    from ..cli import HelpFormatter
    p = sub.add_parser(
        "panel", help="feeds → the agency-year panel (reports, cells, findings) as CSV and Parquet",
        formatter_class=HelpFormatter,
        description="The view across reports: one row per record, one per table cell (read, null and why, "
                    "or settled from the agency's neighbouring years), and one per finding across reports "
                    "(cross-year identities, missing or doubled years, copied sections). Records themselves "
                    "are never changed.",
        epilog="examples:\n  extractor panel feed.jsonl -o panel/\n  extractor panel 2023.jsonl 2024.jsonl -o panel/\n\n"
               "reads: JSONL feeds written by extractor extract; writes reports, cells and findings as "
               ".csv (UTF-8 with BOM) and .parquet\n\n"
               "exit codes:\n  0  done\n  1  done, but some feed lines or feeds were rejected (named on stderr)")
    p.add_argument("feed", nargs="+", help="JSONL feeds written by `extractor extract`")
    p.add_argument("-o", "--output", required=True, help="folder for reports/cells/findings .csv and .parquet")
    p.set_defaults(func=cmd_panel)
