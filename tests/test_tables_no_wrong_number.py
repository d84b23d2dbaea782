"""No wrong number: weak confirmations, signed 本年增/减, plausibility rules (issue 11, items 1–3)."""
from __future__ import annotations

import pytest

from extractor.document import Document
from extractor.load import load_path
from extractor.record import extract_record
from extractor.tables.cells import confirmed_by_quotes, quoted_numbers, tokenize
from extractor.template import load
from helpers import FIXTURES

HEAD_2019 = ("二、主动公开政府信息情况 第二十条第（一）项信息内容本年新制作数量本年新公开数量对外公开总数量")
ITEMS_2019 = "第二十条第（五）项信息内容上一年项目数量本年增/减处理决定数量"
FEES_2019 = "第二十条第（八）项信息内容上一年项目数量本年增/减"
TAIL = "三、收到和处理政府信息公开申请情况"


TITLE = "某某局2019年政府信息公开工作年度报告\n"  # a report's shape, so the table snippets are read as a report


def _extract(text: str) -> dict:
    return extract_record(Document(text=TITLE + text, path="x.txt", sha256="0" * 64, format="txt")).model_dump()


def _ad(rec: dict) -> dict:
    return rec["tables"]["active_disclosure"]


def _messages(rec: dict) -> str:
    return "\n".join(e["message"] for e in rec["errors"])


def test_pingtan_2019_run_together_rows_are_null_with_candidates_never_a_guess():
    """021 prints 行政事业性收费350 and 其他对外管理服务事项100153 (HTML: 35|0 and 10|0|153). Its prose
    says 50条 and 53项 about other things: they confirm nothing, the cells stay null."""
    rec = extract_record(next(iter(load_path(FIXTURES / "corpus_021_pingtan-zone-2019.txt")))).model_dump()
    ad = _ad(rec)
    assert ad["fees"] == {"prior_year_items": None, "change": None}
    assert ad["other_services"] == {"prior_year_items": None, "change": None, "decisions": None}
    msgs = _messages(rec)
    assert "'350' run together have 2 readings: 3,50; 35,0" in msgs
    assert "'100153' run together have 4 readings: 10,0,153; 100,1,53" in msgs
    for key in ("tables.active_disclosure.fees.change", "tables.active_disclosure.other_services.decisions"):
        assert key not in rec["provenance"]


def test_quote_confirms_only_in_a_clause_naming_row_and_column():
    table = ("二、主动公开政府信息情况 第二十条第（一）项 信息内容 本年制发件数 本年废止件数 现行有效件数 "
             "规章000行政规范性文件8855698第二十条第（五）项信息内容本年处理决定数量行政许可3 " + TAIL)
    # The same numbers quoted about other things settle nothing.
    elsewhere = "一、总体情况 全年发布信息698件，其中政策解读88件。" + table
    assert _ad(_extract(elsewhere))["normative_documents"] == {"issued": None, "repealed": None, "in_force": None}
    # A clause naming the row but not the column settles nothing either.
    row_only = "一、总体情况 公开规范性文件698件，清理规范性文件88件。" + table
    assert _ad(_extract(row_only))["normative_documents"] == {"issued": None, "repealed": None, "in_force": None}
    # Row and column named: 698 in force, 88 issued; 55 is the one cell left, fixed by the digits.
    named = "一、总体情况 集中公开现行有效行政规范性文件698件，本年度制发的规范性文件88件。" + table
    rec = _extract(named)
    assert _ad(rec)["normative_documents"] == {"issued": 88, "repealed": 55, "in_force": 698}
    # Only 698 confirmed: 88|55 are two multi-digit cells unaccounted for, the row stays null.
    one = "一、总体情况 集中公开现行有效行政规范性文件698件。" + table
    assert _ad(_extract(one))["normative_documents"] == {"issued": None, "repealed": None, "in_force": None}


def test_confirmation_rule_directly():
    # candidates of 100153: quotes for the first reading's 10 and 153 (single-digit 0 may stay open)
    cands = [[10, 0, 153], [100, 1, 53], [100, 15, 3]]
    assert confirmed_by_quotes(cands, lambda i, v: (i, v) in {(0, 10), (2, 153)}) == 0
    # 53 quoted for the third column: 100 stays open beside 1 → not accounted for
    assert confirmed_by_quotes(cands, lambda i, v: (i, v) == (2, 53)) is None
    assert confirmed_by_quotes(cands, lambda i, v: False) is None


def test_quoted_numbers_keep_their_clause():
    q = quoted_numbers("设立规范性文件库，集中公开现行有效行政规范性文件698件，动态更新本年度制发的规范性文件88件。")
    assert q[698] == ["集中公开现行有效行政规范性文件"]
    assert q[88] == ["动态更新本年度制发的规范性文件"]


