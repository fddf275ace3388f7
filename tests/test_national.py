"""National runs (issue 19): a synthetic nation of 4 provinces cut from the demo region, run without
Dask, on a LocalCluster of 1 and 2 workers, and province by province from independently built
scenarios; failures, the cache and open borders."""

from __future__ import annotations

import filecmp
import io
import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from siteplan.errors import InputError
from siteplan.locate.deviations import score_deviations
from siteplan.outputs.writer import write_run
from siteplan.national import PartitionsFailed, run_national_file
from siteplan.national import runner as runner_mod
from siteplan.national.partition import owners, partition_scenario, reach_groups
from siteplan.pipeline import run
from siteplan.progress import STAGES, UnitBars
from siteplan.scenario import parse_scenario

DEMO = Path(__file__).resolve().parents[1] / "data"
KEYS = ["شمال غرب", "NE", "SW", "<b>SE</b>"]  # a Persian key and a hostile one
FAST = {"grid": {"resolution_m": 2000}, "sensitivity": {"draws": 20}, "upgrades": {"count": 0},
        "sites": {"count": 0}, "classification": {"model": False},
        "categories": ["car_repair", "metalwork", "carpentry", "car_body_paint"]}
#: byte-identical across runs (manifests hold dates and timings, so they are compared without them)
NATIONAL_FILES = ["relocation.csv", "estate_summary.csv", "estates.geojson", "zones.geojson", "clusters.geojson",
                  "flows.csv", "towns.csv", "report.html", "partitions.json", "national.gpkg", "plan.xlsx"]


def _demo_settings() -> dict:
    d = yaml.safe_load((DEMO / "demo.yaml").read_text(encoding="utf-8"))
    for v in d["layers"].values():
        v["path"] = str(DEMO / v["path"])
    d.update(FAST)
    return d


def _provinces(crs) -> gpd.GeoDataFrame:
    """Four boxes: the demo's businesses split at the median longitude, each half at its median latitude."""
    b = gpd.read_file(DEMO / "shapefiles/isfahan_demo/businesses.shp")
    minx, miny, maxx, maxy = b.total_bounds + np.array([-0.1, -0.1, 0.1, 0.1])
    x, y = b.geometry.x.to_numpy(), b.geometry.y.to_numpy()
    mx = float(np.median(x))
    yl, yr = float(np.median(y[x < mx])), float(np.median(y[x >= mx]))
    boxes = [shapely.box(minx, yl, mx, maxy), shapely.box(mx, yr, maxx, maxy), shapely.box(minx, miny, mx, yl),
             shapely.box(mx, miny, maxx, yr)]
    return gpd.GeoDataFrame({"ostan": KEYS}, geometry=boxes, crs=b.crs)


#: the nation keeps every THIN-th of the demo's businesses (2,000 of 6,000): what these tests check (the
#: partitions, the engines' identical bytes, the cache, failures, open borders) does not need the demo's
#: density, and a province's run costs mostly per business (classify, clusters, allocation, the report)
THIN = 3


def _thinned_businesses(root: Path) -> Path:
    """Every :data:`THIN`-th business of the demo, written into ``root``; its path."""
    b = gpd.read_file(DEMO / "shapefiles/isfahan_demo/businesses.shp")
    b.iloc[::THIN].to_file(root / "businesses.shp", encoding="utf-8")
    return root / "businesses.shp"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nation")
    _provinces(4326).to_file(root / "provinces.shp", encoding="utf-8")
    d = _demo_settings()
    d["layers"]["businesses"]["path"] = str(_thinned_businesses(root))
    d["national"] = {"partitions": {"path": "provinces.shp"}, "field": "ostan"}
    (root / "national.yaml").write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root / "national.yaml"


@pytest.fixture(scope="module")
def sequential(nation: Path) -> Path:
    out = nation.parent / "out_seq"
    res = run_national_file(nation, out, workers=0)
    assert [o.status for o in res.outcomes] == ["ok"] * 4
    return out


