"""The `openai` backend: any OpenAI-compatible endpoint, through the openai client and instructor.

One model call per report (plus instructor's re-asks) returns problems, improvements and
platforms at once, as `extractor.narrative.models.NarrativeResponse`. The layers, inside out:

1. the raw chat-completion request, retried for transport faults by `retry.call_with_retries`
   (the openai client's own retries are off, so each HTTP attempt is seen and bounded here);
   every request sent is counted as a call (failed attempts included) and every completion
   that comes back adds its tokens, so usage covers every attempt, re-asks included;
2. instructor (`instructor.patch(create=...)`, --mode tools / json_schema / md_json) validates
   the answer against the response model with the report text as validation context: a quote
   that is not in the report fails validation, and the validator's message is the re-ask
   (at most `reasks`=2 re-asks);
3. when the answer still fails, the last completion is salvaged item by item: valid, grounded
   items stand; the others are dropped and listed in `errors`;
4. the answer cache (`cache.py`) in front of it all: a cached answer costs no call.

The API key is read from the environment variable named by --api-key-env when the backend is
built; it is sent as the bearer token and nowhere else (masked in every message).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..models import Narrative, Sections
from ..narrative.models import (FeesItem, ImprovementItem, NarrativeResponse, PlatformItem, ProblemItem,
                                RectificationItem, ground, schema_hash)
from ..narrative.prompts import DEFAULT_MAX_CHARS, DEFAULT_PROMPT, load_prompt, select_input
from . import NarrativeResult, register, resolve_cache_dir, retry_policy_from_args
from .batch import STATE_PREFIX, RequestsWriter, ResultsFile, replay
from .cache import AnswerCache, cache_key
from .retry import LLMCallError, MalformedResponse, RetryPolicy, call_with_retries, redact

log = logging.getLogger("extractor.backends")

MODES = ("tools", "json_schema", "md_json")
DEFAULT_REASKS = 2


def instructor_mode(mode: str):
    import instructor
    return {"tools": instructor.Mode.TOOLS, "json_schema": instructor.Mode.JSON_SCHEMA,
            "md_json": instructor.Mode.MD_JSON}[mode]


@dataclass
class _Usage:
    """What one narrate() call spent; local to the call, so threads never share it.

    `calls` counts every request sent, the attempts that failed (a refused connection, a 5xx,
    a timeout) included: a retried request costs time, and a paid endpoint may bill it."""
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    last: Any = None
    retries: list[str] = field(default_factory=list)

    def attempt(self) -> None:
        self.calls += 1

    def add(self, completion: Any) -> None:
        u = getattr(completion, "usage", None)
        if u is not None:
            self.prompt_tokens += int(getattr(u, "prompt_tokens", 0) or 0)
            self.completion_tokens += int(getattr(u, "completion_tokens", 0) or 0)
        self.last = completion


CIRCUIT_THRESHOLD = 3  # reports in a row whose requests gave up before the endpoint counts as down


class OpenAIBackend:
    """Narrative extraction through an OpenAI-compatible chat-completions endpoint."""

    needs_key = True

    def __init__(self, *, model: str, base_url: str | None = None, api_key: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", mode: str = "tools",
                 cache_dir: str | None = None, timeout: float = 120.0, concurrency: int = 4,
                 max_tokens: int | None = 2048, temperature: float = 0.0,
                 max_input_chars: int = DEFAULT_MAX_CHARS, reasks: int = DEFAULT_REASKS,
                 retry_policy: RetryPolicy | None = None, prompt: str = DEFAULT_PROMPT,
                 name: str = "openai", extra_body: dict | None = None,
                 schema_style: str = "as_sent", batch_out: str | None = None,
                 batch_in: str | None = None):
        import openai
        if not model:
            raise ValueError(f"--llm {name} needs --model (the model name the endpoint serves)")
        if mode not in MODES:
            raise ValueError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.name = name
        self.model = model
        self.mode = mode
        self.api_key_env = api_key_env
        key = api_key if api_key is not None else os.environ.get(api_key_env)
        self._key_missing = not key
        self._secret = key
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.max_input_chars = max_input_chars
        self.reasks = max(0, reasks)
        self.retry_policy = retry_policy or RetryPolicy()
        self.prompt = load_prompt(prompt)
        self.schema_hash = schema_hash(NarrativeResponse)
        self.extra_body = extra_body or {}
        # "llama_cpp": a response_format is sent as {"type": "json_object", "schema": …}, the only
        # form llama-cpp-python's server turns into a grammar (newer instructor sends OpenAI's
        # {"type": "json_schema", …}, which that server rejects); "as_sent": as instructor builds it.
        self.schema_style = schema_style
        self.concurrency = max(1, int(concurrency or 1))
        self._sem = threading.BoundedSemaphore(self.concurrency)
        self._lock = threading.Lock()
        self._gave_up_in_a_row = 0  # reports whose requests gave up on transport faults, in a row
        self.cache = AnswerCache(cache_dir)
        # Batch mode: requests are written to a file and answers read from a results file;
        # the endpoint is never called.
        self.batch_in = ResultsFile(batch_in) if batch_in else None
        self.batch_out = RequestsWriter(batch_out) if batch_out else None
        if (self.batch_in or self.batch_out) and not self.cache.enabled:
            raise ValueError("batch mode keeps answers and re-ask state in the answer cache: drop --no-cache")
        # The client's own retries are off: call_with_retries owns the policy.
        self.client = openai.OpenAI(base_url=self.base_url, api_key=key or "not-set",
                                    timeout=timeout, max_retries=0)

    # -- the interface -------------------------------------------------------------------------

    @property
    def batch_mode(self) -> bool:
        return self.batch_in is not None or self.batch_out is not None

    def narrate(self, text: str, sections: Sections, record_id: str | None = None) -> NarrativeResult:
        started = time.monotonic()
        result = NarrativeResult(narrative=Narrative(method=self.name, status="ok"), model=self.model,
                                 prompt_version=self.prompt.label, prompt_hash=self.prompt.sha256)
        try:
            selection = select_input(text, sections, self.max_input_chars)
        except Exception as exc:  # noqa: BLE001
            return self._failed(result, f"could not select the report text: {exc}")
        sent = selection.text
        result.input = selection.summary()
        if not sent.strip():
            return self._failed(result, "no narrative text to send (the report is empty or all tables)")
        key = cache_key(backend=self.name, model=self.model, mode=self.mode,
                        prompt_hash=self.prompt.sha256, schema_hash=self.schema_hash, text=sent,
                        params=self._params())
        try:
            cached = self.cache.get(key)
        except Exception as exc:  # noqa: BLE001 - a broken cache must not stop the run
            log.warning("cache read failed: %s", exc)
            cached = None
        if cached is not None:
            try:
                response = NarrativeResponse.model_validate(cached["response"])
                result.cache_hits = 1
                result.errors.extend(cached.get("errors", []))
                return self._fill(result, response, text)
            except Exception as exc:  # noqa: BLE001 - a stale entry is ignored
                log.warning("ignoring unreadable cache entry: %s", exc)
        if self.batch_mode:
            return self._narrate_batch(result, key, sent, text, record_id)
        if self._gave_up_in_a_row >= CIRCUIT_THRESHOLD:
            # The endpoint is down for good: fail at once instead of retrying every report for
            # minutes; the tables are written and a later run fills these narratives in.
            return self._failed(result, f"not sent: the last {self._gave_up_in_a_row} requests to {self.base_url} "
                                        f"({self.model}) gave up; run the batch again when the endpoint answers")
        usage = _Usage()
        try:
            with self._sem:
                response, salvage_errors = self._ask(sent, text, usage)
        except LLMCallError as exc:
            self._count(result, usage)
            with self._lock:
                self._gave_up_in_a_row = self._gave_up_in_a_row + 1 if exc.transient or exc.status is None else 0
            return self._failed(result, str(exc))
        except Exception as exc:  # noqa: BLE001 - never raise for a model fault
            self._count(result, usage)
            return self._failed(result, self._safe(f"{type(exc).__name__}: {exc}"))
        self._count(result, usage)
        with self._lock:
            self._gave_up_in_a_row = 0
        result.errors.extend(salvage_errors)
        self._store(key, response, salvage_errors)
        self._fill(result, response, text)
        log.debug("narrated in %.1fs (%d calls)", time.monotonic() - started, usage.calls)
        return result

    def close(self) -> None:
        try:
            self.client.close()
            if self.batch_out is not None:
                self.batch_out.close()
            if self.batch_in is not None:
                self.batch_in.close()
        finally:
            self.cache.close()

    # -- batch mode ----------------------------------------------------------------------------

    def _user_kwargs(self, sent: str, text: str) -> dict[str, Any]:
        """What `_ask` gives instructor: the same request whether sent online or written to a file."""
        kwargs: dict[str, Any] = {"model": self.model, "messages": self.prompt.render(sent),
                                  "temperature": self.temperature, "context": {"text": text}}
        if self.max_tokens:
            kwargs["max_tokens"] = self.max_tokens
        return kwargs

    def _as_sent(self, body: dict) -> dict:
        """The HTTP body the openai client would post for these create() kwargs."""
        body = dict(body)
        if self.schema_style == "llama_cpp":
            body = _llama_cpp_response_format(body)
        extra = body.pop("extra_body", None) or self.extra_body
        body.update(extra or {})
        return body

    def _narrate_batch(self, result: NarrativeResult, key: str, sent: str, text: str,
                       record_id: str | None) -> NarrativeResult:
        from openai.types.chat import ChatCompletion
        if not record_id:
            return self._failed(result, "batch mode needs the record id (the request's custom_id)")
        state_key = STATE_PREFIX + key
        answers: list[dict] = (self.cache.get(state_key) or {}).get("answers", [])
        got = self.batch_in.get(record_id) if self.batch_in is not None else None
        why_pending = "no result for this report in the --batch-in file yet"
        if got is not None and not got.ok:
            why_pending = f"its batch result failed ({self._safe(got.why_not())[:200]})"
        elif got is not None and got.body.get("id") not in {a.get("id") for a in answers}:
            try:
                completion = ChatCompletion.model_validate(got.body)
            except Exception as exc:  # noqa: BLE001 - a body that is not a chat completion
                why_pending = f"its batch result is not a chat completion: {_validation_summary(exc)[:200]}"
            else:
                usage = _Usage()
                usage.attempt()  # the batch made the request: one call, with its tokens
                usage.add(completion)
                self._count(result, usage)
                answers = answers + [got.body]
        elif got is not None:
            why_pending = "its batch result was read before and needs a re-ask"
        completions = [ChatCompletion.model_validate(a) for a in answers]
        response, next_request, error = replay(
            instructor_mode(self.mode), NarrativeResponse, self._user_kwargs(sent, text), completions,
            max_attempts=1 + self.reasks, transform=self._as_sent)
        if response is not None:  # the last answer validates: done, cached as if fetched
            self._store(key, response, [])
            self._forget(state_key)
            return self._fill(result, response, text)
        if completions and next_request is None:  # re-asks used up: keep the valid items, as online
            salvaged, errors = salvage(completions[-1], self.mode)
            self._forget(state_key)
            if salvaged is None:
                return self._failed(result, f"the model's answers did not fit the response schema after "
                                            f"{len(completions)} batch answer(s): {_validation_summary(error)[:300]}")
            errors.insert(0, f"the model's answer failed validation after {len(completions)} batch answer(s); "
                             f"kept its valid items: {_validation_summary(error)[:200]}")
            self._store(key, salvaged, errors)
            result.errors.extend(errors)
            return self._fill(result, salvaged, text)
        if next_request is None:
            return self._failed(result, self._safe(f"could not build the batch request: {error}"))
        if completions:  # an answer failed validation: show its grounded items, re-ask in the next batch
            self.cache.set(state_key, {"answers": answers})
            why_pending = (f"the answer failed validation ({_validation_summary(error)[:200]}); "
                           f"the next --batch-out run writes the re-ask")
            salvaged, _ = salvage(completions[-1], self.mode)
            if salvaged is not None:
                self._fill(result, salvaged, text)
        if self.batch_out is not None:
            self.batch_out.write(record_id, next_request)
            why_pending += f"; request written to {self.batch_out.path.name}"
        result.narrative = result.narrative.model_copy(update={"status": "pending", "error": why_pending})
        return result

    def _store(self, key: str, response: NarrativeResponse, errors: list[str]) -> None:
        try:
            self.cache.set(key, {"response": response.model_dump(mode="json"), "errors": errors,
                                 "model": self.model, "prompt_version": self.prompt.label})
        except Exception as exc:  # noqa: BLE001
            log.warning("cache write failed: %s", exc)

    def _forget(self, state_key: str) -> None:
        try:
            self.cache.delete(state_key)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache delete failed: %s", exc)

    # -- internals -----------------------------------------------------------------------------

    def _params(self) -> dict:
        return {"max_tokens": self.max_tokens, "temperature": self.temperature,
                "reasks": self.reasks, "extra_body": self.extra_body, "schema_style": self.schema_style}

    def _safe(self, message: str) -> str:
        return redact(message, [self._secret])

    def _failed(self, result: NarrativeResult, message: str) -> NarrativeResult:
        message = self._safe(message)
        if self._key_missing and "401" in message:
            message += f" (the variable {self.api_key_env} is not set)"
        result.narrative = Narrative(method=self.name, status="failed", error=message)
        return result

    @staticmethod
    def _count(result: NarrativeResult, usage: _Usage) -> None:
        result.calls += usage.calls
        result.prompt_tokens += usage.prompt_tokens
        result.completion_tokens += usage.completion_tokens

    def _fill(self, result: NarrativeResult, response: NarrativeResponse, text: str) -> NarrativeResult:
        fields, errors = ground(response, text)
        result.narrative = Narrative(method=self.name, status="ok", **fields)
        result.errors.extend(errors)
        return result

    def _raw_create(self, usage: _Usage):
        """The chat-completions call instructor drives: transport retries, usage counted."""
        from openai.types.chat import ChatCompletion

        def create(**kwargs):
            if self.extra_body:
                kwargs.setdefault("extra_body", self.extra_body)
            if self.schema_style == "llama_cpp":
                kwargs = _llama_cpp_response_format(kwargs)

            def once():
                usage.attempt()
                try:
                    completion = self.client.chat.completions.create(**kwargs)
                except json.JSONDecodeError as exc:  # a 2xx body that is not JSON
                    raise MalformedResponse(f"response body is not JSON: {exc}") from None
                if not isinstance(completion, ChatCompletion) or not completion.choices:
                    raise MalformedResponse("response is not a chat completion")
                return completion

            completion = call_with_retries(
                once, policy=self.retry_policy, endpoint=self.base_url, model=self.model,
                secrets=[self._secret], on_retry=lambda exc, s: usage.retries.append(type(exc).__name__))
            usage.add(completion)
            return completion
        return create

    def _ask(self, sent: str, text: str, usage: _Usage) -> tuple[NarrativeResponse, list[str]]:
        import instructor
        import tenacity
        from pydantic import ValidationError

        create = instructor.patch(create=self._raw_create(usage), mode=instructor_mode(self.mode))
        kwargs: dict[str, Any] = {"model": self.model, "messages": self.prompt.render(sent),
                                  "temperature": self.temperature}
        if self.max_tokens:
            kwargs["max_tokens"] = self.max_tokens
        try:
            from instructor.exceptions import IncompleteOutputException
        except ImportError:  # pragma: no cover
            IncompleteOutputException = LLMCallError  # noqa: N806
        # Re-ask only when the answer failed validation: a transport failure (already retried)
        # or an answer cut at max_tokens (the same request would be cut again) ends the call.
        attempts = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(1 + self.reasks), reraise=True,
            retry=tenacity.retry_if_not_exception_type((LLMCallError, IncompleteOutputException)))
        # instructor >= 1.7 takes `context`; older versions `validation_context`
        import inspect
        params = inspect.signature(create, follow_wrapped=False).parameters
        ctx_name = "context" if "context" in params else "validation_context"
        kwargs[ctx_name] = {"text": text}
        try:
            response = create(response_model=NarrativeResponse, max_retries=attempts, **kwargs)
            return response, []
        except LLMCallError:
            raise
        except Exception as exc:  # noqa: BLE001 - validation failed after the re-asks, or output cut
            last = usage.last
            cause = _root_cause(exc)
            if isinstance(cause, LLMCallError):
                raise cause from None
            if last is None:
                raise
            salvaged, errors = salvage(last, self.mode)
            if salvaged is None:
                if type(cause).__name__ == "IncompleteOutputException":
                    detail = "the answer was cut at max_tokens (finish_reason=length)"
                elif isinstance(cause, ValidationError):
                    detail = _validation_summary(cause)
                else:
                    detail = str(cause) or type(cause).__name__
                raise LLMCallError(self._safe(
                    f"the model's answer did not fit the response schema after {usage.calls} call(s) "
                    f"(endpoint {self.base_url}, model {self.model}): {detail[:300]}")) from None
            errors.insert(0, f"the model's answer failed validation after {usage.calls} call(s); "
                             f"kept its valid items: {_validation_summary(cause)[:200]}")
            return salvaged, errors


def _llama_cpp_response_format(kwargs: dict) -> dict:
    rf = kwargs.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "json_schema":
        js = rf.get("json_schema") or {}
        schema = js.get("schema") if isinstance(js, dict) else None
        kwargs = {**kwargs, "response_format": {"type": "json_object", **({"schema": schema} if schema else {})}}
    return kwargs


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, LLMCallError):
            return exc
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            # instructor wraps the last error in its own exception's args
            inner = next((a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)), None)
            if inner is None:
                return exc
            nxt = inner
        exc = nxt
    return exc


def _validation_summary(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            parts = []
            for e in errors()[:3]:
                loc = ".".join(str(x) for x in e.get("loc", ()))
                parts.append(f"{loc}: {e.get('msg', '')}" if loc else str(e.get("msg", "")))
            return "; ".join(parts)
        except Exception:  # noqa: BLE001
            pass
    return " ".join(str(exc).split())


_CODEBLOCK = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def completion_json(completion: Any, mode: str) -> Any:
    """The JSON object in a completion, however the mode carried it; None if there is none."""
    msg = completion.choices[0].message
    raw = None
    if mode == "tools" and getattr(msg, "tool_calls", None):
        raw = msg.tool_calls[0].function.arguments
    if raw is None:
        raw = msg.content or ""
        m = _CODEBLOCK.search(raw)
        if m:
            raw = m.group(1)
        else:
            i, j = raw.find("{"), raw.rfind("}")
            raw = raw[i:j + 1] if 0 <= i < j else raw
    try:
        return json.loads(raw, strict=False)   # raw control characters in strings are tolerated
    except (TypeError, ValueError):
        return None


def salvage(completion: Any, mode: str) -> tuple[NarrativeResponse | None, list[str]]:
    """The valid items of a completion whose whole answer failed validation."""
    data = completion_json(completion, mode)
    if not isinstance(data, dict):
        return None, []
    errors: list[str] = []
    out: dict[str, Any] = {"problems": [], "improvements": [], "platforms": []}
    for fld, model in (("problems", ProblemItem), ("improvements", ImprovementItem), ("platforms", PlatformItem)):
        items = data.get(fld) or []
        if not isinstance(items, list):
            errors.append(f"narrative.{fld} dropped: not a list")
            continue
        for i, item in enumerate(items):
            try:
                out[fld].append(model.model_validate(item))
            except Exception as exc:  # noqa: BLE001
                errors.append(f"narrative.{fld}[{i}] dropped: {_validation_summary(exc)[:160]}")
    for fld, model in (("prior_year_rectification", RectificationItem), ("information_fees", FeesItem)):
        item = data.get(fld)
        if item is None:
            continue
        try:
            out[fld] = model.model_validate(item)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"narrative.{fld} dropped: {_validation_summary(exc)[:160]}")
    return NarrativeResponse(**out), errors


@register("openai")
def _from_args(args: argparse.Namespace) -> OpenAIBackend:
    return OpenAIBackend(
        model=getattr(args, "model", None), base_url=getattr(args, "base_url", None),
        api_key_env=getattr(args, "api_key_env", None) or "OPENAI_API_KEY",
        mode=getattr(args, "mode", None) or "tools", cache_dir=resolve_cache_dir(args),
        timeout=getattr(args, "timeout", None) or 120.0,
        concurrency=getattr(args, "concurrency", 4) or 4,
        max_tokens=getattr(args, "llm_max_tokens", None) or 2048,
        max_input_chars=getattr(args, "llm_max_input_chars", None) or DEFAULT_MAX_CHARS,
        retry_policy=retry_policy_from_args(args),
        batch_out=getattr(args, "batch_out", None), batch_in=getattr(args, "batch_in", None))
