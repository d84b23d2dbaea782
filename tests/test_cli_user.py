"""The command line as a user meets it (issue 15's ten cases, issue 12's every-file-accounted-for):
each test runs `python -m extractor.cli` in a subprocess on real files and asserts the exit code
and what is printed."""
from __future__ import annotations

import csv
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
import zipfile
from pathlib import Path

from extractor.backends.local_llama import free_port
from helpers import FIXTURES, ROOT, SEEDS, read_text
from llm_fixtures import Proxy, completion

CLI = [sys.executable, "-m", "extractor.cli"]
REPORT_PDF = FIXTURES / "corpus_001_huaian-hongze-district-gov-2023.pdf"
FAST = ["--retries", "2", "--retry-wait", "0.01", "--timeout", "5"]  # a dead endpoint costs no minutes
EMPTY_ANSWER = json.dumps({"problems": [], "improvements": [], "platforms": []})


def env_for(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    return {k: v for k, v in env.items() if v is not None}


def run_cli(*args: str, cwd: Path = ROOT, timeout: int = 300, **env) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env_for(**env), cwd=cwd)


def feed_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def errors_of(rec: dict) -> str:
    return " ".join(e["message"] for e in rec["errors"])


def by_name(feed: Path) -> dict[str, dict]:
    return {Path(r["source"]["path"]).name: r for r in feed_records(feed)}


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr


# ---------------------------------------------------------------------------------------------
# 1 (and 10): a dead endpoint — distinct exit code, the hint once, every attempt counted


