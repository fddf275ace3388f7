/* siteplan report: builds every overlay, popup, tooltip, label, legend, the layer control and the
 * summary charts from the JSON data block.
 *
 * Safety rules (do not break them): data arrives only through JSON.parse of the
 * JSON data block (id sp-data); every data string reaches the page through
 * textContent (HTML and SVG elements made with createElement / createElementNS), or through esc()
 * where Leaflet insists on an HTML string (attribution). No innerHTML, eval, Function, template
 * literal or string-built handler touches data. Colours are checked hex values; SVG geometry is
 * numbers only. This file is static: it is never generated or templated.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sp-data").textContent);
  var map = window[data.map];
  map.getContainer().setAttribute("dir", "ltr");  // Leaflet's geometry is left to right; its cards are rtl
  var SVGNS = "http://www.w3.org/2000/svg";
  var HEX = /^#[0-9a-fA-F]{3,8}$/;
  var FA = "۰۱۲۳۴۵۶۷۸۹";
  /* the page's language (report.language): "both" (Persian first, English beside), "fa" or "en" */
  var LANG = data.lang === "fa" || data.lang === "en" ? data.lang : "both";
  var DIR = LANG === "en" ? "ltr" : "rtl";
  function T(fa, en) { return LANG === "en" ? en : fa; }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"'`]/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }

  function num(v, dec) {
    var s = Number(v).toLocaleString("en-US", {minimumFractionDigits: dec || 0, maximumFractionDigits: dec || 0});
    if (!data.persianDigits) return s;
    return s.replace(/[0-9]/g, function (d) { return FA.charAt(+d); }).replace(/\./g, "٫").replace(/,/g, "٬");
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function bdi(text, dir) {
    var e = el("bdi", text);
    e.setAttribute("dir", dir || "auto");
    return e;
  }

  /* a label: plain text (one isolate, direction from its first strong letter) or a bilingual pair
     {fa, en}: the Persian words, then the English ones as a secondary, each in its own isolate */
  function txt(x) {
    if (x && typeof x === "object" && !Array.isArray(x)) {
      var span = el("span", null, "bi");
      var f = LANG === "en" ? null : x.fa, e = LANG === "fa" ? null : x.en;
      if (!f && !e) f = x.fa || x.en;
      if (f) span.appendChild(bdi(f, "rtl")).setAttribute("lang", "fa");
      if (e && !f) span.appendChild(bdi(e, "ltr")).setAttribute("lang", "en");
      else if (e) {
        var en = span.appendChild(el("span", " / ", "en"));
        en.appendChild(bdi(e, "ltr")).setAttribute("lang", "en");
      }
      return span;
    }
    return bdi(x);
  }
  /* the text a label shows (its parts as txt() shows them) */
  function key(x) {
    if (!(x && typeof x === "object")) return String(x);
    var parts = [];
    if (x.fa && LANG !== "en") parts.push(x.fa);
    if (x.en && (LANG !== "fa" || !parts.length)) parts.push(x.en);
    return parts.join(" / ");
  }

  /* a card's own sentence (Persian words with numbers and units): right to left when it has any
     Persian letter, else by its first strong letter */
  function said(text) { return bdi(text, /[\u0600-\u06ff]/.test(String(text)) ? "rtl" : "auto"); }

  function colour(c, fallback) { return HEX.test(c) ? c : (fallback || "#999999"); }

  function swatch(c, cls) {
    var s = el("span", null, cls || "sw");
    s.style.background = colour(c); // CSSOM: allowed by the page's CSP
    return s;
  }

  /* A card: a list of blocks [kind, ...]: ["h", text, sub], ["p", text], ["kv", [[key, value], ...]],
     ["table", headers, rows], ["ul", title, items]. Every value is text. */
  function card(blocks) {
    var root = el("div", null, "pop");
    root.setAttribute("dir", DIR);
    blocks.forEach(function (b) {
      var k = b[0];
      if (k === "h") {
        var h = el("div", null, "pop-h");
        h.appendChild(el("b")).appendChild(bdi(b[1]));
        if (b[2]) { h.appendChild(document.createTextNode(" ")); h.appendChild(el("small")).appendChild(bdi(b[2])); }
        root.appendChild(h);
      } else if (k === "hr") {
        root.appendChild(el("hr"));
      } else if (k === "p") {
        root.appendChild(el("div")).appendChild(said(b[1]));
      } else if (k === "kv") {
        var dl = el("div", null, "kv");
        b[1].forEach(function (kv) {
          var row = el("div");
          row.appendChild(el("span", null, "k")).appendChild(txt(kv[0]));
          row.appendChild(document.createTextNode(": "));
          row.appendChild(said(kv[1]));
          dl.appendChild(row);
        });
        root.appendChild(dl);
      } else if (k === "table") {
        var t = el("table", null, "sp"), tr = el("tr");
        b[1].forEach(function (hd) { tr.appendChild(el("th")).appendChild(txt(hd)); });
        t.appendChild(el("thead")).appendChild(tr);
        var tb = t.appendChild(el("tbody"));
        b[2].forEach(function (r) {
          var row = tb.appendChild(el("tr"));
          r.forEach(function (c) { row.appendChild(el("td")).appendChild(bdi(c)); });
        });
        root.appendChild(t);
      } else if (k === "ul") {
        root.appendChild(el("div")).appendChild(txt(b[1]));
        var ul = root.appendChild(el("ul"));
        b[2].forEach(function (it) { ul.appendChild(el("li")).appendChild(said(it)); });
      }
    });
    return root;
  }

  /* a tooltip: one text, or fragments each in its own direction isolate, joined by " · " */
  function tip(text) {
    return function () {
      if (!Array.isArray(text)) return bdi(text);
      var span = el("span");
      text.forEach(function (t, i) {
        if (i) span.appendChild(document.createTextNode(" · "));
        span.appendChild(bdi(t));
      });
      return span;
    };
  }

  /* popups stay inside the visible map: sized to it and panned clear of its edges */
  function popupOptions(maxWidth) {
    var s = map.getSize();
    var lc = document.querySelector(".sp-layers"), lg = document.getElementById("sp-legend");
    var zc = document.querySelector(".leaflet-control-zoom");
    var top = 26 + Math.max(lc ? lc.offsetHeight : 0, zc ? zc.offsetHeight : 0);  // below the top controls
    var br = [16, 16];
    if (lg) {  // the legend sits bottom right: keep the popup clear of it
      if (lg.open && lg.offsetWidth < s.x / 2) br = [lg.offsetWidth + 26, 16];
      else br = [16, lg.offsetHeight + 26];
    }
    var w = Math.max(200, Math.min(maxWidth || 420, s.x - br[0] - 40));
    return {maxWidth: w, maxHeight: Math.max(140, s.y - top - br[1] - 60),
            autoPanPaddingTopLeft: [16, top], autoPanPaddingBottomRight: br, keepInView: true};
  }
  function bindPop(layer, blocks, maxWidth) {
    layer.bindPopup(function () { return card(blocks); }, popupOptions(maxWidth));
    layer.on("popupopen", function (e) {
      var o = popupOptions(maxWidth);
      L.extend(e.popup.options, o);
      e.popup.update();
    });
  }

  /* ---- layers ------------------------------------------------------------------------------- */
  /* every vector layer shares the map's one canvas (preferCanvas): a click goes to the top-most
     shape, and keepOrder() keeps the order of data.layers (flows and markers under the estates) */
  var cards = {}, byId = {site: {}, estate: {}};

  function geojsonLayer(spec) {
    var g = L.geoJSON(spec.features, {
      interactive: spec.interactive !== false,
      style: function (f) { return f.properties._s || {}; },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        if (p._t) layer.bindTooltip(tip(p._t), {sticky: true});
        if (spec.cards) { cards[p[spec.cards]] = p._p; byId.estate[p[spec.cards]] = layer; }
        if (spec.ids) byId.site[p[spec.ids]] = layer;
        var blocks = p._p;
        if (spec.card_of && cards[p[spec.card_of]]) blocks = cards[p[spec.card_of]].concat([["hr"]], p._p || []);
        if (blocks) bindPop(layer, blocks, spec.maxWidth);
      }
    });
    (spec.marks || []).forEach(function (r) {  // a labelled symbol at a site's centre, visible at any zoom
      var span = el("span", null, "sp-site-mark");
      span.appendChild(el("span", "★", "star"));
      span.appendChild(bdi(r[2], "ltr"));
      var m = L.marker([r[0], r[1]], {icon: L.divIcon({className: "sp-site-icon", html: span, iconSize: null}),
        keyboard: false, title: String(r[2])});
      var poly = byId.site[r[2]];
      if (poly) {
        m.on("click", function () { poly.openPopup(m.getLatLng()); });
        m.bindTooltip(tip(poly.feature.properties._t));
      }
      g.addLayer(m);
    });
    return g;
  }

  function pointsLayer(spec) {
    var group = L.featureGroup();
    spec.rows.forEach(function (r) {
      var c = colour(spec.colours[r[2]]);
      L.circleMarker([r[0], r[1]], {radius: r[4] || 3, weight: 1, color: spec.stroke ? colour(spec.stroke) : c,
        fillColor: c, fillOpacity: 0.8}).bindTooltip(tip(r[3])).addTo(group);
    });
    return group;
  }

  function linesLayer(spec) {
    var group = L.featureGroup();
    spec.rows.forEach(function (r) {
      L.polyline(r.path, {weight: r.w, color: colour(spec.colour), opacity: spec.opacity || 0.6}).bindTooltip(tip(r.t)).addTo(group);
    });
    return group;
  }

  function imageLayer(spec) {
    return L.imageOverlay(spec.url, spec.bounds, {opacity: spec.opacity || 0.7});
  }

  var build = {geojson: geojsonLayer, points: pointsLayer, lines: linesLayer, image: imageLayer};
  var overlays = {}, entries = [], baseParts = [];
  data.layers.forEach(function (spec) {
    var layer = build[spec.kind](spec);
    if (spec.group === "base") {  // drawn as part of the offline base map (the region's own layers)
      baseParts.push({spec: spec, layer: layer});
      return;
    }
    overlays[key(spec.name)] = layer;
    entries.push({spec: spec, layer: layer});
    if (spec.show) layer.addTo(map);
  });

  /* the drawing (and so clicking) order of data.layers, bottom to top, whatever the reviewer toggled */
  function keepOrder() {
    entries.forEach(function (e) {
      if (map.hasLayer(e.layer) && e.layer.bringToFront && e.spec.kind !== "image") e.layer.bringToFront();
    });
  }
  keepOrder();

  /* ---- labels that declutter with zoom -------------------------------------------------------- */
  var labelLayer = L.layerGroup();
  var labelMarks = (data.labels || []).map(function (r) {
    var span = el("span", null, "sp-label sp-label-" + (r[3] === "estate" ? "estate" : "town"));
    span.appendChild(bdi(r[2]));
    var m = L.marker([r[0], r[1]], {icon: L.divIcon({className: "sp-label-icon", html: span, iconSize: null}),
      interactive: false, keyboard: false});
    m.addTo(labelLayer);
    return {m: m, span: span, w: 8 + 6.5 * String(r[2]).length, kind: r[3]};
  });
  function declutter() {
    if (!map.hasLayer(labelLayer)) return;
    var placed = [], size = map.getSize(), z = map.getZoom();
    labelMarks.forEach(function (l) {
      var p = map.latLngToContainerPoint(l.m.getLatLng());
      var box = [p.x - l.w / 2, p.y - 9, p.x + l.w / 2, p.y + 9];
      var ok = box[2] > 0 && box[0] < size.x && box[3] > 0 && box[1] < size.y && !(l.kind === "town" && z < 7);
      for (var i = 0; ok && i < placed.length; i++) {
        var q = placed[i];
        if (box[0] < q[2] && box[2] > q[0] && box[1] < q[3] && box[3] > q[1]) ok = false;
      }
      if (ok) placed.push(box);
      l.span.classList.toggle("hid", !ok);
    });
  }
  map.on("zoomend moveend", declutter);
  if (labelMarks.length) {
    var labelSpec = {name: {fa: "برچسب شهرها و شهرک‌ها", en: "Labels: towns and estates"}, group: "context", show: true,
                     legend: {type: "text", items: [["estate", {fa: "نام شهرک", en: "estate name"}],
                                                    ["town", {fa: "شهر", en: "town"}]]}};
    overlays[key(labelSpec.name)] = labelLayer;
    entries.push({spec: labelSpec, layer: labelLayer});
    labelLayer.addTo(map);
    labelLayer.on("add", declutter);
  }

  /* ---- base maps: the region's own layers offline, tiles when online -------------------------- */
  var bases = [];
  data.basemaps.forEach(function (b) {
    var layer = b.url ? L.tileLayer(b.url, {attribution: esc(b.attribution), maxZoom: 19, crossOrigin: false})
      : L.layerGroup(baseParts.map(function (x) { return x.layer; }));
    if (!b.url) {
      layer.getAttribution = function () { return esc(b.attribution); };
    }
    bases.push({b: b, layer: layer});
  });
  var currentBase = null;
  function setBase(i) {
    if (currentBase) map.removeLayer(currentBase.layer);
    currentBase = bases[i];
    currentBase.layer.addTo(map);
    document.body.classList.toggle("sp-offline-base", !currentBase.b.url);
    drawLegend();
    var radios = document.querySelectorAll("input[name=sp-base]");
    Array.prototype.forEach.call(radios, function (r, k) { r.checked = k === i; });
  }
  setBase(0);  // the region's own layers: nothing is fetched until the reviewer picks the online base

  /* ---- the layer control: grouped, collapsible, built with DOM calls -------------------------- */
  var GROUPS = [["context", {fa: "زمینه", en: "Context"}], ["analysis", {fa: "تحلیل", en: "Analysis"}],
                ["suitability", {fa: "تناسب هر صنف", en: "Suitability per category"}]];
  var narrow = window.matchMedia && window.matchMedia("(max-width: 760px)").matches;
  var legendBody = null, legendWasOpen = false;

  var LayerControl = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var box = el("div", null, "leaflet-control-layers leaflet-control sp-layers");
      box.setAttribute("dir", DIR);
      var btn = el("button", null, "sp-layers-btn");
      btn.type = "button";
      btn.setAttribute("aria-expanded", "false");
      btn.setAttribute("aria-controls", "sp-layers-body");
      btn.appendChild(txt({fa: "لایه‌ها", en: "Layers"}));
      var body = el("div", null, "sp-layers-body");
      body.id = "sp-layers-body";
      body.hidden = true;
      btn.addEventListener("click", function () {
        body.hidden = !body.hidden;
        var att = document.querySelector(".leaflet-control-attribution");  // inside the map's box, above the credits
        body.style.maxHeight = Math.max(120, map.getSize().y - 80 - (att ? att.offsetHeight : 0)) + "px";
        var lg = document.getElementById("sp-legend");
        // they share the map's right side: the legend (and, on a phone, its button) steps aside while the
        // layer list is open, so nothing lies over the list
        if (lg && !body.hidden) { legendWasOpen = lg.open; lg.open = false; lg.hidden = true; }
        else if (lg) { lg.hidden = false; if (legendWasOpen) lg.open = true; }
        btn.setAttribute("aria-expanded", body.hidden ? "false" : "true");
      });
      var fsb = body.appendChild(el("fieldset"));
      fsb.appendChild(el("legend")).appendChild(txt({fa: "نقشه پایه", en: "Base map"}));
      bases.forEach(function (x, i) {
        var lab = fsb.appendChild(el("label"));
        var inp = lab.appendChild(el("input"));
        inp.type = "radio"; inp.name = "sp-base"; inp.checked = currentBase === x;
        inp.addEventListener("change", function () { if (inp.checked) setBase(i); });
        lab.appendChild(txt(x.b.name));
      });
      GROUPS.forEach(function (g) {
        var mine = entries.filter(function (e) { return (e.spec.group || "analysis") === g[0]; });
        if (!mine.length) return;
        var fs = el("fieldset");
        var det = g[0] === "suitability" ? el("details") : null;
        if (det) {
          var sm = det.appendChild(el("summary"));
          sm.appendChild(txt(g[1]));
          sm.appendChild(document.createTextNode(" (" + num(mine.length) + ")"));
          body.appendChild(det).appendChild(fs);
        } else {
          fs.appendChild(el("legend")).appendChild(txt(g[1]));
          body.appendChild(fs);
        }
        mine.forEach(function (e) {
          var lab = fs.appendChild(el("label"));
          var inp = lab.appendChild(el("input"));
          inp.type = "checkbox";
          inp.checked = map.hasLayer(e.layer);
          inp.addEventListener("change", function () {
            if (inp.checked) map.addLayer(e.layer); else map.removeLayer(e.layer);
            keepOrder();
            drawLegend();
          });
          lab.appendChild(txt(e.spec.name));
        });
      });
      box.appendChild(btn);
      box.appendChild(body);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });
  new LayerControl().addTo(map);

  /* ---- legend: one entry per visible styled layer --------------------------------------------- */
  function legendEntry(spec) {
    var lg = spec.legend, box = el("div", null, "lg");
    box.appendChild(el("div", null, "lg-t")).appendChild(txt(spec.name));
    if (lg.type === "ramp") {
      var row = box.appendChild(el("div", null, "lg-ramp"));
      row.appendChild(txt(lg.labels[0]));
      var bar = row.appendChild(el("span", null, "lg-bar"));
      lg.colours.forEach(function (c) { bar.appendChild(swatch(c, "lg-step")); });
      row.appendChild(txt(lg.labels[1]));
      if (lg.note) box.appendChild(el("div", null, "lg-note")).appendChild(txt(lg.note));
    } else if (lg.type === "widths") {
      lg.items.forEach(function (it) {
        var r = box.appendChild(el("div", null, "lg-i"));
        var line = r.appendChild(swatch(lg.colour, "lg-line"));
        line.style.height = Math.max(1, Math.min(12, +it[0])) + "px";
        r.appendChild(txt(it[1]));
      });
    } else {
      lg.items.forEach(function (it) {
        var r = box.appendChild(el("div", null, "lg-i"));
        if (lg.type === "text") {
          r.appendChild(el("span", T("الف", "Aa"), "lg-text sp-label-" + (it[0] === "estate" ? "estate" : "town")));
        } else {
          r.appendChild(swatch(it[0], "lg-" + (lg.type || "box")));
        }
        r.appendChild(txt(it[1]));
      });
    }
    return box;
  }
  function drawLegend() {
    if (!legendBody) return;
    while (legendBody.firstChild) legendBody.removeChild(legendBody.firstChild);
    baseParts.concat(entries).forEach(function (e) {
      if (e.spec.legend && map.hasLayer(e.layer)) legendBody.appendChild(legendEntry(e.spec));
    });
  }
  var Legend = L.Control.extend({
    options: {position: "bottomright"},
    onAdd: function () {
      var det = el("details", null, "leaflet-control sp-legend");
      det.id = "sp-legend";
      det.setAttribute("dir", DIR);
      if (!narrow) det.open = true;
      det.appendChild(el("summary")).appendChild(txt({fa: "راهنما", en: "Legend"}));
      legendBody = det.appendChild(el("div", null, "lg-body"));
      det.addEventListener("toggle", function () {
        var body = document.getElementById("sp-layers-body");
        if (det.open && body && !body.hidden) {
          body.hidden = true;
          det.hidden = false;
          document.querySelector(".sp-layers-btn").setAttribute("aria-expanded", "false");
        }
      });
      L.DomEvent.disableClickPropagation(det);
      L.DomEvent.disableScrollPropagation(det);
      return det;
    }
  });
  new Legend().addTo(map);
  drawLegend();

  /* ---- summary charts (SVG from numbers; text through textContent) ---------------------------- */
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function chartRoot(id, w, h, title) {
    var host = document.getElementById(id);
    if (!host) return null;
    var root = svg("svg", {viewBox: "0 0 " + w + " " + h, width: "100%", role: "img", "aria-label": title});
    root.appendChild(svg("title", {}, title));
    host.appendChild(root);
    return root;
  }
  /* SVG text anchors follow the writing direction: "end" of a right-to-left label is its left edge,
     so the anchor is mirrored to keep every label on the side the chart meant */
  var FLIP = {start: "end", end: "start", middle: "middle"};
  function label(root, x, y, text, anchor, cls) {
    var rtl = /^[^A-Za-z]*[\u0590-\u08ff]/.test(String(text));
    anchor = anchor || "start";
    var t = svg("text", {x: x, y: y, "text-anchor": rtl ? FLIP[anchor] : anchor, "class": cls || "cl",
                         direction: rtl ? "rtl" : "ltr"}, text);
    root.appendChild(t);
    return t;
  }
  /* the drawn width of labels (the widest), so a chart makes room for whole labels instead of cutting
     them; an estimate where the chart is not laid out */
  function widest(root, texts, cls) {
    var w = 0;
    texts.forEach(function (s) {
      var t = label(root, 0, -100, s, "start", cls), m = 0;
      try { m = t.getComputedTextLength(); } catch (e) { m = 0; }
      w = Math.max(w, m > 0 ? m : String(s).length * 6.2);
      root.removeChild(t);
    });
    return Math.ceil(w);
  }
  function fit(root, w, h) { root.setAttribute("viewBox", "0 0 " + Math.ceil(w) + " " + Math.ceil(h)); }

  function estatesChart(c) {
    var rows = c.rows || [];
    if (!rows.length) return;
    var R0 = 70, BAR = 200, H = 24 + rows.length * 18;
    var root = chartRoot("chart-estates", 420, H, T("زمین تخصیص‌یافته در برابر ظرفیت هر شهرک (هکتار)",
                                                   "land assigned against capacity per estate (ha)"));
    if (!root) return;
    var names = rows.map(function (r) { return r[0] + " " + r[1]; });
    var L0 = Math.max(60, widest(root, names, "cl") + 10), W = Math.max(420, L0 + BAR + R0);
    R0 = Math.max(R0, widest(root, rows.map(function (r) { return num(r[3], 1) + " / " + num(r[2], 1); }), "cl small") + 8);
    W = Math.max(W, L0 + BAR + R0);
    var max = Math.max.apply(null, rows.map(function (r) { return Math.max(r[2], r[3], 0.001); }));
    var sx = function (v) { return (W - L0 - R0) * v / max; };
    label(root, L0, 12, T("هکتار — میله: تخصیص‌یافته، قاب: ظرفیت", "ha — bar: assigned, frame: capacity"), "start",
          "cl muted");
    rows.forEach(function (r, i) {
      var y = 20 + i * 18;
      label(root, L0 - 6, y + 11, names[i], "end");
      root.appendChild(svg("rect", {x: L0, y: y + 2, width: Math.max(sx(r[2]), 0.5), height: 12, fill: "none",
                                    stroke: "#555", "stroke-width": 1}));
      var over = r[3] > r[2] * 1.0001;
      root.appendChild(svg("rect", {x: L0, y: y + 4, width: Math.max(sx(r[3]), 0), height: 8,
                                    fill: over ? "#d73027" : "#2166ac"}));
      label(root, L0 + sx(Math.max(r[2], r[3])) + 4, y + 12, num(r[3], 1) + " / " + num(r[2], 1), "start", "cl small");
    });
    fit(root, W, H);
  }

  function flowsChart(c) {
    var towns = c.towns || [], ests = c.estates || [], links = c.links || [];
    if (!links.length) return;
    var H = Math.max(towns.length, ests.length) * 26 + 30, NW = 10, BAND = 170;
    var root = chartRoot("chart-flows", 420, H, T("کسب‌وکارهای جابجاشونده از شهرها (چپ) به شهرک‌ها (راست)",
                                                  "businesses moving from towns (left) to estates (right)"));
    if (!root) return;
    function lab(n) { return n[0] + " " + num(n[1]); }
    var X0 = Math.max(40, widest(root, towns.map(lab), "cl small") + 8), X1 = X0 + NW + BAND;
    var W = Math.max(420, X1 + NW + 6 + widest(root, ests.map(lab), "cl small") + 4);
    var total = towns.reduce(function (a, t) { return a + t[1]; }, 0) || 1;
    var gap = 4, avail = H - 20 - gap * Math.max(towns.length, ests.length);
    var k = avail / total;
    function place(nodes) {
      var y = 14, out = [];
      nodes.forEach(function (n) { var h = Math.max(n[1] * k, 1.5); out.push({y: y, h: h, off: 0}); y += h + gap; });
      return out;
    }
    var tp = place(towns), ep = place(ests);
    links.slice().sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; }).forEach(function (l) {
      var a = tp[l[0]], b = ep[l[1]];
      if (!a || !b) return;
      var h = Math.max(l[2] * k, 0.6);
      var y0 = a.y + a.off + h / 2, y1 = b.y + b.off + h / 2;
      a.off += h; b.off += h;
      var mx = (X0 + NW + X1) / 2;
      var p = svg("path", {d: "M" + (X0 + NW) + "," + y0.toFixed(1) + " C" + mx + "," + y0.toFixed(1) + " " + mx + "," +
        y1.toFixed(1) + " " + X1 + "," + y1.toFixed(1), fill: "none", stroke: "#2166ac", "stroke-opacity": 0.35,
        "stroke-width": h.toFixed(2)});
      p.appendChild(svg("title", {}, towns[l[0]][0] + " → " + ests[l[1]][0] + ": " + num(l[2])));
      root.appendChild(p);
    });
    // node labels, whole: one per node unless it would overlap the one above (its tooltip still names it)
    function nodes(list, pos, x, fill, lx, anchor) {
      var last = -1e9;
      list.forEach(function (n, i) {
        var r = svg("rect", {x: x, y: pos[i].y, width: NW, height: pos[i].h, fill: fill});
        r.appendChild(svg("title", {}, n[0] + ": " + num(n[1])));
        root.appendChild(r);
        var y = pos[i].y + pos[i].h / 2 + 4;
        if (y - last >= 11) { label(root, lx, y, lab(n), anchor, "cl small"); last = y; }
      });
    }
    nodes(towns, tp, X0, "#555", X0 - 4, "end");
    nodes(ests, ep, X1, "#2166ac", X1 + NW + 4, "start");
    fit(root, W, H);
  }

  function unassignedChart(c) {
    var reasons = c.reasons || [], cats = c.cats || [];
    if (!cats.length) return;
    var EN = LANG === "en", BAR = 220;
    var top = 8 + reasons.length * 16, H = top + cats.length * 18 + 6;
    var root = chartRoot("chart-unassigned", 420, H, T("کسب‌وکارهای بدون تخصیص هر صنف، به تفکیک دلیل",
                                                      "unassigned businesses per category, by reason"));
    if (!root) return;
    var names = cats.map(function (r) { return EN ? r[1] : r[2]; });
    var L0 = Math.max(60, widest(root, names, "cl") + 10);
    var W = Math.max(420, L0 + BAR + 50, 20 + widest(root, reasons.map(function (r) { return EN ? r[1] : r[2]; }),
                                                       "cl small"));
    reasons.forEach(function (r, i) {  // the key: one reason a line, whole
      var y = 4 + i * 16;
      root.appendChild(svg("rect", {x: 4, y: y, width: 10, height: 10, fill: colour(r[3])}));
      label(root, 18, y + 9, EN ? r[1] : r[2], "start", "cl small");
    });
    var max = Math.max.apply(null, cats.map(function (r) { return r[3].reduce(function (a, b) { return a + b; }, 0); }));
    var sx = function (v) { return (W - L0 - 50) * v / Math.max(max, 1); };
    cats.forEach(function (r, i) {
      var y = top + i * 18, x = L0, tot = 0;
      label(root, L0 - 6, y + 11, names[i], "end");
      r[3].forEach(function (n, j) {
        if (!n) return;
        var w = sx(n);
        var seg = svg("rect", {x: x.toFixed(1), y: y + 2, width: Math.max(w, 0.5).toFixed(1), height: 12,
                               fill: colour(reasons[j][3])});
        seg.appendChild(svg("title", {}, names[i] + " — " + (EN ? reasons[j][1] : reasons[j][2]) + ": " + num(n)));
        root.appendChild(seg);
        x += w; tot += n;
      });
      label(root, x + 4, y + 12, num(tot), "start", "cl small");
    });
    fit(root, W, H);
  }
  var ch = data.charts || {};
  estatesChart(ch.estates || {});
  flowsChart(ch.flows || {});
  unassignedChart(ch.unassigned || {});

  /* ---- layout: panel beside the map (desktop) or a bottom sheet (phone) ----------------------- */
  var handle = document.getElementById("sp-handle");
  function relayout() {
    map.invalidateSize({pan: false});
    declutter();
  }
  if (handle) {
    handle.addEventListener("click", function () {
      var min = document.body.classList.toggle("sheet-min");
      handle.setAttribute("aria-expanded", min ? "false" : "true");
      setTimeout(relayout, 50);
    });
  }
  window.addEventListener("resize", function () { setTimeout(relayout, 50); });
  /* print: every section open, and the map refitted to the study area in its printed frame (the
     print stylesheet's size, set here before the browser lays the page out for print) */
  var opened = [], screenView = null, printing = false, legendHome = null, legendWasOpenPrint = false;
  function beforePrint() {
    if (printing) return;
    printing = true;
    /* every closed section is printed, but the programme's (impact, feasibility sheets, value chains,
       phasing): those print when the reviewer opened them, so the default print stays compact */
    opened = Array.prototype.filter.call(document.querySelectorAll("#sp-panel details"), function (d) {
      return !d.open && !/^sp-(impact|feasibility|chains|phasing)$/.test(d.id);
    });
    opened.forEach(function (d) { d.open = true; });
    screenView = {c: map.getCenter(), z: map.getZoom()};
    var lg = document.getElementById("sp-legend"), box = map.getContainer();
    if (lg) {  // the legend prints under the map frame, which clips whatever lies outside the study view
      legendHome = lg.parentNode;
      legendWasOpenPrint = lg.open;
      lg.open = true;
      box.parentNode.insertBefore(lg, box.nextSibling);
    }
    document.body.classList.add("sp-print");
    map.invalidateSize({pan: false});
    if (data.bounds) map.fitBounds(data.bounds, {padding: [6, 6], animate: false});
    declutter();
  }
  function afterPrint() {
    if (!printing) return;
    printing = false;
    opened.forEach(function (d) { d.open = false; });
    document.body.classList.remove("sp-print");
    var lg = document.getElementById("sp-legend");
    if (lg && legendHome) { legendHome.appendChild(lg); lg.open = legendWasOpenPrint; }
    map.invalidateSize({pan: false});
    if (screenView) map.setView(screenView.c, screenView.z, {animate: false});
    declutter();
  }
  window.addEventListener("beforeprint", beforePrint);
  window.addEventListener("afterprint", afterPrint);
  if (window.matchMedia) {
    var pm = window.matchMedia("print");
    var onPm = function (e) { if (e.matches) beforePrint(); else afterPrint(); };
    if (pm.addEventListener) pm.addEventListener("change", onPm); else if (pm.addListener) pm.addListener(onPm);
  }

  /* "zoom to" buttons of the summary and tables: the site or estate (matched by its id, as text) is
     shown, fitted and opened */
  Array.prototype.forEach.call(document.querySelectorAll("button.zoom"), function (b) {
    b.addEventListener("click", function () {
      var reg = byId[b.getAttribute("data-zoom")] || {}, layer = reg[b.getAttribute("data-id")];
      if (!layer) return;
      entries.forEach(function (e) {
        if (!map.hasLayer(e.layer) && e.layer.hasLayer && e.layer.hasLayer(layer)) {
          map.addLayer(e.layer);
          keepOrder();
          drawLegend();
        }
      });
      var bb = layer.getBounds();
      map.fitBounds(bb, {maxZoom: 14, padding: [40, 40], animate: false});
      layer.openPopup(bb.getCenter());
    });
  });

  // colour swatches in the panel (colours are checked hex values)
  Array.prototype.forEach.call(document.querySelectorAll("[data-colour]"), function (e) {
    var c = e.getAttribute("data-colour");
    if (HEX.test(c)) e.style.background = c;
  });
  document.body.classList.add("sp-ready");
  map.invalidateSize({pan: false});
  map.options.zoomSnap = 0.25;  // the study area fills the map beside the panel
  if (data.bounds) map.fitBounds(data.bounds, {padding: [12, 12], animate: false});
  declutter();
  window.siteplanReport = {map: map, overlays: overlays, card: card, declutter: declutter, byId: byId};
})();
