"""Speed rewrites that must give what the plain code gave (docs/performance.md)."""
from __future__ import annotations

import re

from extractor.checks import _ONLY_EMPTY_MARKS, identity_checks
from extractor.models import Check
from extractor.tables.cells import Token, parse_number


def test_whitespace_of_str_split_is_the_regex_whitespace():
    # detect.not_report_reason counts report text with str.split() instead of re.sub(r"\s+")
    for cp in range(0x110000):
        ch = chr(cp)
        assert (re.match(r"\s", ch) is not None) == (ch.split() == []), hex(cp)


def test_empty_section_pattern_agrees_with_removing_the_marks():
    samples = ["", " ", "无", "。无\n", "无。", "本机关无", "一、无", ".,，\u3000\t", "无无无", "有问题。"]
    for text in samples:
        removed = len(re.sub(r"[\s。.，,]|无", "", text)) == 0
        assert removed == (_ONLY_EMPTY_MARKS.fullmatch(text) is not None), repr(text)


def test_token_parses_its_number_unless_given():
    assert Token("num", "1,234", 0, 5).value == 1234
    assert Token("num", "12.50", 0, 5).value == parse_number("12.50")
    assert Token("num", "7", 0, 1, None, 7) == Token("num", "7", 0, 1)
    assert Token("null", "—", 0, 1).value is None


def test_identity_checks_are_the_models_built_one_by_one():
    from helpers import ROOT
    from extractor.load import load_path
    from extractor.record import extract_record
    doc = next(iter(load_path(ROOT / "evals" / "fixtures" / "seed_002_5f6bec8eadb51f9b.txt")))
    rec = extract_record(doc)
    tables = {k: v for k, v in rec.tables.model_dump().items() if v is not None}
    checks = identity_checks(tables)
    assert checks and all(isinstance(c, Check) for c in checks.values())
    for key, check in checks.items():
        rebuilt = Check(status=check.status, items=[type(i)(**i.model_dump()) for i in check.items])
        assert rebuilt == check and rec.checks[key] == check
    assert any(c.status == "pass" for c in checks.values())


def test_doubled_units_are_what_the_pattern_finds():
    # audit._doubled_units prefilters with numpy where _DOUBLED_UNIT.finditer tried every position
    import random
    from helpers import ROOT
    from extractor.audit import _DOUBLED_UNIT, _doubled_units
    texts = ["", "资", "资金资金", "的的", "常常常常", "工作工作工作", "公开公开。公开公开", "𠀀𠀀资金资金𠀀",
             "一二一二一二三", "依申请依申请公开", "政府信息公开工作年度报告年度报告"]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "evals" / "fixtures").glob("*.txt"))]
    rng = random.Random(3)
    alphabet = "资金公开的的了和工作一二𠀀a1，\n"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60))) for _ in range(3000)]
    single = re.compile("([的了和])\\1")
    texts += ["的的的", "了了资金资金和和和和"]
    for text in texts:
        expected = [(m.start(), m.end(), m.group(1)) for m in _DOUBLED_UNIT.finditer(text)]
        assert _doubled_units(text) == expected, text[:80]
        expected += [(m.start(), m.end(), m.group(1)) for m in single.finditer(text)]
        assert _doubled_units(text, "的了和") == expected, text[:80]


def test_fold_width_is_the_translation_table():
    from extractor.textutil import _FOLD, fold_width
    every = "".join(chr(c) for c in range(0x20, 0x10000) if not 0xD800 <= c < 0xE000)
    assert fold_width(every) == every.translate(_FOLD)
    assert fold_width("２０２３年，（一）") == "2023年,(一)"


def test_line_start_matches_are_finditer():
    # audit._other_style_headings tries its ^-anchored patterns only at line starts
    import random
    from helpers import ROOT
    from extractor.audit import _OTHER_ENUM, _line_start_matches, _ordinal_line_starts
    texts = ["", "1、概述", "\n\n 2. 主动公开", "第一部分 概述\n第二部分、\n\n3．", "# 1、a\n> 12、b\n123、c"]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "evals" / "fixtures").glob("*.txt"))]
    rng = random.Random(5)
    pieces = ["\n", " ", "\u3000", "#", ">", "*", "第", "一", "二", "部分", "1", "2", "3", "12", "、", ".", "．", "：",
              "x", "公开", "\t", "\r", "\x0c"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 40))) for _ in range(20000)]
    for text in texts:
        for _, pattern in _OTHER_ENUM:
            expected = [(m.start(), m.end(), m.group(1)) for m in pattern.finditer(text)]
            got = _line_start_matches(pattern, text, _ordinal_line_starts(text))
            assert [(m.start(), m.end(), m.group(1)) for m in got] == expected, text