def test_dead_endpoint_exits_3_with_the_rerun_hint_once_and_counts_every_attempt(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    feed = tmp_path / "feed.jsonl"
    proc = run_cli("extract", SEEDS[0], SEEDS[1], "-o", feed, "--llm", "openai", "--base-url", url,
                   "--model", "x", *FAST, "-q", OPENAI_API_KEY="sk-test-0123456789")
    no_traceback(proc)
    assert proc.returncode == 3, proc.stderr  # tables written, narratives pending
    assert proc.stderr.count("narrative(s) pending") == 1
    assert "run the same command again" in proc.stderr
    assert "narratives failed: 2" in proc.stderr
    # 2 reports × 2 attempts, all refused: every attempt is a call (issue 15.10)
    assert "LLM calls: 4" in proc.stderr
    recs = feed_records(feed)
    assert len(recs) == 2  # the tables are written all the same
    assert all(r["tables"]["applications"] is not None or r["legacy_statistics"] for r in recs)
    assert all(r["extraction"]["calls"] == 2 for r in recs)


def test_http_401_prints_the_missing_key_hint(tmp_path):
    with Proxy(script=[]) as proxy:
        proxy.faults.extend(["401"] * 5)
        proc = run_cli("extract", SEEDS[0], "-o", tmp_path / "feed.jsonl", "--llm", "openai",
                       "--base-url", proxy.url, "--model", "x", *FAST, "-q", OPENAI_API_KEY=None)
    no_traceback(proc)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("hint: the endpoint refused the API key (HTTP 401): set OPENAI_API_KEY") == 1


# ---------------------------------------------------------------------------------------------
# 2: which reports failed


def test_worst_failures_are_named_and_report_failures_writes_them_all(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(FIXTURES / "seed_001_0201cc4015fa0c2d.txt", d / "quoted_119.txt")  # overview check fails
    shutil.copy(REPORT_PDF, d / "hongze.pdf")                                      # table 四's total fails
    (d / "broken.pdf").write_bytes(REPORT_PDF.read_bytes()[:5000])                  # cannot be read
    shutil.copy(SEEDS[2], d / "good.txt")  # seed 002: no check fails (seed 000's 六 is empty: audit.section_empty)
    out = tmp_path / "failures.csv"
    proc = run_cli("extract", d, "-o", tmp_path / "feed.jsonl", "--report-failures", out)
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr  # broken.pdf failed
    assert "worst failures (3 of 3):" in proc.stderr
    lines = proc.stderr.splitlines()
    at = lines.index("worst failures (3 of 3):")
    worst = lines[at + 1:at + 4]
    assert "broken.pdf" in worst[0] and "incomplete" in worst[0]  # an unreadable input comes first
    assert any("quoted_119.txt" in w and "overview.numbers_match_tables" in w and "119" in w for w in worst)
    assert any("hongze.pdf" in w and "review_litigation.block_total" in w for w in worst)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["problem"] for r in rows] == ["error", "check", "check"]
    # written inside the input folder, the CSV is not read as an input on the next run
    for _ in range(2):
        inside = run_cli("extract", d, "-o", tmp_path / "feed.jsonl", "--report-failures", d / "failures.csv")
        assert "files: 4" in inside.stderr and (d / "failures.csv").exists()
    assert {Path(r["path"]).name for r in rows} == {"broken.pdf", "quoted_119.txt", "hongze.pdf"}
    assert all(r["record_id"] for r in rows)


# ---------------------------------------------------------------------------------------------
# 3: a fixed file replaces its old failed record (resume state, compaction, index)


def test_a_fixed_file_replaces_its_failed_record_in_feed_and_index(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEEDS[0], d / "other.txt")
    report = d / "report.pdf"
    report.write_bytes(REPORT_PDF.read_bytes()[:4000])  # a download that did not finish
    feed, db = tmp_path / "feed.jsonl", tmp_path / "index.sqlite"
    first = run_cli("extract", d, "-o", feed, "-q")
    assert first.returncode == 1 and "report.pdf" in first.stderr
    assert run_cli("index", feed, "--db", db).returncode == 0
    shutil.copy(REPORT_PDF, report)  # the user fixes it
    second = run_cli("extract", d, "-o", feed, "-q")
    no_traceback(second)
    assert second.returncode == 0, second.stderr
    assert "records written: 1  already in feed: 1" in second.stderr
    recs = [r for r in feed_records(feed) if r["source"]["path"] == str(report)]
    assert len(recs) == 1 and all(e["stage"] != "load" for e in recs[0]["errors"])
    assert recs[0]["tables"]["applications"] is not None
    assert len(feed_records(feed)) == 2
    indexed = run_cli("index", feed, "--db", db)
    assert indexed.returncode == 0, indexed.stderr
    rows = sqlite3.connect(db).execute("SELECT id, source_path FROM reports").fetchall()
    assert sorted(p for _, p in rows) == sorted([str(report), str(d / "other.txt")])
    assert recs[0]["id"] in {i for i, _ in rows}
    # a third run resumes from the newest records only: nothing to do
    third = run_cli("extract", d, "-o", feed, "-q")
    assert third.returncode == 0 and "records written: 0  already in feed: 2" in third.stderr


# ---------------------------------------------------------------------------------------------
# 4: a progress bar with a total, errors printed above it


def test_progress_bar_has_a_total_and_errors_print_above_it(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for i, seed in enumerate(SEEDS[:3]):
        shutil.copy(seed, d / f"r{i}.txt")
    (d / "zz_empty.txt").write_bytes(b"")
    master, slave = pty.openpty()  # stderr is a terminal, as for a user
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([*CLI, "extract", str(d), "-o", str(tmp_path / "feed.jsonl")],
                            stdout=subprocess.DEVNULL, stderr=slave, env=env_for(COLUMNS="100"), cwd=ROOT)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    out = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 1
    assert "4/4" in out and "100%" in out, out  # a total, a percentage
    # the error line stands on a line of its own, not glued to a bar
    lines = [ln.split("\r")[-1] for ln in out.replace("\r\n", "\n").split("\n")]
    err = [ln for ln in lines if "error: " in ln and "zz_empty.txt" in ln]
    assert len(err) == 1 and err[0].startswith("error: "), out


# ---------------------------------------------------------------------------------------------
# 5: no tracebacks: -o a folder, a closed pipe, Ctrl-C with --workers 2


def test_output_that_is_a_folder_is_one_clear_line(tmp_path):
    proc = run_cli("extract", SEEDS[0], "-o", tmp_path)
    no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"extractor: -o {tmp_path} is a folder; give the feed's file name, e.g. -o {tmp_path / 'feed.jsonl'}"
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    proc = run_cli("extract", SEEDS[0], "-o", tmp_path / "a_file" / "feed.jsonl")
    no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(f"{tmp_path / 'a_file'} is a file, not a folder")


def _closed_stdout(args: list[str]) -> subprocess.CompletedProcess:
    """Run with stdout a pipe whose reader is gone (as `| head` that has had enough)."""
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(), cwd=ROOT)
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.wait(timeout=300)
    return subprocess.CompletedProcess(args, proc.returncode, "", err)


def test_search_and_eval_into_a_closed_pipe_stop_quietly(tmp_path):
    feed, db = tmp_path / "feed.jsonl", tmp_path / "index.sqlite"
    assert run_cli("extract", *SEEDS, "-o", feed, "-q").returncode == 0
    assert run_cli("index", feed, "--db", db).returncode == 0
    for args in (["search", "", "--db", str(db)], ["search", "", "--db", str(db), "--json"], ["eval"]):
        proc = _closed_stdout(args)
        no_traceback(proc)
        assert "BrokenPipe" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
        assert proc.returncode == 0, (args, proc.stderr)
    # and through a real `head`
    shell = subprocess.run(f"{sys.executable} -m extractor.cli search '' --db {db} --json | head -c 5",
                           shell=True, capture_output=True, text=True, env=env_for(), cwd=ROOT)
    assert shell.stdout == "[\n  {" and "Traceback" not in shell.stderr


def test_ctrl_c_with_two_workers_is_one_line(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    texts = [read_text(p) for p in SEEDS]
    for i in range(600):
        (d / f"r{i:04d}.txt").write_text(texts[i % 5] + f"\n（副本 {i}）\n", encoding="utf-8")
    feed = tmp_path / "feed.jsonl"
    proc = subprocess.Popen([*CLI, "extract", str(d), "-o", str(feed), "--workers", "2", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(), cwd=ROOT,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (feed.exists() and feed.read_bytes().count(b"\n") >= 20):
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    _, err = proc.communicate(timeout=60)
    err = err.decode("utf-8", "replace")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines() == [
        "extractor: interrupted; the feed keeps every record written so far — run the same command again to resume"]
    # and the run resumes to completion
    again = run_cli("extract", d, "-o", feed, "-q", "--workers", "2")
    assert again.returncode == 0 and len(feed_records(feed)) == 600


# ---------------------------------------------------------------------------------------------
# 6: messages that name the problem


def _encrypted_pdf(path: Path) -> None:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    c.drawString(72, 700, "2023 annual report")
    c.showPage()
    c.save()


def test_pdf_and_text_messages_name_the_problem(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    _encrypted_pdf(d / "locked.pdf")
    (d / "cut.pdf").write_bytes(REPORT_PDF.read_bytes()[: REPORT_PDF.stat().st_size // 2])
    (d / "empty.pdf").write_bytes(b"")
    seed = read_text(SEEDS[2])
    (d / "utf16.txt").write_bytes(seed.encode("utf-16-le"))  # no BOM
    # mostly Chinese, few ASCII characters: 一 (U+4E00) puts a NUL byte on the other parity
    dense = "一、总体情况\n" + "一是加强组织领导，一以贯之。" * 200
    (d / "dense_utf16.txt").write_bytes(dense.encode("utf-16-be"))
    proc = run_cli("extract", d, "-o", tmp_path / "feed.jsonl", "-q")
    no_traceback(proc)
    assert proc.returncode == 1
    recs = by_name(tmp_path / "feed.jsonl")
    assert errors_of(recs["locked.pdf"]).startswith("password-protected PDF")
    assert errors_of(recs["cut.pdf"]).startswith("the file is incomplete")
    assert errors_of(recs["empty.pdf"]).startswith("empty file")
    for name in ("locked.pdf", "cut.pdf", "empty.pdf"):
        assert "Pdfminer" not in errors_of(recs[name]) and "Root" not in errors_of(recs[name])
        assert f"{name}: " in proc.stderr
    assert recs["utf16.txt"]["source"]["encoding"] == "utf-16-le" and not errors_of(recs["utf16.txt"])
    assert recs["utf16.txt"]["tables"] == by_name_tables(SEEDS[2], tmp_path)
    assert recs["dense_utf16.txt"]["source"]["encoding"] == "utf-16-be"
    assert "binary" not in errors_of(recs["dense_utf16.txt"])


def by_name_tables(seed: Path, tmp_path: Path) -> dict:
    feed = tmp_path / "one.jsonl"
    assert run_cli("extract", seed, "-o", feed, "-q").returncode == 0
    return feed_records(feed)[0]["tables"]


# ---------------------------------------------------------------------------------------------
# 7: --force and --no-resume keep the feed they replace


def test_force_and_no_resume_keep_a_backup(tmp_path):
    feed = tmp_path / "feed.jsonl"
    assert run_cli("extract", *SEEDS[:2], "-o", feed, "-q").returncode == 0
    before = feed.read_bytes()
    fresh = run_cli("extract", SEEDS[2], "-o", feed, "--no-resume", "-q")
    assert fresh.returncode == 0, fresh.stderr
    assert f"the previous feed is kept as {feed}.1" in fresh.stderr
    assert Path(f"{feed}.1").read_bytes() == before
    assert [r["source"]["path"] for r in feed_records(feed)] == [str(SEEDS[2])]  # a new feed
    forced = run_cli("extract", SEEDS[2], SEEDS[3], "-o", feed, "--force", "-q")
    assert forced.returncode == 0 and "records written: 2" in forced.stderr
    assert f"the previous feed is kept as {feed}.1" in forced.stderr
    assert Path(f"{feed}.2").read_bytes() == before  # the older backup shifted, not lost
    assert len(feed_records(Path(f"{feed}.1"))) == 1
    assert sorted(r["source"]["path"] for r in feed_records(feed)) == sorted([str(SEEDS[2]), str(SEEDS[3])])
    help_text = run_cli("extract", "--help").stdout
    assert "--force" in help_text and "replacing its records in the feed" in help_text
    assert "start a new feed" in help_text


# ---------------------------------------------------------------------------------------------
# 8: the LLM cache lives in the user's cache directory


def test_llm_cache_goes_to_the_user_cache_dir_not_the_current_folder(tmp_path):
    work, user_cache = tmp_path / "work", tmp_path / "xdg-cache"
    work.mkdir()
    with Proxy(script=lambda req: completion(tool_args=EMPTY_ANSWER)) as proxy:
        proc = run_cli("extract", SEEDS[0], "-o", work / "feed.jsonl", "--llm", "openai", "--base-url", proxy.url,
                       "--model", "x", *FAST, "-q", cwd=work, EXTRACTOR_CACHE_DIR=None,
                       XDG_CACHE_HOME=str(user_cache), OPENAI_API_KEY="sk-test-0123456789")
        assert proc.returncode == 0, proc.stderr
        assert proxy.received == 1
    assert sorted(p.name for p in work.iterdir()) == ["feed.jsonl"]  # no ./cache
    assert any((user_cache / "extractor" / "llm").iterdir())
    again = run_cli("extract", SEEDS[0], "-o", work / "again.jsonl", "--llm", "openai", "--base-url",
                    f"http://127.0.0.1:{free_port()}/v1", "--model", "x", *FAST, "-q", cwd=work,
                    EXTRACTOR_CACHE_DIR=None, XDG_CACHE_HOME=str(user_cache), OPENAI_API_KEY="sk-test-0123456789")
    assert again.returncode == 0 and "cache hits: 1" in again.stderr  # answered from there
    help_text = run_cli("extract", "--help", XDG_CACHE_HOME=str(user_cache)).stdout
    flat = " ".join(help_text.split())
    assert "else the user cache directory, here " in flat and "extractor/llm" in flat.replace(" ", "")


# ---------------------------------------------------------------------------------------------
# 9: help shows an example, the formats and the exit codes; eval --compare names its columns


def _commands() -> list[str]:
    from extractor.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return list(sub.choices)


def test_every_help_has_an_example_formats_and_exit_codes():
    top = run_cli("--help")
    assert top.returncode == 0 and "example" in top.stdout and "exit codes" in top.stdout
    assert ".pdf" in top.stdout and ".zip" in top.stdout
    for command in _commands():
        proc = run_cli(command, "--help")
        assert proc.returncode == 0, command
        text = proc.stdout
        assert "example" in text, command
        assert "exit codes:" in text, command
        assert "reads:" in text or "formats:" in text, command
    extract = run_cli("extract", "--help").stdout
    for suffix in (".txt", ".html", ".docx", ".pdf", ".csv", ".jsonl", ".zip"):
        assert suffix in extract
    assert "3    tables written, narratives pending" in extract
    search = run_cli("search", "--help").stdout
    assert "--db INDEX.sqlite     the index to search" in search
    assert "at most N hits, best first (default: 10)" in search


def test_eval_compare_heads_columns_by_file_name(tmp_path):
    first = run_cli("eval", "--report", tmp_path / "r1")
    assert first.returncode == 0, first.stderr
    proc = run_cli("eval", "--report", tmp_path / "r2", "--compare", tmp_path / "r1" / "scorecard.json")
    assert proc.returncode == 0, proc.stderr
    head = [ln for ln in proc.stdout.splitlines() if ln.startswith("| metric | ")][-1]
    assert head == f"| metric | {tmp_path / 'r2' / 'scorecard.json'} (rules) | {tmp_path / 'r1' / 'scorecard.json'} (rules) |"


# ---------------------------------------------------------------------------------------------
# 10 and issue 12: every file accounted for — same content, unsupported types, zip, empty folder


def test_same_content_is_said_as_such_on_a_fresh_feed(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEEDS[0], d / "a.txt")
    shutil.copy(SEEDS[0], d / "b_copy.txt")
    feed = tmp_path / "feed.jsonl"
    proc = run_cli("extract", d, "-o", feed, "-q")
    assert proc.returncode == 0, proc.stderr
    assert "already in feed: 0" in proc.stderr and "same content as an earlier file: 1" in proc.stderr
    assert f"same content: {d / 'b_copy.txt'} is the same file as {d / 'a.txt'}" in proc.stderr
    recs = by_name(feed)
    assert set(recs) == {"a.txt", "b_copy.txt"}
    dup = recs["b_copy.txt"]
    assert dup["is_report"] is False and dup["errors"][0]["stage"] == "duplicate"
    assert errors_of(dup).startswith(f"same content as {d / 'a.txt'}")
    assert dup["source"]["sha256"] == recs["a.txt"]["source"]["sha256"] and dup["id"] != recs["a.txt"]["id"]
    again = run_cli("extract", d, "-o", feed, "-q")
    assert "records written: 0  already in feed: 2" in again.stderr and len(feed_records(feed)) == 2


def test_unsupported_types_get_a_record_naming_the_type(tmp_path):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    shutil.copy(SEEDS[0], d / "report.txt")
    (d / "sub" / "tables.numbers").write_bytes(b"PK\x03\x04 not really")
    (d / "notes").write_text("no suffix", encoding="utf-8")
    (d / ".DS_Store").write_bytes(b"\x00\x01")  # hidden: skipped
    feed = tmp_path / "feed.jsonl"
    proc = run_cli("extract", d, "-o", feed, "-q")
    assert proc.returncode == 1
    recs = by_name(feed)
    assert set(recs) == {"report.txt", "tables.numbers", "notes"}
    msg = errors_of(recs["tables.numbers"])
    assert msg.startswith("unsupported file type '.numbers': extractor reads ")
    from extractor.load import supported_suffixes
    assert all(s in msg for s in supported_suffixes())  # derived from the registered loaders
    assert "convert the file" in msg
    assert "a file without a suffix" in errors_of(recs["notes"])
    assert "files: 3" in proc.stderr and "failed: 2" in proc.stderr


def test_zip_members_are_inputs_and_a_bad_member_is_one_error(tmp_path):
    crawl = tmp_path / "crawl.zip"
    with zipfile.ZipFile(crawl, "w") as zf:
        zf.write(SEEDS[0], "2024/report_a.txt")
        zf.write(REPORT_PDF, "2024/deep/hongze.pdf")
        zf.writestr("2023/broken.pdf", REPORT_PDF.read_bytes()[:3000])
        zf.writestr("2023/政府信息公开年报.txt", read_text(SEEDS[1]).encode("gb18030"))
        zf.writestr("__MACOSX/._report_a.txt", b"\x00\x05")
        zf.writestr("readme.xyz", b"what")
    feed = tmp_path / "feed.jsonl"
    proc = run_cli("extract", crawl, "-o", feed, "-q")
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    recs = {r["source"]["path"]: r for r in feed_records(feed)}
    z = str(crawl)
    assert set(recs) == {f"{z}!/2024/report_a.txt", f"{z}!/2024/deep/hongze.pdf", f"{z}!/2023/broken.pdf",
                         f"{z}!/2023/政府信息公开年报.txt", f"{z}!/readme.xyz"}
    assert recs[f"{z}!/2024/deep/hongze.pdf"]["tables"]["applications"] is not None
    assert recs[f"{z}!/2024/report_a.txt"]["tables"] == by_name_tables(SEEDS[0], tmp_path)
    assert errors_of(recs[f"{z}!/2023/broken.pdf"]).startswith("the file is incomplete")
    assert recs[f"{z}!/2023/政府信息公开年报.txt"]["source"]["encoding"] == "gb18030"
    assert "unsupported file type '.xyz'" in errors_of(recs[f"{z}!/readme.xyz"])
    assert "files: 5" in proc.stderr
    # resume works member by member
    again = run_cli("extract", crawl, "-o", feed, "-q")
    assert "records written: 0  already in feed: 5" in again.stderr


def test_zip_with_a_gbk_member_name_reads_as_written(tmp_path):
    crawl = tmp_path / "gbk.zip"
    name = "年报2023.txt"
    placeholder = "abcd2023.txt"  # as many bytes as the GBK name
    assert len(name.encode("gbk")) == len(placeholder)
    with zipfile.ZipFile(crawl, "w") as zf:
        zf.writestr(placeholder, read_text(SEEDS[0]).encode("utf-8"))
    # the name as Chinese Windows zip tools store it: GBK bytes, no UTF-8 flag
    crawl.write_bytes(crawl.read_bytes().replace(placeholder.encode(), name.encode("gbk")))
    feed = tmp_path / "feed.jsonl"
    proc = run_cli("extract", crawl, "-o", feed, "-q")
    assert proc.returncode == 0, proc.stderr
    assert feed_records(feed)[0]["source"]["path"] == f"{crawl}!/{name}"


def test_folder_without_input_warns_and_exits_4(tmp_path):
    empty = tmp_path / "empty"
    (empty / ".git").mkdir(parents=True)
    (empty / ".hidden.txt").write_text("x", encoding="utf-8")
    proc = run_cli("extract", empty, "-o", tmp_path / "feed.jsonl")
    no_traceback(proc)
    assert proc.returncode == 4
    assert f"warning: no input found in {empty}" in proc.stderr


def test_summary_counts_reports_and_non_reports_apart(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEEDS[0], d / "report.txt")
    shutil.copy(FIXTURES / "corpus_004_hebei-dept-science-tech-2016-2023.csv", d / "listing.csv")
    proc = run_cli("extract", d, "-o", tmp_path / "feed.jsonl", "-q")
    assert proc.returncode == 0, proc.stderr
    recs = feed_records(tmp_path / "feed.jsonl")
    reports = sum(r["is_report"] for r in recs)
    assert 0 < reports < len(recs)
    assert f"reports: {reports}  not reports: {len(recs) - reports}  failed: 0" in proc.stderr


def test_issue_12_folder_every_file_appears_in_the_feed(tmp_path):
    """Issue 12's folder: a report, a zip of two reports, a 通知, a README, an empty file, an image,
    a broken .xlsx and two copies of one file — every file is in the feed, the zipped reports are
    read, the 通知 and the README are not reports, the empty file is an error, and the exit says
    something failed; the summary counts reports and non-reports apart."""
    from PIL import Image
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(SEEDS[0], d / "report.txt")
    with zipfile.ZipFile(d / "crawl.zip", "w") as zf:
        zf.write(SEEDS[1], "2023/a.txt")
        zf.write(REPORT_PDF, "2023/b.pdf")
    (d / "tongzhi.txt").write_text("关于报送2023年度政府信息公开工作年度报告的通知\n各区人民政府：\n"
                                   "请于2024年1月31日前报送本单位年度报告。\n", encoding="utf-8")
    (d / "README.md").write_text("# crawl\n\nFiles downloaded on 2024-02-01.\n", encoding="utf-8")
    (d / "empty.txt").write_bytes(b"")
    Image.new("RGB", (40, 20), "white").save(d / "scan.png")
    (d / "tables.xlsx").write_bytes(b"PK\x03\x04 broken workbook")
    shutil.copy(SEEDS[2], d / "copy1.txt")
    shutil.copy(SEEDS[2], d / "copy2.txt")
    feed = tmp_path / "feed.jsonl"
    proc = run_cli("extract", d, "-o", feed, "-q")
    no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    recs = {r["source"]["path"]: r for r in feed_records(feed)}
    want = {str(d / n) for n in ("report.txt", "tongzhi.txt", "README.md", "empty.txt", "scan.png",
                                 "tables.xlsx", "copy1.txt", "copy2.txt")}
    want |= {f"{d / 'crawl.zip'}!/2023/a.txt", f"{d / 'crawl.zip'}!/2023/b.pdf"}
    assert set(recs) == want
    for member in ("a.txt", "b.pdf"):
        rec = recs[f"{d / 'crawl.zip'}!/2023/{member}"]
        assert rec["is_report"] and not [e for e in rec["errors"] if e["stage"] == "load"]
    assert "empty file" in errors_of(recs[str(d / "empty.txt")])
    for name in ("tongzhi.txt", "README.md"):  # Chinese text, or text, is not yet a report
        rec = recs[str(d / name)]
        assert not rec["is_report"] and not [e for e in rec["errors"] if e["stage"] in ("load", "extract")], name
    assert recs[str(d / "report.txt")]["is_report"]
    for name in ("scan.png", "tables.xlsx"):  # an error naming the problem, whichever loader reads it
        assert recs[str(d / name)]["errors"], name
    assert errors_of(recs[str(d / "copy2.txt")]).startswith(f"same content as {d / 'copy1.txt'}")
    assert "same content as an earlier file: 1" in proc.stderr
    reports = sum(r["is_report"] for r in recs.values()
                  if not any(e["stage"] in ("load", "extract", "duplicate") for e in r["errors"]))
    failed = sum(any(e["stage"] in ("load", "extract") for e in r["errors"]) for r in recs.values())
    not_reports = len(recs) - reports - failed - 1  # one duplicate
    assert f"reports: {reports}  not reports: {not_reports}  failed: {failed}" in proc.stderr
    assert f"files: {len(want)}" in proc.stderr
