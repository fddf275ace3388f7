"""The command line and hostile data: text from the data is printed without terminal control
sequences, and a single-file output (``suitability --out``, ``export --gpkg``) never replaces an input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import edit_yaml, small_scenario

from siteplan.cli import main
from siteplan.common.textnorm import printable, printable_json

OSC_TITLE = "\x1b]0;pwned\x07"  # retitles the terminal
CSI_RED = "\x1b[31m"  # recolours what follows
EVIL = f"Evil{OSC_TITLE} {CSI_RED}red\u202egnp.exe\x9b2J"  # (a shapefile drops NUL)


def invoke(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_no_controls(text: str) -> None:
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f
           or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
    assert not bad, bad


# ------------------------------------------------------------------------------------------------
# printable
# ------------------------------------------------------------------------------------------------


def test_printable_escapes_controls_and_keeps_text():
    assert printable(OSC_TITLE) == "\\x1b]0;pwned\\x07"
    assert printable(CSI_RED + "x") == "\\x1b[31mx"
    assert printable("a\x00b\rc\x7fd\x9be\x9df") == "a\\x00b\\x0dc\\x7fd\\x9be\\x9df"
    assert printable("\u202aa\u202eb\u2066c\u2069") == "\\u202aa\\u202eb\\u2066c\\u2069"
    keep = "line 1\n\tline 2 — تعمیرگاه\u200cهای مکانیکی ۱۲ (ok) \u200f"
    assert printable(keep) == keep
    assert printable(3.5) == "3.5"
    assert_no_controls(printable("".join(map(chr, range(0x3000)))))


def test_printable_json_stays_valid_and_lossless():
    data = {"name": EVIL, "n": 1}
    text = printable_json(json.dumps(data, ensure_ascii=False, indent=1))
    assert_no_controls(text)
    assert json.loads(text) == data
    assert "تعمیرگاه" in printable_json(json.dumps({"n": "تعمیرگاه"}, ensure_ascii=False))


# ------------------------------------------------------------------------------------------------
# terminal-safe output
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """The small scenario with estate E01 named with terminal escape sequences."""
    sc = small_scenario(tmp_path_factory.mktemp("hostile"), n_biz=40)
    from siteplan.common.atomic import write_shapefile

    est = sc.parent / "estates.shp"
    g = gpd.read_file(est)
    g.loc[g.estate_id == "E01", "name"] = EVIL
    write_shapefile(g, est)
    return sc


def test_explain_estate_name_is_printed_escaped(hostile):
    r = invoke("explain", hostile, "--category", "scrap", "--estate", "E01")
    assert r.exit_code == 0, r.output
    assert_no_controls(r.output)
    # C0 control characters are removed from names when the layer is read (with a warning); the rest of
    # the text is printed with the bidi override escaped
    assert "Evil]0;pwned [31mred\\u202egnp.exe\\x9b2J" in r.output
    r = invoke("explain", hostile, "--category", "scrap", "--estate", "E01", "--format", "json")
    assert r.exit_code == 0, r.output
    assert_no_controls(r.stdout)
    assert "Evil]0;pwned [31mred\u202egnp.exe\x9b2J" in json.loads(r.stdout)["where"]  # JSON escapes are lossless


def test_error_message_from_data_is_printed_escaped(hostile, tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text(hostile.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(sc, lambda d: [v.update(path=str(hostile.parent / v["path"])) for v in d["layers"].values()])
    edit_yaml(sc, lambda d: d.update(categories=["scrap", f"bad{OSC_TITLE}{CSI_RED}"]))
    for cmd in (["validate", sc], ["explain", sc, "--category", "scrap", "--estate", "E01"]):
        r = invoke(*cmd)
        assert r.exit_code == 1, r.output
        assert_no_controls(r.output)
        assert "'bad\\x1b]0;pwned\\x07\\x1b[31m' is not a catalogue category" in r.output


def test_internal_error_message_is_printed_escaped(hostile, monkeypatch):
    from siteplan import checks

    def boom(path):
        raise RuntimeError(f"odd {CSI_RED}value")

    monkeypatch.setattr(checks, "validate_scenario", boom)
    r = invoke("validate", hostile)
    assert r.exit_code == 1
    assert "error: internal error (RuntimeError: odd \\x1b[31mvalue)" in r.output
    assert_no_controls(r.output) and "Traceback" not in r.output


def test_catalogue_table_and_json_are_printed_escaped(hostile, tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text(hostile.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(sc, lambda d: [v.update(path=str(hostile.parent / v["path"])) for v in d["layers"].values()])
    new = {"code": "evil", "name_en": f"Evil {OSC_TITLE}{CSI_RED}guild", "name_fa": "صنف\u202e", "env_cat": "2",
           "land_m2": 300}
    edit_yaml(sc, lambda d: d.update(catalogue={"add": [new]}))
    r = invoke("catalogue", "--scenario", sc)
    assert r.exit_code == 0, r.output
    assert_no_controls(r.output)
    assert "Evil \\x1b]0;pwned\\x07\\x1b[31mguild" in r.output
    r = invoke("catalogue", "--scenario", sc, "--format", "json")
    assert r.exit_code == 0, r.output
    assert_no_controls(r.output)
    rows = {x["code"]: x for x in json.loads(r.stdout)}
    assert rows["evil"]["name_en"] == new["name_en"] and rows["evil"]["name_fa"] == new["name_fa"]


def test_log_lines_are_printed_escaped(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".siteplan-run").write_text('{"siteplan": "test", "kind": "run"}', encoding="utf-8")  # a run folder
    gpd.GeoDataFrame({"a": [1]}, geometry=gpd.points_from_xy([51.6], [32.6]), crs=4326).to_file(
        run / f"x{CSI_RED}.geojson", driver="GeoJSON")
    r = CliRunner().invoke(main, ["export", str(run), "--gpkg", str(tmp_path / "o.gpkg")])
    assert r.exit_code == 0, r.output
    assert "layers: x\\x1b[31m" in r.output
    assert_no_controls(r.output)


# ------------------------------------------------------------------------------------------------
# a single-file output never replaces an input
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """The small scenario with a catalogue file and a DEM of its own."""
    sc = small_scenario(tmp_path_factory.mktemp("inputs"), n_biz=40)
    from importlib import resources

    cat = sc.parent / "catalogue.csv"
    cat.write_bytes(resources.files("siteplan").joinpath("data/catalogue.csv").read_bytes())
    _flat_dem(sc.parent / "dem.tif")
    edit_yaml(sc, lambda d: (d.update(catalogue={"path": "catalogue.csv"}),
                             d["layers"].update(dem={"path": "dem.tif"})))
    return sc


def _flat_dem(path: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    z = np.full((60, 100), 1500.0, dtype="float32")  # 51.1–52.1 E, 32.35–32.95 N
    with rasterio.open(path, "w", driver="GTiff", width=100, height=60, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(51.1, 32.95, 0.01, 0.01)) as ds:
        ds.write(z, 1)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("target,what", [
    ("small.yaml", "is the scenario file"),
    ("estates.shp", "is layer 'estates'"),
    ("estates.dbf", "is a file of layer 'estates'"),
    ("roads.prj", "is a file of layer 'roads'"),
    ("catalogue.csv", "is the catalogue"),
    ("dem.tif", "is layer 'dem'"),
])
def test_suitability_refuses_to_replace_an_input(inputs, target, what):
    before = _snapshot(inputs.parent)
    out = inputs.parent / target
    for flags in ([], ["--blockwise"]):
        r = invoke("suitability", inputs, "--category", "car_repair", "--out", out, *flags)
        assert r.exit_code == 1, r.output
        assert f"--out {out}: {what} ({out.resolve()})" in r.output and "choose another file" in r.output
    assert _snapshot(inputs.parent) == before
    assert not [p for p in inputs.parent.iterdir() if p.name.endswith(".part")]


def test_suitability_refuses_an_input_by_another_name(inputs, tmp_path):
    before = _snapshot(inputs.parent)
    link = tmp_path / "link.tif"
    link.symlink_to(inputs.parent / "dem.tif")
    r = invoke("suitability", inputs, "--category", "car_repair", "--out", link)
    assert r.exit_code == 1 and "is layer 'dem'" in r.output, r.output
    hard = tmp_path / "hard.tif"
    os.link(inputs.parent / "dem.tif", hard)
    r = invoke("suitability", inputs, "--category", "car_repair", "--out", hard)
    assert r.exit_code == 1 and "is layer 'dem'" in r.output, r.output
    dotted = inputs.parent / "sub" / ".." / "small.yaml"
    r = invoke("suitability", inputs, "--category", "car_repair", "--out", dotted)
    assert r.exit_code == 1 and "is the scenario file" in r.output, r.output
    assert _snapshot(inputs.parent) == before


def test_suitability_writes_beside_the_inputs(inputs):
    out = inputs.parent / "car_repair.tif"
    r = invoke("suitability", inputs, "--category", "car_repair", "--out", out)
    assert r.exit_code == 0, r.output
    assert out.is_file()
    out.unlink()


@pytest.fixture(scope="module")
def run_dir(inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    sc = inputs.parent / "norep.yaml"
    sc.write_text(inputs.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(sc, lambda d: (d.update(outputs={"report": False, "suitability_tifs": False}, categories=["car_repair"]),
                             d.update(sensitivity={"draws": 0}), d["layers"].pop("dem")))
    r = invoke("run", sc, "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    return out


def test_export_refuses_a_file_of_the_run_folder(run_dir, tmp_path):
    before = _snapshot(run_dir)
    for target in (run_dir / "estates.geojson", run_dir / "manifest.json", run_dir / "run.gpkg"):
        r = invoke("export", run_dir, "--gpkg", target)
        assert r.exit_code == 1, r.output
        assert f"--gpkg {target}: is inside the run folder ({run_dir.resolve()})" in r.output
    assert f"e.g. --gpkg {run_dir.parent.resolve() / 'run.gpkg'}" in r.output  # beside the run folder
    hard = tmp_path / "hard.gpkg"
    os.link(run_dir / "zones.geojson", hard)
    r = invoke("export", run_dir, "--gpkg", hard)
    assert r.exit_code == 1 and "is inside the run folder" in r.output, r.output
    assert _snapshot(run_dir) == before and not (run_dir / "run.gpkg").exists()


def test_export_refuses_an_input_of_the_run(run_dir, inputs):
    before = _snapshot(inputs.parent)
    for target, what in ((inputs.parent / "norep.yaml", "is the scenario file"),
                         (inputs.parent / "estates.shp", "is layer 'estates'"),
                         (inputs.parent / "estates.cpg", "is a file of layer 'estates'"),
                         (inputs.parent / "catalogue.csv", "is the catalogue")):
        r = invoke("export", run_dir, "--gpkg", target)
        assert r.exit_code == 1, r.output
        assert f"--gpkg {target}: {what} ({target.resolve()})" in r.output
    assert _snapshot(inputs.parent) == before


def test_export_beside_the_run_folder(run_dir):
    import pyogrio

    gpkg = run_dir.parent / "run.gpkg"
    r = invoke("export", run_dir, "--gpkg", gpkg)
    assert r.exit_code == 0, r.output
    assert {"estates", "zones"} <= {n for n, _ in pyogrio.list_layers(gpkg)}


# ------------------------------------------------------------------------------------------------
# weights ahp reads a matrix without a header whose first row misses a judgement
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1,3,\n1/3,1,2\n,1/2,1\n", ",a,b,c\na,1,3,\nb,1/3,1,2\nc,,1/2,1\n"])
def test_weights_ahp_missing_judgement_in_the_first_row(tmp_path, text):
    f = tmp_path / "m.csv"
    f.write_text(text, encoding="utf-8")
    r = invoke("weights", "ahp", f)
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert len(d["weights"]) == 3 and d.get("criteria", ["a", "b", "c"]) == ["a", "b", "c"]


def test_weights_ahp_empty_or_binary_file(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("\n\n", encoding="utf-8")
    r = invoke("weights", "ahp", f)
    assert r.exit_code == 1 and "holds no rows" in r.output and "internal error" not in r.output
    f.write_bytes(b"\xff\xfe\x00\x01")
    r = invoke("weights", "ahp", f)
    assert r.exit_code == 1 and "is not UTF-8 text" in r.output and "internal error" not in r.output


def test_csv_is_kept_as_data_in_a_pipe_and_escaped_on_a_terminal(capsys, monkeypatch):
    import sys

    from siteplan.cli._common import echo_table

    echo_table(f"code,name\nx,{CSI_RED}\n")
    assert capsys.readouterr().out == f"code,name\nx,{CSI_RED}\n"  # a file or pipe gets the data as it is
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    echo_table(f"code,name\nx,{CSI_RED}\n")
    assert capsys.readouterr().out == "code,name\nx,\\x1b[31m\n"
