"""The demo report in a real, offline, headless Chromium at a phone size (390 × 844) and a desktop size
(1400 × 900): no console errors, a legend for every visible styled layer, every panel section opens by
a real click, an estate popup opened by a real click is fully visible, the axe-core accessibility check
finds nothing serious, mixed Persian/English text is isolated and in order, and the page prints to A4
PDF with the summary, the map and the tables. Screenshots go to tests/artifacts.

Skips where Chromium is absent (`make browser` installs it with apt-get where it can); the axe check
skips when axe-core could not be fetched from npm (`make browser` does it into tests/.cache)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CHROMIUM, ROOT, edit_yaml, needs_browser, small_scenario, start_browser

from siteplan.cli import main

pytestmark = needs_browser
ARTIFACTS = ROOT / "tests" / "artifacts"
AXE = ROOT / "tests" / ".cache" / "axe-core" / "axe.min.js"
SIZES = {"phone": (390, 844), "desktop": (1400, 900)}


def severe(d) -> list[dict]:
    """Console errors (a request the blocked network refused would be one)."""
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


def requests(d) -> list[str]:
    """Every resource the page asked for beyond its own file and data URIs."""
    return d.execute_script("return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
                            ".filter(function (n) { return !/^(data|blob|file):/.test(n); });")


def key(name) -> str:
    """The text a label shows: Persian, then English (one of them on a one-language page)."""
    return " / ".join(name[k] for k in ("fa", "en") if name.get(k)) if isinstance(name, dict) else str(name)


def open_browser(size: str):
    w, h = SIZES[size]
    d = start_browser(max(w, 500), h)
    if w < 500:  # headless windows have a minimum width: emulate the phone's viewport
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": True})
    return d


@pytest.fixture(scope="module", params=list(SIZES))
def sized(request):
    d = open_browser(request.param)
    d.size_name = request.param
    yield d
    d.quit()


@pytest.fixture(scope="module")
def demo_run(demo_run_dir, demo_result):
    """The demo run (what `siteplan demo` does): its output folder and its result, shared by the
    session (conftest), read only."""
    return demo_run_dir, demo_result


@pytest.fixture(scope="module")
def demo_report(demo_run) -> Path:
    return demo_run[0] / "report.html"


@pytest.fixture(scope="module")
def fa_report(demo_run, tmp_path_factory) -> Path:
    """The demo's report with `report: {language: fa}`."""
    from siteplan.report import build_report
    from siteplan.scenario import ReportSpec

    res = demo_run[1]
    page = tmp_path_factory.mktemp("fa") / "report.html"
    keep = res.prep.scenario
    res.prep.scenario = keep.model_copy(update={"report": ReportSpec(language="fa")})
    try:
        build_report(res, page)
    finally:
        res.prep.scenario = keep
    return page


def _settle(d, frames: int = 2) -> None:
    """Wait until the page's fonts are loaded and ``frames`` animation frames were drawn (what a fixed
    sleep waited for, without its idle time)."""
    d.execute_async_script("""var done = arguments[arguments.length - 1], k = arguments[0];
        function f() { if (k-- <= 0) done(); else requestAnimationFrame(f); }
        (document.fonts ? document.fonts.ready : Promise.resolve()).then(f);""", frames)


def _popup_text(d, want: str | None = None, timeout: float = 5.0) -> str | None:
    """The open popup's text, polled until it holds ``want`` (or any text) or ``timeout`` s pass."""
    end = time.monotonic() + timeout
    while True:
        text = d.execute_script("var p = document.querySelector('.leaflet-popup-content'); return p ? p.innerText : null;")
        if (text and (want is None or want in text)) or time.monotonic() > end:
            return text
        time.sleep(0.02)


def _load(d, page: Path) -> None:
    d.get(page.as_uri())  # returns after the load event: the report's script has run
    assert d.execute_script("return document.readyState") == "complete"
    _settle(d, 3)


def _rect(d, selector: str) -> dict | None:
    return d.execute_script("var e = document.querySelector(arguments[0]); if (!e) return null;"
                            "var r = e.getBoundingClientRect(); return {l: r.left, t: r.top, r: r.right, b: r.bottom};",
                            selector)


