// The index: every record of the feed from data.js, filtered, sorted and drawn a page at a time
// (drawing 20,000 rows at once would take seconds; 100 rows take a few milliseconds).
(function () {
  "use strict";
  var D = window.REVIEW_INDEX, F = {};
  D.fields.forEach(function (f, i) { F[f] = i; });
  var ROWS = D.rows, PAGE = 100, hasPanel = document.body.dataset.panel === "1";
  var state = { q: "", province: "", year: "", template: "", fail: false, errors: false, copied: false,
                sort: "file", dir: 1, page: 0 };
  var COLS = [
    ["file", "file"], ["agency", "agency"], ["year", "year"], ["template", "template"],
    ["province", "province", "wide"], ["tables", "tables found"], ["failed", "checks failed"],
    ["source_problems", "report's faults"], ["extraction_problems", "reading in doubt"],
    ["errors", "errors"]
  ];
  if (hasPanel) COLS.push(["findings", "cross-year findings"]);

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function distinct(field) {
    var seen = {}, out = [];
    ROWS.forEach(function (r) { var v = r[F[field]]; if (v !== null && v !== "" && !seen[v]) { seen[v] = 1; out.push(v); } });
    return out.sort();
  }
  function options(field, label) {
    return '<label>' + label + ' <select data-f="' + field + '"><option value="">all</option>' +
      distinct(field).map(function (v) { return '<option>' + esc(v) + '</option>'; }).join("") + '</select></label>';
  }
  function failedCount(r) { return r[F.failed] ? r[F.failed].split(" ").length : 0; }
  function key(r, f) {
    if (f === "failed") return failedCount(r);
    var v = r[F[f]];
    return v === null || v === undefined ? "" : v;
  }
  function filtered() {
    var q = state.q.toLowerCase();
    var out = ROWS.filter(function (r) {
      if (state.province && r[F.province] !== state.province) return false;
      if (state.year && String(r[F.year]) !== state.year) return false;
      if (state.template && r[F.template] !== state.template) return false;
      if (state.fail && !r[F.failed]) return false;
      if (state.errors && !r[F.errors]) return false;
      if (state.copied && !r[F.copied]) return false;
      if (q && (r[F.file] + " " + r[F.agency] + " " + r[F.failed]).toLowerCase().indexOf(q) < 0) return false;
      return true;
    });
    var f = state.sort, dir = state.dir;
    out.sort(function (a, b) {
      var x = key(a, f), y = key(b, f);
      if (x === y) return 0;
      if (x === "") return 1;
      if (y === "") return -1;
      return (x < y ? -1 : 1) * dir;
    });
    return out;
  }
  function cell(r, f) {
    var v = r[F[f]];
    if (f === "file") {
      var cut = v.lastIndexOf("/") + 1;  // the folder folds away on a phone
      return '<td class="file"><a href="r/' + esc(r[F.page]) + '.html" title="' + esc(v) + '"><span class="dir">' +
        esc(v.slice(0, cut)) + '</span>' + esc(v.slice(cut)) + '</a></td>';
    }
    if (f === "failed") {
      return '<td>' + (v ? v.split(" ").map(function (c) { return '<span class="badge fail">' + esc(c) + '</span>'; }).join(" ") : '<span class="muted">0</span>') + '</td>';
    }
    if (f === "errors" || f === "tables" || f === "findings" || f === "source_problems" || f === "extraction_problems") {
      var extra = f === "findings" && r[F.copied] ? ' <span class="badge fail">copied</span>' : "";
      return '<td class="num">' + esc(v) + extra + '</td>';
    }
    if (f === "province") return '<td class="wide">' + esc(v) + '</td>';
    return '<td>' + esc(v) + '</td>';
  }
  function draw() {
    var rows = filtered(), pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    var part = rows.slice(state.page * PAGE, (state.page + 1) * PAGE);
    document.getElementById("count").textContent = rows.length + " of " + ROWS.length + " records";
    document.getElementById("pageinfo").textContent = "page " + (state.page + 1) + " / " + pages;
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = state.page >= pages - 1;
    document.getElementById("rows").innerHTML = part.map(function (r) {
      return '<tr data-page="' + esc(r[F.page]) + '"' + (r[F.failed] || r[F.errors] ? ' class="has-fail"' : '') + '>' +
        COLS.map(function (c) { return cell(r, c[0]); }).join("") + '</tr>';
    }).join("");
    Array.prototype.forEach.call(document.querySelectorAll("th[data-sort]"), function (th) {
      th.classList.toggle("sorted-asc", th.dataset.sort === state.sort && state.dir > 0);
      th.classList.toggle("sorted-desc", th.dataset.sort === state.sort && state.dir < 0);
    });
  }
  var app = document.getElementById("app");
  app.innerHTML =
    '<div class="filters"><input type="search" id="q" placeholder="file, agency or check" aria-label="search">' +
    options("province", "province") + options("year", "year") + options("template", "template") +
    '<label><input type="checkbox" data-flag="fail"> has failed checks</label>' +
    '<label><input type="checkbox" data-flag="errors"> has errors</label>' +
    (hasPanel ? '<label><input type="checkbox" data-flag="copied"> has copied sections</label>' : '') +
    '</div><div class="pager"><button id="prev">‹ prev</button><span id="pageinfo"></span>' +
    '<button id="next">next ›</button><span id="count" class="muted"></span></div>' +
    '<div class="scroll-x"><table class="list"><thead><tr>' +
    COLS.map(function (c) { return '<th data-sort="' + c[0] + '"' + (c[2] ? ' class="' + c[2] + '"' : '') + '>' + esc(c[1]) + '</th>'; }).join("") +
    '</tr></thead><tbody id="rows"></tbody></table></div>';
  document.getElementById("q").addEventListener("input", function (e) { state.q = e.target.value; state.page = 0; draw(); });
  Array.prototype.forEach.call(app.querySelectorAll("select[data-f]"), function (s) {
    s.addEventListener("change", function () { state[s.dataset.f] = s.value; state.page = 0; draw(); });
  });
  Array.prototype.forEach.call(app.querySelectorAll("input[data-flag]"), function (c) {
    c.addEventListener("change", function () { state[c.dataset.flag] = c.checked; state.page = 0; draw(); });
  });
  Array.prototype.forEach.call(app.querySelectorAll("th[data-sort]"), function (th) {
    th.addEventListener("click", function () {
      if (state.sort === th.dataset.sort) state.dir = -state.dir; else { state.sort = th.dataset.sort; state.dir = 1; }
      draw();
    });
  });
  document.getElementById("prev").addEventListener("click", function () { state.page--; draw(); });
  document.getElementById("next").addEventListener("click", function () { state.page++; draw(); });
  draw();
  document.body.dataset.ready = "1";
})();
