"""Scoring: records against hand labels → a scorecard; baseline comparison.

Matching rule for narrative items (Chinese has no word boundaries, and a paraphrase rarely shares
whole words): an item is the character bigrams of its text + evidence (punctuation and spaces
removed, widths folded); predicted and labelled items are paired one-to-one, best Dice
coefficient first, and a pair counts as a match when Dice >= 0.5. Platforms match on kind plus
name bigrams (Dice >= 0.5 on name + evidence, or same kind and overlapping name).

Typed fields (`score_typed`): a problem's `area` is scored on matched problem pairs; an
improvement's `addresses` on matched improvement pairs, the predicted problem indices mapped
to labelled ones through the problem pairs (precision/recall of the index sets);
`prior_year_rectification` and `information_fees` once per labelled record (right when both are
null, or both given with the same `rectified`, resp. the same `notices` and `amount` exactly).
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .textutil import squash

DICE_THRESHOLD = 0.5
META_FIELDS = ("agency", "year", "published", "region.province", "region.city", "region.county", "level")
NARRATIVE_FIELDS = ("problems", "improvements", "platforms")
# Metrics where lower is better, gated with no tolerance: a table cell holding a number other
# than the label (as opposed to null) is the one error a user would publish.
NEVER_INCREASE = ("cells.wrong",)


def bigrams(text: str) -> set[str]:
    s = squash(text)
    return {s[i:i + 2] for i in range(len(s) - 1)} or ({s} if s else set())


def dice(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def match_items(predicted: list[dict], labelled: list[dict], key=lambda i: i.get("text", "") + i.get("evidence", "")
                ) -> list[tuple[int, int, float]]:
    """One-to-one pairs (pred index, label index, dice) above the threshold, best first."""
    pb = [bigrams(key(p)) for p in predicted]
    lb = [bigrams(key(l)) for l in labelled]
    scored = sorted(((dice(p, l), i, j) for i, p in enumerate(pb) for j, l in enumerate(lb)), reverse=True)
    used_p, used_l, pairs = set(), set(), []
    for d, i, j in scored:
        if d < DICE_THRESHOLD:
            break
        if i in used_p or j in used_l:
            continue
        used_p.add(i)
        used_l.add(j)
        pairs.append((i, j, d))
    return pairs


def flatten_cells(record_like: dict) -> dict[str, object]:
    """Every table cell of a record or label, keyed by its dotted path."""
    out: dict[str, object] = {}
    tables = record_like.get("tables") or {}
    for name in ("active_disclosure", "review_litigation"):
        for row, cols in (tables.get(name) or {}).items():
            for col, v in (cols or {}).items():
                out[f"tables.{name}.{row}.{col}"] = v
    apps = (tables.get("applications") or {}).get("rows") or {}
    for row, cols in apps.items():
        for col, v in (cols or {}).items():
            out[f"tables.applications.rows.{row}.{col}"] = v
    legacy = record_like.get("legacy_statistics") or {}
    for k, v in (legacy.get("keys") or {}).items():
        out[f"legacy_statistics.keys.{k}"] = v
    return out


def _get(d: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-6
    return a == b


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.right += ok

    @property
    def rate(self) -> float | None:
        return round(self.right / self.total, 4) if self.total else None


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def scores(self) -> dict:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
        rnd = lambda x: None if x is None else round(x, 4)
        return {"precision": rnd(p), "recall": rnd(r), "f1": rnd(f), "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class Scorecard:
    cells: Tally = field(default_factory=Tally)
    cells_by_template: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    cells_by_table: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    cells_by_group: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))  # seed / corpus
    cells_wrong: int = 0  # labelled cells holding a number other than the label (not null)
    blank_read_as_zero: int = 0
    zero_read_as_blank: int = 0
    template: Tally = field(default_factory=Tally)
    is_report: Tally = field(default_factory=Tally)
    meta: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    checks: Tally = field(default_factory=Tally)
    narrative: dict[str, PRF] = field(default_factory=lambda: defaultdict(PRF))
    evidence_found: Tally = field(default_factory=Tally)
    audit: dict[str, PRF] = field(default_factory=lambda: defaultdict(PRF))  # per audit kind, per report
    responsibility: Tally = field(default_factory=Tally)  # failed checks whose responsibility matches the label
    wrong: list[dict] = field(default_factory=list)
    reports: int = 0
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    fixtures: list[str] = field(default_factory=list)
    typed: dict[str, Tally | PRF] = field(default_factory=lambda: {  # see score_typed
        "problems.area": Tally(), "improvements.addresses": PRF(),
        "prior_year_rectification": Tally(), "information_fees": Tally()})

    def metrics(self) -> dict[str, float]:
        """The flat numbers the baseline gate compares (higher is better for every one, except
        those in NEVER_INCREASE)."""
        m: dict[str, float] = {}
        put = lambda k, v: m.__setitem__(k, v) if v is not None else None
        put("cells.accuracy", self.cells.rate)
        put("cells.wrong", self.cells_wrong)
        for t, tally in sorted(self.cells_by_template.items()):
            put(f"cells.template.{t}.accuracy", tally.rate)
        for g, tally in sorted(self.cells_by_group.items()):
            put(f"cells.{g}.accuracy", tally.rate)
        for t, tally in sorted(self.cells_by_table.items()):
            put(f"cells.table.{t}.accuracy", tally.rate)
        put("template.accuracy", self.template.rate)
        put("is_report.accuracy", self.is_report.rate)
        for f_, tally in sorted(self.meta.items()):
            put(f"meta.{f_}.accuracy", tally.rate)
        put("checks.agreement", self.checks.rate)
        for f_, prf in sorted(self.narrative.items()):
            s = prf.scores()
            for k in ("precision", "recall", "f1"):
                put(f"narrative.{f_}.{k}", s[k])
        put("narrative.evidence_found", self.evidence_found.rate)
        for f_, t in self.typed.items():
            if isinstance(t, PRF):
                for k, v in t.scores().items():
                    if k in ("precision", "recall", "f1"):
                        put(f"narrative.{f_}.{k}", v)
            else:
                put(f"narrative.{f_}.accuracy", t.rate)
        for kind, prf in sorted(self.audit.items()):
            sc = prf.scores()
            for k in ("precision", "recall"):
                put(f"audit.{kind}.{k}", sc[k])
        put("checks.responsibility.agreement", self.responsibility.rate)
        return m

    def to_json(self) -> dict:
        return {
            "metrics": self.metrics(),
            "counts": {"reports": self.reports, "cells": self.cells.total, "cells_right": self.cells.right,
                       "cells_wrong": self.cells_wrong,
                       "blank_read_as_zero": self.blank_read_as_zero, "zero_read_as_blank": self.zero_read_as_blank,
                       "fixtures": self.fixtures},
            "narrative": {f_: prf.scores() for f_, prf in sorted(self.narrative.items())},
            "audit": {k: prf.scores() for k, prf in sorted(self.audit.items())},
            "cost": {"llm_calls": self.calls, "cache_hits": self.cache_hits, "prompt_tokens": self.prompt_tokens,
                     "completion_tokens": self.completion_tokens,
                     "seconds_per_report": round(self.seconds / self.reports, 4) if self.reports else None},
            "wrong": self.wrong,
        }


def score_record(card: Scorecard, fixture: str, label: dict, record: dict, source_line) -> None:
    """Add one labelled record's comparison to the card. `source_line(path_key)` gives the text
    line a value was read from (for the list of wrong values)."""
    card.reports += 1
    where = fixture + (f"#row{label['row']}" if label.get("row") is not None else "")

    def wrong(key, want, got):
        card.wrong.append({"fixture": where, "key": key, "wanted": want, "got": got, "source": source_line(key)})

    if record is None:
        wrong("record", "a record", None)
        return
    card.calls += record["extraction"]["calls"]
    card.cache_hits += record["extraction"]["cache_hits"]
    card.prompt_tokens += record["extraction"]["prompt_tokens"]
    card.completion_tokens += record["extraction"]["completion_tokens"]
    card.seconds += record["extraction"]["seconds"]
    if "is_report" in label:
        ok = label["is_report"] == record.get("is_report", True)
        card.is_report.add(ok)
        if not ok:
            wrong("is_report", label["is_report"], record.get("is_report"))
    if "template" in label:
        ok = label["template"] == record["template"]
        card.template.add(ok)
        if not ok:
            wrong("template", label["template"], record["template"])
    if label.get("is_report") is False:
        return
    want_cells = flatten_cells(label)
    got_cells = flatten_cells(record)
    template = label.get("template", "?")
    for key, want in want_cells.items():
        got = got_cells.get(key)
        ok = _same(want, got)
        table = key.split(".")[1] if key.startswith("tables.") else "legacy_statistics"
        card.cells.add(ok)
        card.cells_by_template[template].add(ok)
        card.cells_by_table[table].add(ok)
        card.cells_by_group["seeds" if fixture.startswith("seed_") else "corpus"].add(ok)
        if not ok:
            if isinstance(got, (int, float)) and not isinstance(got, bool):
                card.cells_wrong += 1  # a number, and not the printed one
            if want is None and got == 0:
                card.blank_read_as_zero += 1
            if want == 0 and got is None:
                card.zero_read_as_blank += 1
            wrong(key, want, got)
    for f_ in META_FIELDS:
        want = _get(label.get("meta") or {}, f_)
        if label.get("meta") is None or _missing(label["meta"], f_):
            continue
        got = _get(record["meta"], f_)
        ok = _same(want, got)
        card.meta[f_].add(ok)
        if not ok:
            wrong(f"meta.{f_}", want, got)
    for cid, want in (label.get("checks") or {}).items():
        got = (record["checks"].get(cid) or {}).get("status")
        ok = want == got
        card.checks.add(ok)
        if not ok:
            wrong(f"checks.{cid}", want, got)
    score_audit(card, label, record, wrong)
    narrative = label.get("narrative")
    if narrative is not None:
        pairs_of: dict[str, list] = {}
        for f_ in NARRATIVE_FIELDS:
            if f_ not in narrative:
                continue
            pred = record["narrative"].get(f_) or []
            gold = narrative[f_] or []
            key = (lambda i: i.get("name", "") + i.get("evidence", "")) if f_ == "platforms" else \
                (lambda i: i.get("text", "") + i.get("evidence", ""))
            pairs = pairs_of[f_] = match_items(pred, gold, key)
            prf = card.narrative[f_]
            prf.tp += len(pairs)
            prf.fp += len(pred) - len(pairs)
            prf.fn += len(gold) - len(pairs)
            matched_gold = {j for _, j, _ in pairs}
            for j, g in enumerate(gold):
                if j not in matched_gold:
                    wrong(f"narrative.{f_}", g.get("text") or g.get("name"), None)
            matched_pred = {i for i, _, _ in pairs}
            for i, p in enumerate(pred):
                if i not in matched_pred:
                    wrong(f"narrative.{f_}", None, p.get("text") or p.get("name"))
            for p in pred:
                card.evidence_found.add(((p.get("span") or {}).get("match") or "not_found") != "not_found")
        score_typed(card.typed, narrative, record["narrative"], pairs_of, wrong)


def score_typed(typed: dict, gold: dict, pred: dict, pairs_of: dict[str, list], wrong) -> None:
    """The typed narrative fields of one record (where labelled) into the `typed` tallies."""
    problems_g, problems_p = gold.get("problems") or [], pred.get("problems") or []
    to_gold = {i: j for i, j, _ in pairs_of.get("problems", [])}
    for i, j, _ in pairs_of.get("problems", []):
        if "area" in problems_g[j]:
            ok = problems_g[j]["area"] == problems_p[i].get("area")
            typed["problems.area"].add(ok)
            if not ok:
                wrong("narrative.problems.area", f"{problems_g[j]['text']}: {problems_g[j]['area']}",
                      problems_p[i].get("area"))
    imps_g, imps_p = gold.get("improvements") or [], pred.get("improvements") or []
    prf = typed["improvements.addresses"]
    for i, j, _ in pairs_of.get("improvements", []):
        if "addresses" not in imps_g[j]:
            continue
        want = set(imps_g[j]["addresses"])
        got = {to_gold.get(a, f"unmatched problem {a}") for a in imps_p[i].get("addresses") or []}
        prf.tp += len(want & got)
        prf.fp += len(got - want)
        prf.fn += len(want - got)
        if want != got:
            wrong("narrative.improvements.addresses", f"{imps_g[j]['text']}: {sorted(want)}",
                  sorted(str(a) for a in got))
    if "prior_year_rectification" in gold:
        want, got = gold["prior_year_rectification"], pred.get("prior_year_rectification")
        ok = (want is None and got is None) or (want is not None and got is not None
                                                and want.get("rectified") == got.get("rectified"))
        typed["prior_year_rectification"].add(ok)
        if not ok:
            wrong("narrative.prior_year_rectification", want and want.get("rectified"),
                  got and f"{got.get('rectified')}: {got.get('evidence', '')[:60]}")
    if "information_fees" in gold:
        want, got = gold["information_fees"], pred.get("information_fees")
        ok = (want is None and got is None) or (want is not None and got is not None and all(
            _same(want.get(k), got.get(k)) for k in ("notices", "amount")))
        typed["information_fees"].add(ok)
        if not ok:
            show = lambda f: f and f"notices {f.get('notices')}, amount {f.get('amount')}: {f.get('evidence', '')[:60]}"
            wrong("narrative.information_fees", show(want), show(got))


def score_audit(card: Scorecard, label: dict, record: dict, wrong) -> None:
    """Audit kinds per report: a kind found (any failed item) against the label's yes/no, and the
    responsibility of each labelled failed check. Hidden kinds are scored too: the eval puts every
    kind's check in `record["audit_all"]`."""
    found = record.get("audit_all") or record["checks"]
    for kind, want in (label.get("audit") or {}).items():
        got = (found.get(f"audit.{kind}") or {}).get("status") == "fail"
        prf = card.audit[kind]
        prf.tp += want and got
        prf.fp += got and not want
        prf.fn += want and not got
        if want != got:
            wrong(f"audit.{kind}", want, got)
    for cid, want in (label.get("responsibility") or {}).items():
        check = found.get(cid) or record["checks"].get(cid) or {}
        owners = {i.get("responsibility") for i in check.get("items") or [] if i.get("status") == "fail"}
        got = "extraction" if "extraction" in owners else ("source" if owners == {"source"} else None)
        card.responsibility.add(got == want)
        if got != want:
            wrong(f"responsibility.{cid}", want, got)


def _missing(meta: dict, dotted: str) -> bool:
    d = meta
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return True
        d = d[part]
    return False


def compare_to_baseline(metrics: dict[str, float], baseline: dict[str, float], tolerance: float
                        ) -> list[tuple[str, float, float | None]]:
    """Metrics that fell below the baseline by more than the tolerance (or vanished), and any
    NEVER_INCREASE metric above its baseline at all (a baseline without it counts as 0)."""
    drops = []
    for k, base in baseline.items():
        if k in NEVER_INCREASE:
            continue
        now = metrics.get(k)
        if now is None or now < base - tolerance:
            drops.append((k, base, now))
    for k in NEVER_INCREASE:
        base = baseline.get(k, 0)
        now = metrics.get(k)
        if now is None or now > base:
            drops.append((k, base, now))
    return drops


def load_labels(labels_dir: Path) -> dict[str, dict]:
    return {p.name[:-5]: json.loads(p.read_text(encoding="utf-8")) for p in sorted(labels_dir.glob("*.json"))}
