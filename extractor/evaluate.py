"""The eval command: run the extractor over labelled fixtures, print a scorecard, gate on a baseline."""
from __future__ import annotations

import argparse
import html
import json
import sys
import tempfile
from pathlib import Path

from .scoring import NEVER_INCREASE, Scorecard, compare_to_baseline, load_labels, score_record

DEFAULT_FIXTURES = Path("evals/fixtures")
DEFAULT_BASELINE = Path("evals/baseline.json")
DEFAULT_TOLERANCE = 0.01


def _texts(paths: list[Path]) -> dict[str, str]:
    """Normalised document text per record id, to quote the line a wrong value came from."""
    from .load import load_path
    from .record import normalise
    out = {}
    for p in paths:
        try:
            for doc in load_path(p):
                out[doc.id] = normalise(doc).text
        except Exception:
            continue
    return out


def _all_audit_kinds(record: dict, text: str | None) -> dict:
    """Every audit kind for a record, those hidden by default included, to score them all."""
    from .audit import PREFIX, audit_checks
    from .models import Sections
    if text is None or not record.get("is_report", True):
        return {k: v for k, v in record["checks"].items() if k.startswith(PREFIX)}
    ocr = any(p.get("page") is not None for p in (record.get("provenance") or {}).values())
    checks = audit_checks(text, record["template"], Sections.model_validate(record["sections"]),
                          {k: v for k, v in (record.get("tables") or {}).items() if v is not None},
                          record["source"]["format"], ocr, include_hidden=True)
    return {k: v.model_dump() for k, v in checks.items()}


