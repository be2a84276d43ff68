/* creditgraph 关联关系图: vis-network over the same-origin JSON of /ui/api/graph/{key}.
 *
 * One CgGraph per element carrying data-cg-graph. Its first data comes embedded in the page
 * (a <script type="application/json">), so the first drawing needs no round trip; expanding a
 * node and redrawing at another date fetch /ui/api/graph/{key} with the session cookie.
 * Everything is built with textContent / DOM calls, never innerHTML, so names cannot inject.
 */
(function () {
  "use strict";

  var LEVEL = {
    "高": {bg: "#c62828", border: "#8e0000", font: "#ffffff", zh: "高风险"},
    "中": {bg: "#ef6c00", border: "#a33f00", font: "#ffffff", zh: "中风险"},
    "低": {bg: "#f9c74f", border: "#b8860b", font: "#2b2b2b", zh: "低风险"},
    "": {bg: "#e3eaf3", border: "#5b7291", font: "#1d2a3a", zh: "未见风险"}
  };
  var CONTACT = {bg: "#eceff1", border: "#90a4ae", font: "#37474f"};
  var SHAPES = {
    enterprise: "box", individual_business: "box", cooperative: "box", social_organisation: "box",
    public_institution: "box", government_agency: "box", person: "ellipse", unresolved: "ellipse",
    phone: "diamond", email: "triangle", address: "square"
  };
  var CONTACT_KINDS = {phone: 1, email: 1, address: 1};
  var PATH_COLOUR = "#d81b60";

  function text(v) { return v === null || v === undefined ? "" : String(v); }
  function shortDate(d) { return d ? String(d) : ""; }
  function span(s, e) {
    if (!s && !e) return "";
    return (shortDate(s) || "?") + " 至 " + (shortDate(e) || "今");
  }
  function pct(r) { return r === null || r === undefined ? "" : (Math.round(r * 1000) / 10) + "%"; }
  function el(tag, attrs, kids) {
    var x = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") x.textContent = attrs[k];
      else if (k === "class") x.className = attrs[k];
      else x.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) x.appendChild(c); });
    return x;
  }

  function nodeOf(n, center, target) {
    var kind = n.kind || "";
    var risk = (n.risk && n.risk.level) || "";
    var contact = CONTACT_KINDS[kind];
    var c = contact ? CONTACT : LEVEL[risk] || LEVEL[""];
    var isEnd = n.id === center || n.id === target;
    var label = text(n.label) || n.id.slice(4);
    if (label.length > 18 && !isEnd) label = label.slice(0, 17) + "…";
    var title = [text(n.kind_zh) + " " + text(n.label), text(n.code) || n.id,
      n.region_label ? "登记地 " + n.region_label : "",
      contact ? "" : (LEVEL[risk] || LEVEL[""]).zh + (n.risk && n.risk.grade ? " · 监管等级 " + n.risk.grade : ""),
      n.capped ? "高连接度节点(未展开)" : "", "双击打开档案"].filter(Boolean).join("\n");
    var node = {
      id: n.id, label: label, title: title, shape: SHAPES[kind] || "ellipse", raw: n,
      color: {background: c.bg, border: c.border, highlight: {background: c.bg, border: "#000"},
              hover: {background: c.bg, border: "#000"}},
      font: {color: SHAPES[kind] === "box" || SHAPES[kind] === "ellipse" ? c.font : "#263238", size: 13,
             face: "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"},
      borderWidth: isEnd ? 4 : 1.5, size: contact ? 12 : 16
    };
    if (kind === "unresolved") node.shapeProperties = {borderDashes: [4, 3]};
    if (isEnd) node.font.size = 15;
    if (typeof n.level === "number") node.level = n.level;
    return node;
  }

  function edgeLabel(l) {
    var label = text(l.title) || text(l.label_zh);
    if (l.ratio !== null && l.ratio !== undefined) label += " " + pct(l.ratio);
    var when = span(l.start, l.end);
    return when ? label + "\n" + when : label;
  }

  function edgeOf(l) {
    var ended = !!l.end;
    return {
      id: l.id, from: l.source, to: l.target, raw: l, label: edgeLabel(l), arrows: {to: {enabled: true, scaleFactor: 0.5}},
      title: text(l.label_zh) + (l.title ? "(" + l.title + ")" : "") + (l.ratio != null ? " 持股 " + pct(l.ratio) : "")
        + "\n" + (span(l.start, l.end) || "起止日期不详") + (ended ? "\n(已终止)" : ""),
      dashes: ended, width: 1.2,
      color: {color: ended ? "#9e9e9e" : "#546e7a", highlight: PATH_COLOUR, hover: "#263238"},
      font: {size: 10, align: "middle", color: "#37474f", strokeWidth: 3, strokeColor: "#ffffff",
             face: "Noto Sans CJK SC, Noto Sans SC, sans-serif"}
    };
  }

  function CgGraph(root) {
    var self = this;
    this.root = root;
    this.canvasBox = root.querySelector(".cg-canvas");
    this.mode = root.dataset.mode || "explore";
    this.api = root.dataset.api || "/ui/api/graph/";
    this.hops = parseInt(root.dataset.hops || "1", 10);
    this.maxNodes = parseInt(root.dataset.maxNodes || "300", 10);
    this.asOf = root.dataset.asOf || "";
    this.expanded = {};
    this.highlighted = null;
    var data = JSON.parse(document.getElementById(root.dataset.source).textContent);
    this.mark("cg-parsed");
    this.center = data.center;
    this.target = data.target || "";
    this.warnings = data.warnings || [];
    this.kinds = null; // null: every kind shown
    this.nodes = new vis.DataSet();
    this.edges = new vis.DataSet();
    this.nodeView = new vis.DataView(this.nodes, {filter: function (n) { return self._nodeVisible(n); }});
    this.edgeView = new vis.DataView(this.edges, {filter: function (e) { return self._edgeVisible(e); }});
    this._load(data, true);
    var big = this.edges.length > 120;
    var options = {
      autoResize: true,
      layout: {improvedLayout: false, randomSeed: 7},
      physics: {solver: "barnesHut", stabilization: {enabled: true, iterations: big ? 40 : 200, updateInterval: 1000, fit: true},
                barnesHut: {gravitationalConstant: -9000, springLength: 150, springConstant: 0.03, avoidOverlap: 0.3},
                minVelocity: 1.5},
      edges: {smooth: big ? false : {enabled: true, type: "continuous", roundness: 0.3}},
      interaction: {hover: true, tooltipDelay: 120, navigationButtons: false, keyboard: false, multiselect: false},
      nodes: {margin: 8, widthConstraint: {maximum: 220}}
    };
    if (root.dataset.layout === "tree") {
      options.layout = {hierarchical: {enabled: true, direction: "DU", sortMethod: "directed", levelSeparation: 130,
                                       nodeSpacing: 190}};
      options.physics = false;
    }
    this.mark("cg-loaded");
    this.network = new vis.Network(this.canvasBox, {nodes: this.nodeView, edges: this.edgeView}, options);
    this.mark("cg-constructed");
    this.network.on("beforeDrawing", function (ctx) {
      ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height); ctx.restore();
    });
    this.network.once("afterDrawing", function () {
      self.readyAt = performance.now();
      self.mark("cg-drawn");
      root.dataset.ready = "1";
    });
    this.network.on("click", function (p) { if (p.nodes.length) self.select(p.nodes[0]); });
    this.network.on("doubleClick", function (p) { if (p.nodes.length) self.open(p.nodes[0]); });
    this.network.on("stabilizationIterationsDone", function () { self.mark("cg-stabilized"); root.dataset.stable = "1"; });
    this._wire();
    this._renderList();
    this._renderExports();
    if (root.dataset.highlight) {
      var i = parseInt(root.dataset.highlight, 10);
      this.network.once("stabilizationIterationsDone", function () { self.highlight(i); });
    }
  }

  CgGraph.prototype.mark = function (name) {
    try { performance.mark(name + "-" + this.root.id); } catch (e) { /* no user timing */ }
  };

  CgGraph.prototype._nodeVisible = function (n) {
    if (this.kinds === null || n.id === this.center || n.id === this.target || n.pinned) return true;
    return !!this._touched && !!this._touched[n.id];
  };
  CgGraph.prototype._edgeVisible = function (e) {
    return this.kinds === null || e.pinned || !!this.kinds[e.raw.kind];
  };
  CgGraph.prototype._retouch = function () {
    var self = this, t = {};
    this.edges.forEach(function (e) { if (self._edgeVisible(e)) { t[e.from] = 1; t[e.to] = 1; } });
    this._touched = t;
  };

  CgGraph.prototype._load = function (data, replace) {
    var self = this;
    if (replace) { this.nodes.clear(); this.edges.clear(); }
    var nodes = [], edges = [];
    (data.nodes || []).forEach(function (n) { if (!self.nodes.get(n.id)) nodes.push(nodeOf(n, self.center, self.target)); });
    (data.links || []).forEach(function (l) { if (!self.edges.get(l.id)) edges.push(edgeOf(l)); });
    // a link may point at a node the node cap left out: keep the drawing consistent
    var have = {};
    this.nodes.getIds().concat(nodes.map(function (n) { return n.id; })).forEach(function (id) { have[id] = 1; });
    edges = edges.filter(function (e) { return have[e.from] && have[e.to]; });
    if (replace && this.root.dataset.layout !== "tree") this._rings(nodes);
    this.nodes.add(nodes);
    this.edges.add(edges);
    this._retouch();
    return nodes.length;
  };

  // Start positions: the centre in the middle, each distance on its own rings (at most ~48 nodes a
  // ring), grouped by kind. Physics then only has to settle the drawing, not untangle it: on a
  // profile with 200 links this is what keeps the first drawing well under a second.
  CgGraph.prototype._rings = function (nodes) {
    var byDist = {};
    nodes.forEach(function (n) {
      var d = n.raw.distance || 0;
      if (n.id === this.center) d = 0;
      (byDist[d] = byDist[d] || []).push(n);
    }, this);
    var radius = 0;
    Object.keys(byDist).map(Number).sort(function (a, b) { return a - b; }).forEach(function (d) {
      var ring = byDist[d].sort(function (a, b) { return (a.raw.kind || "").localeCompare(b.raw.kind || "") || (a.id < b.id ? -1 : 1); });
      if (d === 0 && ring.length === 1) { ring[0].x = 0; ring[0].y = 0; return; }
      for (var start = 0; start < ring.length; start += 48) {
        var part = ring.slice(start, start + 48);
        radius += part.length > 12 ? 150 : 200;
        part.forEach(function (n, i) {
          var a = (i / part.length) * 2 * Math.PI + (start / 48) * 0.3;
          n.x = radius * Math.cos(a); n.y = radius * Math.sin(a);
        });
      }
    });
    this.initialRadius = radius;
  };

  CgGraph.prototype.url = function (key, hops) {
    var q = "?hops=" + hops + "&max_nodes=" + this.maxNodes + (this.asOf ? "&as_of=" + encodeURIComponent(this.asOf) : "");
    return this.api + encodeURIComponent(key) + q;
  };

  CgGraph.prototype.fetchGraph = function (key, hops) {
    return fetch(this.url(key, hops), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) return r.json().then(function (b) { throw new Error(b.message || ("HTTP " + r.status)); },
                                         function () { throw new Error("HTTP " + r.status); });
        return r.json();
      });
  };

  CgGraph.prototype.status = function (msg) {
    var s = this.root.querySelector(".cg-status");
    if (s) s.textContent = msg;
  };

  CgGraph.prototype.expand = function (key) {
    var self = this;
    this.status("正在展开 " + this.nameOf(key) + " 的关联主体…");
    return this.fetchGraph(key, 1).then(function (data) {
      self.expanded[key] = 1;
      var pos = self.network.getPositions([key])[key];
      var added = self._load(data, false);
      if (pos) {
        data.nodes.forEach(function (n, i) {
          if (n.id !== key) {
            var a = (i / Math.max(data.nodes.length, 1)) * Math.PI * 2;
            try { self.network.moveNode(n.id, pos.x + 160 * Math.cos(a), pos.y + 160 * Math.sin(a)); } catch (e) { /* hidden */ }
          }
        });
      }
      self.nodeView.refresh(); self.edgeView.refresh();
      self.network.once("stabilized", function () { self.network.fit({animation: false}); });
      self._renderList(); self._renderExports();
      self.status("已展开 " + self.nameOf(key) + ":新增 " + added + " 个主体,共 " + self.nodes.length + " 个主体、" + self.edges.length + " 条关系");
      return added;
    }).catch(function (e) { self.status("展开失败:" + e.message); });
  };

  CgGraph.prototype.redraw = function (asOf) {
    var self = this;
    this.asOf = asOf || "";
    this.status(this.asOf ? "正在按 " + this.asOf + " 的状态重绘…" : "正在重绘全部时期的关系…");
    var keys = Object.keys(this.expanded);
    return Promise.all([this.fetchGraph(this.center, this.hops)].concat(keys.map(function (k) { return self.fetchGraph(k, 1); })))
      .then(function (all) {
        self._load(all[0], true);
        all.slice(1).forEach(function (d) { self._load(d, false); });
        self.nodeView.refresh(); self.edgeView.refresh();
        self.highlighted = null;
        self._renderList(); self._renderExports();
        self.status((self.asOf ? "时点 " + self.asOf + ":" : "全部时期:") + self.nodes.length + " 个主体、" + self.edges.length + " 条关系");
        // the page's heading says what is drawn: keep it in step with the redraw
        var summary = document.getElementById(self.root.id + "-summary");
        if (summary) summary.textContent = self.hops + " 度范围内 " + self.nodes.length + " 个主体、" + self.edges.length + " 条关系。";
      }).catch(function (e) { self.status("重绘失败:" + e.message); });
  };

  CgGraph.prototype.filterKinds = function (kinds) {
    var all = this.root.querySelectorAll("input[name=kind]");
    var k = {}, n = 0;
    kinds.forEach(function (x) { k[x] = 1; n++; });
    this.kinds = n === all.length ? null : k;
    this._retouch();
    this.nodeView.refresh(); this.edgeView.refresh();
    this._renderList(); this._renderExports();  // the list and its count follow the filter too
    this.status("显示 " + this.nodeView.length + " 个主体、" + this.edgeView.length + " 条关系");
  };

  CgGraph.prototype.nameOf = function (key) {
    var n = this.nodes.get(key);
    return n ? text(n.raw.label) || key : key;
  };

  CgGraph.prototype.profileUrl = function (key) { return "/ui/party/" + encodeURIComponent(key); };
  CgGraph.prototype.open = function (key) { window.location.href = this.profileUrl(key); };

  CgGraph.prototype.select = function (key) {
    var panel = this.root.querySelector(".cg-panel");
    var n = this.nodes.get(key);
    if (!panel || !n) return;
    var r = n.raw, risk = (r.risk && r.risk.level) || "";
    var self = this;
    panel.textContent = "";
    panel.appendChild(el("h3", {text: text(r.label) || key}));
    var dl = el("dl");
    [["类型", r.kind_zh], ["代码/证件", r.code || key], ["登记地", r.region_label], ["风险", CONTACT_KINDS[r.kind] ? "" :
      (LEVEL[risk] || LEVEL[""]).zh + (r.risk && r.risk.grade ? "(等级 " + r.risk.grade + ",预警 " + r.risk.warnings + " 条)" : "")],
     ["起止", span(r.start, r.end)]].forEach(function (row) {
      if (row[1]) { dl.appendChild(el("dt", {text: row[0]})); dl.appendChild(el("dd", {text: row[1]})); }
    });
    panel.appendChild(dl);
    var open = el("a", {href: this.profileUrl(key), class: "btn", text: "打开主体档案"});
    var expand = el("button", {type: "button", class: "btn", text: this.expanded[key] ? "已展开" : "展开关联主体"});
    if (this.expanded[key]) expand.disabled = true;
    expand.addEventListener("click", function () { expand.disabled = true; self.expand(key).then(function () { expand.textContent = "已展开"; }); });
    panel.appendChild(el("p", {class: "actions"}, [open, document.createTextNode(" "), expand]));
    this.network.selectNodes([key]);
  };

  CgGraph.prototype.highlight = function (i) {
    var w = this.warnings[i];
    if (!w) return;
    var self = this;
    this.clearHighlight();
    var nodes = (w.nodes || []).map(function (n) { return n.key; });
    var add = [];
    var last = (w.nodes || []).length - 1;
    (w.nodes || []).forEach(function (n, k) {
      if (self.nodes.get(n.key)) return;
      // the far end of a warning's path is the punished party: coloured by the warning's level
      var node = nodeOf({id: n.key, label: n.name, kind_zh: n.kind, kind: n.key.slice(0, 4) === "per:" ? "person" : "enterprise",
                         risk: k === last ? {level: w.level} : null}, self.center, self.target);
      // placed next to the path's previous node, not wherever the layout drops it (off the canvas)
      var prev = k > 0 ? self.network.getPositions([w.nodes[k - 1].key])[w.nodes[k - 1].key] : null;
      if (prev) { node.x = prev.x + 80; node.y = prev.y + 40; }
      node.pinned = true;
      add.push(node);
    });
    this.nodes.add(add);
    var ids = [];
    var updates = [];
    (w.links || []).forEach(function (l) {
      ids.push(l.link_id);
      if (!self.edges.get(l.link_id)) {
        var e = edgeOf({id: l.link_id, source: l.src, target: l.dst, kind: l.kind, label_zh: l.label_zh, title: l.title,
                        ratio: l.ratio, start: l.start, end: l.end});
        e.pinned = true;
        self.edges.add(e);
      }
      updates.push({id: l.link_id, width: 4, color: {color: PATH_COLOUR, highlight: PATH_COLOUR}, pinned: true});
    });
    this.edges.update(updates);
    this._retouch(); this.nodeView.refresh(); this.edgeView.refresh();
    this.highlighted = {edges: ids, nodes: nodes, warning: i};
    this.network.selectNodes(nodes, false);
    this.network.fit({nodes: nodes, animation: false});
    if (add.length) {
      this._renderList();
      // the layout moves the new nodes once more: frame the path again when it has settled
      this.network.once("stabilized", function () { self.network.fit({nodes: nodes, animation: false}); });
    }
    this.root.dataset.highlighted = ids.join(",");
    this.status("已高亮预警路径:" + (w.nodes || []).map(function (n) { return n.name; }).join(" → "));
  };

  CgGraph.prototype.clearHighlight = function () {
    var self = this;
    if (!this.highlighted) return;
    this.edges.update(this.highlighted.edges.filter(function (id) { return self.edges.get(id); }).map(function (id) {
      var e = edgeOf(self.edges.get(id).raw);
      return {id: id, width: e.width, color: e.color, pinned: false};
    }));
    this.highlighted = null;
  };

  CgGraph.prototype.png = function () {
    var canvas = this.canvasBox.querySelector("canvas");
    var a = document.createElement("a");
    a.href = canvas.toDataURL("image/png");
    a.download = "关系图-" + this.center.replace(/[^0-9A-Za-z]/g, "") + (this.asOf ? "-" + this.asOf : "") + ".png";
    document.body.appendChild(a); a.click(); a.remove();
  };

  CgGraph.prototype.exportQuery = function () {
    var q = "key=" + encodeURIComponent(this.center) + "&hops=" + this.hops + "&max_nodes=" + this.maxNodes;
    if (this.asOf) q += "&as_of=" + encodeURIComponent(this.asOf);
    var ex = Object.keys(this.expanded);
    if (ex.length) q += "&expand=" + encodeURIComponent(ex.join(","));
    if (this.kinds !== null) q += "&kinds=" + encodeURIComponent(Object.keys(this.kinds).join(",") || "-");
    return q;
  };

  CgGraph.prototype._renderExports = function () {
    var q = this.exportQuery();
    this.root.querySelectorAll("a[data-export]").forEach(function (a) {
      a.href = "/ui/export/" + a.dataset.export + "?" + q;
    });
  };

  CgGraph.prototype._renderList = function () {
    var body = this.root.querySelector(".cg-list tbody");
    var count = this.root.querySelector(".cg-count");
    // what is shown (the relation filters apply), not everything loaded
    if (count) count.textContent = this.nodeView.length + " 个主体 · " + this.edgeView.length + " 条关系";
    if (!body) return;
    var self = this;
    body.textContent = "";
    var order = {"高": 0, "中": 1, "低": 2, "": 3};
    var rows = this.nodeView.get().sort(function (a, b) {
      var ra = order[(a.raw.risk && a.raw.risk.level) || ""], rb = order[(b.raw.risk && b.raw.risk.level) || ""];
      return ra - rb || (a.raw.distance || 0) - (b.raw.distance || 0) || text(a.raw.label).localeCompare(text(b.raw.label), "zh");
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (n) {
      var r = n.raw, risk = (r.risk && r.risk.level) || "";
      var name = el("a", {href: self.profileUrl(n.id), text: text(r.label) || n.id});
      var focus = el("button", {type: "button", class: "link", text: "定位", "aria-label": "在图中定位 " + (r.label || n.id)});
      focus.addEventListener("click", function () { self.network.focus(n.id, {scale: 1.1}); self.select(n.id); });
      var ex = el("button", {type: "button", class: "link", text: self.expanded[n.id] ? "已展开" : "展开",
                             "aria-label": "展开 " + (r.label || n.id) + " 的关联主体"});
      if (self.expanded[n.id]) ex.disabled = true;
      ex.addEventListener("click", function () { ex.disabled = true; self.expand(n.id); });
      var badge = CONTACT_KINDS[r.kind] ? el("span", {text: "—"}) :
        el("span", {class: "lvl lvl-" + (risk || "无"), text: (LEVEL[risk] || LEVEL[""]).zh});
      frag.appendChild(el("tr", {"data-key": n.id}, [el("td", {}, [name, el("div", {class: "muted", text: text(r.kind_zh)})]),
        el("td", {}, [badge]), el("td", {class: "ops"}, [focus, document.createTextNode(" "), ex])]));
    });
    body.appendChild(frag);
  };

  CgGraph.prototype._wire = function () {
    var self = this, root = this.root;
    var form = root.querySelector("form.cg-asof");
    if (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var hops = form.querySelector("[name=hops]");
        if (hops) self.hops = parseInt(hops.value, 10);
        self.redraw(form.querySelector("[name=as_of]").value);
      });
      var all = form.querySelector("button[data-all]");
      if (all) all.addEventListener("click", function () { form.querySelector("[name=as_of]").value = ""; self.redraw(""); });
    }
    var kinds = root.querySelector("fieldset.cg-kinds");
    if (kinds) {
      kinds.addEventListener("change", function () {
        var on = [];
        kinds.querySelectorAll("input[name=kind]").forEach(function (c) { if (c.checked) on.push(c.value); });
        self.filterKinds(on);
      });
    }
    var png = root.querySelector("button[data-png]");
    if (png) png.addEventListener("click", function () { self.png(); });
    var fit = root.querySelector("button[data-fit]");
    if (fit) fit.addEventListener("click", function () { self.network.fit(); });
    document.querySelectorAll("button[data-warning][data-graph='" + root.id + "']").forEach(function (b) {
      b.addEventListener("click", function () {
        self.highlight(parseInt(b.dataset.warning, 10));
        root.scrollIntoView({block: "nearest"});
      });
    });
  };

  window.CgGraph = CgGraph;
  window.cgGraphs = window.cgGraphs || {};
  document.querySelectorAll("[data-cg-graph]").forEach(function (root) {
    window.cgGraphs[root.id] = new CgGraph(root);
  });
})();
