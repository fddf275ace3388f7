"""QGIS: the styled GeoPackage (``layer_styles``), the ``plan.qgz`` project, consistent column types,
and the Processing plugin.

The tests marked ``needs_qgis`` run Debian's QGIS (``qgis``, ``python3-qgis``; ``make test`` installs
them when it runs as root): QGIS's Python bindings live in the system Python, not in the project's
environment, so each runs ``tests/qgis_check.py`` (or ``qgis_process``) in a subprocess, headless
(``QT_QPA_PLATFORM=offscreen``), and checks what it prints. The others need no QGIS.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest

from siteplan.report import styles
from siteplan.outputs.writer import export_gpkg

from conftest import small_scenario

HERE = Path(__file__).resolve().parent
CHECK = HERE / "qgis_check.py"
QGIS_PY = "/usr/bin/python3"
# Debian's /usr/bin/qgis_process wrapper passes --noversioncheck (meant for the desktop), which QGIS 3.22's
# qgis_process rejects; the binary beside it takes the arguments as given
QGIS_PROCESS = shutil.which("qgis_process.bin") or shutil.which("qgis_process")


def _env(tmp: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if tmp is not None:
        env["XDG_RUNTIME_DIR"] = str(tmp)
        env["QGIS_CUSTOM_CONFIG_PATH"] = str(tmp / "qgis-profile")
    return env


def _has_qgis() -> bool:
    if not Path(QGIS_PY).is_file():
        return False
    try:
        return subprocess.run([QGIS_PY, "-c", "import qgis.core"], env=_env(), capture_output=True,
                              timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


HAS_QGIS = _has_qgis()
needs_qgis = pytest.mark.skipif(not HAS_QGIS, reason="QGIS is not installed (Debian's qgis and python3-qgis; "
                                                     "`make test` installs them when run as root)")


def _qgis(tmp: Path, *args: str) -> dict:
    """Run tests/qgis_check.py with QGIS's Python; its JSON result."""
    r = subprocess.run([QGIS_PY, str(CHECK), *args], env=_env(tmp), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def plan(demo_run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run exported: plan.gpkg, plan_suitability/, plan.qgz."""
    out = tmp_path_factory.mktemp("qgis") / "plan.gpkg"
    export_gpkg(demo_run_dir, out)
    return out


def _report_estates(run_dir: Path) -> dict[str, dict]:
    """estate_id -> the style the report draws the estate with (from report.html's data block)."""
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="sp-data">(.*?)</script>', html, re.S)
    assert m
    data = json.loads(m.group(1))
    (layer,) = [x for x in data["layers"] if x.get("cards") == "estate_id"]
    return {f["properties"]["estate_id"]: f["properties"]["_s"] for f in layer["features"]["features"]}


# ---- without QGIS --------------------------------------------------------------------------------


def test_report_and_gis_styles_share_one_definition() -> None:
    """The report's colours are siteplan.report.styles' objects, not copies."""
    from siteplan.report import layers, summary

    assert layers.ENV_COLOURS is styles.ENV_COLOURS and layers.PALETTE is styles.PALETTE
    assert summary.REASON_COLOURS is styles.REASON_COLOURS
    assert [styles.estate_fill(s) for s in (0.0, 0.5, 0.51, 0.9, 0.95, 1.0)] == \
        ["#1a9850", "#1a9850", "#fc8d59", "#fc8d59", "#d73027", "#d73027"]


def test_layer_styles_table(plan: Path, demo_run_dir: Path) -> None:
    """One default style per layer, QML and SLD, no timestamp of the day; the estates' classes in the
    report's colours and legend labels."""
    with sqlite3.connect(plan) as db:
        rows = db.execute("SELECT f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                          "update_time FROM layer_styles ORDER BY id").fetchall()
        tables = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
    names = {r[0] for r in rows}
    assert names == tables - {"layer_styles"}
    assert {"estates", "zones", "sites", "flows", "relocation", "study_area"} <= names
    for name, geom, style, qml, sld, default, when in rows:
        assert (geom, style, default, when) == ("geom", name, 1, "2000-01-01T00:00:00.000Z")
        ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        ET.fromstring(sld.split("\n", 1)[1])
    est = {r[0]: r for r in rows}["estates"]
    report = _report_estates(demo_run_dir)
    for c in styles.ESTATE_SHARE_CLASSES:
        assert f"{c.en}" in est[3] and c.colour in est[4]
    assert {s["fillColor"] for s in report.values()} <= {c.colour for c in styles.ESTATE_SHARE_CLASSES}
    # the report's language (``both``): Persian and English legend labels
    assert "up to 50 % used" in est[4] and "تا" in est[4]


def test_column_types_are_the_same_in_every_layer(plan: Path) -> None:
    """Rank and count columns are INTEGER in every category and layer (an ineligible category used to
    make its rank column REAL); distances and areas REAL even when empty."""
    types: dict[str, set[str]] = {}
    with sqlite3.connect(plan) as db:
        for (t,) in db.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'"):
            for _, col, typ, *_ in db.execute(f'PRAGMA table_info("{t}")'):
                types.setdefault(col, set()).add(typ)
    ranks = {c: t for c, t in types.items() if c.startswith("rank_") or c in ("rank", "units", "units_in", "members")}
    assert len(ranks) > 10
    assert all(t == {"INTEGER"} for t in ranks.values()), ranks
    assert all(t == {"REAL"} for c, t in types.items() if c.endswith("_km") or c.startswith("score_")), types
    est = gpd.read_file(plan, layer="estates")
    assert est["share_used"].between(0, 1).all()


def test_export_is_deterministic(plan: Path, demo_run_dir: Path, tmp_path: Path) -> None:
    """The same run gives the same GeoPackage (styles included) and project, byte for byte; the
    project's zip entry is dated 2000-01-01."""
    again = tmp_path / "plan.gpkg"
    export_gpkg(demo_run_dir, again)
    assert again.read_bytes() == plan.read_bytes()
    assert again.with_suffix(".qgz").read_bytes() == plan.with_suffix(".qgz").read_bytes()
    with zipfile.ZipFile(plan.with_suffix(".qgz")) as z:
        assert [(i.filename, i.date_time) for i in z.infolist()] == [("plan.qgs", (2000, 1, 1, 0, 0, 0))]
        qgs = z.read("plan.qgs").decode("utf-8")
    assert "./plan.gpkg|layername=estates" in qgs and "./plan_suitability/" in qgs  # relative paths


def test_hostile_values_stay_text_in_styles() -> None:
    """An environmental category from the data reaches the QML as an escaped expression literal and the
    SLD as an escaped literal: no XML or expression injection."""
    import pandas as pd

    from siteplan.outputs.gisstyle import layer_rules, to_qml, to_sld

    evil = "x' OR 1=1 OR 'a<\"&>"
    st = layer_rules("zones", pd.DataFrame({"env_cat": ["1", evil]}))
    assert st is not None
    qml, sld = to_qml(st, "en"), to_sld(st, "en")
    rules = ET.fromstring(qml.split("\n", 1)[1]).findall(".//rule")
    assert rules[1].get("filter") == "\"env_cat\" = 'x'' OR 1=1 OR ''a<\"&>'"
    lits = [e.text for e in ET.fromstring(sld.split("\n", 1)[1]).iter("{http://www.opengis.net/ogc}Literal")]
    assert evil in lits


def test_plugin_zip(tmp_path: Path) -> None:
    """`siteplan qgis-plugin --out DIR`: a plugin zip by QGIS's conventions, the same bytes twice; a file
    as --out is refused with a message (a usage error)."""
    from click.testing import CliRunner

    from siteplan.cli import main

    r = CliRunner().invoke(main, ["qgis-plugin", "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    r2 = CliRunner().invoke(main, ["qgis-plugin", "--out", str(tmp_path / "b")])
    assert r2.exit_code == 0
    za, zb = tmp_path / "a" / "siteplan_qgis.zip", tmp_path / "b" / "siteplan_qgis.zip"
    assert za.read_bytes() == zb.read_bytes()
    with zipfile.ZipFile(za) as z:
        names = set(z.namelist())
        meta = z.read("siteplan_qgis/metadata.txt").decode()
        init = z.read("siteplan_qgis/__init__.py").decode()
        cfg = json.loads(z.read("siteplan_qgis/siteplan.json"))
    assert {"siteplan_qgis/metadata.txt", "siteplan_qgis/provider.py", "siteplan_qgis/algorithms.py"} <= names
    assert "hasProcessingProvider=yes" in meta and re.search(r"^qgisMinimumVersion=3\.\d+$", meta, re.M)
    assert "def classFactory(iface" in init
    assert cfg["command"][1:] == ["-m", "siteplan"]
    (tmp_path / "f").write_text("x")
    r3 = CliRunner().invoke(main, ["qgis-plugin", "--out", str(tmp_path / "f")])
    assert r3.exit_code == 2 and "is a file" in r3.output and "Traceback" not in r3.output
    # a zip already there is replaced only with --overwrite; never into a folder a siteplan command wrote
    zb.write_bytes(b"mine")
    r4 = CliRunner().invoke(main, ["qgis-plugin", "--out", str(tmp_path / "b")])
    assert r4.exit_code == 1 and "pass --overwrite" in r4.output and zb.read_bytes() == b"mine"
    r5 = CliRunner().invoke(main, ["qgis-plugin", "--out", str(tmp_path / "b"), "--overwrite"])
    assert r5.exit_code == 0 and zb.read_bytes() == za.read_bytes()
    run = tmp_path / "run"
    run.mkdir()
    (run / ".siteplan-run").write_text('{"siteplan": "0.1.0", "kind": "run", "files": []}', encoding="utf-8")
    r6 = CliRunner().invoke(main, ["qgis-plugin", "--out", str(run)])
    assert r6.exit_code == 1 and "a folder" in r6.output and not (run / "siteplan_qgis.zip").exists()


class _Feedback:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.lines: list[str] = []
        self.progress: list[float] = []
        self.cancel_after = cancel_after

    def isCanceled(self) -> bool:  # noqa: N802
        return self.cancel_after is not None and len(self.lines) >= self.cancel_after

    def pushInfo(self, t: str) -> None:  # noqa: N802
        self.lines.append(t)

    def setProgress(self, p: float) -> None:  # noqa: N802
        self.progress.append(p)


def test_plugin_runner_progress_cancel_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's subprocess runner: stages move the progress bar, Cancel stops siteplan at once, a
    failure raises siteplan's own message."""
    import time

    from siteplan.outputs.qgis_plugin import runner

    fake = tmp_path / "fake.py"
    fake.write_text("import sys, time\n"
                    "if sys.argv[1] == 'fail':\n    print('scenario.yaml: no such file', file=sys.stderr); sys.exit(1)\n"
                    "print('stage load …', file=sys.stderr, flush=True)\n"
                    "print('stage load done in 0.1 s', file=sys.stderr, flush=True)\n"
                    "if sys.argv[1] == 'slow':\n    time.sleep(60)\n"
                    "print('done')\n")
    monkeypatch.setenv("SITEPLAN_COMMAND", f"{sys.executable} {fake}")
    fb = _Feedback()
    assert runner.run(["ok"], fb, (0, 90)) == "done"
    assert fb.progress == [0, 90 / len(runner.STAGES)]
    with pytest.raises(runner.SiteplanFailed, match="no such file"):
        runner.run(["fail"], _Feedback())
    t0 = time.monotonic()
    with pytest.raises(runner.Cancelled):
        runner.run(["slow"], _Feedback(cancel_after=2))
    assert time.monotonic() - t0 < 20


# ---- with QGIS -----------------------------------------------------------------------------------


@needs_qgis
def test_project_opens_headless_every_layer_valid_and_styled(plan: Path, demo_run_dir: Path, tmp_path: Path) -> None:
    """plan.qgz opens in QGIS without a display: every layer valid, grouped as in the report, each vector
    layer styled, and the same style when QGIS loads the layer on its own from the GeoPackage; the
    suitability rasters with a colour ramp; the study area as the initial view."""
    d = _qgis(tmp_path, str(plan.with_suffix(".qgz")))
    assert d["read"]
    manifest = json.loads((demo_run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert d["crs"] == manifest["crs"]
    assert all(x["valid"] for x in d["layers"]), [x["id"] for x in d["layers"] if not x["valid"]]
    vec = {x["id"].removeprefix("siteplan_"): x for x in d["layers"] if x["type"] == 0}
    ras = [x for x in d["layers"] if x["type"] == 1]
    with sqlite3.connect(plan) as db:
        tables = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")} - {"layer_styles"}
    assert set(vec) == tables
    for name, x in vec.items():
        assert x["renderer"] == "RuleRenderer" and x["alone_renderer"] == "RuleRenderer", name
        assert x["legend"] == x["alone_legend"] and x["legend"], name
        assert x["features"] == len(gpd.read_file(plan, layer=name)), name
    assert vec["estates"]["legend"] == [f"{c.fa} · {c.en}" for c in styles.ESTATE_SHARE_CLASSES]
    assert len(ras) == len(list((demo_run_dir / "suitability").glob("*.tif")))
    assert all(x["renderer"] == "singlebandpseudocolor" for x in ras)
    groups = [g["name"] for g in d["groups"]]
    assert groups == [f"{fa} · {en}" for fa, en in styles.GROUPS.values()]
    assert "siteplan_estates" in d["groups"][0]["layers"] and "siteplan_study_area" in d["groups"][2]["layers"]
    sa = gpd.read_file(plan, layer="study_area").to_crs(manifest["crs"]).total_bounds
    assert d["extent"] == pytest.approx(list(sa), abs=1.0)


@needs_qgis
def test_estates_render_in_the_reports_colours(plan: Path, demo_run_dir: Path, tmp_path: Path) -> None:
    """QGIS's map renderer draws every estate in the colour the report gives it (fill over white at the
    report's opacity): a pixel inside each estate."""
    d = _qgis(tmp_path, "estates", str(plan.with_suffix(".qgz")), "200")
    report = _report_estates(demo_run_dir)
    assert len(d["estates"]) == len(report)
    seen = set()
    for e in d["estates"]:
        s = report[e["estate_id"]]
        fill = s["fillColor"].lstrip("#")
        rgb = [int(fill[i:i + 2], 16) for i in (0, 2, 4)]
        a = s["fillOpacity"]
        want = [round(a * c + (1 - a) * 255) for c in rgb]
        assert all(abs(g - w) <= 3 for g, w in zip(e["rgb"], want)), (e, s)
        seen.add(s["fillColor"])
    assert len(seen) >= 2  # more than one class drawn: the check tells classes apart


@needs_qgis
@pytest.mark.skipif(not QGIS_PROCESS, reason="qgis_process is not installed (Debian's qgis)")
def test_qgis_process_runplan(tmp_path: Path) -> None:
    """The plugin built by `siteplan qgis-plugin`, installed in a throwaway QGIS profile: `qgis_process run
    siteplan:runplan` on the demo region (cut small) writes the run, the styled GeoPackage and the project;
    a layer given to the algorithm replaces the scenario's layer of that name (the scenario file is not
    touched)."""
    from siteplan.outputs.qgisplugin import build_plugin

    plugins = tmp_path / "qgis-profile" / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(build_plugin(tmp_path)) as z:
        z.extractall(plugins)
    env = _env(tmp_path)
    r = subprocess.run([QGIS_PROCESS, "plugins", "enable", "siteplan_qgis"], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    sc = small_scenario(tmp_path, n_biz=40)
    before = sc.read_bytes()
    out = tmp_path / "plan"
    r = subprocess.run([QGIS_PROCESS, "--json", "run", "siteplan:runplan", "--", f"SCENARIO={sc}", f"OUTPUT={out}",
                        f"LAYERS={sc.parent / 'estates.shp'}"], env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(r.stdout[r.stdout.index("{"):])["results"]
    assert Path(res["GEOPACKAGE"]) == out / "plan.gpkg" and Path(res["PROJECT"]).is_file()
    rel = gpd.read_file(out / "plan.gpkg", layer="relocation")
    assert len(rel) == len(gpd.read_file(sc.parent / "businesses.shp"))
    with sqlite3.connect(out / "plan.gpkg") as db:
        assert db.execute("SELECT count(*) FROM layer_styles WHERE f_table_name = 'estates'").fetchone() == (1,)
    manifest = json.loads((out / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest["inputs"]["estates"]) == ["estates.gpkg"]  # the layer QGIS gave, written for siteplan
    assert "roads.shp" in manifest["inputs"]["roads"] and sc.read_bytes() == before
    # a broken scenario: the algorithm fails with siteplan's message
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlayers: {}\n", encoding="utf-8")
    r = subprocess.run([QGIS_PROCESS, "run", "siteplan:validate", "--", f"SCENARIO={bad}"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert "VALID:\tfalse" in r.stdout or "VALID: false" in r.stdout, r.stdout + r.stderr