def run_eval(fixtures: Path, labels_dir: Path, backend, concurrency: int = 1) -> Scorecard:
    from .pipeline import run_batch
    labels = load_labels(labels_dir)
    paths = [fixtures / name for name in labels if (fixtures / name).exists()]
    missing = [name for name in labels if not (fixtures / name).exists()]
    if missing:
        raise FileNotFoundError(f"labels without a fixture in {fixtures}: {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "eval.jsonl"
        run_batch([str(p) for p in paths], feed, backend=backend, concurrency=concurrency,
                  resume=False, progress=False)
        records = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_source = {(Path(r["source"]["path"]).name, r["source"].get("row")): r for r in records}
    texts = _texts(paths)
    for r in records:
        r["audit_all"] = _all_audit_kinds(r, texts.get(r["id"]))
    card = Scorecard(fixtures=sorted(labels))
    for name, label_file in labels.items():
        for label in label_file["records"]:
            record = by_source.get((name, label.get("row")))

            def source_line(key: str, record=record) -> str | None:
                if record is None:
                    return None
                span = record["provenance"].get(key)
                text = texts.get(record["id"], "")
                if not span or not text:
                    return None
                a = text.rfind("\n", 0, span["start"]) + 1
                b = text.find("\n", span["end"])
                line = text[a:b if b >= 0 else len(text)].strip()
                return line if len(line) <= 160 else "…" + text[max(a, span["start"] - 60):span["end"] + 60] + "…"
            score_record(card, name, label, record, source_line)
    return card


def _fmt(v) -> str:
    return str(v) if isinstance(v, int) else f"{v:.4f}"


def format_scorecard(results: dict, title: str = "") -> str:
    m, c = results["metrics"], results["counts"]
    lines = [f"# Scorecard {title}".rstrip(), "",
             f"fixtures: {len(c['fixtures'])}  labelled reports: {c['reports']}  labelled cells: {c['cells']}", "",
             "| metric | value |", "|---|---|"]
    for k, v in m.items():
        lines.append(f"| {k} | {_fmt(v)} |")
    audit = results.get("audit") or {}
    if audit:
        lines += ["", "| audit kind | precision | recall | tp | fp | fn |", "|---|---|---|---|---|---|"]
        for kind, sc in audit.items():
            show = lambda v: "n/a" if v is None else f"{v:.2f}"
            lines.append(f"| {kind} | {show(sc['precision'])} | {show(sc['recall'])} | {sc['tp']} | {sc['fp']} | {sc['fn']} |")
    lines += ["", f"wrong numbers: {c.get('cells_wrong', 0)}  blank read as 0: {c['blank_read_as_zero']}  "
              f"0 read as blank: {c['zero_read_as_blank']}", ""]
    cost = results["cost"]
    lines.append(f"cost: {cost['llm_calls']} LLM calls, {cost['cache_hits']} cache hits, "
                 f"{cost['prompt_tokens']}+{cost['completion_tokens']} tokens, "
                 f"{cost['seconds_per_report']} s per report")
    return "\n".join(lines)


def format_wrong_md(results: dict) -> str:
    rows = ["| fixture | key | wanted | got | source line |", "|---|---|---|---|---|"]
    esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ") if v is not None else "null"
    for w in results["wrong"]:
        rows.append(f"| {esc(w['fixture'])} | {esc(w['key'])} | {esc(w['wanted'])} | {esc(w['got'])} | "
                    f"{esc(w['source']) if w['source'] else ''} |")
    return "\n".join(rows)


def write_report(results: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "scorecard.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    md = format_scorecard(results) + "\n\n## Every wrong value\n\n" + format_wrong_md(results) + "\n"
    (out_dir / "scorecard.md").write_text(md, encoding="utf-8")
    e = lambda v: html.escape("null" if v is None else str(v))
    metric_rows = "".join(f"<tr><td>{e(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in results["metrics"].items())
    wrong_rows = "".join(f"<tr><td>{e(w['fixture'])}</td><td>{e(w['key'])}</td><td>{e(w['wanted'])}</td>"
                         f"<td>{e(w['got'])}</td><td>{e(w['source'] or '')}</td></tr>" for w in results["wrong"])
    page = f"""<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>extractor scorecard</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}</style>
</head><body><h1>extractor scorecard</h1><table><tr><th>metric</th><th>value</th></tr>{metric_rows}</table>
<h2>Every wrong value ({len(results['wrong'])})</h2><table><tr><th>fixture</th><th>key</th><th>wanted</th><th>got</th><th>source line</th></tr>{wrong_rows}</table>
</body></html>"""
    (out_dir / "scorecard.html").write_text(page, encoding="utf-8")


def side_by_side(named: list[tuple[str, dict]]) -> str:
    keys = list(dict.fromkeys(k for _, r in named for k in r["metrics"]))
    head = "| metric | " + " | ".join(n for n, _ in named) + " |"
    rows = [head, "|---|" + "---|" * len(named)]
    for k in keys:
        vals = [r["metrics"].get(k) for _, r in named]
        rows.append(f"| {k} | " + " | ".join("" if v is None else _fmt(v) for v in vals) + " |")
    return "\n".join(rows)


def cmd_eval(args: argparse.Namespace) -> int:
    from .backends import backend_from_args
    fixtures = Path(args.fixtures)
    labels = Path(args.labels) if args.labels else fixtures.parent / "labels"
    if not fixtures.is_dir() or not labels.is_dir():
        print(f"extractor eval: need a fixtures folder and a labels folder (got {fixtures}, {labels})", file=sys.stderr)
        return 2
    backend = backend_from_args(args)
    try:
        card = run_eval(fixtures, labels, backend, concurrency=args.concurrency)
    except FileNotFoundError as exc:
        print(f"extractor eval: {exc}", file=sys.stderr)
        return 2
    finally:
        backend.close()
    results = card.to_json()
    results["backend"] = getattr(backend, "name", None)
    print(format_scorecard(results, f"({results['backend']})"))
    if args.report:
        write_report(results, Path(args.report))
        print(f"\nreport: {args.report}/scorecard.md, scorecard.html, scorecard.json ({len(results['wrong'])} wrong values listed)")
    if args.compare:
        # Columns are headed by the file each scorecard is in: two runs of one backend are
        # told apart (both would be "rules"); the backend is said in brackets.
        this = str(Path(args.report) / "scorecard.json") if args.report else "this run"
        named = [(f"{this} ({results['backend']})", results)]
        for f in args.compare:
            try:
                other = json.loads(Path(f).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                print(f"extractor eval: cannot read --compare {f}: {exc}", file=sys.stderr)
                return 2
            named.append((f"{f} ({other.get('backend') or '?'})", other))
        print("\n" + side_by_side(named))
    if args.save_baseline:
        target = Path(args.baseline or DEFAULT_BASELINE)
        target.write_text(json.dumps({"backend": results["backend"], "tolerance": args.tolerance,
                                      "metrics": results["metrics"]}, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        print(f"\nbaseline saved: {target}")
        return 0
    if args.baseline:
        try:
            base = json.loads(Path(args.baseline).read_text(encoding="utf-8"))
        except FileNotFoundError:
            print(f"extractor eval: no baseline at {args.baseline} (save one with --save-baseline)", file=sys.stderr)
            return 2
        drops = compare_to_baseline(results["metrics"], base["metrics"], args.tolerance)
        if drops:
            print(f"\nFAIL: {len(drops)} score(s) fell below the baseline {args.baseline} by more than {args.tolerance}"
                  f" (or, for {', '.join(NEVER_INCREASE)}, rose at all):")
            for k, b, now in drops:
                print(f"  {k}: baseline {_fmt(b)}, now {'missing' if now is None else _fmt(now)}")
            return 1
        print(f"\nbaseline gate passed ({args.baseline}, tolerance {args.tolerance})")
    return 0


def register(sub) -> None:
    from .backends import add_cli_options
    from .cli import HelpFormatter
    p = sub.add_parser("eval", help="score the extractor against hand-labelled fixtures", formatter_class=HelpFormatter,
                       description="Run the extractor over the fixtures and score it against the hand labels.",
                       epilog="examples:\n  extractor eval\n  extractor eval --baseline evals/baseline.json\n"
                              "  extractor eval --report r2 --compare evals/report/scorecard.json\n\n"
                              "reads: the fixtures (every format extractor extract reads) and labels/NAME.json "
                              "per fixture;\nprints the scorecard (markdown) on stdout\n\n"
                              "exit codes:\n  0  done (and the baseline gate passed)\n"
                              "  1  a score fell below the baseline by more than the tolerance\n"
                              "  2  could not run (no fixtures or labels, unreadable baseline)")
    p.add_argument("--fixtures", default=str(DEFAULT_FIXTURES), help="fixtures folder (default evals/fixtures)")
    p.add_argument("--labels", default=None, help="labels folder (default: labels beside the fixtures)")
    p.add_argument("--baseline", default=None, help="fail when a score falls below this saved baseline")
    p.add_argument("--save-baseline", action="store_true", help="save this run's scores as the baseline")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                   help=f"how far a score may fall below the baseline (default {DEFAULT_TOLERANCE})")
    p.add_argument("--report", default=None, help="folder for scorecard.json/.md/.html")
    p.add_argument("--compare", nargs="*", default=None, metavar="SCORECARD.json",
                   help="scorecard.json files to put side by side, each column headed by its file name")
    add_cli_options(p)
    p.set_defaults(func=cmd_eval)
