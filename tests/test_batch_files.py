"""Batch files: requests out in the OpenAI Batch input format, results in from the output format.

Real components: the CLI as a user runs it, the answer cache on disk, a loopback HTTP server that
counts every request it gets (so "no network call" is observed, not assumed), and a real
llama.cpp server for the end-to-end run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from extractor.backends.batch import run_requests
from extractor.backends.local_llama import free_port
from extractor.backends.openai_compat import OpenAIBackend
from extractor.narrative.prompts import strip_tables
from extractor.pipeline import run_batch
from helpers import ROOT, SEEDS
from llm_fixtures import FAST_RETRY, Proxy, completion, llama_server  # noqa: F401 - fixture

CLI = [sys.executable, "-m", "extractor.cli"]


def extract(*args: str, cache) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXTRACTOR_CACHE_DIR": str(cache), "OPENAI_API_KEY": "sk-x"}
    return subprocess.run([*CLI, "extract", *map(str, SEEDS), *args, "-q"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def lines(path) -> list[dict]:
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]


def five_of(record: dict) -> str:
    return strip_tables(record["sections"]["problems_improvements"]["text"])


def result_line(custom_id: str, body: dict | None, status: int = 200, error: dict | None = None) -> str:
    response = None if body is None else {"status_code": status, "request_id": "req", "body": body}
    return json.dumps({"id": f"batch_req_{custom_id}", "custom_id": custom_id, "response": response,
                       "error": error}, ensure_ascii=False)


def test_batch_out_writes_one_request_per_report_as_the_online_call_sends_it(tmp_path):
    with Proxy(script=lambda req: completion(tool_args='{"problems": [], "improvements": [], "platforms": []}')) as proxy:
        common = ["--llm", "openai", "--model", "fake-model", "--base-url", proxy.url]
        proc = extract("-o", tmp_path / "feed.jsonl", *common, "--batch-out", tmp_path / "requests.jsonl",
                       cache=tmp_path / "cache")
        assert proxy.received == 0, "batch mode must not call the endpoint"
        assert "narratives pending: 5" in proc.stderr and "batch requests written: 5" in proc.stderr, proc.stderr
        requests = lines(tmp_path / "requests.jsonl")
        records = {r["id"]: r for r in lines(tmp_path / "feed.jsonl")}
        assert len(requests) == 5 and len({r["custom_id"] for r in requests}) == 5
        assert {r["custom_id"] for r in requests} == set(records)
        by_path = {records[r["custom_id"]]["source"]["path"]: r for r in requests}
        requests_by_id = {r["custom_id"]: r for r in requests}
        for rid, rec in records.items():
            req = requests_by_id[rid]
            assert req["method"] == "POST" and req["url"] == "/v1/chat/completions"
            body = req["body"]
            assert body["model"] == "fake-model" and body["tools"] and body["tool_choice"]
            user = body["messages"][-1]["content"]
            assert five_of(rec)[:60] in user  # the report's section 五 is in the request
        for r in records.values():
            assert r["narrative"]["status"] == "pending" and "requests.jsonl" in r["narrative"]["error"]
            assert r["tables"]["applications"] is not None or r["template"] in ("legacy", "none")
        # The same report narrated online: the endpoint receives exactly the batch body.
        online = OpenAIBackend(model="fake-model", base_url=proxy.url, api_key="sk-x", mode="tools",
                               cache_dir=str(tmp_path / "online-cache"), retry_policy=FAST_RETRY)
        run_batch([str(SEEDS[0])], tmp_path / "online.jsonl", backend=online, progress=False)
        online.close()
        assert proxy.received == 1
        assert proxy.requests[0] == by_path[str(SEEDS[0])]["body"]


def test_batch_in_keeps_grounded_items_and_leaves_reports_without_a_result_pending(tmp_path):
    cache, feed = tmp_path / "cache", tmp_path / "feed.jsonl"
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with Proxy(script=[]) as proxy:
        common = ["--llm", "openai", "--model", "fake-model", "--base-url", proxy.url, "-o", feed]
        extract(*common, "--batch-out", tmp_path / "r1.jsonl", cache=cache)
        requests = {r["custom_id"]: r for r in lines(tmp_path / "r1.jsonl")}
        records = {r["id"]: r for r in lines(feed)}
        seed1 = next(rid for rid, r in records.items() if r["source"]["path"] == str(SEEDS[1]))
        grounded = five_of(records[seed1])[20:44]
        answer = {"problems": [{"text": "问题", "evidence": grounded},
                               {"text": "编造", "evidence": "本机关从未发布任何信息且拒绝一切申请"}],
                  "improvements": [], "platforms": []}
        body = completion(tool_args=json.dumps(answer, ensure_ascii=False), prompt_tokens=1234, completion_tokens=56)
        body["id"] = "chatcmpl-first"
        results = tmp_path / "results1.jsonl"
        results.write_text(result_line(seed1, body) + "\n", encoding="utf-8")
        # Read the results: no endpoint is called (the proxy counts, a dead URL would fail too).
        proc = extract(*common, "--batch-in", results, "--price-in", "2", "--price-out", "8", cache=cache)
        assert proxy.received == 0
        assert "tokens: 1234 prompt + 56 completion" in proc.stderr, proc.stderr
        assert "cost: 0.0029" in proc.stderr  # (1234 * 2 + 56 * 8) / 1e6 = 0.002916
        after = {r["id"]: r for r in lines(feed)}
        assert len(after) == 5
        one = after[seed1]["narrative"]
        assert [p["evidence"] for p in one["problems"]] == [grounded]  # the invented quote is gone
        assert one["problems"][0]["span"]["match"] in ("exact", "normalised")
        assert one["status"] == "pending" and "re-ask" in one["error"]
        others = [r for rid, r in after.items() if rid != seed1]
        assert all(r["narrative"]["status"] == "pending" and "no result" in r["narrative"]["error"] for r in others)
        # The next --batch-out writes the re-ask for that report (its answer and the validation error,
        # as instructor sends them) and the first request again for the four without a result.
        extract(*common, "--batch-out", tmp_path / "r2.jsonl", cache=cache)
        assert proxy.received == 0
        second = {r["custom_id"]: r for r in lines(tmp_path / "r2.jsonl")}
        assert set(second) == set(records)
        reask = second[seed1]["body"]["messages"]
        first_messages = requests[seed1]["body"]["messages"]
        assert reask[:len(first_messages)] == first_messages and len(reask) > len(first_messages)
        tail = json.dumps(reask[len(first_messages):], ensure_ascii=False)
        assert "本机关从未发布任何信息且拒绝一切申请" in tail and "not a verbatim quote" in tail
        for rid in set(records) - {seed1}:
            assert second[rid]["body"] == requests[rid]["body"]
        # The re-ask is answered with grounded items only: done, and cached as if fetched.
        fixed = {"problems": [{"text": "问题", "evidence": grounded}], "improvements": [], "platforms": []}
        body2 = completion(tool_args=json.dumps(fixed, ensure_ascii=False))
        body2["id"] = "chatcmpl-second"
        results2 = tmp_path / "results2.jsonl"
        results2.write_text(result_line(seed1, body2) + "\n" + result_line(
            next(iter(set(records) - {seed1})), None, error={"code": "expired", "message": "batch expired"}) + "\n",
            encoding="utf-8")
        extract(*common, "--batch-in", results2, cache=cache)
        assert proxy.received == 0
        final = {r["id"]: r for r in lines(feed)}
        assert final[seed1]["narrative"]["status"] == "ok"
        assert [p["evidence"] for p in final[seed1]["narrative"]["problems"]] == [grounded]
        assert sum("batch expired" in (r["narrative"]["error"] or "") for r in final.values()) == 1
    # A later online run of the same report is answered from the cache: no call at all.
    again = extract("--llm", "openai", "--model", "fake-model", "--base-url", dead, "-o", tmp_path / "again.jsonl",
                    cache=cache)
    rec = next(r for r in lines(tmp_path / "again.jsonl") if r["id"] == seed1)
    assert rec["narrative"]["status"] == "ok" and rec["extraction"]["cache_hits"] == 1 and rec["extraction"]["calls"] == 0
    assert "cache hits: 1" in again.stderr


def test_requests_file_through_a_real_llama_server_then_ingested(llama_server, tmp_path):  # noqa: F811
    from test_llm_backends import LOCAL_OPTS
    cache, feed = tmp_path / "cache", tmp_path / "feed.jsonl"
    inputs = [str(p) for p in SEEDS[:2]]
    dead = f"http://127.0.0.1:{free_port()}/v1"
    b = OpenAIBackend(base_url=dead, api_key="sk-local", cache_dir=str(cache), name="local",
                      batch_out=str(tmp_path / "requests.jsonl"), **LOCAL_OPTS)
    first = run_batch(inputs, feed, backend=b, progress=False)
    b.close()
    assert first.narrative_pending == 2 and first.calls == 0
    ok, failed = run_requests(tmp_path / "requests.jsonl", tmp_path / "results.jsonl", llama_server.base_url)
    assert (ok, failed) == (2, 0)
    results = lines(tmp_path / "results.jsonl")
    tokens = sum(r["response"]["body"]["usage"]["prompt_tokens"] for r in results)
    b = OpenAIBackend(base_url=dead, api_key="sk-local", cache_dir=str(cache), name="local",
                      batch_in=str(tmp_path / "results.jsonl"), **LOCAL_OPTS)
    second = run_batch(inputs, feed, backend=b, progress=False)
    b.close()
    assert second.calls == 2 and second.prompt_tokens == tokens
    for r in lines(feed):  # whatever the tiny model said: schema-valid, every kept quote grounded
        assert r["narrative"]["status"] in ("ok", "pending")
        for item in r["narrative"]["problems"] + r["narrative"]["improvements"] + r["narrative"]["platforms"]:
            assert item["span"]["match"] in ("exact", "normalised")
