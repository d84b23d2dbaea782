"""The `index`, `search`, `export` and `schema` subcommands: parse options, call the library once,
turn its errors into one clean message and an exit code.

Exit codes: 0 done; 1 done, but some feed lines were rejected (each is listed); 2 could not run
(missing feed or index, bad query, unusable file). `extractor/cli.py` calls `register(subparsers)`
and dispatches `args.func(args)`.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2


def _ask_index(db, query):
    """Run one query of the index: (its result, None), or (None, the exit status) after one clear
    line for an index that cannot answer (not built, too old, unreadable) or a bad filter."""
    from .sqlite_index import SearchIndexError
    try:
        return query(), None
    except (SearchIndexError, ValueError) as exc:
        return None, _fail(str(exc))
    except sqlite3.Error as exc:
        return None, _fail(f"cannot search {db}: {exc}")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILED


def _report_rejected(rejected) -> None:
    for _, message in rejected:
        print(f"  rejected {message}", file=sys.stderr)


def cmd_index(args) -> int:
    from .sqlite_index import SearchIndexError, build_index

    def progress(stats):
        if stats.lines % 100 == 0:
            print(f"\r{stats.lines} lines", end="", file=sys.stderr, flush=True)

    show = progress if sys.stderr.isatty() else None
    code = EXIT_OK
    for feed in args.feed:
        try:
            stats = build_index(feed, args.db, progress=show)
        except FileNotFoundError:
            return _fail(f"no feed at {feed}")
        except (SearchIndexError, sqlite3.Error, OSError) as exc:
            return _fail(str(exc))
        if show:
            print("\r", end="", file=sys.stderr)
        if args.json:
            print(json.dumps(stats.to_dict(), ensure_ascii=False))
        print(f"indexed {feed} into {args.db}: {stats.lines} lines, {stats.inserted} new, "
              f"{stats.updated} updated, {stats.unchanged} unchanged, {len(stats.rejected)} rejected; "
              f"{stats.reports_total} reports in the index ({stats.seconds:.2f} s)", file=sys.stderr)
        _report_rejected(stats.rejected)
        if stats.rejected:
            code = EXIT_REJECTED
    return code


def _format_hit(n: int, hit) -> str:
    place = " ".join(v for v in (hit.province, hit.city, hit.county) if v)
    head = " · ".join(str(v) for v in (hit.agency or "(agency unknown)", place or None, hit.year,
                                       f"template {hit.template}") if v)
    score = f"  [bm25 {hit.score:.4g}]" if hit.score is not None else ""
    own = f"  [source problems {hit.source_problems}]" if hit.source_problems else ""
    lines = [f"{n}. {head}{score}{own}"]
    if hit.snippet:
        lines.append(f"   {hit.field}: {hit.snippet}")
    lines.append(f"   id {hit.id}  {hit.source_path or ''}" + (f"  agency {hit.agency_key}" if hit.agency_key else ""))
    return "\n".join(lines)


def _number(v) -> str:
    if v is None:
        return "-"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _format_series(rows) -> str:
    """An agency's years as a plain table, one block per agency key."""
    head = ("year", "template", "received", "results", "carried", "review", "litigation", "failed", "id", "file")
    out = []
    for key in dict.fromkeys(r.agency_key for r in rows):
        mine = [r for r in rows if r.agency_key == key]
        names = " / ".join(dict.fromkeys(r.agency or "(agency unknown)" for r in mine))
        table = [head] + [(str(r.year or "-"), r.template or "-", _number(r.applications_received),
                           _number(r.results_total), _number(r.carried_to_next_year), _number(r.review_total),
                           _number(r.litigation_total), str(r.checks_failed), r.id, r.source_path or "")
                          for r in mine]
        widths = [max(len(row[i]) for row in table) for i in range(len(head) - 1)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in table]
        out.append(f"{key} · {names} · {len(mine)} report{'s' if len(mine) != 1 else ''}\n" + "\n".join(lines))
    return "\n\n".join(out)


def cmd_search(args) -> int:
    from .sqlite_index import agency_years, search
    if args.agency_key and not args.query.strip():
        # An agency's series: every year it reported, with the main figures.
        rows, failed = _ask_index(args.db, lambda: agency_years(args.db, args.agency_key))
        if failed is not None:
            return failed
        if args.json:
            print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2))
        elif not rows:
            print(f"no reports of agency {args.agency_key}", file=sys.stderr)
        else:
            print(_format_series(rows))
        return EXIT_OK
    hits, failed = _ask_index(args.db, lambda: search(
        args.db, args.query, agency=args.agency, agency_key=args.agency_key, province=args.province,
        year=args.year, template=args.template, level=args.level, min_applications=args.min_applications,
        max_applications=args.max_applications, has_problem=args.has_problem, limit=args.limit,
        min_source_problems=args.min_source_problems, sort=args.sort))
    if failed is not None:
        return failed
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
    elif not hits:
        print("no matching reports", file=sys.stderr)
    else:
        print("\n\n".join(_format_hit(i, h) for i, h in enumerate(hits, 1)))
    return EXIT_OK


def cmd_export(args) -> int:
    from .opensearch import export_opensearch
    try:
        stats = export_opensearch(args.feed, args.output, index=args.index, analyzer=args.analyzer)
    except FileNotFoundError:
        return _fail(f"no feed at {args.feed}")
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    print(f"wrote {stats.documents} documents to {stats.bulk_path} and the mapping to {stats.mapping_path}; "
          f"{len(stats.rejected)} lines rejected", file=sys.stderr)
    _report_rejected(stats.rejected)
    return EXIT_REJECTED if stats.rejected else EXIT_OK


