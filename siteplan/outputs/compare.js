/* siteplan compare.html: draws the comparison's map from the JSON data block (id cp-data).
 *
 * Safety rules (as the report's app.js): data arrives only through JSON.parse of the data block;
 * every data string reaches the page through textContent (elements made with createElement), or
 * through esc() where Leaflet insists on an HTML string (the layer list). No innerHTML, eval,
 * Function or string-built handler touches data. Colours are checked hex values; geometry is numbers.
 * This file is static: it is never generated or templated.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cp-data").textContent);
  var box = document.getElementById("cp-map");
  if (!data.bounds || typeof L === "undefined") {
    box.className = "empty";
    return;
  }
  var HEX = /^#[0-9a-fA-F]{3,8}$/;

  function colour(c, fallback) { return HEX.test(c) ? c : (fallback || "#999999"); }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"'`]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  /* a popup card: its lines as text, the first in bold, each line its own direction isolate */
  function card(lines) {
    var root = el("div", null, "pop");
    root.setAttribute("dir", "rtl");
    (lines || []).forEach(function (t, i) {
      if (t === "" || t == null) return;
      var row = root.appendChild(el("div"));
      var b = row.appendChild(el(i ? "bdi" : "strong"));
      b.appendChild(document.createTextNode(String(t)));
      b.setAttribute("dir", "auto");
    });
    return root;
  }

  var map = L.map(box, {zoomSnap: 0.25, attributionControl: false, renderer: L.svg({padding: 0.5})});
  map.fitBounds(data.bounds, {padding: [18, 18], maxZoom: 14});
  var control = L.control.layers(null, null, {collapsed: true, position: "topright"}).addTo(map);
  var heads = [];  // arrow heads, redrawn in screen space at each zoom

  function drawHead(h) {
    h.group.clearLayers();
    var a = map.latLngToLayerPoint(h.from), b = map.latLngToLayerPoint(h.to);
    var dx = b.x - a.x, dy = b.y - a.y, len = Math.sqrt(dx * dx + dy * dy);
    if (len < 6) return;
    var size = Math.min(7 + h.width * 1.5, len / 2), ux = dx / len, uy = dy / len;
    var base = L.point(b.x - ux * size, b.y - uy * size);
    var left = L.point(base.x - uy * size * 0.55, base.y + ux * size * 0.55);
    var right = L.point(base.x + uy * size * 0.55, base.y - ux * size * 0.55);
    L.polygon([map.layerPointToLatLng(left), map.layerPointToLatLng(b), map.layerPointToLatLng(right)],
              {color: h.colour, weight: 1, fillColor: h.colour, fillOpacity: 0.95, interactive: false,
               className: h.cls + "-head"}).addTo(h.group);
  }

  function points(items, cls, group) {
    (items || []).forEach(function (p) {
      var m = L.circleMarker([p[0], p[1]], {radius: +p[2] || 6, color: "#ffffff", weight: 2,
                                            fillColor: colour(p[3]), fillOpacity: 0.95, className: cls + "-mark"});
      m.bindPopup(card(p[4]));
      if (p[5]) m.bindTooltip(el("bdi", p[5]), {permanent: true, direction: "top", offset: [0, -8],
                                               className: "cp-label", opacity: 0.9});
      m.addTo(group);
    });
  }

  data.layers.forEach(function (spec) {
    var group = L.featureGroup();
    if (spec.kind === "geojson") {
      L.geoJSON(spec.features, {
        style: function (f) {
          var p = f.properties || {};
          return {color: colour(p.c), weight: +p.w || 1.5, dashArray: p.d ? "6 5" : null,
                  fillColor: colour(p.f, colour(p.c)), fillOpacity: (p.fo === undefined ? 0.3 : +p.fo),
                  className: spec.cls};
        },
        onEachFeature: function (f, layer) {
          if (f.properties && f.properties.t) layer.bindPopup(card(f.properties.t));
        }
      }).addTo(group);
      points(spec.points, spec.cls, group);
    } else if (spec.kind === "arrows") {
      var headGroup = L.layerGroup().addTo(group);
      spec.items.forEach(function (a) {
        var line = L.polyline([[a[0], a[1]], [a[2], a[3]]], {
          color: colour(a[5]), weight: +a[4] || 2, opacity: 0.85, dashArray: a[6] ? "7 6" : null,
          className: spec.cls});
        line.bindPopup(card(a[7]));
        line.addTo(group);
        var hg = L.layerGroup().addTo(headGroup);
        heads.push({group: hg, from: L.latLng(a[0], a[1]), to: L.latLng(a[2], a[3]), colour: colour(a[5]),
                    width: +a[4] || 2, cls: spec.cls});
      });
    } else if (spec.kind === "points") {
      points(spec.items, spec.cls, group);
    }
    if (spec.show) group.addTo(map);
    control.addOverlay(group, esc(spec.name));
  });

  function redraw() { heads.forEach(drawHead); }
  map.on("zoomend", redraw);
  map.on("viewreset", redraw);
  redraw();
  box.setAttribute("data-ready", String(heads.length));
})();