def _shot(d, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    d.save_screenshot(str(ARTIFACTS / f"{name}_{d.size_name}.png"))


def _data(page: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="sp-data">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def test_demo_report_size(demo_report):
    mb = demo_report.stat().st_size / 1e6
    print(f"demo report: {mb:.2f} MB")
    assert mb <= 5.0


def test_loads_offline_with_a_legend_for_every_visible_layer(sized, demo_report):
    d = sized
    _load(d, demo_report)
    assert not severe(d)
    assert requests(d) == []  # nothing fetched on load: the online base is off
    assert d.execute_script("return [document.documentElement.dir, document.documentElement.lang]") == ["rtl", "fa-IR"]
    assert d.execute_script("return document.title").startswith("siteplan")
    assert d.execute_script("return document.body.classList.contains('sp-ready')")
    # a legend entry for each visible styled layer, and nothing styled without a legend
    data = _data(demo_report)
    styled = [s for s in data["layers"] if s["kind"] != "image" or s.get("legend")]
    assert all(s.get("legend") for s in styled), [s["name"] for s in styled if not s.get("legend")]
    visible = d.execute_script("""var r = window.siteplanReport;
        return Object.keys(r.overlays).filter(function (k) { return r.map.hasLayer(r.overlays[k]); });""")
    titles = d.execute_script("return Array.from(document.querySelectorAll('#sp-legend .lg-t'))"
                              ".map(function (e) { return e.textContent; });")
    base = [key(s["name"]) for s in data["layers"] if s.get("group") == "base"]  # the offline base's own parts
    assert visible and sorted(visible + base) == sorted(titles)
    # the map is not under the panel, and the scale bar shows
    m, p = _rect(d, ".folium-map"), _rect(d, "#sp-panel")
    if d.size_name == "desktop":  # right to left: the panel on the right, the map on its left
        assert m["r"] <= p["l"] + 1 and m["r"] - m["l"] >= 800
    else:
        assert m["b"] <= p["t"] + 1 and m["b"] - m["t"] >= 300
    sc = _rect(d, ".leaflet-control-scale")
    hit = d.execute_script("var r = arguments[0]; var e = document.elementFromPoint((r.l + r.r) / 2, (r.t + r.b) / 2);"
                           "return !!(e && e.closest('.leaflet-control-scale'));", sc)
    assert hit, "the scale bar is covered"
    # the study area fills the map: its bounds are in view and span most of it
    frac = d.execute_script("""var r = window.siteplanReport, b = L.latLngBounds(%s);
        var a = r.map.latLngToContainerPoint(b.getNorthWest()), c = r.map.latLngToContainerPoint(b.getSouthEast());
        var s = r.map.getSize();
        return [a.x >= -2 && a.y >= -2 && c.x <= s.x + 2 && c.y <= s.y + 2, Math.max((c.x - a.x) / s.x, (c.y - a.y) / s.y)];"""
                            % json.dumps(data["bounds"]))
    assert frac[0] and frac[1] > 0.6, frac
    # the layer list starts folded, and opens by a real click
    assert d.execute_script("return document.getElementById('sp-layers-body').hidden")
    d.find_element("css selector", ".sp-layers-btn").click()
    assert not d.execute_script("return document.getElementById('sp-layers-body').hidden")
    labels = d.execute_script("return Array.from(document.querySelectorAll('.sp-layers label'))"
                              ".map(function (e) { return e.textContent; });")
    for want in ("Study area", "Towns and villages", "Roads", "Estates", "Zones", "Relocation flows", "Labels",
                 "The region's own layers (offline)"):
        assert any(want in x for x in labels), (want, labels)
    _shot(d, "report")
    d.find_element("css selector", ".sp-layers-btn").click()
    # summary charts were drawn
    assert d.execute_script("return document.querySelectorAll('.chart-svg svg').length") == 3
    assert d.execute_script("return document.querySelectorAll('#chart-flows path').length") > 3


def test_every_panel_section_opens_by_a_real_click(sized, demo_report):
    d = sized
    _load(d, demo_report)
    n = d.execute_script("return document.querySelectorAll('#sp-panel details').length")
    assert n >= 6
    for i in range(n):
        det = d.find_elements("css selector", "#sp-panel details")[i]
        if det.get_attribute("open") is not None:
            continue
        summ = det.find_element("css selector", ":scope > summary")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", summ)
        summ.click()  # a real click: fails if anything covers the header
        assert det.get_attribute("open") is not None, summ.text
    # the sheet / sidebar folds and unfolds by its handle, and the map takes the room
    before = _rect(d, ".folium-map")
    d.find_element("id", "sp-handle").click()
    time.sleep(0.3)
    after = _rect(d, ".folium-map")
    assert (after["r"] - after["l"]) * (after["b"] - after["t"]) > (before["r"] - before["l"]) * (before["b"] - before["t"])
    d.find_element("id", "sp-handle").click()
    _shot(d, "panel_open")
    assert not severe(d)


def _click_map(d, x: float, y: float) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    m = _rect(d, ".folium-map")
    el = d.find_element("css selector", ".folium-map")
    ActionChains(d).move_to_element_with_offset(el, int(x - (m["r"] - m["l"]) / 2),
                                                int(y - (m["b"] - m["t"]) / 2)).click().perform()


def test_every_estate_opens_by_a_click_on_its_centre_with_default_layers(sized, demo_report):
    """With the layers as the page opens (flows, unassigned businesses and zones on), a real click on
    the inside centre of each estate at zoom 13 opens that estate's card (issue 29)."""
    d = sized
    _load(d, demo_report)
    ests = d.execute_script("""var r = window.siteplanReport;
        return Object.keys(r.byId.estate).map(function (k) { return k; });""")
    assert len(ests) >= 20
    missed = []
    for eid in ests:
        name, xy = d.execute_script("""var r = window.siteplanReport, l = r.byId.estate[arguments[0]];
            r.map.closePopup();
            var c = l.getCenter ? l.getCenter() : l.getBounds().getCenter();
            r.map.setView(c, 13, {animate: false});
            var p = r.map.latLngToContainerPoint(c);
            return [l.feature.properties.name, [p.x, p.y]];""", eid)
        _settle(d)
        _click_map(d, xy[0], xy[1])
        text = _popup_text(d, name, timeout=2.0)
        if not text or name not in text:
            missed.append((eid, (text or "")[:60]))
    assert not missed, f"{len(missed)} of {len(ests)} estates did not open: {missed[:5]}"
    assert not severe(d)


def test_estate_popup_opened_by_a_click_is_fully_visible(sized, demo_report):
    d = sized
    _load(d, demo_report)
    name = d.execute_script("""var r = window.siteplanReport, found = r.byId.estate['E01'];
        r.map.setView(found.getCenter(), 11, {animate: false});
        return found.feature.properties.name;""")
    time.sleep(0.4)
    xy = d.execute_script("""var r = window.siteplanReport, found = r.byId.estate['E01'];
        var c = r.map.latLngToContainerPoint(found.getCenter()); return [c.x, c.y];""")
    _click_map(d, xy[0], xy[1])  # default layers: the flows end on the estate but lie under it
    time.sleep(0.8)
    text = d.execute_script("var p = document.querySelector('.leaflet-popup-content'); return p ? p.innerText : null;")
    _shot(d, "estate_popup")
    assert text is not None, "no popup opened"
    assert name in text and any("\u0600" <= ch <= "\u06ff" for ch in text)
    assert d.execute_script("return getComputedStyle(document.querySelector('.leaflet-popup-content .pop')).direction")\
        == "rtl"
    pop, m = _rect(d, ".leaflet-popup-content-wrapper"), _rect(d, ".folium-map")
    assert m["l"] - 1 <= pop["l"] and pop["r"] <= m["r"] + 1 and m["t"] - 1 <= pop["t"] and pop["b"] <= m["b"] + 1, (pop, m)
    covered = d.execute_script("""var r = arguments[0], bad = [];
        [[r.l + 3, r.t + 3], [r.r - 3, r.t + 3], [r.l + 3, r.b - 3], [r.r - 3, r.b - 3], [(r.l + r.r) / 2, (r.t + r.b) / 2]]
          .forEach(function (p) { var e = document.elementFromPoint(p[0], p[1]);
            if (!e || !e.closest('.leaflet-popup')) bad.push([p, e ? e.className : null]); });
        return bad;""", pop)
    assert not covered, covered
    assert not severe(d)


def test_proposed_sites_show_at_the_opening_view_and_open_from_the_summary(sized, demo_report):
    d = sized
    _load(d, demo_report)
    marks = d.execute_script("""return Array.from(document.querySelectorAll('.sp-site-mark')).map(function (m) {
        var s = m.querySelector('.star').getBoundingClientRect(), map = document.querySelector('.folium-map')
          .getBoundingClientRect();
        return [m.textContent, s.width, s.height, s.left >= map.left && s.right <= map.right && s.top >= map.top
                && s.bottom <= map.bottom]; });""")
    sites = [f["properties"]["site_id"] for sp in _data(demo_report)["layers"] if sp.get("marks")
             for f in sp["features"]["features"]]
    assert sites and sorted(m[0].replace("★", "") for m in marks) == sorted(sites)
    assert all(w >= 12 and h >= 12 and inside for _, w, h, inside in marks), marks
    # every site in the summary is a button that zooms to it and opens its card
    btn = d.find_elements("css selector", "#sp-summary button.zoom[data-zoom=site]")
    assert sorted({b.get_attribute("data-id") for b in btn}) == sorted(sites)
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", btn[0])
    want = btn[0].get_attribute("data-id")
    btn[0].click()
    time.sleep(0.6)
    text = d.execute_script("var p = document.querySelector('.leaflet-popup-content'); return p ? p.innerText : null;")
    assert text and want in text, text
    z = d.execute_script("return window.siteplanReport.map.getZoom()")
    assert z >= 11, z
    _shot(d, "site_zoom")
    assert not severe(d)


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core not fetched (make browser runs npm pack axe-core)")
def test_axe_finds_no_serious_violations(sized, demo_report):
    d = sized
    _load(d, demo_report)
    d.execute_script(AXE.read_text(encoding="utf-8"))
    d.set_script_timeout(60)
    res = d.execute_async_script("""var done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(function (r) {
          done(r.violations.map(function (v) { return {id: v.id, impact: v.impact, n: v.nodes.length,
            html: v.nodes.slice(0, 3).map(function (x) { return x.html.slice(0, 160); })}; })); });""")
    bad = [v for v in res if v["impact"] in ("serious", "critical")]
    assert not bad, bad


MIXED = ["شهرک 12 Alpha فاز ۲", "Kaveh (کاوه) 3", "ناحیه B-7 «غرب»"]


@pytest.fixture(scope="module")
def mixed_report(tmp_path_factory) -> Path:
    import geopandas as gpd

    base = tmp_path_factory.mktemp("mixed")
    sc = small_scenario(base, n_biz=120)
    est = gpd.read_file(sc.parent / "estates.shp")
    for i, s in enumerate(MIXED):
        est.loc[i, "name"] = s
    est.loc[len(MIXED), "name"] = "<img src=x onerror=alert(1)>"
    est.to_file(sc.parent / "estates.shp", encoding="UTF-8")
    edit_yaml(sc, lambda y: y.setdefault("outputs", {}).update(persian_digits=True))
    out = base / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return out / "report.html"


def test_mixed_direction_text_is_isolated_and_in_order(mixed_report):
    d = open_browser("desktop")
    d.size_name = "desktop"
    try:
        _load(d, mixed_report)
        assert not severe(d)
        assert d.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
        # every mixed name sits alone in a direction isolate (<bdi>), in the panel and in labels
        for s in MIXED:
            iso = d.execute_script("""var s = arguments[0];
                return Array.from(document.querySelectorAll('bdi')).filter(function (b) {
                return b.textContent === s; }).map(function (b) {
                return [b.getAttribute('dir'), getComputedStyle(b).unicodeBidi]; });""", s)
            assert iso and all(x == ["auto", "isolate"] for x in iso), (s, iso)
        # tooltips: each fragment (id, name) in its own isolate, in order
        frags = d.execute_script("""var r = window.siteplanReport, s = arguments[0], out = null;
            r.map.eachLayer(function (l) { if (l.feature && l.feature.properties.estate_id && l.feature.properties.name === s) {
              l.openTooltip(); out = Array.from(l.getTooltip().getElement().querySelectorAll('bdi')).map(function (b) {
                return [b.textContent, b.getAttribute('dir')]; }); } });
            return out;""", MIXED[0])
        assert frags and frags[1] == [MIXED[0], "auto"] and frags[0][0].startswith("E"), frags
        # a number with its unit is one left-to-right isolate, drawn number first; with the Persian
        # digits switch on, numbers use Persian digits
        order = d.execute_script("""var out = [];
            document.querySelectorAll('.headline bdi.num').forEach(function (b) {
              var t = b.textContent, k = t.indexOf('\\u00a0ha'); if (k < 0) return;
              var range = document.createRange(), node = b.firstChild;
              range.setStart(node, 0); range.setEnd(node, 1); var a = range.getBoundingClientRect().left;
              range.setStart(node, k + 1); range.setEnd(node, k + 3); var u = range.getBoundingClientRect().left;
              out.push([t, b.getAttribute('dir'), a < u]); });
            return out;""")
        assert order and all(dir_ == "ltr" and num_first for _, dir_, num_first in order), order
        assert all(re.fullmatch(r"[۰-۹٬٫]+\u00a0ha", t) for t, _, _ in order), order
        cells = d.execute_script("return Array.from(document.querySelectorAll('#sp-details table.sp')[1]"
                                 ".querySelectorAll('tbody tr td:nth-child(4)')).map(function (c) { return c.textContent; });")
        assert cells and all(re.fullmatch(r"[۰-۹٬٫]+", c) for c in cells), cells  # tables too
        svg_nums = d.execute_script("return Array.from(document.querySelectorAll('#chart-estates text.small'))"
                                    ".map(function (t) { return t.textContent; });")
        assert svg_nums and all(re.fullmatch(r"[۰-۹٬٫]+ / [۰-۹٬٫]+", t) for t in svg_nums), svg_nums  # charts too
        # bilingual labels: the Persian words, then the English ones, each isolated (RTL panel: right, left)
        pairs = d.execute_script("""return Array.from(document.querySelectorAll('.hl-k')).map(function (k) {
            var en = k.querySelector('[lang=en]'), fa = k.querySelector('[lang=fa]');
            return [en.getAttribute('dir'), fa.getAttribute('dir'),
                    fa.getBoundingClientRect().right >= en.getBoundingClientRect().right
                    || fa.getBoundingClientRect().top < en.getBoundingClientRect().top]; });""")
        assert pairs and all(p == ["ltr", "rtl", True] for p in pairs), pairs
        # the estate legend's shares read right to left, word by word, and the percent sign follows its
        # number in reading order (on its left: ۵۰ تا ۹۰٪ reads ۵۰, تا, ۹۰٪), measured on the rendered glyphs
        shares = d.execute_script("""var out = [];
            document.querySelectorAll('#sp-legend bdi[lang=fa]').forEach(function (b) {
              var t = b.textContent, k = t.indexOf('\u066a'); if (k < 1) return;
              var node = b.firstChild, r = document.createRange();
              function box(i, j) { r.setStart(node, i); r.setEnd(node, j); return r.getBoundingClientRect(); }
              var toks = [], re = /\\S+/g, m;
              while ((m = re.exec(t))) toks.push(box(m.index, m.index + m[0].length));
              var rtl = toks.every(function (q, i) { return !i || q.right <= toks[i - 1].left + 1; });
              out.push([t, box(k, k + 1).right <= box(k - 1, k).left + 1, rtl]); });
            return out;""")
        assert len(shares) >= 3 and all(ok1 and ok2 for _, ok1, ok2 in shares), shares
    finally:
        d.quit()


def test_prints_to_a4_pdf_with_summary_map_and_tables(demo_report, tmp_path):
    from pypdf import PdfReader

    pdf = tmp_path / "report.pdf"
    cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--no-pdf-header-footer",
           "--virtual-time-budget=8000", f"--print-to-pdf={pdf}", demo_report.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(pdf.read_bytes())
    reader = PdfReader(str(pdf))
    n = len(reader.pages)
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3  # A4 portrait
    assert 3 <= n <= 12, n  # a compact document (issue 29)
    pages = [p.extract_text() or "" for p in reader.pages]
    text = "\n".join(pages)
    assert "Businesses to move" in pages[0] and "6,000" in pages[0]  # the summary first
    map_page = next(i for i, t in enumerate(pages) if "Leaflet" in t)  # the map, with its attribution
    assert map_page >= 1 and "km" in pages[map_page]  # scale bar
    assert "Legend" in pages[map_page]
    for want in ("Categories", "capacity ha", "Method", "Warnings", "Data sources", "E01"):
        assert want in text, want
    # legible: the body text is set at least at 8 pt
    sizes = []
    reader.pages[0].extract_text(visitor_text=lambda t, cm, tm, fd, fs: sizes.append(fs * abs(tm[0]) * abs(cm[0]) or fs)
                                 if t.strip() else None)
    assert sizes and sorted(sizes)[len(sizes) // 2] >= 7.5, sorted(sizes)[:10]


def test_print_refits_the_map_to_the_study_area(sized, demo_report):
    """Whatever the window, the map is refitted to the study area in its printed frame before the
    browser lays the page out for print, and put back afterwards."""
    d = sized
    _load(d, demo_report)
    d.execute_script("window.siteplanReport.map.setView([0, 0], 3, {animate: false})")  # wandered off
    d.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    fill = d.execute_script("""var r = window.siteplanReport, b = L.latLngBounds(%s), s = r.map.getSize();
        var a = r.map.latLngToContainerPoint(b.getNorthWest()), c = r.map.latLngToContainerPoint(b.getSouthEast());
        return [a.x >= -2 && a.y >= -2 && c.x <= s.x + 2 && c.y <= s.y + 2, Math.max((c.x - a.x) / s.x, (c.y - a.y) / s.y),
                s.x, s.y];""" % json.dumps(_data(demo_report)["bounds"]))
    assert fill[0] and fill[1] >= 0.8, fill
    assert abs(fill[2] / fill[3] - 186 / 150) < 0.05, fill  # the A4 frame's shape, from a phone too
    d.execute_script("window.dispatchEvent(new Event('afterprint'))")
    assert d.execute_script("return window.siteplanReport.map.getZoom()") == 3
    assert not severe(d)


def test_xss_names_render_as_text(mixed_report):
    d = open_browser("desktop")
    try:
        _load(d, mixed_report)
        d.execute_script("""var r = window.siteplanReport;
            r.map.eachLayer(function (l) { if (l.feature && l.feature.properties && l.feature.properties.estate_id
              && String(l.feature.properties.name).indexOf('onerror') >= 0) l.openPopup(); });""")
        time.sleep(0.3)
        text = d.execute_script("var p = document.querySelector('.leaflet-popup-content'); return p ? p.innerText : '';")
        assert "<img src=x onerror=alert(1)>" in text  # shown as text
        assert d.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
        labels = d.execute_script("return Array.from(document.querySelectorAll('.sp-label')).map(function (e) {"
                                  "return e.textContent; });")
        assert "<img src=x onerror=alert(1)>" in labels
    finally:
        d.quit()


def test_prints_to_a3_too(demo_report):
    import base64
    import io

    from pypdf import PdfReader
    from selenium.webdriver.common.print_page_options import PrintOptions

    d = open_browser("desktop")
    try:
        _load(d, demo_report)
        o = PrintOptions()
        o.page_width, o.page_height = 29.7, 42.0  # A3 portrait, cm
        pdf = base64.b64decode(d.print_page(o))
    finally:
        d.quit()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report_a3.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 842) < 3 and abs(float(box.height) - 1191) < 3
    pages = [p.extract_text() or "" for p in reader.pages]
    assert 2 <= len(pages) <= 30 and "Businesses to move" in pages[0]
    text = "\n".join(pages)
    for want in ("Leaflet", "Categories", "capacity ha", "Method", "Warnings"):
        assert want in text, want


#: Latin letters allowed on a Persian page: ids (E01, S02), units on Leaflet's scale bar, names of the
#: map's libraries and data sources in the attribution, and what the user typed (see _latin_share)
ALLOWED = re.compile(r"\b[A-Z]{1,3}\d+\b|\b(?:km|m)\b|Leaflet|siteplan|GeoNames|CC-BY|OpenStreetMap|ODbL|"
                     r"review\.csv|manifest\.json|zones\.geojson")


def _latin_share(d, data: dict, name: str) -> tuple[float, float, str]:
    """The share of Latin letters among the letters of the page's visible text, raw and without the
    allowed ones (ids, units, library and source names, the scenario's name and the names of places
    from the data), and the leftover Latin words."""
    text = d.execute_script("return document.body.innerText")
    letters = re.findall(r"[A-Za-z\u0600-\u06ff]", text)
    raw = len(re.findall(r"[A-Za-z]", text)) / max(len(letters), 1)
    rest = text.replace(name, " ")
    for lab in data.get("labels", []):  # place names from the data (GeoNames transliterations)
        rest = rest.replace(str(lab[2]), " ")
    rest = ALLOWED.sub(" ", rest)
    return raw, len(re.findall(r"[A-Za-z]", rest)) / max(len(letters), 1), " ".join(re.findall(r"[A-Za-z]\w*", rest))


def test_fa_report_is_persian_offline(sized, fa_report):
    """report.language fa (issue 29): lang="fa" dir="rtl", nothing fetched, no console error, and the
    visible text is Persian: the share of Latin letters is measured (raw and without ids, units and
    what the user typed) at the opening view and with every panel section open."""
    d = sized
    _load(d, fa_report)
    assert not severe(d) and requests(d) == []
    assert d.execute_script("return [document.documentElement.lang, document.documentElement.dir]") == ["fa", "rtl"]
    assert d.execute_script("return document.fonts.check('16px \"siteplan Vazirmatn\"', 'گزارش')")
    fam = d.execute_script("return getComputedStyle(document.querySelector('.hl-v')).fontFamily")
    assert "siteplan Vazirmatn" in fam
    data = _data(fa_report)
    name = d.execute_script("return document.getElementById('sp-title').textContent").strip()
    raw, rest, words = _latin_share(d, data, name)
    print(f"{d.size_name}: Latin share of the visible text at the opening view {raw:.2%} raw, {rest:.2%} without "
          f"ids, units and user-typed names; left: {words[:200]}")
    assert raw < 0.05 and rest < 0.005, (raw, rest, words)
    _shot(d, "fa_report")
    d.execute_script("document.querySelectorAll('#sp-panel details').forEach(function (x) { x.open = true; });")
    raw2, rest2, words2 = _latin_share(d, data, name)
    print(f"{d.size_name}: with every section open {raw2:.2%} raw, {rest2:.2%} without ids, units and user-typed "
          f"names (criterion names, rule ids, the run's English warnings and source notes are there)")
    # 0.25 before the programme sections (#27), whose feasibility sheets still print English phrases
    # (site kinds, utilities): translating them is open work; the opening view above is the strict check
    assert raw2 < 0.36, (raw2, words2[:300])
    # the layer list and the legend speak Persian too
    d.find_element("css selector", ".sp-layers-btn").click()
    labels = d.execute_script("return Array.from(document.querySelectorAll('.sp-layers label, #sp-legend'))"
                              ".map(function (e) { return e.innerText; }).join(' ')")
    assert not re.search(r"[A-Za-z]{3,}", labels), labels[:300]
    _shot(d, "fa_layers")
    # the layer list is open: the legend (and its button on a phone) is out of its way
    hits = d.execute_script("""return Array.from(document.querySelectorAll('.sp-layers label')).map(function (l) {
        var r = l.getBoundingClientRect(), b = document.getElementById('sp-layers-body').getBoundingClientRect();
        if (!r.height || r.bottom > b.bottom || r.top < b.top) return true;  // scrolled out of the list's view
        var e = document.elementFromPoint(r.left + 8, (r.top + r.bottom) / 2); return !!(e && l.contains(e)); });""")
    assert hits and all(hits), hits
    assert not severe(d)


def test_fa_numbers_units_and_percent_read_right_to_left(fa_report):
    """Bidi measured on the rendered glyphs of the fa page: a number with its unit reads number first
    (the number right of the unit), its digits left to right in Persian form; a share's ٪ follows its
    number in reading order (on its left), in the panel and in the map's legend."""
    d = open_browser("desktop")
    d.size_name = "desktop"
    try:
        _load(d, fa_report)
        out = d.execute_script("""var out = [];
            function box(node, i, j) { var r = document.createRange(); r.setStart(node, i); r.setEnd(node, j);
              return r.getBoundingClientRect(); }
            document.querySelectorAll('#sp-summary bdi.num').forEach(function (b) {
              var node = b.firstChild, t = node.textContent, m = /[۰-۹][۰-۹٬٫]*/.exec(t); if (!m) return;
              var first = box(node, m.index, m.index + 1), last = box(node, m.index + m[0].length - 1, m.index + m[0].length);
              var rest = t.slice(m.index + m[0].length).trim(), k = t.indexOf('\u066a'), after = null;
              if (k >= 0) after = box(node, k, k + 1).right <= first.left + 1;
              else if (rest) { var u = t.indexOf(rest); after = box(node, u, u + 1).right <= first.left + 1; }
              out.push([t, getComputedStyle(b).direction, first.left <= last.left + 0.5, after]); });
            return out;""")
        assert len(out) >= 8, out
        for t, direction, digits_ltr, unit_after in out:
            assert direction == "rtl" and digits_ltr, (t, direction, digits_ltr)
            assert unit_after in (None, True), (t, unit_after)
            assert not re.search(r"[0-9]|\bha\b|%", t), t
        assert any("هکتار" in t for t, *_ in out) and any("\u066a" in t for t, *_ in out)
        shares = d.execute_script("""var out = [];
            document.querySelectorAll('#sp-legend bdi[lang=fa]').forEach(function (b) {
              var t = b.textContent, k = t.indexOf('\u066a'); if (k < 1) return;
              var node = b.firstChild, r = document.createRange();
              function box(i, j) { r.setStart(node, i); r.setEnd(node, j); return r.getBoundingClientRect(); }
              var toks = [], re = /\\S+/g, m;
              while ((m = re.exec(t))) toks.push(box(m.index, m.index + m[0].length));
              var rtl = toks.every(function (q, i) { return !i || q.right <= toks[i - 1].left + 1; });
              out.push([t, box(k, k + 1).right <= box(k - 1, k).left + 1, rtl]); });
            return out;""")
        assert len(shares) >= 3 and all(a and b for _, a, b in shares), shares
        # the chart labels are whole (never cut with …) and inside their chart
        charts = d.execute_script("""return Array.from(document.querySelectorAll('.chart-svg svg')).map(function (s) {
            var vb = s.viewBox.baseVal, cut = 0, out = 0;
            s.querySelectorAll('text').forEach(function (t) { if (t.textContent.indexOf('…') >= 0) cut++;
              var b = t.getBBox(); if (b.x < -1 || b.x + b.width > vb.width + 1) out++; });
            return [cut, out]; });""")
        assert charts and all(c == [0, 0] for c in charts), charts
        # zoning sheets: the tables fit the panel, and each map draws its estate's outline
        fit = d.execute_script("""document.querySelector('.zsheets').open = true;
            return Array.from(document.querySelectorAll('.zs')).map(function (z) { var t = z.querySelector('.zs-table');
              return [t.scrollWidth <= t.clientWidth + 1, !!z.querySelector('path.zs-outline')]; });""")
        assert fit and all(a and b for a, b in fit), fit
        assert not severe(d)
    finally:
        d.quit()