def test_row_label_search_bounded_by_the_bare_label_is_the_two_searches():
    # template.RowPattern searches the enumerated label only up to the bare one's end
    import random
    from helpers import ROOT
    from extractor.template import load

    def two_searches(rp, text, pos, end):
        e = rp.enumerated.search(text, pos, end)
        b = rp.bare.search(text, pos, end)
        return b if b is not None and (e is None or b.start() < e.start()) else e

    rows = [r for r in load().rows if r.pattern is not None and r.pattern.bare is not None
            and r.pattern.enumerated is not None]
    assert rows and all(r.pattern.bare_bounds_enumerated for r in rows)
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "evals" / "fixtures").glob("*.txt"))]
    rng = random.Random(13)
    for _ in range(400):
        row = rng.choice(rows)
        pieces = list(row.phrases) + [row.enum, row.enum, " ", "\n", "1.", "（一）", "三、", "x", "、", "12"]
        texts.append("".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12))))
    span = lambda m: m and (m.start(), m.end())
    for text in texts:
        for row in rows:
            for pos in (0, len(text) // 3):
                assert span(row.pattern.search(text, pos, len(text))) == span(two_searches(row.pattern, text, pos, len(text))), (row.key, text)


def test_phrase_search_is_the_alternation():
    # template.PhraseSearch: one pattern per first character, the leftmost match of the alternation
    import random
    from helpers import ROOT
    from extractor.template import PhraseSearch, _read, phrase_pattern
    sets = [d["phrases"].split("|") for d in _read("detect.csv")]
    sets += [["本年新收", "本年", "现行", "本 年 新", "上一年"], ["abc", "ab", "b", "bc"]]
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "evals" / "fixtures").glob("*.txt"))]
    rng = random.Random(17)
    pieces = ["本年", "新收", "现行", "有效", "件数", "上一年", " ", "\n", "a", "b", "c", "统计", "指标", "统 计 指 标"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 15))) for _ in range(3000)]
    span = lambda m: m and (m.start(), m.end())
    for phrases in sets:
        plain = re.compile("|".join(phrase_pattern(p) for p in phrases))
        split = PhraseSearch(phrases)
        for text in texts:
            for pos in (0, len(text) // 2):
                assert span(split.search(text, pos)) == span(plain.search(text, pos)), (phrases, text)


def test_cells_split_are_the_cell_pattern():
    # tables.cells.tokenize splits stretches with str.split where CELL.finditer found the cells
    import random
    from extractor.tables.cells import CELL, Token, _cell_tokens, tokenize

    def by_pattern(text, start, end, signed):  # tokenize as it was written before
        tokens = []
        for m in CELL.finditer(text, start, end):
            cell = m.group()
            if cell.isascii() and cell.isdigit():
                tokens.append(Token("num", cell, m.start(), m.end(), None, int(cell)))
            else:
                _cell_tokens(text, m.start(), m.end(), tokens, signed)
        return tokens

    rng = random.Random(19)
    pieces = ["12", "3", "|", " ", "\t", "\n", "\u3000", "\xa0", "\u2028", "—", "-", "/", "无", "数量", "1,234", "5.5", "x"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 20)))
        a = rng.randrange(0, len(text) + 1)
        b = rng.randrange(a, len(text) + 1)
        for signed in (False, True):
            assert tokenize(text, a, b, signed) == by_pattern(text, a, b, signed), text


def test_sharing_signs_counted_per_kind_are_the_alternation():
    import random
    from helpers import ROOT
    from extractor.normalise import _SHARING_SIGNS, _has_sharing_signs
    alternation = re.compile("|".join(p.pattern for p in _SHARING_SIGNS))
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "evals" / "fixtures").glob("*.txt"))]
    rng = random.Random(23)
    pieces = ["上传人", "：", ":", " ", "文档编号", "该文档总共", "3", "页", ".docx", ".pdf", "_第", "x", "\n"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 14))) for _ in range(5000)]
    for text in texts:
        assert _has_sharing_signs(text) == (len(alternation.findall(text)) >= 2), text


def test_first_lines_are_the_split_lines():
    import random
    from extractor.detect import _first_lines
    rng = random.Random(29)
    for _ in range(5000):
        text = "".join(rng.choice(["a", " ", "\n", "\n\n", "标题", "\t"]) for _ in range(rng.randrange(0, 30)))
        within, wanted = rng.randrange(1, 6), rng.randrange(1, 4)
        expected = [ln.strip() for ln in text.split("\n", within)[:within] if ln.strip()][:wanted]
        assert _first_lines(text, within, wanted) == expected, (text, within, wanted)


def test_first_and_last_splitlines_are_splitlines():
    import random
    from extractor.textutil import first_splitlines, last_splitlines
    rng = random.Random(31)
    for _ in range(3000):
        text = "".join(rng.choice(["a" * 90, "b", "\n", "\r\n", "\r", "\u2028", "\x0c", "年度报告"])
                       for _ in range(rng.randrange(0, 80)))
        for n in (1, 4, 15):
            assert first_splitlines(text, n) == text.splitlines()[:n]
            assert last_splitlines(text, n) == text.splitlines()[-n:]


def test_built_provenance_is_what_validation_gives():
    # record.provenance_of skips validating provenance built from the readers (not OCR's)
    import random
    import sys
    from helpers import ROOT
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_deterministic import real_documents
    from synth import random_report
    from extractor.document import Document
    from extractor.record import _PROVENANCE, extract_record
    rng = random.Random(37)
    docs = real_documents() + [Document(text=random_report(rng)[0], path=f"s{i}.txt", sha256=f"{i:064d}",
                                        format="txt") for i in range(150)]
    checked = 0
    for doc in docs:
        prov = extract_record(doc).provenance
        validated = _PROVENANCE.validate_python(prov)
        assert validated == prov
        assert all(type(a) is type(b) for k in prov for a, b in zip(prov[k].values(), validated[k].values()))
        checked += len(prov)
    assert checked > 3000


def test_signed_off_reads_the_same_last_lines():
    import random
    from extractor.audit import _DATE_LINE, _signed_off

    def before(text):
        tail = [l.strip() for l in text.rstrip().splitlines()[-4:] if l.strip()]
        return any(_DATE_LINE.match(l) for l in tail)

    rng = random.Random(41)
    for _ in range(3000):
        text = "".join(rng.choice(["a" * 300, "b", "\n", "\r\n", "\r", " ", "2024年1月26日", "\u2028"])
                       for _ in range(rng.randrange(0, 30)))
        assert _signed_off(text) == before(text), text[-200:]
