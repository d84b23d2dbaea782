"""Synthetic reports: a 2021-format report's tables laid out as any text layout met in the wild.

Used by the benchmarks (thousands of varied reports) and by the tests (a seed's tables re-laid in
every layout must read back to the same values).
"""
from __future__ import annotations

import random

from extractor.template import load

ARTICLE = {"docs": "第二十条第（一）项", "licensing": "第二十条第（五）项", "punishment": "第二十条第（六）项",
           "fees": "第二十条第（八）项"}
HEAD_21 = {"docs": ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
           "licensing": ["信息内容", "本年处理决定数量"], "punishment": ["信息内容", "本年处理决定数量"],
           "fees": ["信息内容", "本年收费金额（单位：万元）"]}
GROUP = {"regulations": "docs", "normative_documents": "docs", "licensing": "licensing",
         "punishment": "punishment", "enforcement": "punishment", "fees": "fees"}
REVIEW_HEAD = ["行政复议", "行政诉讼", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉",
               "复议后起诉"] + ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2


def _fmt(v) -> str:
    return "" if v is None else str(v)


def table_rows(tables: dict) -> list[tuple[str, list[list[str]]]]:
    """The three tables as (section heading, rows of cells), labels as printed."""
    t = load()
    ad = []
    seen = set()
    for row in [r for r in t.table_rows("active_disclosure", "2021") if r.generation == "2021"]:
        group = GROUP[row.key]
        if group not in seen:
            seen.add(group)
            ad.append([ARTICLE[group]])
            ad.append(HEAD_21[group])
        ad.append([row.phrases[0]] + [_fmt(v) for v in tables["active_disclosure"][row.key].values()])
    apps_rows = tables["applications"]["rows"]
    variant = "split" if "other_misc" in apps_rows else "single"
    ap = [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"],
          ["自然人", "法人或其他组织", "总计"], ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]]
    for row in t.table_rows("applications"):
        if row.generation not in ("any", variant):
            continue
        if row.kind == "header":
            ap.append([row.printed])
        else:
            ap.append([row.printed] + [_fmt(v) for v in apps_rows[row.key].values()])
    rl = [REVIEW_HEAD, [_fmt(v) for b in ("review", "litigation_direct", "litigation_after_review")
                        for v in tables["review_litigation"][b].values()]]
    return [("二、主动公开政府信息情况", ad), ("三、收到和处理政府信息公开申请情况", ap),
            ("四、政府信息公开行政复议、行政诉讼情况", rl)]


def render(tables: dict, layout: str) -> str:
    parts = ["某某市民政局2024年政府信息公开工作年度报告", "一、总体情况", "2024年，本局认真做好政府信息公开工作。"]
    for heading, rows in table_rows(tables):
        parts.append(heading)
        if layout == "cell_per_line":
            parts += ["\n\n".join(cells) for cells in rows]
        elif layout == "tabs":
            parts += ["\t".join(cells) + "\t" for cells in rows]
        elif layout == "markdown":
            for i, cells in enumerate(rows):
                parts.append("| " + " | ".join(cells) + " |")
                if i == 0:
                    parts.append("|" + "---|" * len(cells))
        elif layout == "pipe_terminated":
            parts += ["\n".join(c + " |" for c in cells) for cells in rows]
        elif layout == "spaces":
            parts.append(" ".join(" ".join(cells) for cells in rows))
        elif layout == "run_together":
            # A crawler that dropped every separator: labels and digits in one run.
            parts.append("".join(cells[0] + "".join(cells[1:]) if not cells[0][:1].isdigit() or len(cells) == 1
                                 else "".join(cells) for cells in rows))
    parts += ["五、存在的主要问题及改进情况", "一是公开内容不够丰富。", "六、其他需要报告的事项", "无。"]
    sep = " " if layout in ("spaces", "run_together") else "\n"
    return sep.join(parts)



LAYOUTS = ["cell_per_line", "tabs", "markdown", "pipe_terminated", "spaces", "run_together"]


def random_tables(rng: random.Random) -> dict:
    """Tables whose identities hold, with realistic small counts."""
    cols = ["natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
            "legal_service_org", "other_org"]
    rows = [r for r in load().table_rows("applications") if r.kind == "row" and r.generation in ("any", "split")]
    result_keys = [r.key for r in rows if r.key not in ("new_received", "carried_over", "results_total",
                                                       "carried_to_next_year")]
    apps = {r.key: {c: 0 for c in cols} for r in rows}
    for c in cols:
        scale = 60 if c == "natural_person" else 4
        new, carried = rng.randint(0, scale), rng.randint(0, max(1, scale // 10))
        apps["new_received"][c], apps["carried_over"][c] = new, carried
        pending = rng.randint(0, carried + min(new, 2))
        done = new + carried - pending
        for _ in range(done):
            apps[rng.choice(result_keys[:4] + result_keys)][c] += 1
        apps["results_total"][c] = done
        apps["carried_to_next_year"][c] = pending
    for r in apps.values():
        r["total"] = sum(r[c] for c in cols)
    review = {}
    for b in ("review", "litigation_direct", "litigation_after_review"):
        vals = [rng.randint(0, 3) for _ in range(4)]
        review[b] = dict(zip(["upheld", "corrected", "other", "pending"], vals), total=sum(vals))
    ad = {"regulations": {"issued": rng.randint(0, 3), "repealed": rng.randint(0, 2), "in_force": rng.randint(0, 40)},
          "normative_documents": {"issued": rng.randint(0, 30), "repealed": rng.randint(0, 9), "in_force": rng.randint(0, 300)},
          "licensing": {"decisions": rng.randint(0, 5000)}, "punishment": {"decisions": rng.randint(0, 900)},
          "enforcement": {"decisions": rng.randint(0, 50)},
          "fees": {"amount_wan_yuan": round(rng.random() * 100, 2) if rng.random() < 0.3 else 0}}
    return {"active_disclosure": ad, "applications": {"rows": apps}, "review_litigation": review}


def random_report(rng: random.Random) -> tuple[str, dict, str]:
    """(text, tables, layout) of one synthetic report."""
    tables = random_tables(rng)
    layout = rng.choice(LAYOUTS)
    return render(tables, layout), tables, layout
