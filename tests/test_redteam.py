"""Red-team cases found after issue 24's fixes were merged: user files hidden behind litter names, single
files written into a folder siteplan owns, export of an incomplete run folder, area_m2 values that lie,
and area constraints given as points."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.outputs import outdir as od
from siteplan.cli import main
from siteplan.errors import InputError
from siteplan.outputs.outfile import check_output_file


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return small_scenario(tmp_path_factory.mktemp("redteam"), n_biz=30)


def _variant(small: Path, name: str, layer: str, frame: gpd.GeoDataFrame | pd.DataFrame, **spec) -> Path:
    """A copy of the small scenario whose ``layer`` is ``frame`` (GeoJSON, or CSV for a DataFrame)."""
    d = yaml.safe_load(small.read_text(encoding="utf-8"))
    if isinstance(frame, gpd.GeoDataFrame):
        f = small.parent / f"{name}.geojson"
        frame.to_file(f, driver="GeoJSON")
    else:
        f = small.parent / f"{name}.csv"
        frame.to_csv(f, index=False)
    d["layers"][layer] = {"path": f.name, **spec}
    sc = small.parent / f"{name}.yaml"
    sc.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return sc


# ------------------------------------------------------------------------------------------------
# files siteplan did not write
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("litter", ["Thumbs.db", ".DS_Store", "desktop.ini"])
def test_a_folder_named_like_os_litter_is_the_users(tmp_path, litter):
    """An existing --out holding only a *folder* named Thumbs.db (with the user's files in it) counted as
    empty and was deleted by the swap; only a regular file of that name is litter."""
    out = tmp_path / "out"
    (out / litter).mkdir(parents=True)
    (out / litter / "precious.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        with od.OutputFolder(out, kind="run") as f:
            (f.stage / "a.csv").write_text("1")
    assert (out / litter / "precious.txt").read_text() == "mine"


def test_os_litter_file_still_counts_as_empty(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "Thumbs.db").write_bytes(b"x")
    with od.OutputFolder(out, kind="run") as f:
        (f.stage / "a.csv").write_text("1")
    assert (out / "a.csv").read_text() == "1"


def _run_folder(folder: Path, files: dict[str, str]) -> Path:
    """A folder as `siteplan run` leaves it: its files and the marker listing them."""
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    (folder / od.MARKER).write_text(json.dumps({"siteplan": "0", "kind": "run", "files": sorted(files)}))
    return folder


@pytest.mark.parametrize("target", ["x.tif", "suitability/scrap.tif", "report.html"])
def test_single_file_output_inside_a_run_folder_is_refused(tmp_path, target):
    """`suitability --out RUN/x.tif` wrote into a run folder (and `RUN/report.html` replaced the run's own
    report with a GeoTIFF); `export A --gpkg B/x.gpkg` into another run folder likewise."""
    run = _run_folder(tmp_path / "run", {"report.html": "r", "suitability/scrap.tif": "t"})
    with pytest.raises(InputError, match="a folder `siteplan run` wrote"):
        check_output_file(run / target, {})
    assert (run / "report.html").read_text() == "r" and not (run / "x.tif").exists()
    check_output_file(tmp_path / "beside.tif", {})  # beside it is fine


def test_export_of_an_incomplete_run_folder_is_a_clear_error(tmp_path):
    """A run folder with its marker but no layers gave an internal error (FileNotFoundError on the .part
    file); one that lost relocation.csv exported without its relocation layer, silently."""
    run = _run_folder(tmp_path / "run", {"relocation.csv": "x", "estates.geojson": "x"})
    (run / "relocation.csv").unlink()
    (run / "estates.geojson").unlink()
    r = invoke("export", run, "--gpkg", tmp_path / "x.gpkg")
    assert r.exit_code == 1 and "missing" in r.output and "relocation.csv" in r.output, r.output
    assert "internal error" not in r.output and not (tmp_path / "x.gpkg").exists()


# ------------------------------------------------------------------------------------------------
# data that lies
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("layer", "value", "expect"), [
    ("plots", -500.0, "area_m2 is negative"),
    ("plots", 1e15, "area_m2 is far above the plot's own polygon"),
    ("businesses", -50.0, "area_m2 is negative"),
])
def test_area_m2_that_lies_is_an_error(small, layer, value, expect):
    """A plot's area_m2 of 1e15 on a 500 m² polygon became the plot estate's capacity (1e11 ha) and let a
    1,190 m² business take the plot; a negative one lowered the capacity; a business's negative area_m2
    was replaced by its category's default. All passed validate."""
    g = gpd.read_file(small.parent / f"{layer}.shp")
    g.loc[0, "area_m2"] = value
    sc = _variant(small, f"area_{layer}_{abs(int(value)) % 1000}", layer, g)
    r = invoke("validate", sc)
    assert r.exit_code == 1 and expect in r.output, r.output


def test_area_constraint_given_as_a_point_is_an_error(small):
    """A protected area given as a point (buffer 0) passed validate and excluded nothing: explain said
    ALLOWED 14 m from it. Area kinds are polygons (the README's layer table)."""
    c = gpd.read_file(small.parent / "constraints.shp").to_crs(4326)
    extra = gpd.GeoDataFrame({"kind": ["protected"], "name": ["park"], "buffer_m": [0.0]},
                             geometry=[shapely.Point(51.45, 32.85)], crs=4326)
    sc = _variant(small, "cons_point", "constraints", gpd.GeoDataFrame(pd.concat([c, extra], ignore_index=True),
                                                                       crs=4326))
    r = invoke("validate", sc)
    assert r.exit_code == 1 and "are points, but constraints of kind" in r.output, r.output


def test_gpkg_relocation_layer_holds_the_runs_ids_not_the_csv_quotes(small, tmp_path):
    """The CSV quotes a cell a spreadsheet would read as a formula; the GeoPackage's relocation layer is
    built from that CSV and must hold the run's values, so its ids join with the other layers."""
    biz = gpd.read_file(small.parent / "businesses.shp")
    biz["biz_id"] = biz["biz_id"].astype(str)
    biz.loc[biz.index[0], "biz_id"] = "-2+3"
    biz.loc[biz.index[1], "biz_id"] = "=HYPERLINK(1)"
    sc = _variant(small, "odd_ids", "businesses", biz)
    out = tmp_path / "run"
    r = invoke("run", sc, "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    csv = pd.read_csv(out / "relocation.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "'-2+3" in set(csv["biz_id"])  # the spreadsheet-safe CSV
    gpkg = tmp_path / "x.gpkg"
    r = invoke("export", out, "--gpkg", gpkg, "--no-rasters")
    assert r.exit_code == 0, r.output
    rel = gpd.read_file(gpkg, layer="relocation")
    ids = set(rel["biz_id"])
    assert {"-2+3", "=HYPERLINK(1)"} <= ids and not any(i.startswith("'") for i in ids)
