"""The seeds' tables re-laid in every text layout met so far must read back to the same values."""
from __future__ import annotations

import pytest

from extractor.document import Document
from extractor.record import extract_record
from extractor.scoring import flatten_cells
from helpers import label
from synth import LAYOUTS, render

SOURCES = ["seed_000_c67c284a41079efd.txt", "seed_002_5f6bec8eadb51f9b.txt", "seed_004_90c37852d1e90522.txt",
           "corpus_010_shuyang-county-gov-2025-ocr-markdown.txt", "corpus_023_pingtan-zone-2021.txt"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", SOURCES, ids=lambda n: n[:12])
def test_relaid_tables_read_back(name, layout):
    tables = label(name)["tables"]
    if "normative_documents" not in tables["active_disclosure"] or not tables["active_disclosure"]["normative_documents"]:
        tables["active_disclosure"]["normative_documents"] = {"issued": 6, "repealed": 9, "in_force": 3}
    text = render(tables, layout)
    rec = extract_record(Document(text=text, path=f"{name}.{layout}.txt", sha256="0" * 64, format="txt"))
    want, got = flatten_cells({"tables": tables}), flatten_cells(rec.model_dump())
    assert rec.template == "2021"
    if layout == "run_together":
        # Digits run together: every cell is right, or null with an ambiguity error — never wrong.
        wrong = {k: (v, got.get(k)) for k, v in want.items() if got.get(k) is not None and got.get(k) != v}
        assert not wrong, wrong
        nulls = [k for k, v in want.items() if got.get(k) is None and v is not None]
        for k in nulls:
            assert any(k.split(".")[-2] in e.message for e in rec.errors), k
        assert len(nulls) < len(want) / 4, f"too few cells recovered: {len(nulls)} null of {len(want)}"
    else:
        assert got == want, {k: (v, got.get(k)) for k, v in want.items() if got.get(k) != v}


def test_random_reports_in_random_layouts():
    """300 generated reports (tables whose identities hold, every layout): exact, or — for digits
    run together — null with an error where the cut is ambiguous, never a wrong number."""
    import random
    from synth import random_report
    rng = random.Random(20261121)
    null_total = cells_total = 0
    for i in range(300):
        text, tables, layout = random_report(rng)
        rec = extract_record(Document(text=text, path=f"r{i}.txt", sha256=f"{i:064d}", format="txt"))
        want, got = flatten_cells({"tables": tables}), flatten_cells(rec.model_dump())
        cells_total += len(want)
        wrong = {k: (v, got.get(k)) for k, v in want.items() if got.get(k) is not None and got.get(k) != v}
        assert not wrong, (layout, wrong)
        nulls = [k for k, v in want.items() if got.get(k) is None]
        if layout != "run_together":
            assert not nulls, (layout, nulls, [e.message for e in rec.errors])
        null_total += len(nulls)
    assert null_total < cells_total * 0.05
