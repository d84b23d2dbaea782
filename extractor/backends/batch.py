"""Batch files: the narrative stage as an OpenAI Batch job (or `vllm run-batch`), not one request at a time.

`--batch-out REQUESTS.jsonl` writes one line per report in the Batch *input* format:
`{"custom_id": <record id>, "method": "POST", "url": "/v1/chat/completions", "body": {...}}`,
where `body` is exactly what the online call would send: instructor builds it (tools or
response_format for the mode) and this module captures it instead of sending it.

`--batch-in RESULTS.jsonl` reads a Batch *output* file (`custom_id`, `response.status_code`,
`response.body` a chat completion, `error`) and hands each report its completion, which the
backend validates and grounds exactly as an online answer, with instructor.

A re-ask cannot happen inside a batch. When an answer fails validation (an ungrounded quote), the
answers received so far are kept in the answer cache; the next `--batch-out` replays them through
instructor, which appends its re-ask messages (the model's answer and the validation error) just
as it would online, and the captured next request is written. Replaying keeps the conversation
instructor's own, whatever its version or mode.

`run_requests` posts a requests file to an OpenAI-compatible server line by line and writes the
output format: a small runner for servers that have no batch endpoint (llama.cpp).
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

BATCH_URL = "/v1/chat/completions"
STATE_PREFIX = "batch-answers:"  # answer-cache key prefix for the answers of a conversation in progress


class _Captured(Exception):
    """Raised by the capturing `create` once it has the request instructor would send."""


def replay(mode, response_model, kwargs: dict, answers: list[Any], *, max_attempts: int,
           transform: Callable[[dict], dict] | None = None) -> tuple[Any | None, dict | None, Exception | None]:
    """Run instructor over `answers` (chat completions, oldest first) instead of a live endpoint.

    Returns (response, next_request, error): `response` when the last answer validates; else
    `next_request`, the body instructor would send next (the first request when there are no
    answers yet, a re-ask after a failed one), unless `max_attempts` are used up; `error` is the
    last validation failure, if any.
    """
    import instructor
    import inspect
    import tenacity

    captured: list[dict] = []
    feed = iter(answers)

    def create(**body):
        nxt = next(feed, None)
        if nxt is None:
            captured.append(body)
            raise _Captured()
        return nxt

    patched = instructor.patch(create=create, mode=mode)
    attempts = min(len(answers) + 1, max_attempts)
    retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(attempts), reraise=True,
                                 retry=tenacity.retry_if_not_exception_type(_Captured))
    kwargs = dict(kwargs)
    params = inspect.signature(patched, follow_wrapped=False).parameters
    if "context" not in params and "context" in kwargs:
        kwargs["validation_context"] = kwargs.pop("context")
    try:
        return patched(response_model=response_model, max_retries=retrying, **kwargs), None, None
    except Exception as exc:  # noqa: BLE001 - instructor wraps what it raises in its own types
        if captured:
            body = captured[-1]
            return None, transform(body) if transform else body, _last_validation_error(exc)
        return None, None, exc


def _last_validation_error(exc: BaseException) -> BaseException | None:
    from pydantic import ValidationError
    seen = set()
    found = None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ValidationError):
            found = exc
        for a in getattr(exc, "args", ()):
            if isinstance(a, ValidationError):
                found = a
        exc = exc.__cause__ or exc.__context__
    return found


def request_line(custom_id: str, body: dict) -> str:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": BATCH_URL, "body": body},
                      ensure_ascii=False)


class RequestsWriter:
    """The requests file of this run: one line per report, flushed, thread-safe, each id once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"--batch-out {self.path} is a folder; give a file name")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", encoding="utf-8")
        self._lock = threading.Lock()
        self._ids: set[str] = set()
        self.written = 0

    def write(self, custom_id: str, body: dict) -> None:
        with self._lock:
            if custom_id in self._ids:
                return
            self._ids.add(custom_id)
            self._fh.write(request_line(custom_id, body) + "\n")
            self._fh.flush()
            self.written += 1

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()


class BatchResult:
    """One line of a Batch output file."""

    def __init__(self, custom_id: str, status_code: int | None, body: dict | None, error: str | None):
        self.custom_id, self.status_code, self.body, self.error = custom_id, status_code, body, error

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code == 200 and isinstance(self.body, dict)

    def why_not(self) -> str:
        if self.error:
            return self.error
        if self.status_code != 200:
            return f"status {self.status_code}" + (f": {_error_text(self.body)}" if self.body else "")
        return "the response body is not a chat completion"


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or err)[:200]
        if err:
            return str(err)[:200]
    return str(body)[:200]


def parse_result_line(line: str) -> BatchResult | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("custom_id"), str):
        return None
    resp = obj.get("response") if isinstance(obj.get("response"), dict) else {}
    err = obj.get("error")
    error = None
    if err:
        error = str(err.get("message") or err.get("code") or err) if isinstance(err, dict) else str(err)
    return BatchResult(obj["custom_id"], resp.get("status_code"), resp.get("body"), error)


