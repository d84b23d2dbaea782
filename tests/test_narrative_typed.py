"""Typed narrative fields (issue 14, item 3): problem area, improvement addresses, last year's
rectification and the information fees, by the rules (extractor.narrative.typed) and by the
LLM response model (validated, grounded, salvaged), and their scoring."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from extractor.backends.openai_compat import OpenAIBackend, salvage
from extractor.backends.rules import RulesBackend
from extractor.load import load_path
from extractor.models import Finding, PROBLEM_AREAS
from extractor.narrative import typed
from extractor.narrative.models import NarrativeResponse, ground, number_in_quote
from extractor.record import extract_record, normalise
from extractor.scoring import Scorecard, score_record
from extractor.sections import split_sections
from helpers import FIXTURES, label
from llm_fixtures import FAST_RETRY, Proxy, completion

SEED2 = FIXTURES / "seed_002_5f6bec8eadb51f9b.txt"
RECTIFIED = "针对2023年年度报告中提到的问题，进行了相应整改。"


def report(name: str, row: int | None = None):
    doc = next(d for d in load_path(FIXTURES / name) if d.row == row)
    doc = normalise(doc)
    return doc.text, extract_record(doc, normalised=True).sections


def narrate(name: str, row: int | None = None):
    text, sections = report(name, row)
    n = RulesBackend().narrate(text, sections).narrative
    assert n.status == "ok", n.error
    return text, n


# -- rules: fees ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,row,amount,quote", [
    ("corpus_003_huaian-city-gov-2024.pdf", None, 3940, "全年收取政府信息公开信息处理费 3940 元"),
    ("corpus_001_huaian-hongze-district-gov-2023.pdf", None, 0, "全年收取政府信息公开信息处理费 0 元"),
    ("corpus_010_shuyang-county-gov-2025-ocr-markdown.txt", None, 380, "收取信息处理费共计380元"),
    ("corpus_004_hebei-dept-science-tech-2016-2023.csv", 1, 0, "未收取信息处理费"),
    ("seed_002_5f6bec8eadb51f9b.txt", None, 0, "没有产生信息公开处理费"),
    ("seed_001_0201cc4015fa0c2d.txt", None, 0, "不存在收费及减免情况"),   # legacy section 五
    ("corpus_018_pingtan-zone-2016.txt", None, 0, "暂不收费"),             # legacy section 四
    # legacy rows of the CSV exports (四/五、依申请收费及减免情况), read by hand
    ("corpus_006_hebei-dept-education-2013-2023.csv", 12, 0, "均未向申请人收取费用"),
    ("corpus_004_hebei-dept-science-tech-2016-2023.csv", 8, 0, "我厅全部免费为申请人提供政府信息"),
    ("corpus_004_hebei-dept-science-tech-2016-2023.csv", 11, 0, "未收取和减免任何与政府信息公开相关的费用"),
])
def test_fees_are_the_printed_amount_with_a_grounded_quote(name, row, amount, quote):
    text, n = narrate(name, row)
    fees = n.information_fees
    assert fees is not None and fees.amount == amount and quote in fees.evidence
    assert text[fees.span.start:fees.span.end] == fees.evidence
    assert fees.notices is None, "no report here prints a 收费通知 count"


def test_fee_table_rows_and_unrelated_fees_give_no_number():
    # 本年收费金额（单位：万元） 行政事业性收费 7730.28 is the 2021 table, not the fees charged
    _, n = narrate("corpus_001_huaian-hongze-district-gov-2023.pdf")
    assert n.information_fees.amount == 0
    # 2013 tax bureau: '政府信息公开费用1万元' is spending; the 2020 science report prints only the table
    for name, row in (("corpus_016_pingtan-local-tax-bureau-2013.txt", None),
                      ("corpus_004_hebei-dept-science-tech-2016-2023.csv", 6),
                      ("seed_000_c67c284a41079efd.txt", None)):
        assert narrate(name, row)[1].information_fees is None, name


def test_notices_are_read_only_where_printed():
    text, sections = report("seed_002_5f6bec8eadb51f9b.txt")
    six = sections.other
    spliced = text[:six.end] + "\n本年度共发出收费通知2件，收取信息处理费150元。\n" + text[six.end:]
    fees = typed.information_fees(spliced, split_sections(spliced))
    assert (fees.notices, fees.amount) == (2, 0), "the first clause of 六 (没有产生…处理费) settles the amount"
    alone = "六、其他需要报告的事项\n本年度共发出收费通知2件，收取信息处理费150.5元。"
    fees = typed.information_fees(alone, None)
    assert (fees.notices, fees.amount) == (2, 150.5)
    assert fees.evidence == "本年度共发出收费通知2件，收取信息处理费150.5元"
    both = "六、其他需要报告的事项\n本机关发出收费通知的件数和总金额以及实际收取的总金额均为0。"
    fees = typed.information_fees(both, None)
    assert (fees.notices, fees.amount) == (0, 0)


# -- rules: last year's problems ----------------------------------------------------------------

def test_prior_year_rectification_on_a_real_report_with_the_sentence_spliced_into_five():
    text, sections = report("seed_002_5f6bec8eadb51f9b.txt")
    five = sections.problems_improvements
    at = text.index("下一步", five.start)
    for sentence, rectified in ((RECTIFIED, True), ("上年度报告中提到的问题仍未完全整改到位。", False)):
        spliced = text[:at] + sentence + text[at:]
        found = typed.prior_year_rectification(spliced)
        assert found is not None and found.rectified is rectified
        assert spliced[found.span.start:found.span.end] == found.evidence == sentence.rstrip("。")
    assert typed.prior_year_rectification(text) is None


def test_no_fixture_says_anything_about_last_year_so_none_is_found():
    # incl. '结合年度政务公开第三方评估反馈问题，及时进行整改' (not last year's report) and a 2019
    # scrape whose run-together table holds 上一年项目数量 … 问题
    for name, row in (("corpus_004_hebei-dept-science-tech-2016-2023.csv", 1),
                      ("corpus_004_hebei-dept-science-tech-2016-2023.csv", 4),
                      ("corpus_021_pingtan-zone-2019.txt", None),
                      ("corpus_003_huaian-city-gov-2024.pdf", None)):
        assert narrate(name, row)[1].prior_year_rectification is None, name
        assert label(name, row)["narrative"]["prior_year_rectification"] is None


# -- rules: area and addresses ------------------------------------------------------------------

def test_area_is_the_subject_named_first():
    assert typed.area_of("政府网站和政务新媒体运维监管仍需强化") == "平台建设"
    assert typed.area_of("政府信息公开业务能力和水平还有待提高，需要进一步加强业务培训，提升依申请公开答复水平") == "队伍建设"
    assert typed.area_of("三是依申请公开工作机制仍需进一步规范") == "依申请公开"
    assert typed.area_of("信息公开的便民性有待进一步提高") == "其他"
    _, n = narrate("seed_002_5f6bec8eadb51f9b.txt")
    assert [p.area for p in n.problems] == ["平台建设", "主动公开", "队伍建设"]
    assert all(p.area in PROBLEM_AREAS for p in n.problems)
    assert all(i.area is None for i in n.improvements)


def test_addresses_mirror_when_the_report_ties_measures_to_problems():
    # 洪泽 2023: three problems, '针对存在问题，下一步，将切实抓好以下工作：一是…二是…三是…'
    _, n = narrate("corpus_001_huaian-hongze-district-gov-2023.pdf")
    assert len(n.problems) == len(n.improvements) == 3
    assert [i.addresses for i in n.improvements] == [[0], [1], [2]]


def test_addresses_by_subject_and_empty_when_untied():
    _, n = narrate("seed_002_5f6bec8eadb51f9b.txt")   # no 针对…; measure 三 names 队伍, problem 三 too
    assert n.improvements[2].addresses == [2]
    _, n = narrate("corpus_006_hebei-dept-education-2013-2023.csv", 3)   # nothing ties them
    assert n.improvements and all(i.addresses == [] for i in n.improvements)
    p = [Finding(text="政策解读形式单一", evidence="政策解读形式单一")]
    i = [Finding(text="压实管理责任", evidence="压实管理责任"), Finding(text="丰富解读形式", evidence="丰富解读形式")]
    assert typed.addresses(p, i, "下一步：") == [[], [0]]


# -- the LLM response model ---------------------------------------------------------------------

TEXT = SEED2.read_text(encoding="utf-8")
SECTIONS = split_sections(TEXT)
TYPED = {
    "problems": [{"text": "运维监管仍需强化", "evidence": "政府网站和政务新媒体运维监管仍需强化", "area": "平台建设"},
                 {"text": "队伍稳定性和专业性需加强", "evidence": "政务公开工作队伍稳定性和专业性仍需加强", "area": "队伍建设"}],
    "improvements": [{"text": "加强队伍建设", "evidence": "三是加强政务公开工作队伍建设。", "addresses": [1]}],
    "platforms": [],
    "information_fees": {"notices": None, "amount": 0, "evidence": "没有产生信息公开处理费"},
}


def test_number_in_quote():
    assert number_in_quote(3940, "全年收取政府信息公开信息处理费 3940 元")
    assert number_in_quote(0, "我局未收取过信息处理费") and number_in_quote(1200, "共1,200元")
    assert not number_in_quote(380, "收取信息处理费") and not number_in_quote(5, "共计15元")


def test_typed_answer_validates_with_context_and_grounds():
    r = NarrativeResponse.model_validate(TYPED, context={"text": TEXT})
    fields, errors = ground(r, TEXT)
    assert errors == []
    assert [p.area for p in fields["problems"]] == ["平台建设", "队伍建设"]
    assert fields["improvements"][0].addresses == [1]
    fees = fields["information_fees"]
    assert fees.amount == 0 and TEXT[fees.span.start:fees.span.end] == fees.evidence
    assert fields["prior_year_rectification"] is None


@pytest.mark.parametrize("bad,why", [
    ({"information_fees": {"amount": 380, "evidence": "没有产生信息公开处理费"}}, "is not printed"),
    ({"information_fees": {"amount": 0, "evidence": "本局未收取任何信息处理费用"}}, "not a verbatim quote"),
    ({"prior_year_rectification": {"rectified": True, "evidence": RECTIFIED}}, "not a verbatim quote"),
    ({"problems": [{"text": "x", "evidence": "政府网站和政务新媒体运维监管仍需强化", "area": "网站"}]}, "area"),
])
def test_invented_typed_values_fail_validation(bad, why):
    with pytest.raises(ValidationError, match=why):
        NarrativeResponse.model_validate({**TYPED, **bad}, context={"text": TEXT})


def test_ground_drops_ungrounded_typed_parts_and_renumbers_addresses():
    data = {**TYPED, "problems": [{"text": "编造", "evidence": "这句话在报告里根本不存在", "area": "其他"}] + TYPED["problems"],
            "improvements": [{"text": "加强队伍建设", "evidence": "三是加强政务公开工作队伍建设。", "addresses": [0, 2]}],
            "prior_year_rectification": {"rectified": True, "evidence": RECTIFIED}}
    fields, errors = ground(NarrativeResponse.model_validate(data), TEXT)   # no context: as a cached answer
    assert len(fields["problems"]) == 2 and fields["improvements"][0].addresses == [1]
    assert fields["prior_year_rectification"] is None
    assert any("prior_year_rectification dropped" in e for e in errors)
    assert any("addresses" in e for e in errors)


def test_salvage_keeps_the_valid_typed_parts():
    data = {**TYPED, "information_fees": {"amount": 999, "evidence": "没有产生信息公开处理费"},
            "prior_year_rectification": {"rectified": "maybe", "evidence": "x"}}
    from openai.types.chat import ChatCompletion
    c = ChatCompletion.model_validate(completion(tool_args=json.dumps(data, ensure_ascii=False)))
    r, errors = salvage(c, "tools")
    assert len(r.problems) == 2 and r.improvements[0].addresses == [1]
    assert r.information_fees is None and r.prior_year_rectification is None
    assert any("information_fees dropped" in e for e in errors)
    assert any("prior_year_rectification dropped" in e for e in errors)


def test_an_invented_fee_is_reasked_over_http_then_the_grounded_answer_stands(tmp_path):
    bad = {**TYPED, "information_fees": {"amount": 500, "evidence": "没有产生信息公开处理费"}}
    script = [completion(tool_args=json.dumps(bad, ensure_ascii=False)),
              completion(tool_args=json.dumps(TYPED, ensure_ascii=False))]
    with Proxy(script=script) as proxy:
        b = OpenAIBackend(model="fake-model", base_url=proxy.url, api_key="sk-x", mode="tools",
                          cache_dir=str(tmp_path / "cache"), timeout=10, retry_policy=FAST_RETRY)
        res = b.narrate(TEXT, SECTIONS)
        b.close()
    assert proxy.completions == 2
    reask = json.dumps(proxy.requests[1]["messages"], ensure_ascii=False)
    assert "is not printed in its evidence" in reask
    n = res.narrative
    assert n.status == "ok" and n.information_fees.amount == 0 and n.problems[1].area == "队伍建设"
    schema = json.dumps(proxy.requests[0]["tools"][0]["function"]["parameters"], ensure_ascii=False)
    assert "information_fees" in schema and "prior_year_rectification" in schema and "监督考核" in schema
    assert "information_fees" in proxy.requests[0]["messages"][0]["content"], "prompt v2 explains the fields"


# -- scoring ------------------------------------------------------------------------------------

def test_scoring_counts_typed_fields_and_can_fail():
    name = "seed_002_5f6bec8eadb51f9b.txt"
    gold = label(name)
    text, n = narrate(name)
    record = {"extraction": {"calls": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 0},
              "is_report": True, "template": gold["template"], "meta": {}, "checks": {}, "provenance": {},
              "tables": {}, "narrative": n.model_dump(mode="json")}
    card = Scorecard()
    score_record(card, name, {"narrative": gold["narrative"]}, record, lambda k: None)
    m = card.metrics()
    assert m["narrative.information_fees.accuracy"] == 1.0
    assert m["narrative.prior_year_rectification.accuracy"] == 1.0
    assert m["narrative.problems.area.accuracy"] == 1.0
    wrong = json.loads(json.dumps(record))
    wrong["narrative"]["information_fees"]["amount"] = 10
    wrong["narrative"]["problems"][0]["area"] = "其他"
    wrong["narrative"]["prior_year_rectification"] = {"rectified": True, "evidence": "x"}
    card = Scorecard()
    score_record(card, name, {"narrative": gold["narrative"]}, wrong, lambda k: None)
    m = card.metrics()
    assert m["narrative.information_fees.accuracy"] == 0.0
    assert m["narrative.prior_year_rectification.accuracy"] == 0.0
    assert m["narrative.problems.area.accuracy"] < 1.0


def test_labels_carry_the_typed_fields_with_grounded_quotes():
    from extractor.narrative.grounding import locate
    for path in sorted((FIXTURES.parent / "labels").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for rec in data["records"]:
            n = rec.get("narrative")
            if n is None:
                continue
            assert "prior_year_rectification" in n and "information_fees" in n, path.name
            assert all(p["area"] in PROBLEM_AREAS for p in n["problems"]), path.name
            assert all(0 <= a < len(n["problems"]) for i in n["improvements"] for a in i["addresses"]), path.name
            fees = n["information_fees"]
            if fees is not None:
                text, _ = report(data["fixture"], rec.get("row"))
                assert locate(fees["evidence"], text).match != "not_found", path.name
                assert number_in_quote(fees["amount"], fees["evidence"]), path.name
