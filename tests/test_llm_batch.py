"""A batch with an LLM endpoint that goes down: tables still written, narratives marked failed,
a later run fills in only the missing narratives; the API key appears nowhere."""
from __future__ import annotations

import json

from extractor.backends.local_llama import free_port
from extractor.backends.openai_compat import OpenAIBackend
from extractor.pipeline import run_batch
from helpers import SEEDS
from llm_fixtures import FAST_RETRY, Proxy, completion, llama_server  # noqa: F401 - fixture

SECRET = "sk-test-BATCHSECRET-0123456789"
EMPTY = json.dumps({"problems": [], "improvements": [], "platforms": []})


def _backend(url: str, cache) -> OpenAIBackend:
    return OpenAIBackend(model="fake-model", base_url=url, api_key=SECRET, mode="tools", cache_dir=str(cache),
                         timeout=2, retry_policy=FAST_RETRY)


def _lines(feed):
    return [json.loads(l) for l in feed.read_text(encoding="utf-8").splitlines() if l.strip()]


def test_endpoint_down_then_up(tmp_path, capfd):
    feed, cache = tmp_path / "feed.jsonl", tmp_path / "cache"
    answer = lambda: completion(tool_args=EMPTY)
    # 1. Two reports narrated while the endpoint answers.
    with Proxy(script=[answer(), answer()]) as proxy:
        b = _backend(proxy.url, cache)
        first = run_batch([str(p) for p in SEEDS[:2]], feed, backend=b, progress=False)
        b.close()
    assert first.narrative_failed == 0 and proxy.received == 2
    # 2. The endpoint is down: every report still gets its tables, the narrative says why it failed.
    dead = _backend(f"http://127.0.0.1:{free_port()}/v1", cache)
    down = run_batch([str(p) for p in SEEDS], feed, backend=dead, progress=False)
    dead.close()
    assert down.skipped_done == 2 and down.written == 3 and down.narrative_failed == 3
    recs = {r["id"]: r for r in _lines(feed)}
    failed = [r for r in recs.values() if r["narrative"]["status"] == "failed"]
    assert len(failed) == 3
    for r in failed:
        assert r["tables"]["applications"] is not None or r["template"] in ("legacy", "none")
        assert "127.0.0.1" in r["narrative"]["error"]
    # After three reports gave up in a row the rest fail at once (none left here, but the state shows it).
    # 3. The endpoint is back: only the three missing narratives are asked for.
    with Proxy(script=[answer(), answer(), answer()]) as proxy:
        b = _backend(proxy.url, cache)
        again = run_batch([str(p) for p in SEEDS], feed, backend=b, progress=False)
        b.close()
    assert proxy.received == 3
    assert again.written == 3 and again.skipped_done == 2 and again.narrative_failed == 0
    final = _lines(feed)
    assert len(final) == len({r["id"] for r in final}) == 5  # each report once, after compaction
    assert all(r["narrative"]["status"] == "ok" for r in final)
    # The key is nowhere: not in the feed, the cache, or anything printed.
    out, err = capfd.readouterr()
    blobs = [feed.read_bytes(), out.encode(), err.encode()]
    blobs += [p.read_bytes() for p in cache.rglob("*") if p.is_file()]
    assert not any(SECRET.encode() in b or b"BATCHSECRET" in b for b in blobs)


def test_endpoint_down_for_good_fails_fast_after_three_reports(tmp_path):
    dead = _backend(f"http://127.0.0.1:{free_port()}/v1", tmp_path / "cache")
    copies = tmp_path / "in"
    copies.mkdir()
    text = SEEDS[0].read_text(encoding="utf-8")
    for i in range(8):
        (copies / f"r{i}.txt").write_text(text + f"\n{i}\n", encoding="utf-8")
    summary = run_batch([str(copies)], tmp_path / "feed.jsonl", backend=dead, progress=False)
    dead.close()
    assert summary.narrative_failed == 8
    errors = [r["narrative"]["error"] for r in _lines(tmp_path / "feed.jsonl")]
    assert sum("not sent" in e for e in errors) == 5  # after three gave up, the rest were not sent


def test_local_llama_batch_runs_end_to_end_and_rerun_makes_no_request(llama_server, tmp_path):  # noqa: F811
    """`extract --llm local` over two seeds through a real llama.cpp server: every record valid, the
    feed's token and call counts equal what the server returned, a second run answered from cache."""
    from test_llm_backends import LOCAL_OPTS
    cache = tmp_path / "cache"
    inputs = [str(p) for p in SEEDS[:3:2]]
    with Proxy(upstream=llama_server.base_url) as proxy:
        b = OpenAIBackend(base_url=proxy.url, api_key="sk-local", cache_dir=str(cache), name="local", **LOCAL_OPTS)
        first = run_batch(inputs, tmp_path / "one.jsonl", backend=b, progress=False)
        b.close()
        seen = (proxy.completions, proxy.prompt_tokens, proxy.completion_tokens)
        b = OpenAIBackend(base_url=proxy.url, api_key="sk-local", cache_dir=str(cache), name="local", **LOCAL_OPTS)
        second = run_batch(inputs, tmp_path / "two.jsonl", backend=b, progress=False)
        b.close()
        requests_second = proxy.completions - seen[0]
    assert first.failed == 0 and first.written == 2
    assert (first.calls, first.prompt_tokens, first.completion_tokens) == seen
    assert requests_second == 0 and second.calls == 0 and second.cache_hits == 2
    recs = _lines(tmp_path / "one.jsonl")
    assert all(r["narrative"]["method"] == "local" and r["extraction"]["backend"] == "local" for r in recs)
    assert sum(r["extraction"]["calls"] for r in recs) == seen[0]
    for r in recs:  # whatever the tiny model said, every kept quote is in the report
        for item in r["narrative"]["problems"] + r["narrative"]["improvements"] + r["narrative"]["platforms"]:
            assert item["span"]["match"] in ("exact", "normalised")
