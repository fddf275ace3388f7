/* siteplan report: builds every overlay, popup, tooltip and the layer list from the JSON data block.
 *
 * Safety rules (do not break them): data arrives only through JSON.parse of the
 * JSON data block (id sp-data); every data string reaches the page through
 * textContent, or through esc() where Leaflet insists on an HTML string (layer control labels,
 * attribution). No innerHTML, eval, Function, template literal or string-built handler touches data.
 * This file is static: it is never generated or templated.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sp-data").textContent);
  var map = window[data.map];

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"'`]/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function bdi(text) {
    var e = el("bdi", text);
    e.setAttribute("dir", "auto");
    return e;
  }

  var HEX = /^#[0-9a-fA-F]{3,8}$/;
  function swatch(colour) {
    var s = el("span", null, "sw");
    if (HEX.test(colour)) s.style.background = colour; // CSSOM: allowed by the page's CSP
    return s;
  }

  /* A card: a list of blocks [kind, ...]: ["h", text, sub], ["p", text], ["kv", [[key, value], ...]],
     ["table", headers, rows], ["ul", title, items]. Every value is text. */
  function card(blocks) {
    var root = el("div", null, "pop");
    blocks.forEach(function (b) {
      var k = b[0];
      if (k === "h") {
        var h = el("div", null, "pop-h");
        h.appendChild(el("b")).appendChild(bdi(b[1]));
        if (b[2]) { h.appendChild(document.createTextNode(" ")); h.appendChild(el("small")).appendChild(bdi(b[2])); }
        root.appendChild(h);
      } else if (k === "p") {
        root.appendChild(el("div")).appendChild(bdi(b[1]));
      } else if (k === "kv") {
        var dl = el("div", null, "kv");
        b[1].forEach(function (kv) {
          var row = el("div");
          row.appendChild(el("span", kv[0] + ": ", "k"));
          row.appendChild(bdi(kv[1]));
          dl.appendChild(row);
        });
        root.appendChild(dl);
      } else if (k === "table") {
        var t = el("table", null, "sp"), tr = el("tr");
        b[1].forEach(function (hd) { tr.appendChild(el("th")).appendChild(bdi(hd)); });
        t.appendChild(el("thead")).appendChild(tr);
        var tb = t.appendChild(el("tbody"));
        b[2].forEach(function (r) {
          var row = tb.appendChild(el("tr"));
          r.forEach(function (c) { row.appendChild(el("td")).appendChild(bdi(c)); });
        });
        root.appendChild(t);
      } else if (k === "ul") {
        root.appendChild(el("div", b[1]));
        var ul = root.appendChild(el("ul"));
        b[2].forEach(function (it) { ul.appendChild(el("li")).appendChild(bdi(it)); });
      }
    });
    return root;
  }

  function tip(text) { return function () { return bdi(text); }; }
  function pop(blocks) { return function () { return card(blocks); }; }

  var bases = {}, overlays = {};
  data.basemaps.forEach(function (b) {
    var layer = L.tileLayer(b.url, {attribution: esc(b.attribution), maxZoom: 19});
    bases[esc(b.name)] = layer;
    if (b.show) layer.addTo(map);
  });

  var renderer = L.canvas({padding: 0.5});

  function geojsonLayer(spec) {
    return L.geoJSON(spec.features, {
      style: function (f) { return f.properties._s || {}; },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        if (p._t) layer.bindTooltip(tip(p._t), {sticky: true});
        if (p._p) layer.bindPopup(pop(p._p), {maxWidth: spec.maxWidth || 420});
      }
    });
  }

  function pointsLayer(spec) {
    var group = L.featureGroup();
    spec.rows.forEach(function (r) {
      var c = spec.colours[r[2]];
      L.circleMarker([r[0], r[1]], {renderer: renderer, radius: r[4] || 3, weight: 1, color: c,
        fillColor: c, fillOpacity: 0.8}).bindTooltip(tip(r[3])).addTo(group);
    });
    return group;
  }

  function linesLayer(spec) {
    var group = L.featureGroup();
    spec.rows.forEach(function (r) {
      L.polyline(r.path, {weight: r.w, color: spec.colour, opacity: 0.6}).bindTooltip(tip(r.t)).addTo(group);
    });
    return group;
  }

  function imageLayer(spec) {
    return L.imageOverlay(spec.url, spec.bounds, {opacity: spec.opacity || 0.7});
  }

  var build = {geojson: geojsonLayer, points: pointsLayer, lines: linesLayer, image: imageLayer};
  data.layers.forEach(function (spec) {
    var layer = build[spec.kind](spec);
    overlays[esc(spec.name)] = layer;
    if (spec.show) layer.addTo(map);
  });
  // on a phone the layer list starts folded, so the map and the panel stay reachable
  var narrow = window.matchMedia && window.matchMedia("(max-width: 700px)").matches;
  L.control.layers(bases, overlays, {collapsed: data.collapsed || narrow}).addTo(map);

  // colour swatches in the panel (colours are checked hex values)
  Array.prototype.forEach.call(document.querySelectorAll("[data-colour]"), function (e) {
    var c = e.getAttribute("data-colour");
    if (HEX.test(c)) e.style.background = c;
  });
  window.siteplanReport = {map: map, overlays: overlays, card: card};
})();
