"""Hostile inputs that used to end in an internal error (or hang, or exhaust memory) now end in one clear
input error naming the file, layer, row or key, in `validate` as in `run`, before the heavy work; and
text from the data cannot leak control characters to the terminal or formulas to a spreadsheet
(issue 24, "Bad input that passes or crashes": internal errors and small leaks of control text)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import ROOT, edit_yaml, small_scenario
from shapely.affinity import scale
from shapely.geometry import Point, box

from siteplan.cli import main
from siteplan.errors import InputError


@pytest.fixture(scope="module")
def _master(tmp_path_factory) -> Path:
    return small_scenario(tmp_path_factory.mktemp("hostile_errors"), n_biz=40)


@pytest.fixture
def small(_master, tmp_path) -> Path:
    """A private copy of the small scenario (its folder of layers and its YAML)."""
    dst = tmp_path / "small"
    shutil.copytree(_master.parent, dst)
    return dst / _master.name


def _clear(r, *needles: str) -> None:
    """Exit 1, every needle in the message, no internal error or traceback."""
    assert r.exit_code == 1, r.output
    assert "internal error" not in r.output and "Traceback" not in r.output, r.output
    for n in needles:
        assert n in r.output, f"{n!r} not in {r.output!r}"


def _both(sc: Path, *needles: str) -> None:
    """`validate` and `run` refuse the scenario with the same message; run writes nothing and stops early."""
    _clear(CliRunner().invoke(main, ["validate", str(sc)]), *needles)
    out = sc.parent / "out"
    t0 = time.perf_counter()
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    _clear(r, *needles)
    assert time.perf_counter() - t0 < 30 and not out.exists()


def _cli(*args: object, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI in a child process (a hang fails the test instead of blocking it)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "siteplan", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


# -- coordinates that are not numbers on Earth -------------------------------------------------------------


@pytest.mark.parametrize("xy", [(1e308, 1e308), (-1e308, 32.6), (51.7, 1e300), (3e9, 32.6)])
def test_absurd_coordinates_name_the_row(small, xy):
    biz = gpd.read_file(small.parent / "businesses.shp")
    biz.loc[5, "geometry"] = Point(*xy)
    biz.to_file(small.parent / "businesses.shp", encoding="UTF-8")
    _both(small, "layer 'businesses' (businesses.shp): 1 of 40 feature(s) have coordinates that are not finite",
          f"row 6 ({biz.loc[5, 'biz_id']})", "correct their coordinates or remove them")


def test_absurd_coordinates_of_a_line_vertex_and_a_table_row(small):
    roads = gpd.read_file(small.parent / "roads.shp")
    g = roads.geometry.iloc[2]
    coords = np.asarray(g.coords if g.geom_type == "LineString" else g.geoms[0].coords)
    coords[1] = (coords[1][0], -1e200)
    roads.loc[2, "geometry"] = shapely.LineString(coords)
    roads.to_file(small.parent / "roads.shp", encoding="UTF-8")
    pd.DataFrame({"kind": ["school", "hospital", "school"], "lon": ["51.6", "1e308", "51.7"],
                  "lat": ["32.6", "32.7", "32.65"]}).to_csv(small.parent / "rec.csv", index=False)
    edit_yaml(small, lambda d: d["layers"].update(receptors={"path": "rec.csv", "lon": "lon", "lat": "lat"}))
    _both(small, "2 problems", "layer 'roads' (roads.shp): 1 of", "row 3 at", "-1e+200",
          "layer 'receptors' (rec.csv): 1 of 3 feature(s)", "row 3 at (1e+308, 32.7)")  # row 3: header is row 1


# -- export of a folder that is not a run -----------------------------------------------------------------------


@pytest.mark.parametrize("content", [None, "notes.txt", "layer.geojson"])
def test_export_of_a_folder_that_is_not_a_run(tmp_path, content):
    folder = tmp_path / "folder"
    folder.mkdir()
    if content == "notes.txt":
        (folder / content).write_text("mine", encoding="utf-8")
    elif content:
        gpd.GeoDataFrame({"a": [1]}, geometry=[Point(51.6, 32.6)], crs=4326).to_file(folder / content)
    before = sorted(p.name for p in folder.iterdir())
    r = CliRunner().invoke(main, ["export", str(folder), "--gpkg", str(tmp_path / "x.gpkg")])
    _clear(r, f"{folder}: not a folder siteplan run wrote", "give that folder")
    assert not (tmp_path / "x.gpkg").exists() and not list(tmp_path.glob(".x*"))
    assert sorted(p.name for p in folder.iterdir()) == before


# -- inputs that are not regular files, or too large to read -------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_fifo_device_and_socket_inputs_are_refused_before_opening(small, tmp_path):
    os.mkfifo(small.parent / "pipe.gpkg")
    (small.parent / "urban.dbf").unlink()
    os.mkfifo(small.parent / "urban.dbf")  # a shapefile's sidecar
    os.symlink("/dev/zero", small.parent / "zero.csv")
    edit_yaml(small, lambda d: d["layers"].update(
        roads={"path": "pipe.gpkg"}, receptors={"path": "zero.csv", "lon": "x", "lat": "y"}))
    for cmd in (["validate", small], ["run", small, "--out", tmp_path / "out"]):
        t0 = time.perf_counter()
        r = _cli(*cmd, timeout=90)  # used to block for ever on the FIFO, or fill the memory from /dev/zero
        assert r.returncode == 1 and "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
        for needle in ("3 problems", "layers.roads.path: pipe.gpkg is a FIFO (named pipe), not a regular file",
                       "layers.receptors.path: zero.csv is a character device, not a regular file",
                       "layers.urban.path: urban.dbf is a FIFO (named pipe)"):
            assert needle in r.stderr, r.stderr
        assert time.perf_counter() - t0 < 60
    assert not (tmp_path / "out").exists()


def test_a_table_above_the_size_limit_is_refused(small, monkeypatch):
    from siteplan.common import fs as _fs

    pd.DataFrame({"kind": ["school"] * 200, "lon": [51.6] * 200, "lat": [32.6] * 200}).to_csv(
        small.parent / "rec.csv", index=False)
    edit_yaml(small, lambda d: d["layers"].update(receptors={"path": "rec.csv", "lon": "lon", "lat": "lat"}))
    monkeypatch.setitem(_fs._LIMITS, ".csv", 1000)
    _both(small, "layers.receptors.path: rec.csv is", "above siteplan's limit of", "save a large layer as a GeoPackage")


def test_input_file_problem():
    from siteplan.common.fs import input_file_problem

    assert input_file_problem(ROOT / "README.md") is None
    assert input_file_problem(ROOT / "no-such-file") is None  # left to the caller's "not found"
    assert "character device" in (input_file_problem("/dev/null") or "")
    assert "above siteplan's limit" in (input_file_problem(ROOT / "README.md", limit=10) or "")


# -- settings beyond any plausible value ---------------------------------------------------------------------


@pytest.mark.parametrize("key, value, says", [
    ("allocation.max_distance_km", 1e308, "allowed: above 0 up to 5,000 km"),
    ("sites.max_area_ha", 1e12, "allowed: above 0 up to 100,000 ha"),
    ("sites.min_spacing_km", 1e9, "allowed: from 0 up to 5,000 km"),
    ("clusters.eps_m", 1e15, "allowed: above 0 up to 100,000 m"),
    ("grid.resolution_m", 1e7, "allowed: above 0 up to 100,000 m"),
    ("allocation.node_limit", 10**15, "allowed: from 1 up to 1e+09"),
    ("zoning.strip_m", 5e5, "allowed: above 0 up to 1,000 m"),
])
def test_implausible_settings_are_refused_with_the_allowed_range(small, key, value, says):
    section, name = key.split(".")
    edit_yaml(small, lambda d: d.setdefault(section, {}).update({name: value}))
    _both(small, f"{key}: must be less than or equal to", says)


def test_catalogue_overrides_of_numbers(small):
    from siteplan.guilds.catalogue import load_catalogue

    # a number in a column the shipped catalogue holds as text used to be an internal error
    assert load_catalogue(overrides={"car_repair": {"land_m2": 650, "plot_m2": 800.5}}).row("car_repair")["land_m2"] == 650
    edit_yaml(small, lambda d: d.update(catalogue={"overrides": {"car_repair": {"land_m2": 1e308}}}))
    _both(small, "catalogue.overrides.car_repair.land_m2: must be land per business in m²", "at most 1,000,000")


# -- sizes whose work would not fit in memory ----------------------------------------------------------------


def test_an_estate_of_a_thousand_km2_is_refused_up_front(small):
    est = gpd.read_file(small.parent / "estates.shp")
    utm = est.to_crs(32639)
    g = utm.geometry.iloc[1]
    f = (1e9 / g.area) ** 0.5  # 1,000 km²
    utm.loc[utm.index[1], "geometry"] = scale(g, f, f)
    utm.to_crs(est.crs).to_file(small.parent / "estates.shp", encoding="UTF-8")
    _both(small, "layer 'estates' (estates.shp): 1 of", "larger than 50,000 ha (500 km²)",
          f"row 2 ({est.loc[1, 'estate_id']}): 100,000 ha", "check the polygon and the layer's CRS")


def test_zoning_memory_is_bounded_whatever_the_polygon():
    from siteplan.zoning.blocks import MAX_PIECES, TooManyPieces
    from siteplan.zoning.zones import subdivide_plots

    zone = box(0, 0, 2e5, 2e5)  # 400 km² of 20 m² plots: 2e9 plots before the cap
    t0 = time.perf_counter()
    with pytest.raises(TooManyPieces, match=f"more than siteplan's limit of {MAX_PIECES:,} for one estate"):
        subdivide_plots(zone, 20.0)
    assert time.perf_counter() - t0 < 2  # refused before any plot is made
    assert isinstance(TooManyPieces("x"), InputError)
    assert len(subdivide_plots(box(0, 0, 300, 300), 400.0)) > 10  # an ordinary zone is cut as before


# -- control text ----------------------------------------------------------------------------------------------

SEPARATORS = ["\u2028", "\u2029", "\u0085", "\u202e", "\u2067", "\x1b", "\x0b"]


def test_printable_escapes_separators_and_bidi_marks():
    from siteplan.common.textnorm import printable, printable_json

    for c in SEPARATORS:
        out = printable(f"a{c}b")
        assert c not in out and out.startswith("a\\") and out.endswith("b")
    keep = "صافکاری\u200cو نقاشی\u200f (۲)\tx\n"
    assert printable(keep) == keep  # ZWNJ, the RLM of Persian typing, tab, newline kept
    import json

    text = printable_json(json.dumps({"n": "x\u2028y\u2029z\u202e"}, ensure_ascii=False))
    assert not set("\u2028\u2029\u202e") & set(text) and json.loads(text) == {"n": "x\u2028y\u2029z\u202e"}


def test_explain_prints_no_raw_separator(small):
    est = gpd.read_file(small.parent / "estates.shp")
    eid = str(est.loc[0, "estate_id"])
    est.loc[0, "name"] = "Shahrak\u2028error: forged line\u2029\u202eevil"
    est.to_file(small.parent / "estates.shp", encoding="UTF-8")
    r = CliRunner().invoke(main, ["explain", str(small), "--category", "scrap", "--estate", eid])
    assert r.exit_code == 0, r.output
    assert not set("\u2028\u2029\u202e") & set(r.output), r.output
    assert "\\u2028error: forged line\\u2029\\u202eevil" in r.output


INVISIBLE = ["\u200b" * 17, "\u200c", "\u200d", "\ufeff", "\u2060", "\u200e", "\u200f", "\u061c", "\u00ad", "\u3000",
             "\u00a0", "\u2007", "\u202f", "\u205f", "\u180e", "\u2028", " \u200b\u3000\u00ad"]


@pytest.mark.parametrize("lead", INVISIBLE)
@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "＝"])
def test_invisible_characters_before_a_formula_are_neutralised(lead, prefix):
    from siteplan.outputs.writer import neutralise_formulas, safe_csv

    v = f"{lead}{prefix}HYPERLINK(\"http://x\")"
    assert neutralise_formulas(pd.DataFrame({"n": [v]}))["n"].iloc[0] == "'" + v
    assert list(csv.reader(io.StringIO(safe_csv(pd.DataFrame({"n": [v]})))))[1] == ["'" + v]


@pytest.mark.parametrize("v", ["تعمیرگاه خودرو", "\u200cتعمیرگاه", "\u200fصافکاری - نقاشی", "٢-١", "a=b", " plain",
                               "\u200b", "\u3000نجاری", "1-2"])
def test_text_that_is_no_formula_is_kept(v):
    from siteplan.outputs.writer import neutralise_formulas

    assert neutralise_formulas(pd.DataFrame({"n": [v]}))["n"].iloc[0] == v


def test_names_are_written_as_the_user_wrote_them(small, tmp_path):
    urban = gpd.read_file(small.parent / "urban.shp")
    biz = gpd.read_file(small.parent / "businesses.shp")
    # names with a leading tab, no-break space or mark (a shapefile keeps them; it drops leading and
    # trailing spaces itself): matching folds them, output does not
    towns = {0: "\t" + str(urban.loc[0, "name"]), 1: "\u00a0" + str(urban.loc[1, "name"]) + "\t",
             2: "\t\u200f" + str(urban.loc[2, "name"])}
    for i, n in towns.items():
        urban.loc[i, "name"] = n
    urban.to_file(small.parent / "urban.shp", encoding="UTF-8")
    biz.loc[0, "name"] = "\u200b\u200b\u200b=1+1"
    biz.loc[1, "name"] = "\u3000@SUM(A1)"
    biz.to_file(small.parent / "businesses.shp", encoding="UTF-8")
    edit_yaml(small, lambda d: (d.update(outputs={"report": False, "suitability_tifs": False}),
                                d.update(sensitivity={"draws": 0})))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(small), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output

    def cells(f: str, col: str) -> list[str]:
        rows = list(csv.reader(io.StringIO((out / f).read_bytes().decode("utf-8-sig"), newline="")))
        return [row[rows[0].index(col)] for row in rows[1:]]

    shown = set(cells("towns.csv", "town"))
    names = [str(n) for n in urban["name"]]
    stripped = {n.strip() for n in towns.values()} - set(names)  # (another town may have the plain name)
    assert len(stripped) == 3
    assert not stripped & shown, "a town name was trimmed in towns.csv"
    assert sum(("'" + t) in shown or t in shown for t in towns.values()) >= 2  # the test sees them
    # each town is shown as written (neutralised where it starts with a tab), never altered otherwise
    for n in shown - {"(unknown)"}:
        assert n in names or (n.startswith("'") and n[1:] in names), n
    rel = set(cells("relocation.csv", "name"))
    assert "'\u200b\u200b\u200b=1+1" in rel and "'\u3000@SUM(A1)" in rel
    assert "\u200b\u200b\u200b=1+1" not in rel
