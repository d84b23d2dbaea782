"""Transport retry policy (tenacity) and error messages that name endpoint and model, never the key.

Transient faults are retried with exponential backoff and jitter, bounded in attempts and in
total time: timeouts, connection errors, 408/409/429 (a Retry-After header is honoured, capped),
5xx, and a response body that is not a chat completion (malformed JSON). Anything else from the
endpoint (400, 401, 403, 404, 422 …) fails at once: retrying cannot fix a bad request or a bad
key. Validation re-asks (the model's answer did not fit the schema or its quotes were not in the
report) are instructor's business, not this module's.
"""
from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

import tenacity

log = logging.getLogger("extractor.backends")
T = TypeVar("T")


class LLMCallError(Exception):
    """A request that cannot succeed (or gave up): the message is safe to record."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.status = status
        self.transient = transient


class MalformedResponse(Exception):
    """The endpoint answered 2xx with a body that is not a chat completion."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6          # transport attempts per model call
    max_total_seconds: float = 300  # no new attempt once this much time has passed
    initial_wait: float = 1.0
    max_wait: float = 30.0
    jitter: float = 1.0
    retry_after_cap: float = 60.0   # a Retry-After longer than this is cut to it


_SECRETISH = [
    (re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-*]{6,}"), r"\1-***"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1***"),
    (re.compile(r"(?i)(api[_-]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"), r"\1***"),
]


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with the given secrets (and anything shaped like a key or bearer token) masked."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
            # A server may echo part of a key ("sk-abc…wxyz"): mask long pieces of it too.
            for n in (16, 12, 8):
                if len(s) > n:
                    for i in range(0, len(s) - n + 1):
                        piece = s[i:i + n]
                        if piece in text:
                            text = text.replace(piece, "***")
    for pattern, repl in _SECRETISH:
        text = pattern.sub(repl, text)
    return text


def status_of(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    if isinstance(code, int):
        return code
    resp = getattr(exc, "response", None)
    code = getattr(resp, "status_code", None)
    return code if isinstance(code, int) else None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, MalformedResponse):
        return True
    if isinstance(exc, LLMCallError):
        return exc.transient
    try:
        import openai
        if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
            return True
        if isinstance(exc, openai.APIResponseValidationError):
            return True
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, (json.JSONDecodeError, TimeoutError, ConnectionError)):
        return True
    code = status_of(exc)
    if code is None:
        return False
    return code in (408, 409, 429) or code >= 500


def retry_after_seconds(exc: BaseException) -> float | None:
    resp = getattr(exc, "response", None)
    headers = getattr(resp, "headers", None)
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(ra)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _wait(policy: RetryPolicy):
    backoff = tenacity.wait_exponential_jitter(initial=policy.initial_wait, max=policy.max_wait,
                                               jitter=policy.jitter)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        ra = retry_after_seconds(exc) if exc is not None else None
        if ra is not None:
            return min(ra, policy.retry_after_cap)
        return backoff(state)
    return wait


def _stop(policy: RetryPolicy):
    by_time = getattr(tenacity, "stop_before_delay", None) or tenacity.stop_after_delay
    return tenacity.stop_after_attempt(policy.max_attempts) | by_time(policy.max_total_seconds)


def describe(exc: BaseException, *, endpoint: str, model: str | None,
             secrets: Iterable[str | None] = ()) -> str:
    """A one-line message for a failed request, naming endpoint and model, with secrets masked."""
    code = status_of(exc)
    where = f"endpoint {endpoint}, model {model or '(none)'}"
    body = ""
    message = getattr(exc, "message", None) or str(exc)
    if message:
        body = ": " + " ".join(str(message).split())[:300]
    if code == 401:
        text = f"authentication failed (HTTP 401) at {where}: check the API key variable{body}"
    elif code == 403:
        text = f"permission denied (HTTP 403) at {where}{body}"
    elif code == 404:
        text = f"not found (HTTP 404) at {where}: check --base-url and --model{body}"
    elif code == 400:
        text = f"request rejected (HTTP 400) at {where}: the endpoint does not accept this request (try another --mode?){body}"
    elif code is not None:
        text = f"HTTP {code} at {where}{body}"
    else:
        text = f"{type(exc).__name__} at {where}{body}"
    return redact(text, secrets)


def call_with_retries(fn: Callable[[], T], *, policy: RetryPolicy, endpoint: str, model: str | None,
                      secrets: Iterable[str | None] = (),
                      on_retry: Callable[[BaseException, float], None] | None = None) -> T:
    """fn() with transient faults retried; raises LLMCallError (safe message) when it gives up."""
    secrets = tuple(secrets)
    started = time.monotonic()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception()
        sleep = state.next_action.sleep if state.next_action else 0.0
        log.warning("retrying after %s (attempt %d, sleeping %.1fs)",
                    describe(exc, endpoint=endpoint, model=model, secrets=secrets),
                    state.attempt_number, sleep)
        if on_retry is not None:
            on_retry(exc, sleep)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient),
        wait=_wait(policy), stop=_stop(policy), reraise=True, before_sleep=before_sleep)
    attempts = 0
    try:
        for attempt in retrying:
            with attempt:
                attempts += 1
                return fn()
    except LLMCallError:
        raise
    except Exception as exc:  # noqa: BLE001 - every fault becomes a safe message
        msg = describe(exc, endpoint=endpoint, model=model, secrets=secrets)
        if is_transient(exc):
            msg = (f"gave up after {attempts} attempt(s) in {time.monotonic() - started:.1f}s: {msg}")
        raise LLMCallError(msg, status=status_of(exc), transient=is_transient(exc)) from None
    raise LLMCallError(f"no attempt made at endpoint {endpoint}, model {model}")  # pragma: no cover
