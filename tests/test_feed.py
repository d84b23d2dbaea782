"""The feed's resume state and compaction: a path keeps only the records of its newest content."""
from __future__ import annotations

import json

from extractor.feed import Feed, back_up


def _write(path, recs):
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")


def _rec(rid, path, sha, status="skipped", row=None):
    return {"id": rid, "source": {"path": path, "sha256": sha, "row": row}, "narrative": {"status": status}}


def test_a_feed_left_uncompacted_resumes_from_the_newest_record_of_each_path(tmp_path):
    feed = tmp_path / "feed.jsonl"
    _write(feed, [_rec("old", "x.pdf", "s-old"), _rec("csv-r1", "t.csv", "s-csv", row=1),
                  _rec("csv-r2", "t.csv", "s-csv", row=2), [1, 2], {"no": "id"},
                  _rec("new", "x.pdf", "s-new", "ok"), _rec("csv-r1", "t.csv", "s-csv", "ok", row=1)])
    f = Feed(feed)
    assert f.done == {"new": "ok", "csv-r1": "ok", "csv-r2": "skipped"}
    assert f.path_sha == {"x.pdf": "s-new", "t.csv": "s-csv"}
    f.close()
    ids = [json.loads(line)["id"] for line in feed.read_text(encoding="utf-8").splitlines()]
    assert ids == ["csv-r1", "csv-r2", "new"]  # first-seen order, last line per id, old content gone


def test_a_changed_file_written_in_this_run_replaces_its_record_at_close(tmp_path):
    feed = tmp_path / "feed.jsonl"
    _write(feed, [_rec("broken", "x.pdf", "s1"), _rec("other", "y.txt", "s2")])
    f = Feed(feed)
    f.write_line("good", json.dumps(_rec("good", "x.pdf", "s3")), "skipped", path="x.pdf", sha256="s3")
    assert f.superseded == 1
    f.close()
    assert [json.loads(line)["id"] for line in feed.read_text(encoding="utf-8").splitlines()] == ["other", "good"]


def test_backups_rotate_and_keep_three(tmp_path):
    feed = tmp_path / "feed.jsonl"
    for n in range(5):
        feed.write_text(f"run {n}\n", encoding="utf-8")
        assert back_up(feed, move=True) == tmp_path / "feed.jsonl.1"
    assert [(tmp_path / f"feed.jsonl.{i}").read_text(encoding="utf-8") for i in (1, 2, 3)] == \
        ["run 4\n", "run 3\n", "run 2\n"]
    assert not (tmp_path / "feed.jsonl.4").exists() and not feed.exists()
    assert back_up(feed, move=True) is None  # nothing to keep