@pytest.mark.parametrize("printed,expected", [
    ("35-15", {"prior_year_items": 35, "change": -15}),
    ("35－15", {"prior_year_items": 35, "change": -15}),  # full-width minus (folded)
    ("35—15", {"prior_year_items": 35, "change": -15}),
    ("35 -15", {"prior_year_items": 35, "change": -15}),
    ("35 15", {"prior_year_items": 35, "change": 15}),
])
def test_change_column_reads_a_minus_as_a_sign(printed, expected):
    rec = _extract(HEAD_2019 + "规章000" + FEES_2019 + "行政事业性收费" + printed + TAIL)
    assert _ad(rec)["fees"] == expected


def test_signed_digit_run_keeps_the_sign_on_the_change_column():
    """平潭 2020 prints 行政处罚2648-18538: the minus opens 本年增/减, never 处理决定数量."""
    rec = _extract(HEAD_2019 + "规章000" + ITEMS_2019 + "行政许可1 2 3其他对外管理服务事项0 0 0"
                   + "第二十条第（六）项信息内容上一年项目数量本年增/减处理决定数量行政处罚2648-18538" + TAIL)
    assert _ad(rec)["punishment"]["prior_year_items"] == 2648  # the same in every reading
    assert _ad(rec)["punishment"]["change"] is None
    msg = next(m for m in _messages(rec).splitlines() if "punishment" in m)
    assert "2648,-185,38" in msg and "2648,-1,8538" in msg
    assert "-18538" not in msg.split("readings:")[1]  # never a negative 处理决定数量


def test_a_minus_is_not_a_sign_in_a_row_without_negative_columns():
    tokens = tokenize("3-5", 0, 3)
    assert [t.text for t in tokens] == ["3", "5"]
    assert [t.value for t in tokenize("3-5", 0, 3, signed=True)] == [3, -5]
    # A count printed negative is no count: null with the reason, not -2.
    rec = _extract("二、主动公开政府信息情况 第二十条第（一）项 信息内容 本年制发件数 本年废止件数 现行有效件数 "
                   "规章 1 -2 3 行政规范性文件 0 0 0 第二十条第（五）项信息内容本年处理决定数量行政许可3 " + TAIL)
    assert _ad(rec)["regulations"] == {"issued": 1, "repealed": None, "in_force": 3}
    assert "'-2' cannot be a count" in _messages(rec)


def test_plausibility_is_template_data():
    t = load()
    docs = next(r for r in t.rows if r.generation == "2019" and r.key == "normative_documents")
    assert [(p.left, p.relation, p.right) for p in docs.rules] == [("total_published", ">=", "new_published")]
    kinds = {(c.key, c.kind) for cols in t.column_sets.values() for c in cols}
    assert ("change", "signed_count") in kinds and ("total_amount", "money") in kinds
    assert not docs.plausible([8, 98, 9], ["8", "98", "9"])  # 对外公开总数量 below 本年新公开数量
    assert docs.plausible([89, 89, 89], ["89", "89", "89"])
    money = next(c for c in t.column_sets["ad2019_procurement"] if c.key == "total_amount")
    assert money.admits(5394432.52, "5394432.52") and not money.admits(394432.521, "394432.521")
    assert money.admits(397.619, "397.619", "万元")  # 万元 to the cent: six decimals are printed


def test_plausibility_rejects_readings_and_never_invents_one():
    # 1210 for 新制作/新公开/总数: 1|2|10 is the only cut with 总数 >= 新公开 (1|21|0 and 12|1|0 break it).
    rec = _extract(HEAD_2019 + "规章000规范性文件1210" + ITEMS_2019 + "行政许可1 2 3" + TAIL)
    assert _ad(rec)["normative_documents"] == {"new_made": 1, "new_published": 2, "total_published": 10}
    # 021's 898989: no candidate listed breaks the rule (8,98,989 passes; 8,989,89 is gone).
    rec = extract_record(next(iter(load_path(FIXTURES / "corpus_021_pingtan-zone-2019.txt")))).model_dump()
    msg = next(m for m in _messages(rec).splitlines() if "898989" in m)
    assert "8,989,89" not in msg and "6 readings" in msg
    # A count never takes the decimal point of a run: 采购项目数量 stays whole.
    rec = _extract(HEAD_2019 + "规章000" + "第二十条第（九）项信息内容采购项目数量采购总金额政府集中采购102339.45万元" + TAIL)
    msg = next(m for m in _messages(rec).splitlines() if "procurement" in m)
    assert "10233,9.45" in msg and "102339.4,5" not in msg
