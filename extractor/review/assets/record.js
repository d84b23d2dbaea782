// One record's page: the tables as the template prints them (from assets/template.js, i.e.
// extractor/template/rows.csv and columns.csv), every cell's state, the checks with their
// numbers, the narrative, the errors, the panel's findings, and the source text with spans.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("data").textContent);
  var R = D.record, X = D.extra, T = window.REVIEW_TEMPLATE, AG = window.REVIEW_AGENCIES || {};
  var PROV = R.provenance || {}, CELLS = X.cells || {};
  var ranges = [];      // {a, b, cls, id}: what the source text marks
  var rangeById = {};   // id -> range (a click looks its span up here)

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function addRange(a, b, cls, id) {
    if (a == null || b == null || b <= a) return;
    var r = { a: a, b: b, cls: cls, id: id };
    ranges.push(r);
    rangeById[id] = r;
  }
  function num(v) { return v == null ? "null" : (Math.round(v * 1e6) / 1e6).toString(); }
  function get(obj, path) {
    var parts = path.split("."), o = obj;
    for (var i = 0; i < parts.length; i++) {
      if (o == null || typeof o !== "object" || !(parts[i] in o)) return { present: false };
      o = o[parts[i]];
    }
    return { present: true, value: o };
  }

  // Why a cell is null, where the reader said so: its errors name the table and row
  // ("table 二: licensing: digits '3960181' run together have 11 readings … cells left null").
  var TABLE_NUM = { active_disclosure: "二", applications: "三", review_litigation: "四" };
  function nullReason(path) {
    var m = /^tables\.(\w+)\.(?:rows\.)?(\w+)\.\w+$/.exec(path);
    if (!m || !TABLE_NUM[m[1]]) return null;
    var head = "table " + TABLE_NUM[m[1]] + ": " + m[2] + ":";
    var hit = (R.errors || []).filter(function (e) { return e.message.indexOf(head) === 0; })[0];
    return hit ? hit.message : null;
  }

  // ---- cells --------------------------------------------------------------------------------
  function cellTd(path) {
    var g = get(R, path), prov = PROV[path], panel = CELLS[path], cls, text, why;
    if (!g.present) {
      cls = "absent"; text = "·"; why = "not printed: this report's table has no such cell";
      if (panel) why += "; panel: " + panel.how + (panel.note ? " — " + panel.note : "");
    } else if (g.value === null) {
      if (panel && panel.value !== "") {
        cls = "settled"; text = panel.value;
        why = "null in the report; settled across years by the panel (" + panel.how + ")" + (panel.note ? ": " + panel.note : "");
      } else {
        cls = "null"; text = "null";
        var said = nullReason(path);
        why = panel ? "null: " + panel.how + (panel.note ? " — " + panel.note : "")
                    : said ? "null: " + said
                    : "null: the report prints a blank, “/” or “—” here, or nothing the reader could place";
        if (said && !panel) cls += " noted";
      }
    } else if (prov) {
      cls = "read"; text = num(g.value);
      why = "read from the report: “" + prov.text + "” at characters " + prov.start + "–" + prov.end +
        (prov.unit ? " · unit " + prov.unit : "") + (prov.note ? " · " + prov.note : "");
      if (prov.note) cls += " noted";
      addRange(prov.start, prov.end, "cell", path);
    } else {
      cls = "nospan"; text = num(g.value); why = "read, but the feed gives no span for it";
    }
    return '<td class="c ' + cls + '" data-p="' + esc(path) + '" title="' + esc(why) + '">' + esc(text) + '</td>';
  }

  // ---- tables, laid out as printed -------------------------------------------------------------
  function tplRows(table, generations) {
    return T.rows.filter(function (r) { return r.table === table && generations.indexOf(r.generation) >= 0; });
  }
  function level(enumText) {
    if (/^[一二三四五六七八九十]+、/.test(enumText)) return 1;
    if (/^[（(]/.test(enumText)) return 2;
    if (/^\d/.test(enumText)) return 3;
    return 1;
  }
  function activeDisclosure() {
    var t = (R.tables || {}).active_disclosure;
    if (!t) return "";
    var rows = tplRows("active_disclosure", [R.template]), out = "", head = null, sig = null, body = "";
    function flush() { if (head) out += '<table class="tpl">' + head + body + '</table>'; }
    rows.forEach(function (r) {
      var s = r.columns.map(function (c) { return c.key; }).join(",");
      if (s !== sig) {  // consecutive rows with the same columns share one printed block
        flush();
        head = '<tr><th>信息内容</th>' + r.columns.map(function (c) { return '<th>' + esc(c.printed) + '</th>'; }).join("") + '</tr>';
        sig = s; body = "";
      }
      body += '<tr><th class="label">' + esc(r.printed) + '</th>' +
        r.columns.map(function (c) { return cellTd("tables.active_disclosure." + r.key + "." + c.key); }).join("") + '</tr>';
    });
    flush();
    return '<h3>二、主动公开政府信息情况</h3><div class="scroll-x">' + out + '</div>';
  }
  function applications() {
    var t = (R.tables || {}).applications;
    if (!t) return "";
    var have = t.rows || {};
    var split = ["other_overdue_correction", "other_overdue_fee", "other_misc"].some(function (k) { return k in have; });
    if (!split && !("other_handling" in have)) split = R.template === "2021";
    var rows = tplRows("applications", ["any", split ? "split" : "single"]);
    var cols = (rows.filter(function (r) { return r.kind === "row"; })[0] || { columns: [] }).columns;
    var first = cols[0], last = cols[cols.length - 1], middle = cols.slice(1, -1);
    // Header: 申请人情况 over the seven columns; 法人或其他组织 over the five between 自然人 and 总计.
    var head = '<tr><th colspan="3" rowspan="3" class="label muted">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</th>' +
      '<th colspan="' + cols.length + '">申请人情况</th></tr>' +
      '<tr><th rowspan="2">' + esc(first.printed) + '</th><th colspan="' + middle.length + '">法人或其他组织</th>' +
      '<th rowspan="2">' + esc(last.printed) + '</th></tr><tr>' +
      middle.map(function (c) { return '<th>' + esc(c.printed) + '</th>'; }).join("") + '</tr>';
    // Label cells: a heading row (三、本年度办理结果, （三）不予公开) spans the value rows under it.
    var stack = {}, plan = [];
    rows.forEach(function (r) {
      var L = level(r.enum || r.printed);
      if (r.kind === "header") {
        var h = { printed: r.printed, count: 0, drawn: false, level: L };
        for (var k = L; k <= 3; k++) delete stack[k];
        stack[L] = h;
        return;
      }
      var parents = [];
      for (var j = 1; j < L; j++) if (stack[j]) parents.push(stack[j]);
      for (var m = L; m <= 3; m++) delete stack[m];
      parents.forEach(function (p) { p.count++; });
      plan.push({ row: r, parents: parents });
    });
    var body = plan.map(function (p) {
      var th = "";
      p.parents.forEach(function (h) {
        if (!h.drawn) { th += '<th class="label" rowspan="' + h.count + '">' + esc(h.printed) + '</th>'; h.drawn = true; }
      });
      var label = p.row.printed, ph = p.parents[p.parents.length - 1];
      th += '<th class="label" colspan="' + (3 - p.parents.length) + '">' + esc(label) + '</th>';
      return '<tr data-row="' + esc(p.row.key) + '">' + th + cols.map(function (c) {
        return cellTd("tables.applications.rows." + p.row.key + "." + c.key);
      }).join("") + '</tr>';
    }).join("");
    return '<h3>三、收到和处理政府信息公开申请情况</h3><div class="scroll-x"><table class="tpl apps">' + head + body + '</table></div>';
  }
  function reviewLitigation() {
    var t = (R.tables || {}).review_litigation;
    if (!t) return "";
    var blocks = tplRows("review_litigation", ["any"]);
    var top = "", second = "", third = "", data = "";
    var groups = [];
    blocks.forEach(function (b) {
      var parts = b.printed.split("·"), g = groups[groups.length - 1];
      if (!g || g.name !== parts[0]) groups.push(g = { name: parts[0], blocks: [] });
      g.blocks.push({ row: b, sub: parts[1] || null });
    });
    groups.forEach(function (g) {
      var width = g.blocks.reduce(function (n, b) { return n + b.row.columns.length; }, 0);
      var hasSub = g.blocks.some(function (b) { return b.sub; });
      top += '<th colspan="' + width + '"' + (hasSub ? '' : ' rowspan="2"') + '>' + esc(g.name) + '</th>';
      g.blocks.forEach(function (b) {
        if (b.sub) second += '<th colspan="' + b.row.columns.length + '">' + esc(b.sub) + '</th>';
        b.row.columns.forEach(function (c) {
          third += '<th>' + esc(c.printed) + '</th>';
          data += cellTd("tables.review_litigation." + b.row.key + "." + c.key);
        });
      });
    });
    return '<h3>四、政府信息公开行政复议、行政诉讼情况</h3><div class="scroll-x"><table class="tpl">' +
      '<tr>' + top + '</tr><tr>' + second + '</tr><tr>' + third + '</tr><tr>' + data + '</tr></table></div>';
  }
  function legacy() {
    var L = R.legacy_statistics;
    if (!L) return "";
    var keys = '<table class="tpl"><tr><th>key</th><th>统计指标</th><th>value</th></tr>' +
      T.legacy_keys.map(function (k) {
        return '<tr><th class="label"><code>' + esc(k.key) + '</code></th><th class="label">' + esc(k.printed) + '</th>' +
          cellTd("legacy_statistics.keys." + k.key) + '</tr>';
      }).join("") + '</table>';
    var rows = '<details><summary>all ' + L.rows.length + ' rows as printed (the feed keeps spans for the keys above only)</summary>' +
      '<table class="tpl"><tr><th>统计指标</th><th>单位</th><th>数量</th></tr>' +
      L.rows.map(function (r) {
        return '<tr><th class="label">' + esc(r.indicator) + '</th><td>' + esc(r.unit || "") + '</td><td class="c ' +
          (r.value === null ? 'null' : 'nospan') + '">' + esc(num(r.value)) + '</td></tr>';
      }).join("") + '</table></details>';
    return '<h3>政府信息公开情况统计表 (legacy)</h3><div class="scroll-x">' + keys + '</div>' + rows;
  }

  // ---- checks, narrative, errors, findings ----------------------------------------------------
  function checks() {
    var names = Object.keys(R.checks || {});
    names.sort(function (a, b) { return (R.checks[a].status !== "fail") - (R.checks[b].status !== "fail"); });
    if (!names.length) return '<p class="muted">no checks</p>';
    return names.map(function (name) {
      var c = R.checks[name], paths = (X.scope_paths || {})[name] || [];
      var items = (c.items || []).map(function (it, i) {
        var links = "", sp = X.check_spans["" + name + "/" + i];
        // An audit finding carries its own span; the report's fault is told apart from a reading in doubt.
        if (!sp && it.start != null && it.end != null) sp = [it.start, it.end];
        if (sp) { addRange(sp[0], sp[1], "checkq", "check:" + name + "/" + i); links += ' <span class="clickable" data-span="check:' + esc(name + "/" + i) + '">show the text</span>'; }
        if (paths[i] && PROV[paths[i]]) links += ' <span class="clickable" data-span="' + esc(paths[i]) + '">show the table value</span>';
        var nums = (it.left != null || it.right != null)
          ? ' <span class="nums">' + num(it.left) + (it.status === "fail" ? " ≠ " : " = ") + num(it.right) + '</span>' : "";
        var who = it.responsibility ? ' <span class="badge ' + (it.responsibility === "source" ? "fail" : "muted") + '" title="' +
          (it.responsibility === "source" ? "the report's own numbers or text are at fault" : "the reading itself is in doubt") +
          '">' + (it.responsibility === "source" ? "report's fault" : "reading in doubt") + '</span>' : "";
        return '<li class="' + esc(it.status) + '"><span class="badge ' + esc(it.status) + '">' + esc(it.status) + '</span>' + who + ' <code>' +
          esc(it.scope) + '</code>' + nums + (it.message ? ' — ' + esc(it.message) : "") + links + '</li>';
      });
      // Items with the check's own status are shown (a passed check's items fold away).
      var shown = c.status === "pass" ? [] : items.filter(function (s, i) { return c.items[i].status === c.status; });
      var rest = items.length - shown.length;
      return '<div class="check ' + esc(c.status) + '" data-check="' + esc(name) + '"><span class="badge ' + esc(c.status) + '">' +
        esc(c.status) + '</span> <b>' + esc(name) + '</b><ul class="items">' + shown.join("") + '</ul>' +
        (rest ? '<details><summary class="muted">' + rest + (shown.length ? ' more' : '') + (rest === 1 ? ' item' : ' items') + '</summary><ul class="items">' +
          items.filter(function (s) { return shown.indexOf(s) < 0; }).join("") + '</ul></details>' : "") + '</div>';
    }).join("");
  }
  function narrative() {
    var N = R.narrative || {}, out = '<p class="muted">method ' + esc(N.method || "—") + ' · status ' + esc(N.status) +
      (N.error ? ' · <span class="badge fail">' + esc(N.error) + '</span>' : "") + '</p>';
    [["problems", "problems admitted"], ["improvements", "improvements promised"], ["platforms", "platforms"]].forEach(function (k) {
      var list = N[k[0]] || [];
      out += '<h3>' + k[1] + ' (' + list.length + ')</h3>';
      if (!list.length) return;
      out += '<ul class="items">' + list.map(function (it, i) {
        var id = "n:" + k[0] + "/" + i, sp = it.span || {}, found = sp.match && sp.match !== "not_found" && sp.start != null;
        if (found) addRange(sp.start, sp.end, "quote", id);
        var head = k[0] === "platforms" ? esc(it.name) + ' <span class="muted">(' + esc(it.kind) + (it.count != null ? ", " + it.count : "") + ')</span>' : esc(it.text);
        return '<li>' + head + '<br><span class="' + (found ? 'clickable' : 'muted') + '"' + (found ? ' data-span="' + id + '"' : '') +
          '>「' + esc(it.evidence) + '」</span>' + (found ? "" : ' <span class="badge fail">quote not found</span>') + '</li>';
      }).join("") + '</ul>';
    });
    return out;
  }
  function errors() {
    var E = R.errors || [];
    if (!E.length) return '<p class="muted">none</p>';
    return '<ul class="items">' + E.map(function (e) { return '<li><span class="badge fail">' + esc(e.stage) + '</span> ' + esc(e.message) + '</li>'; }).join("") + '</ul>';
  }
  function pageOfFile(file) {
    var g = AG[X.group] || [];
    for (var i = 0; i < g.length; i++) if (g[i][2] === file) return g[i][0];
    return null;
  }
  function findings() {
    if (!X.panel) return "";
    var F = X.findings || [];
    var body = F.length ? '<div class="scroll-x"><table class="findings"><tr><th>kind</th><th>other report</th><th>section</th><th>similarity</th><th>expected</th><th>found</th><th>message</th></tr>' +
      F.map(function (f) {
        var mine = f.file_a === R.source.path, file = mine ? f.file_b : f.file_a, year = mine ? f.year_b : f.year_a;
        var page = file && pageOfFile(file);
        var other = file ? (page ? '<a href="' + esc(page) + '.html">' + esc(year || file) + '</a>' : esc(file) + (year ? " (" + esc(year) + ")" : "")) : "—";
        return '<tr><td><span class="badge ' + (f.kind === "copied_section" ? "fail" : "not_assessable") + '">' + esc(f.kind) + '</span></td><td>' + other +
          '</td><td>' + esc(f.section) + '</td><td>' + esc(f.similarity) + '</td><td>' + esc(f.expected) + '</td><td>' + esc(f.found) +
          '</td><td>' + esc(f.message) + '</td></tr>';
      }).join("") + '</table></div>' : '<p class="muted">none</p>';
    return '<h2 id="findings">Cross-year findings (' + F.length + ')</h2>' + body;
  }
  function years() {
    var g = AG[X.group];
    if (!g) return '<p class="muted years">no other report of this agency in the feed</p>';
    return '<p class="years">Same agency: ' + g.map(function (r) {
      var label = esc(r[1] == null ? "year ?" : r[1]);
      return r[0] === X.page ? '<b>' + label + '</b>' : '<a href="' + esc(r[0]) + '.html" title="' + esc(r[2]) + '">' + label + '</a>';
    }).join("") + '</p>';
  }

  // ---- the source text ------------------------------------------------------------------------
  var SEGS = (X.segments || []).map(function (s) {
    var sec = R.sections[s.key];
    return { key: s.key, heading: sec.heading, start: sec.start, end: sec.end, a: s.body_start, text: sec.text, confirmed: s.confirmed };
  });
  function segmentOf(a, b) {
    for (var i = 0; i < SEGS.length; i++) if (a >= SEGS[i].a && b <= SEGS[i].a + SEGS[i].text.length) return SEGS[i];
    return null;
  }
  function drawSegment(seg) {
    var lo = seg.a, hi = seg.a + seg.text.length, cuts = [lo, hi];
    var mine = ranges.filter(function (r) { return r.a >= lo && r.b <= hi; });
    mine.forEach(function (r) { cuts.push(r.a, r.b); });
    cuts = cuts.sort(function (x, y) { return x - y; }).filter(function (v, i, arr) { return i === 0 || v !== arr[i - 1]; });
    var html = "";
    for (var i = 0; i + 1 < cuts.length; i++) {
      var a = cuts[i], b = cuts[i + 1], piece = esc(seg.text.slice(a - lo, b - lo));
      var cls = {};
      mine.forEach(function (r) { if (r.a <= a && r.b >= b) cls[r.cls] = 1; });
      var names = Object.keys(cls);
      html += names.length ? '<span class="p ' + names.join(" ") + '" data-a="' + a + '" data-b="' + b + '">' + piece + '</span>' : piece;
    }
    return html;
  }
  function sourceText() {
    var out = "", at = 0;
    SEGS.forEach(function (seg) {
      if (seg.start > at) out += '<span class="gap">[characters ' + at + '–' + seg.start + (at === 0 ? ' (title lines)' : '') + ' are not in the feed]</span>';
      out += '<span class="seg-head" data-sec="' + esc(seg.key) + '">' + esc(seg.heading) + '</span>' +
        '<span class="seg" data-a="' + seg.a + '">' + drawSegment(seg) + '</span>';
      at = Math.max(at, seg.end);
    });
    if (!SEGS.length) out = '<span class="gap">the feed has no sections for this report</span>';
    return out;
  }
  function show(id) {
    var r = rangeById[id], info = document.getElementById("span-info");
    Array.prototype.forEach.call(document.querySelectorAll(".hit"), function (e) { e.classList.remove("hit"); });
    Array.prototype.forEach.call(document.querySelectorAll("td.c.selected"), function (e) { e.classList.remove("selected"); });
    var td = document.querySelector('td.c[data-p="' + id.replace(/"/g, '\\"') + '"]');
    if (td) td.classList.add("selected");
    if (!r) { info.textContent = id + " — " + (td ? td.title : "no span in the source text"); return; }
    var seg = segmentOf(r.a, r.b);
    var prov = PROV[id];
    if (!seg) {
      info.textContent = id + ": characters " + r.a + "–" + r.b + " lie outside the sections the feed carries" + (prov ? " (“" + prov.text + "”)" : "");
      return;
    }
    var shown = seg.text.slice(r.a - seg.a, r.b - seg.a);
    var pieces = Array.prototype.filter.call(document.querySelectorAll('.seg[data-a="' + seg.a + '"] .p'), function (e) {
      return +e.dataset.a >= r.a && +e.dataset.b <= r.b;
    });
    pieces.forEach(function (e) { e.classList.add("hit"); });
    info.innerHTML = '<b>' + esc(id) + '</b> · characters ' + r.a + '–' + r.b + ' · “' + esc(shown) + '”' +
      (prov && prov.text !== shown ? ' <span class="badge fail">span text differs: “' + esc(prov.text) + '”</span>' : "") +
      (prov && prov.note ? ' · ' + esc(prov.note) : "");
    if (pieces[0]) scrollToSpan(pieces[0]);
  }

  function scrollToSpan(el) {
    // Scroll the source pane only (the tables stay where the reader clicked); on a phone the pane
    // sits below the tables, so the window then brings the pane into view.
    var pane = document.getElementById("source"), info = document.getElementById("span-info");
    var pr = pane.getBoundingClientRect(), er = el.getBoundingClientRect();
    pane.scrollTop += (er.top - pr.top) - (pane.clientHeight + info.offsetHeight) / 2;
    var after = pane.getBoundingClientRect();
    if (after.top < 0 || after.bottom > window.innerHeight) {
      pane.scrollIntoView({ block: "nearest" });
    }
  }

  // ---- the page -------------------------------------------------------------------------------
  var M = R.meta || {}, reg = M.region || {};
  var tables = activeDisclosure() + applications() + reviewLitigation() + legacy();
  var checksHtml = checks(), narrativeHtml = narrative();
  var failed = Object.keys(R.checks || {}).filter(function (k) { return R.checks[k].status === "fail"; });
  var left =
    '<p>' + esc(R.source.path) + (R.source.row != null ? " · row " + R.source.row : "") + ' · <code>' + esc(R.id) + '</code> · template <b>' + esc(R.template) + '</b> · ' +
    esc([reg.province, reg.city, reg.county].filter(Boolean).join(" ") || "region unknown") + ' · level ' + esc(M.level) +
    (M.published ? ' · published ' + esc(M.published) : "") + (R.is_report ? "" : ' · <span class="badge fail">not a report</span>') + '</p>' +
    years() +
    '<p>' + (failed.length ? failed.map(function (f) { return '<span class="badge fail">' + esc(f) + '</span>'; }).join(" ") : '<span class="badge pass">no failed checks</span>') +
    ((R.errors || []).length ? ' <span class="badge fail">' + R.errors.length + ' errors</span>' : "") + '</p>' +
    '<h2>Checks</h2>' + checksHtml +
    '<h2>Tables</h2><p class="legend"><span><i style="background:var(--cell)"></i>read (click: its span)</span><span><i style="background:var(--na-bg)"></i>null</span>' +
    '<span><i style="background:var(--settled)"></i>settled across years (panel)</span><span><i style="background:#f0f0f0"></i>not printed</span><span>* a note on the reading</span></p>' +
    (tables || '<p class="muted">no table was read from this report</p>') +
    '<h2>Narrative</h2>' + narrativeHtml +
    '<h2>Errors</h2>' + errors() + findings();
  document.getElementById("app").innerHTML =
    '<div class="layout"><section class="review">' + left + '</section>' +
    '<aside class="source-pane" id="source"><div class="info" id="span-info">Source text (normalised). Click a cell or a quote to see where it was read.</div>' +
    '<div class="source-text">' + sourceText() + '</div></aside></div>';
  document.getElementById("app").addEventListener("click", function (e) {
    var el = e.target.closest("[data-span], td.c[data-p]");
    if (!el) return;
    show(el.dataset.span || el.dataset.p);
  });
  document.body.dataset.ready = "1";
})();
