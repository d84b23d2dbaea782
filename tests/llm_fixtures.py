"""Loopback HTTP helpers for the LLM backend tests: a fault-injecting proxy, a scripted fake
OpenAI-compatible upstream, and a session-wide llama.cpp server with the gemma-3-270m GGUF.

Everything listens on 127.0.0.1 and stops by itself at the end of the test or session.
"""
from __future__ import annotations

import collections
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import pytest

from extractor.backends.retry import RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=6, max_total_seconds=90, initial_wait=0.05, max_wait=0.3,
                         jitter=0.05, retry_after_cap=5)


def completion(content: str | None = None, *, tool_args: str | None = None, prompt_tokens: int = 100,
               completion_tokens: int = 20, finish: str = "stop", name: str = "NarrativeResponse") -> dict:
    """A chat.completion body as an OpenAI-compatible server returns it."""
    message: dict = {"role": "assistant", "content": content}
    if tool_args is not None:
        message["tool_calls"] = [{"id": "call_1", "type": "function",
                                  "function": {"name": name, "arguments": tool_args}}]
        finish = "tool_calls" if finish == "stop" else finish
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


class Proxy:
    """A threaded loopback HTTP server in front of an OpenAI-compatible upstream.

    `faults` is a queue of faults served, one per incoming chat request, before requests pass
    through: "429" (with Retry-After), "500", "stall" (no answer for `stall_seconds`),
    "malformed" (200 with a truncated JSON body), "400", "401" (echoing the bearer token, to
    prove it gets masked). Without an upstream URL, `script` (a list of response bodies, or a
    callable taking the request JSON) plays the upstream.

    Counters: `received` chat requests, `forwarded` ones that reached the upstream,
    `completions` 200 answers delivered with their `prompt_tokens` / `completion_tokens`.
    """

    def __init__(self, upstream: str | None = None, script: list[dict] | Callable[[dict], dict] | None = None,
                 stall_seconds: float = 6.0, retry_after: str = "1"):
        self.upstream = upstream.rstrip("/") if upstream else None
        if self.upstream and self.upstream.endswith("/v1"):
            self.upstream = self.upstream[:-3]
        self.script = script
        self.stall_seconds = stall_seconds
        self.retry_after = retry_after
        self.faults: collections.deque[str] = collections.deque()
        self.lock = threading.Lock()
        self.received = 0
        self.forwarded = 0
        self.completions = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.faults_served: list[str] = []
        self.requests: list[dict] = []
        self.auth_headers: list[str] = []
        self.responses: list[dict] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "Proxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self):
                if proxy.upstream:
                    status, body = proxy._forward("GET", self.path, None)
                else:
                    status, body = 200, json.dumps({"object": "list", "data": [{"id": "fake-model"}]}).encode()
                self._send(status, body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    req = json.loads(raw or b"{}")
                except ValueError:
                    req = {}
                with proxy.lock:
                    proxy.received += 1
                    proxy.requests.append(req)
                    proxy.auth_headers.append(self.headers.get("Authorization", ""))
                    fault = proxy.faults.popleft() if proxy.faults else None
                    if fault:
                        proxy.faults_served.append(fault)
                try:
                    if fault == "429":
                        self._send(429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}',
                                   {"Retry-After": proxy.retry_after})
                    elif fault == "500":
                        self._send(500, b'{"error": {"message": "internal error"}}')
                    elif fault == "stall":
                        time.sleep(proxy.stall_seconds)
                        self._send(504, b'{"error": {"message": "stalled"}}')
                    elif fault == "malformed":
                        self._send(200, b'{"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"mess')
                    elif fault == "400":
                        self._send(400, b'{"error": {"message": "response_format json_schema is not supported"}}')
                    elif fault == "401":
                        key = self.headers.get("Authorization", "").replace("Bearer ", "")
                        msg = json.dumps({"error": {"message": f"Incorrect API key provided: {key}."}}).encode()
                        self._send(401, msg)
                    else:
                        status, body = proxy._answer(self.path, raw, req)
                        self._send(status, body)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client gave up (timeout) before the answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _forward(self, method: str, path: str, raw: bytes | None) -> tuple[int, bytes]:
        req = urllib.request.Request(self.upstream + path, data=raw, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=600) as resp:  # noqa: S310 - loopback
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def _answer(self, path: str, raw: bytes, req: dict) -> tuple[int, bytes]:
        with self.lock:
            self.forwarded += 1
        if self.upstream:
            status, body = self._forward("POST", path, raw)
        else:
            if callable(self.script):
                data = self.script(req)
            else:
                with self.lock:
                    data = self.script.pop(0) if self.script else completion("{}")
            status, body = 200, json.dumps(data).encode()
        if status == 200:
            try:
                data = json.loads(body)
                usage = data.get("usage") or {}
                with self.lock:
                    self.completions += 1
                    self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
                    self.completion_tokens += int(usage.get("completion_tokens") or 0)
                    self.responses.append(data)
            except ValueError:
                pass
        return status, body

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "Proxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def llama_available() -> tuple[bool, str]:
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        return False, f"llama_cpp is not importable ({exc}); CI installs llama-cpp-python[server]"
    return True, ""


@pytest.fixture(scope="session")
def llama_server():
    """A llama.cpp server with the gemma-3-270m GGUF on a loopback port, for the whole session."""
    ok, why = llama_available()
    if not ok:
        pytest.skip(why)
    from extractor.backends.local_llama import LlamaServer, default_model_path
    server = LlamaServer(default_model_path(), n_ctx=4096).start()
    try:
        yield server
    finally:
        server.stop()
