"""The LLM answer cache: diskcache in the cache directory, keyed by everything that changes an answer.

Key = sha256 over (backend, model, mode, prompt hash, response-schema hash, generation
parameters, the exact text sent). The API key, the endpoint's credentials and timing are never
part of the key or of the value. A value is the model's validated answer as JSON; grounding is
applied again when it is read (deterministic, cheap), so a cached answer gives the same record.
Only successful answers are stored. diskcache is thread- and process-safe.
"""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any


def cache_key(*, backend: str, model: str | None, mode: str | None, prompt_hash: str | None,
              schema_hash: str | None, text: str, params: dict[str, Any] | None = None) -> str:
    blob = json.dumps({"backend": backend, "model": model, "mode": mode, "prompt": prompt_hash,
                       "schema": schema_hash, "params": params or {}, "text": text},
                      sort_keys=True, ensure_ascii=False)
    return "narrative:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


class AnswerCache:
    """A thin wrapper over diskcache.Cache; `AnswerCache(None)` is a cache that holds nothing."""

    def __init__(self, directory: str | Path | None):
        self.directory = str(directory) if directory is not None else None
        self._cache = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def _get_cache(self):
        if self._cache is None:
            with self._lock:
                if self._cache is None:
                    import diskcache
                    Path(self.directory).mkdir(parents=True, exist_ok=True)
                    self._cache = diskcache.Cache(self.directory)
        return self._cache

    def get(self, key: str) -> dict | None:
        if not self.enabled:
            return None
        raw = self._get_cache().get(key)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except (TypeError, ValueError):
            return None

    def set(self, key: str, value: dict) -> None:
        if not self.enabled:
            return
        self._get_cache().set(key, json.dumps(value, ensure_ascii=False, sort_keys=True))

    def delete(self, key: str) -> None:
        if self.enabled:
            self._get_cache().delete(key)

    def close(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.close()
                self._cache = None
