"""The eval command: scorecard, reports, and the baseline gate catching a deliberate regression."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from extractor.scoring import DICE_THRESHOLD, bigrams, dice, match_items
from helpers import ROOT

TEMPLATE = ROOT / "extractor" / "template"


def run_eval(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "extractor.cli", "eval", "--llm", "rules", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def test_gate_passes_on_main_and_writes_the_report(tmp_path):
    proc = run_eval("--baseline", "evals/baseline.json", "--report", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "baseline gate passed" in proc.stdout
    card = json.loads((tmp_path / "rep" / "scorecard.json").read_text(encoding="utf-8"))
    assert card["metrics"]["cells.seeds.accuracy"] == 1.0  # every seed cell right
    assert card["metrics"]["template.accuracy"] == 1.0
    assert set(card["counts"]["fixtures"]) == {p.name[:-5] for p in (ROOT / "evals" / "labels").glob("*.json")}
    md = (tmp_path / "rep" / "scorecard.md").read_text(encoding="utf-8")
    html = (tmp_path / "rep" / "scorecard.html").read_text(encoding="utf-8")
    for wrong in card["wrong"][:20]:
        assert wrong["key"] in md and wrong["fixture"].split("#")[0] in html


def test_gate_fails_when_a_row_label_is_broken(tmp_path):
    broken = tmp_path / "template"
    shutil.copytree(TEMPLATE, broken, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    rows = (broken / "rows.csv").read_text(encoding="utf-8")
    # The parser no longer knows the label 规章 (a label lost in the middle of a table would be
    # recovered from its position; the first row's cannot be).
    broken_rows = rows.replace("2021,regulations,row,,规章,", "2021,regulations,row,,规则,")
    assert broken_rows != rows
    (broken / "rows.csv").write_text(broken_rows, encoding="utf-8")
    proc = run_eval("--baseline", "evals/baseline.json", env_extra={"EXTRACTOR_TEMPLATE_DIR": str(broken)})
    assert proc.returncode == 1, proc.stdout
    assert "FAIL" in proc.stdout and "cells.table.active_disclosure.accuracy" in proc.stdout


def test_missing_baseline_is_a_clear_error(tmp_path):
    proc = run_eval("--baseline", str(tmp_path / "nope.json"))
    assert proc.returncode == 2 and "no baseline" in proc.stderr


def test_chinese_matching_rule():
    assert dice(bigrams("政策解读形式不够丰富"), bigrams("政策解读形式单一")) >= DICE_THRESHOLD
    assert dice(bigrams("政策解读形式不够丰富"), bigrams("网站安全防护能力不足")) < DICE_THRESHOLD
    pred = [{"text": "政策解读形式单一", "evidence": ""}, {"text": "多余的条目", "evidence": ""}]
    gold = [{"text": "政策解读形式不够丰富", "evidence": ""}]
    pairs = match_items(pred, gold)
    assert [(i, j) for i, j, _ in pairs] == [(0, 0)]  # one-to-one, the unrelated item unmatched