def cmd_schema(args) -> int:
    from ..feedschema import schema_text
    sys.stdout.write(schema_text())
    return EXIT_OK


EXIT_CODES = f"""exit codes:
  {EXIT_OK}  done
  {EXIT_REJECTED}  done, but some feed lines were rejected (each is listed with its line number)
  {EXIT_FAILED}  could not run (missing feed or index, bad query, unusable file)"""


def _formatter():
    from ..cli import HelpFormatter
    return HelpFormatter


def register(subparsers) -> None:
    """Add the four subcommands to an argparse subparsers object."""
    fmt = _formatter()
    p = subparsers.add_parser("index", help="index JSONL feeds into an SQLite search index", formatter_class=fmt,
                              description="Validate every feed line and upsert its record by id into the "
                                          "SQLite index; bad lines are reported with their line numbers. "
                                          "A path whose file changed keeps only its newest record.",
                              epilog="example:\n  extractor index feed.jsonl --db index.sqlite\n\n"
                                     "reads: JSONL feeds written by extractor extract (one record a line)\n\n"
                                     + EXIT_CODES)
    p.add_argument("feed", nargs="+", metavar="FEED.jsonl", help="feeds written by extractor extract")
    p.add_argument("--db", required=True, metavar="INDEX.sqlite", help="the SQLite index (created if missing)")
    p.add_argument("--json", action="store_true", help="print the stats of each feed as JSON")
    p.set_defaults(func=cmd_index)

    p = subparsers.add_parser("search", help="full-text search of an index, with filters", formatter_class=fmt,
                              description="Words separated by spaces are all required; Chinese words "
                                          "of two or more characters match where they occur.",
                              epilog="examples:\n  extractor search 低保 --db index.sqlite --province 河南省 --year 2024\n"
                                     "  extractor search 政策解读 --db index.sqlite --min-applications 10 --json\n\n"
                                     "reads: an index made by extractor index; prints hits (or a JSON array)\n\n"
                                     + EXIT_CODES.replace("  1  done, but some feed lines were rejected "
                                                          "(each is listed with its line number)\n", ""))
    p.add_argument("query", metavar="QUERY", help='words to find; "" to list by filters only')
    p.add_argument("--db", required=True, metavar="INDEX.sqlite", help="the index to search (made by extractor index)")
    p.add_argument("--agency", help="part of the agency name (民政局)")
    p.add_argument("--agency-key", metavar="KEY",
                   help='one agency (350128:平潭县人民政府) or a division code (350128); with QUERY "" '
                        "lists the agency's years with their main figures")
    p.add_argument("--province", help="part of the province name (河南)")
    p.add_argument("--year", type=int, help="the year reported on")
    p.add_argument("--template", choices=["2021", "2019", "legacy", "none"], help="the report's template generation")
    p.add_argument("--level", choices=["province", "city", "county", "district", "unknown"],
                   help="the agency's level of government")
    p.add_argument("--min-applications", type=float, metavar="N", help="applications received ≥ N")
    p.add_argument("--max-applications", type=float, metavar="N", help="applications received ≤ N")
    p.add_argument("--has-problem", metavar="WORD", help="a word the report's problems must contain")
    p.add_argument("--min-source-problems", type=int, metavar="N",
                   help="at least N failed checks that are the report's own fault (docs/audit.md)")
    p.add_argument("--sort", choices=["relevance", "source_problems"], default=None,
                   help="source_problems: reports with the most source problems first")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="at most N hits, best first")
    p.add_argument("--json", action="store_true", help="hits as a JSON array")
    p.set_defaults(func=cmd_search)

    p = subparsers.add_parser("export", help="export a feed for a search server", formatter_class=fmt,
                              description="Write bulk.ndjson and mapping.json for OpenSearch/Elasticsearch.",
                              epilog="example:\n  extractor export --to opensearch feed.jsonl -o os/\n\n"
                                     "reads: a JSONL feed; writes DIR/bulk.ndjson and DIR/mapping.json\n\n"
                                     + EXIT_CODES)
    p.add_argument("--to", required=True, choices=["opensearch"], help="the search server to export for")
    p.add_argument("feed", metavar="FEED.jsonl", help="a feed written by extractor extract")
    p.add_argument("-o", "--output", default="opensearch-export", metavar="DIR", help="output directory")
    p.add_argument("--index", default="reports", help="index name in the bulk actions")
    p.add_argument("--analyzer", default="smartcn", choices=["smartcn", "ik_max_word", "cjk"],
                   help="Chinese analyzer of the text fields")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("schema", help="print the JSON Schema of a feed line", formatter_class=fmt,
                              description="Generated from extractor.models.Record.",
                              epilog="example:\n  extractor schema > record.schema.json\n\n"
                                     "reads: nothing; prints JSON Schema (draft 2020-12) on stdout\n\n"
                                     f"exit codes:\n  {EXIT_OK}  done")
    p.set_defaults(func=cmd_schema)


def main(argv=None) -> int:
    """Run these subcommands alone (`python -m extractor.index.commands`), e.g. before cli.py exists."""
    parser = argparse.ArgumentParser(prog="extractor")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