def _same_outputs(a: Path, b: Path) -> None:
    for f in NATIONAL_FILES:
        assert filecmp.cmp(a / f, b / f, shallow=False), f
    files_a = sorted(p.relative_to(a) for p in (a / "provinces").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in (b / "provinces").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        if rel.name != "manifest.json":
            assert filecmp.cmp(a / rel, b / rel, shallow=False), rel


def test_owners_border_and_outside() -> None:
    parts = gpd.GeoDataFrame({"partition": ["A", "B"]},
                             geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    pts = shapely.points([[5, 5], [10, 5], [15, 5], [30, 5], [-1, 5]])
    own, outside = owners(pts, parts)
    assert own.tolist() == [0, 0, 1, 1, 0]  # on the shared border: the first; outside: the nearest
    assert outside.tolist() == [False, False, False, True, True]


def test_reach_groups_against_brute_force() -> None:
    rng = np.random.default_rng(3)
    n = 6
    biz = rng.uniform(0, 100, (300, 2))
    est = rng.uniform(0, 100, (12, 2))
    b_own = (biz[:, 0] // (100 / n)).astype(int)
    e_own = (est[:, 0] // (100 / n)).astype(int)
    for reach in (2.0, 8.0, 30.0):
        got = reach_groups(b_own, shapely.points(biz), e_own, shapely.points(est), n, reach)
        # brute force: link partitions with any business-estate pair within reach, closed transitively
        link = np.eye(n, dtype=bool)
        d = np.hypot(biz[:, None, 0] - est[None, :, 0], biz[:, None, 1] - est[None, :, 1])
        for i, j in zip(*np.nonzero(d <= reach)):
            link[b_own[i], e_own[j]] = link[e_own[j], b_own[i]] = True
        for _ in range(n):
            link = (link.astype(int) @ link.astype(int)) > 0
        for p in range(n):
            for q in range(n):
                assert (got[p] == got[q]) == link[p, q], (reach, p, q)


def test_national_run_outputs(sequential: Path) -> None:
    rel = pd.read_csv(sequential / "relocation.csv", dtype=str, keep_default_na=False)
    assert rel.columns[0] == "partition"
    b = gpd.read_file(sequential.parent / "businesses.shp")
    assert sorted(rel["biz_id"]) == sorted(b["biz_id"])  # every business once
    assert set(rel["partition"]) == {"شمال غرب", "NE", "SW", "<b>SE</b>"}
    est = json.loads((sequential / "estates.geojson").read_text(encoding="utf-8"))
    ids = [f["properties"]["estate_id"] for f in est["features"]]
    assert len(ids) == len(set(ids)) == len(gpd.read_file(DEMO / "shapefiles/isfahan_demo/estates.shp"))
    page = (sequential / "report.html").read_text(encoding="utf-8")
    assert "<b>SE</b>" not in page and "&lt;b&gt;SE&lt;/b&gt;" in page
    assert "<script" not in page and "default-src 'none'" in page.replace("&#39;", "'")
    for i in range(1, 5):
        assert f'href="provinces/p{i:02d}/report.html"' in page
        assert (sequential / "provinces" / f"p{i:02d}" / "report.html").is_file()
    man = json.loads((sequential / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "national" and man["failed"] == [] and len(man["units"]) == 4
    # issue 32: names on the map, totals rows, Persian order, provinces and flows as tables and layers
    assert ">شمال غرب</text>" in page and "&lt;b&gt;SE&lt;/b&gt;</text>" in page
    assert "4 provinces, all computed." in page and "Total: 4 of 4 provinces" in page
    prov = pd.read_csv(sequential / "provinces.csv", dtype=str, keep_default_na=False)
    assert prov["province"].tolist() == ["شمال غرب", "NE", "SW", "<b>SE</b>"]  # Persian first, then Latin
    assert prov["businesses"].astype(int).sum() == len(rel) and set(prov["status"]) == {"ok"}
    flows = pd.read_csv(sequential / "province_flows.csv", dtype=str, keep_default_na=False)
    assert (flows["origin_province"] == flows["destination_province"]).all()  # closed borders
    assert flows["businesses"].astype(int).sum() == (rel["status"] == "assigned").sum()
    assert "No flow crosses a province border" in page
    import pyogrio

    assert {"provinces", "flows", "relocation", "estates"} <= set(pyogrio.list_layers(sequential / "national.gpkg")[:, 0])
    gflows = gpd.read_file(sequential / "national.gpkg", layer="flows")
    assert gflows["businesses"].sum() == (rel["status"] == "assigned").sum()
    assert any(k.startswith("layer 'businesses'") for k in man["inputs_sha256"])
    # issue 30: the national tables in one workbook, Persian right to left, the hostile key as text
    import openpyxl

    wb = openpyxl.load_workbook(sequential / "plan.xlsx")
    assert wb.sheetnames[:3] == ["summary", "relocation", "estates"]
    assert wb["relocation"].max_row == len(rel) + 1 and wb["summary"].max_row == len(prov) + 1
    assert wb["summary"].sheet_view.rightToLeft
    assert [c.value for c in wb["summary"]["A"][1:]] == prov["province"].tolist()
    # issue 25: one list of output files: every table and layer a province wrote is gathered nationally
    unit_files = {p.name for p in (sequential / "provinces" / "p01").iterdir() if p.suffix in (".csv", ".geojson")}
    assert {"estates.csv", "impact.csv", "chains.csv", "flows.geojson"} <= unit_files
    for name in sorted(unit_files):
        text = (sequential / name).read_text(encoding="utf-8-sig")
        if name.endswith(".csv"):
            assert text.startswith("partition,"), name
        else:
            assert all(next(iter(f["properties"])) == "partition" for f in json.loads(text)["features"]), name


# Worker threads share the process's warnings filters, which the pipeline changes locally
# (warnings.catch_warnings is not thread-safe), so pytest's "warnings are errors" cannot hold there;
# the CLI's LocalCluster runs worker processes.
class _Shown(UnitBars):
    """The national run's progress display, drawn into a string (as on a terminal) and kept for the test."""

    made: list["_Shown"] = []

    def __init__(self, labels: list[str], **_: object) -> None:
        super().__init__(labels, file=io.StringIO(), force=True)
        _Shown.made.append(self)


def _stages_of(bars: UnitBars, unit: int) -> list[tuple[str, str]]:
    return [(s, st) for u, s, st in bars.events if u == unit]


@pytest.mark.filterwarnings("ignore")
def test_dask_workers_give_the_same_bytes(nation: Path, sequential: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    two = nation.parent / "out_d2"
    _Shown.made.clear()
    monkeypatch.setattr(runner_mod, "UnitBars", _Shown)
    # worker threads: worker processes took ~35 s more on the busy 2-core machine (measured)
    res = run_national_file(nation, two, workers=2, cache=nation.parent / "cache_d2", processes=False)
    assert res.engine["engine"] == "dask" and res.engine["workers"] == 2
    assert [o.status for o in res.outcomes] == ["ok"] * 4
    _same_outputs(sequential, two)
    # progress: every partition's stages came back from the workers, in order, then its end; all drawn
    bars = _Shown.made[-1]
    for i in range(4):
        assert _stages_of(bars, i) == [(s, st) for s in STAGES for st in ("start", "done")] + [("unit", "ok")]
    text = bars.file.getvalue()
    assert "partitions: " in text and "4/4" in text and "<b>SE</b>" in text and "allocate" in text
    one = nation.parent / "out_d1"
    run_national_file(nation, one, workers=1, cache=nation.parent / "cache_d1", processes=False)
    _same_outputs(sequential, one)


def test_each_province_alone(nation: Path, sequential: Path, tmp_path: Path) -> None:
    """Each province's scenario built by hand from the demo's own files (its businesses and estates cut
    by point in box, every other layer cut to 100 km around the box by the test's own code) gives the same
    plan as the national run's partition."""
    man = json.loads((sequential / "manifest.json").read_text(encoding="utf-8"))
    provinces = _provinces(4326).to_crs(man["crs"])
    for unit in man["units"]:
        key = unit["partitions"][0]
        box = provinces.geometry[provinces["ostan"] == key].iloc[0]
        d = _demo_settings()
        d["layers"]["businesses"]["path"] = str(nation.parent / "businesses.shp")
        d["crs"] = man["crs"]
        folder = tmp_path / unit["folder"].split("/")[-1]
        folder.mkdir()
        est_ids: list[str] = []
        for name in ("businesses", "estates", "plots", "urban", "receptors", "roads", "rail", "utilities",
                     "constraints"):
            g = gpd.read_file(d["layers"][name]["path"]).to_crs(man["crs"])
            if name not in ("businesses", "estates", "plots"):
                g = g[g.distance(box) <= 100_000]
            elif name == "plots":
                g = g[g["estate_id"].isin(est_ids)]
            else:
                g = g[shapely.intersects(box, g.geometry.values if name == "businesses"
                                         else shapely.point_on_surface(g.geometry.values))]
            if name == "estates":
                est_ids = g["estate_id"].tolist()
            g.to_file(folder / f"{name}.shp", encoding="utf-8")
            d["layers"][name] = {"path": str(folder / f"{name}.shp"), "allow_empty": True}
        gpd.GeoDataFrame({"name": [key]}, geometry=[box], crs=man["crs"]).to_file(folder / "boundary.shp",
                                                                               encoding="utf-8")
        d["layers"]["boundary"] = {"path": str(folder / "boundary.shp")}
        res = run(parse_scenario(d, base_dir=folder))
        write_run(res, folder / "out", score_sd=score_deviations(res.prep, res.seed))
        national = sequential / unit["folder"]
        for f in ("relocation.csv", "estate_summary.csv", "zones.geojson", "estates.geojson"):
            assert filecmp.cmp(folder / "out" / f, national / f, shallow=False), (key, f)


@pytest.mark.filterwarnings("ignore")
def test_failing_partition_and_rerun(nation: Path, sequential: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    cache = nation.parent / "cache_fail"
    shutil.copytree(nation.parent / ".out_seq.cache", cache)
    man = json.loads((sequential / "manifest.json").read_text(encoding="utf-8"))
    ne = next(u for u in man["units"] if u["label"] == "NE")
    shutil.rmtree(cache / "units" / ne["key"])  # as if NE had never run
    real_run = run

    def failing(scenario, **kw):
        if scenario.name.endswith("— NE"):
            raise InputError("layer 'businesses': row 7: something is wrong in NE")
        return real_run(scenario, **kw)

    monkeypatch.setattr("siteplan.pipeline.run", failing)
    monkeypatch.setattr(runner_mod, "UnitBars", _Shown)
    out = nation.parent / "out_fail"
    with pytest.raises(PartitionsFailed, match="NE: layer 'businesses': row 7"):
        run_national_file(nation, out, workers=2, cache=cache, processes=False)  # threads: the patch applies
    assert "1 failed" in _Shown.made[-1].file.getvalue()
    fman = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert fman["failed"] == ["NE"]
    assert sorted(u["status"] for u in fman["units"]) == ["cached", "cached", "cached", "failed"]
    rel = pd.read_csv(out / "relocation.csv", dtype=str, keep_default_na=False)
    assert "NE" not in set(rel["partition"]) and len(set(rel["partition"])) == 3
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "something is wrong in NE" in page and "3 of 4 provinces; NE failed: " in page
    assert "Totals cover 3 of 4 provinces" in page and "Total: 3 of 4 provinces" in page
    assert not (out / "provinces" / ne["folder"].split("/")[-1]).exists()
    # the rerun (here without Dask: dask "not installed") recomputes only NE and gives the full national output
    monkeypatch.setattr("siteplan.pipeline.run", real_run)
    monkeypatch.setattr(runner_mod, "dask_available", lambda: False)
    res = run_national_file(nation, out, workers=2, cache=cache, overwrite=True)
    assert res.engine["engine"] == "sequential"
    bars = _Shown.made[-1]  # progress without Dask: NE's stages, the cached ones only their end
    labels = [o.label for o in res.outcomes]
    for i, label in enumerate(labels):
        want = [(s, st) for s in STAGES for st in ("start", "done")] + [("unit", "ok")] if label == "NE" else [
            ("unit", "cached")]
        assert _stages_of(bars, i) == want
    assert "1 failed" not in bars.file.getvalue()
    cache_note = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["cache"]
    assert cache_note["kept"] == 4 and cache_note["removed"] == 0 and cache_note["keep_days"] == 7
    assert {o.label: o.status for o in res.outcomes} == {"شمال غرب": "cached", "NE": "ok", "SW": "cached",
                                                          "<b>SE</b>": "cached"}
    _same_outputs(sequential, out)


def test_changed_input_changes_only_its_key(nation: Path, tmp_path: Path) -> None:
    b = gpd.read_file(DEMO / "shapefiles/isfahan_demo/businesses.shp")
    d = yaml.safe_load(nation.read_text(encoding="utf-8"))
    d["national"]["partitions"]["path"] = str(nation.parent / "provinces.shp")
    keys = {}
    for name, area in (("same", None), ("changed", 777.0)):
        if area is not None:  # one business of NE changes
            ne = _provinces(4326).geometry[1]
            b.loc[b.index[b.within(ne)][0], "area_m2"] = area
        b.to_file(tmp_path / f"{name}.shp", encoding="utf-8")
        d["layers"]["businesses"]["path"] = str(tmp_path / f"{name}.shp")
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
        keys[name] = {u.label: u.key for u in partition_scenario(tmp_path / f"{name}.yaml", tmp_path / name).units}
    assert [k for k in keys["same"] if keys["same"][k] != keys["changed"][k]] == ["NE"]
    again = {u.label: u.key for u in partition_scenario(tmp_path / "same.yaml", tmp_path / "again").units}
    assert again == keys["same"]  # stable


def test_cross_border(nation: Path, tmp_path: Path) -> None:
    """Open borders: partitions whose businesses reach each other's estates are planned together; each
    business and estate once, with its own partition; capacity used once."""
    d = yaml.safe_load(nation.read_text(encoding="utf-8"))
    d["national"].update(cross_border=True)
    d["national"]["partitions"]["path"] = str(nation.parent / "provinces.shp")
    d["allocation"]["max_distance_km"] = 12
    (tmp_path / "open.yaml").write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    res = run_national_file(tmp_path / "open.yaml", tmp_path / "out", workers=0)
    joint = [u for u in res.parts.units if len(u.keys) > 1]
    assert joint, "the demo's provinces meet at Isfahan: some must be planned together"
    rel = pd.read_csv(tmp_path / "out" / "relocation.csv", dtype=str, keep_default_na=False)
    b = gpd.read_file(nation.parent / "businesses.shp").to_crs(res.parts.crs)
    assert sorted(rel["biz_id"]) == sorted(b["biz_id"])
    # the partition column is the business's own province, also inside a joint unit
    prov = res.parts.polygons
    own, _ = owners(b.geometry.values, prov)
    want = dict(zip(b["biz_id"], prov["partition"].to_numpy()[own]))
    assert (rel["partition"] == rel["biz_id"].map(want)).all()
    e = gpd.read_file(DEMO / "shapefiles/isfahan_demo/estates.shp").to_crs(res.parts.crs)
    eown, _ = owners(shapely.point_on_surface(e.geometry.values), prov)
    e_part = dict(zip(e["estate_id"], prov["partition"].to_numpy()[eown]))
    placed = rel[rel["status"] == "assigned"]
    crossing = placed[placed["estate_id"].map(e_part) != placed["partition"]]
    assert len(crossing) > 0, "some business near a border goes to the estate across it"
    assert (crossing["distance_km"].astype(float) <= 12 + 1e-9).all()
    # capacity: each estate in one unit only, and its use within its capacity
    summ = pd.read_csv(tmp_path / "out" / "estate_summary.csv")
    est_units = summ.groupby("estate_id")["partition"].nunique()
    assert (est_units == 1).all()
    num = summ.select_dtypes("number")
    if {"used_m2", "capacity_m2"} <= set(num.columns):
        assert (summ["used_m2"] <= summ["capacity_m2"] + 1e-6).all()
    # the joint unit equals an allocation of its partitions together: every unit's plan is that unit's run
    for u in joint:
        assert len(set(rel.loc[rel["biz_id"].isin(u.biz_owner), "partition"])) == len(u.keys)


def test_cli(nation: Path, sequential: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from siteplan.cli import main

    out = nation.parent / "out_cli"
    cache = nation.parent / ".out_seq.cache"  # every partition is there: nothing is recomputed
    r = CliRunner().invoke(main, ["run", str(nation), "--out", str(out), "--cache", str(cache), "--workers", "0"])
    assert r.exit_code == 0, r.output
    _same_outputs(sequential, out)
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [u["status"] for u in man["units"]] == ["cached"] * 4
    # a one-province run may not replace a national output, nor the reverse
    r = CliRunner().invoke(main, ["run", str(DEMO / "demo.yaml"), "--out", str(out), "--overwrite"])
    assert r.exit_code == 1 and "national" in r.output
    r = CliRunner().invoke(main, ["run", str(DEMO / "demo.yaml"), "--out", str(tmp_path / "x"), "--workers", "2"])
    assert r.exit_code == 2 and "national scenarios" in r.output
    r = CliRunner().invoke(main, ["run", str(DEMO / "demo.yaml"), "--out", str(tmp_path / "x"), "--cache-days", "3"])
    assert r.exit_code == 2 and "national scenarios" in r.output
    # the national GeoPackage, in the output (the layers and relocation points) and by export
    inside = gpd.read_file(out / "national.gpkg", layer="relocation")
    assert len(inside) == len(pd.read_csv(out / "relocation.csv", dtype=str)) and inside.crs.to_epsg() == 4326
    r = CliRunner().invoke(main, ["export", str(out), "--gpkg", str(tmp_path / "n.gpkg")])
    assert r.exit_code == 0, r.output
    est = gpd.read_file(tmp_path / "n.gpkg", layer="estates")
    assert est.columns[0] == "partition" and len(est) == len(gpd.read_file(DEMO / "shapefiles/isfahan_demo/estates.shp"))


@pytest.mark.filterwarnings("ignore")  # worker threads: see test_dask_workers_give_the_same_bytes
def test_suitability_cog_on_dask(tmp_path: Path) -> None:
    """The chunked Dask path writes a COG with the blockwise path's values (which equal the whole-grid
    surface: tests/test_blockwise.py), the same bytes with or without Dask."""
    pytest.importorskip("distributed")
    import rasterio

    from siteplan.scoring.blockwise import write_category_surface
    from siteplan.national.raster import write_surface_cog
    from siteplan.pipeline import prepare

    d = _demo_settings()
    d["categories"] = ["car_body_paint"]
    prep = prepare(parse_scenario(d, base_dir=DEMO), with_surfaces=False)
    counts = write_category_surface(prep, "car_body_paint", tmp_path / "bw.tif", block=48)
    assert write_surface_cog(prep, "car_body_paint", tmp_path / "here.tif", chunk=48) == counts
    assert write_surface_cog(prep, "car_body_paint", tmp_path / "dask.tif", chunk=48, workers=2,
                             processes=False) == counts
    with rasterio.open(tmp_path / "bw.tif") as a, rasterio.open(tmp_path / "dask.tif") as b:
        assert b.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert np.array_equal(a.read(1), b.read(1)) and (a.read(1) != -9999).any()
    assert (tmp_path / "here.tif").read_bytes() == (tmp_path / "dask.tif").read_bytes()
    # the same surface as a lazy dask array (for xarray pipelines): the same values
    from siteplan.national.raster import surface_array

    arr = surface_array(prep, "car_body_paint", chunk=48)
    assert arr.chunks[0][0] == 48 and arr.numblocks[0] > 1 and arr.numblocks[1] > 1
    with rasterio.open(tmp_path / "bw.tif") as a:
        assert np.array_equal(arr.compute(scheduler="threads"), a.read(1))


def test_cache_pruning(tmp_path: Path) -> None:
    import os

    from siteplan.national.cache import prune_cache

    from siteplan.national.cache import claim_entry, open_cache, seal_entry

    now = 1_900_000_000.0
    day = 86_400.0
    open_cache(tmp_path, {}, tmp_path.parent / "out")  # the cache marker: pruning works only in a cache
    units = tmp_path / "units"
    young, old = "." + "a" * 64 + ".partial-" + "0" * 12, "." + "b" * 64 + ".partial-" + "1" * 12
    ages = {"used_old": 30, "recent": 2, "old": 8, young: 0.5, old: 2}
    for name, age in ages.items():
        claim_entry(units / name, "cache-unit", [])  # entries siteplan wrote carry its marker
        (units / name / "relocation.csv").write_bytes(b"x" * 1000)
        if not name.startswith("."):
            seal_entry(units / name, "cache-unit")
        os.utime(units / name, (now - age * day, now - age * day))
    for folder in ("p01", "p02", "p07"):
        claim_entry(tmp_path / "inputs" / folder, "cache-inputs", ["scenario.yaml"])
    stats = prune_cache(tmp_path, ["used_old", "failed_has_no_entry"], ["p01", "p02"], keep_days=7, now=now)
    assert sorted(p.name for p in units.iterdir()) == [young, "recent", "used_old"]
    assert sorted(p.name for p in (tmp_path / "inputs").iterdir()) == ["p01", "p02"]
    assert stats["kept"] == 2 and stats["removed"] == 1
    assert (units / "used_old").stat().st_mtime == now  # marked as used now
    prune_cache(tmp_path, ["used_old"], ["p01"], keep_days=0, now=now + 1)  # 0: only what this run used
    assert sorted(p.name for p in units.iterdir()) == [young, "used_old"]


@pytest.mark.filterwarnings("ignore")  # worker threads: see test_dask_workers_give_the_same_bytes
def test_existing_cluster_by_scheduler_address(nation: Path, sequential: Path) -> None:
    """--scheduler: the partitions run on a cluster that exists already (here a LocalCluster started
    apart, as `dask scheduler` + `dask worker` would be), which siteplan leaves running."""
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    cache = nation.parent / "cache_sched"
    shutil.copytree(nation.parent / ".out_seq.cache", cache)
    man = json.loads((sequential / "manifest.json").read_text(encoding="utf-8"))
    sw = next(u for u in man["units"] if u["label"] == "SW")
    shutil.rmtree(cache / "units" / sw["key"])  # SW is computed on the cluster, the others come from the cache
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        out = nation.parent / "out_sched"
        res = run_national_file(nation, out, scheduler=cluster.scheduler_address, cache=cache)
        assert res.engine == {"engine": "dask", "scheduler": cluster.scheduler_address, "workers": 2}
        assert {o.label: o.status for o in res.outcomes}["SW"] == "ok"
        _same_outputs(sequential, out)
        with Client(cluster.scheduler_address) as c:  # still up for its other users
            assert len(c.scheduler_info()["workers"]) == 2