class ResultsFile:
    """A Batch output file, indexed by custom_id → byte offset: only ids are held in memory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"--batch-in {self.path}: no such file")
        self._offsets: dict[str, int] = {}
        self.bad_lines = 0
        with open(self.path, "rb") as fh:
            while True:
                pos = fh.tell()
                raw = fh.readline()
                if not raw:
                    break
                if not raw.strip():
                    continue
                res = parse_result_line(raw.decode("utf-8", errors="replace"))
                if res is None:
                    self.bad_lines += 1
                    continue
                self._offsets[res.custom_id] = pos  # a later line for the same id wins
        self._lock = threading.Lock()
        self._fh = open(self.path, "rb")

    def __len__(self) -> int:
        return len(self._offsets)

    def get(self, custom_id: str) -> BatchResult | None:
        pos = self._offsets.get(custom_id)
        if pos is None:
            return None
        with self._lock:
            self._fh.seek(pos)
            raw = self._fh.readline()
        return parse_result_line(raw.decode("utf-8", errors="replace"))

    def close(self) -> None:
        self._fh.close()


# ---------------------------------------------------------------------------------------------
# A runner for servers without a batch endpoint


def iter_requests(path: str | Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                req = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: not JSON: {exc}") from None
            if not isinstance(req, dict) or "custom_id" not in req or "body" not in req:
                raise ValueError(f"{path}:{n}: not a Batch request line (custom_id, method, url, body)")
            yield req


def _endpoint(base_url: str, url: str) -> str:
    base = base_url.rstrip("/")
    if base.endswith("/v1") and url.startswith("/v1/"):
        url = url[3:]
    return base + url


def run_requests(requests: str | Path, results: str | Path, base_url: str, *, api_key: str | None = None,
                 timeout: float = 300.0, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """POST each request line to `base_url` and write the Batch output format; (ok, failed)."""
    ok = failed = 0
    with open(results, "w", encoding="utf-8") as out:
        for n, req in enumerate(iter_requests(requests), 1):
            data = json.dumps(req["body"], ensure_ascii=False).encode("utf-8")
            headers = {"Content-Type": "application/json"}
            if api_key:
                headers["Authorization"] = f"Bearer {api_key}"
            http = urllib.request.Request(_endpoint(base_url, req.get("url") or BATCH_URL), data=data,
                                          headers=headers, method=req.get("method") or "POST")
            line: dict[str, Any] = {"id": f"batch_req_{n}", "custom_id": req["custom_id"]}
            try:
                with urllib.request.urlopen(http, timeout=timeout) as resp:  # noqa: S310 - the user's endpoint
                    body = json.loads(resp.read().decode("utf-8"))
                    line["response"] = {"status_code": resp.status, "request_id": f"req_{n}", "body": body}
                    line["error"] = None
                    ok += 1
            except urllib.error.HTTPError as exc:
                try:
                    body = json.loads(exc.read().decode("utf-8"))
                except ValueError:
                    body = {"error": {"message": str(exc)}}
                line["response"] = {"status_code": exc.code, "request_id": f"req_{n}", "body": body}
                line["error"] = None
                failed += 1
            except (urllib.error.URLError, OSError, ValueError) as exc:
                line["response"] = None
                line["error"] = {"code": "request_failed", "message": str(exc)[:300]}
                failed += 1
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
            if progress is not None:
                progress(n)
    return ok, failed


def register(sub) -> None:
    from ..cli import HelpFormatter
    p = sub.add_parser(
        "run-batch", help="send a --batch-out requests file to an OpenAI-compatible server, write the results file",
        formatter_class=HelpFormatter,
        description="Post each line of a Batch requests file (written by `extract --batch-out`) to an "
                    "OpenAI-compatible server and write the Batch output format, for servers with no "
                    "batch endpoint (llama.cpp).",
        epilog="example:\n  extractor run-batch requests.jsonl -o results.jsonl --base-url http://127.0.0.1:8080/v1\n"
               "  then: extractor extract ... --batch-in results.jsonl\n\n"
               "reads: an OpenAI Batch input file (custom_id, method, url, body per line); writes the Batch "
               "output format (custom_id, response.status_code, response.body, error)\n\n"
               "exit codes:\n  0  every request answered\n  1  some requests failed (their lines carry the error)\n"
               "  2  could not run (no such file, not a requests file)")
    p.add_argument("requests", help="the requests file (OpenAI Batch input format)")
    p.add_argument("-o", "--output", required=True, help="the results file to write (OpenAI Batch output format)")
    p.add_argument("--base-url", required=True, help="the server, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY",
                   help="environment variable holding the key, if the server wants one (default OPENAI_API_KEY)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per request (default 300)")
    p.set_defaults(func=_cmd_run_batch)


def _cmd_run_batch(args) -> int:
    import os
    import sys
    started = time.perf_counter()
    try:
        ok, failed = run_requests(args.requests, args.output, args.base_url,
                                  api_key=os.environ.get(args.api_key_env), timeout=args.timeout,
                                  progress=lambda n: print(f"\rrequests sent: {n}", end="", file=sys.stderr))
    except (OSError, ValueError) as exc:
        print(f"\nextractor: {exc}", file=sys.stderr)
        return 2
    print(f"\nanswered: {ok}  failed: {failed}  time: {time.perf_counter() - started:.1f} s\nresults: {args.output}",
          file=sys.stderr)
    return 1 if failed else 0
