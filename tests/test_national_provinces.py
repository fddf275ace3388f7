"""National runs from a list of provincial scenarios (issue 19: "or a list of provincial scenarios") and
`siteplan validate` of national scenarios: four provincial scenarios cut from the demo region, each an
ordinary one-province scenario with its own files, as a provincial office keeps them."""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from click.testing import CliRunner

from siteplan.cli import main
from siteplan.common.notice import messages
from siteplan.errors import InputError, ScenarioError
from siteplan.national import run_national_file
from siteplan.national.provinces import _province_key, load_provinces, split_scenario
from siteplan.pipeline import run_scenario_file
from siteplan.scenario import load_scenario, parse_scenario

DEMO = Path(__file__).resolve().parents[1] / "data"
SRC = DEMO / "shapefiles" / "isfahan_demo"
# the four boxes of tests/test_national.py; a Persian key and a hostile one
KEYS = ["شمال غرب", "NE", "SW", "<b>SE</b>"]
FOLDERS = ["nw", "ne", "sw", "se"]
FAST = {"seed": 7, "grid": {"resolution_m": 2000}, "sensitivity": {"draws": 20}, "upgrades": {"count": 0},
        "sites": {"count": 0}, "classification": {"model": False},
        "categories": ["car_repair", "metalwork", "carpentry", "car_body_paint"]}
OWNED = ("businesses", "estates", "plots")
CONTEXT = ("urban", "receptors", "roads", "rail", "utilities", "constraints")
UTM = "EPSG:32639"


def _boxes() -> gpd.GeoDataFrame:
    from test_national import _provinces

    return _provinces(4326)


def _province_settings(key: str) -> dict:
    d = {"name": key, **json.loads(json.dumps(FAST))}
    d["layers"] = {n: {"path": f"{n}.shp", "allow_empty": True} for n in (*OWNED, *CONTEXT)}
    d["layers"]["boundary"] = {"path": "boundary.shp"}
    return d


def _write_province(folder: Path, box: shapely.Geometry, key: str, *, boundary: bool = True, thin: int = 1) -> Path:
    """One province's own files: its businesses (of every ``thin``-th of the demo's), estates (by a point on
    the surface) and their plots inside its box, the context within 60 km of it, its box as the boundary;
    the demo's CRS (degrees)."""
    folder.mkdir(parents=True, exist_ok=True)
    box_m = gpd.GeoSeries([box], crs=4326).to_crs(UTM).iloc[0]
    est_ids: list[str] = []
    for name in (*OWNED, *CONTEXT):
        g = gpd.read_file(SRC / f"{name}.shp")
        if name == "businesses":
            g = g.iloc[::thin]
        gm = g.to_crs(UTM)
        if name == "businesses":
            keep = shapely.intersects(box, g.geometry.values)
        elif name == "estates":
            keep = shapely.intersects(box, shapely.point_on_surface(g.geometry.values))
            est_ids = g.loc[keep, "estate_id"].tolist()
        elif name == "plots":
            keep = g["estate_id"].isin(est_ids).to_numpy()
        else:
            keep = (gm.distance(box_m) <= 60_000).to_numpy()
        g[keep].to_file(folder / f"{name}.shp", encoding="utf-8")
    d = _province_settings(key)
    if boundary:
        gpd.GeoDataFrame({"name": [key]}, geometry=[box], crs=4326).to_file(folder / "boundary.shp", encoding="utf-8")
    else:
        del d["layers"]["boundary"]
    path = folder / "province.yaml"
    path.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _national(root: Path, name: str = "nation.yaml", **national) -> Path:
    d = {"name": "ایران", "national": {"scenarios": [f"{f}/province.yaml" for f in FOLDERS], **national}}
    (root / name).write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root / name


#: the provinces hold every THIN-th of the demo's businesses (2,000 of 6,000; every one of those once):
#: these tests check how provincial scenarios are combined, cached and validated, not the demo's density,
#: and a province's run costs mostly per business
THIN = 3


def _thinned() -> gpd.GeoDataFrame:
    return gpd.read_file(SRC / "businesses.shp").iloc[::THIN]


@pytest.fixture(scope="module")
def provinces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("provinces")
    for f, key, box in zip(FOLDERS, KEYS, _boxes().geometry):
        _write_province(root / f, box, key, thin=THIN)
    return root


def _copy(provinces: Path, tmp_path: Path) -> Path:
    root = tmp_path / "nation"
    shutil.copytree(provinces, root, ignore=shutil.ignore_patterns("out*", ".out*", "*.yaml.out"))
    for p in root.glob("*.yaml"):
        p.unlink()
    return root


@pytest.fixture(scope="module")
def closed(provinces: Path) -> Path:
    out = provinces / "out_closed"
    res = run_national_file(_national(provinces), out, workers=0)
    assert [o.status for o in res.outcomes] == ["ok"] * 4
    return out


# --------------------------------------------------------------------------- the national file's forms


def _parse(national: dict, **top) -> None:
    parse_scenario({"name": "n", **top, "national": national}, base_dir=DEMO)


def test_forms_are_exclusive_and_list_file_sets_only_national_keys() -> None:
    with pytest.raises(ScenarioError, match="give either scenarios: .* or partitions: with field: .*not both"):
        _parse({"scenarios": ["demo.yaml"], "partitions": {"path": "demo.yaml"}, "field": "ostan"})
    with pytest.raises(ScenarioError, match="partitions and field missing: give partitions"):
        _parse({"cross_border": True}, layers={"estates": {"path": "x"}})
    with pytest.raises(ScenarioError, match="scenarios: the list is empty"):
        _parse({"scenarios": []})
    with pytest.raises(ScenarioError, match=r"scenarios\[1\]: './demo.yaml' is listed twice"):
        _parse({"scenarios": ["demo.yaml", "./demo.yaml"]})
    with pytest.raises(ScenarioError, match="remove context_km"):
        _parse({"scenarios": ["demo.yaml"], "context_km": 50})
    with pytest.raises(ScenarioError) as err:
        _parse({"scenarios": ["demo.yaml"]}, allocation={"max_distance_km": 10}, layers={})
    assert "allocation, layers: a national file with a list of provincial scenarios" in str(err.value)
    with pytest.raises(ScenarioError, match=r"national.scenarios\[0\]: file not found: nowhere.yaml"):
        _parse({"scenarios": ["nowhere.yaml"]})
    # allowed: name, description, seed, crs, outputs
    _parse({"scenarios": ["demo.yaml"]}, description="d", seed=3, crs="EPSG:32639", outputs={"csv_bom": False})
    # an ordinary scenario still needs its layers, said with its other problems
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"name": "x", "seed": -1})
    assert "layers: required key is missing" in str(err.value) and "seed" in str(err.value)


# --------------------------------------------------------------------------- closed borders


def test_closed_borders_equal_each_province_run_alone(provinces: Path, closed: Path, tmp_path: Path) -> None:
    """Every file of a province's national folder is the bytes of `siteplan run province.yaml` (manifests
    aside), and the national tables are their rows with the province in a first column."""
    man = json.loads((closed / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "national" and man["seed"] is None and man["partitions"] == sorted(KEYS)
    by_key = {u["partitions"][0]: u["folder"] for u in man["units"]}
    for f, key in zip(FOLDERS, KEYS):
        alone = tmp_path / f"alone_{f}"
        r = CliRunner().invoke(main, ["run", str(provinces / f / "province.yaml"), "--out", str(alone)])
        assert r.exit_code == 0, r.output
        mine = closed / by_key[key]
        files = sorted(p.relative_to(alone) for p in alone.rglob("*") if p.is_file() and p.name != ".siteplan-run")
        assert files == sorted(p.relative_to(mine) for p in mine.rglob("*") if p.is_file())
        for rel in files:
            if rel.name != "manifest.json":
                assert filecmp.cmp(alone / rel, mine / rel, shallow=False), (key, rel)
        assert json.loads((mine / "manifest.json").read_text(encoding="utf-8"))["seed"] == 7  # the province's own
    rel = pd.read_csv(closed / "relocation.csv", dtype=str, keep_default_na=False)
    assert rel.columns[0] == "partition" and set(rel["partition"]) == set(KEYS)
    assert sorted(rel["biz_id"]) == sorted(_thinned()["biz_id"])  # every business once
    page = (closed / "report.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;SE&lt;/b&gt;" in page and "<b>SE</b>" not in page and "ایران" in page
    assert any("NE: layer 'businesses'" in k or k.startswith("ne/province.yaml: layer 'businesses'")
               for k in man["inputs_sha256"])


@pytest.mark.filterwarnings("ignore")  # worker threads: see tests/test_national.py
def test_provinces_on_dask_give_the_same_bytes(provinces: Path, closed: Path, tmp_path: Path) -> None:
    """Two provinces computed by two Dask workers, two taken from the cache: the bytes of the sequential run."""
    pytest.importorskip("distributed")
    from test_national import _same_outputs

    cache = tmp_path / "cache"
    shutil.copytree(provinces / ".out_closed.cache", cache)
    man = json.loads((closed / "manifest.json").read_text(encoding="utf-8"))
    for u in man["units"][:2]:
        shutil.rmtree(cache / "units" / u["key"])
    res = run_national_file(_national(provinces), tmp_path / "out", workers=2, cache=cache, processes=False)
    assert res.engine["engine"] == "dask"
    assert [o.status for o in res.outcomes] == ["ok", "ok", "cached", "cached"]
    _same_outputs(closed, tmp_path / "out")


def test_rerun_recomputes_only_the_changed_province(provinces: Path, closed: Path, tmp_path: Path) -> None:
    root = _copy(provinces, tmp_path)
    nation = _national(root)
    cache = tmp_path / "cache"
    shutil.copytree(provinces / ".out_closed.cache", cache)
    # the cache is keyed by content: the copied folder's provinces are found there
    res = run_national_file(nation, tmp_path / "out", cache=cache)
    assert [o.status for o in res.outcomes] == ["cached"] * 4
    # one business of NE changes its area
    shp = root / "ne" / "businesses.shp"
    g = gpd.read_file(shp)
    g.loc[g.index[0], "area_m2"] = 777.0
    g.to_file(shp, encoding="utf-8")
    res = run_national_file(nation, tmp_path / "out", cache=cache, overwrite=True)
    assert {o.label: o.status for o in res.outcomes} == {"شمال غرب": "cached", "NE": "ok", "SW": "cached",
                                                          "<b>SE</b>": "cached"}


def test_cache_key_covers_the_scenario_text_and_every_input(provinces: Path, tmp_path: Path) -> None:
    root = _copy(provinces, tmp_path)
    nation = load_scenario(_national(root))

    def keys() -> dict[str, str]:
        provs, problems, _ = load_provinces(nation)
        assert not problems
        return {p.key: _province_key(p, None) for p in provs}

    base = keys()
    assert keys() == base  # stable
    changes = []

    def edit(folder: str, fn) -> None:
        sc = root / folder / "province.yaml"
        d = yaml.safe_load(sc.read_text(encoding="utf-8"))
        fn(d)
        sc.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")

    # the scenario's text
    edit("sw", lambda d: d.update(allocation={"max_distance_km": 25}))
    changes.append(("SW", keys()))
    # a sidecar of a layer (the attributes of a shapefile)
    e = gpd.read_file(root / "nw" / "estates.shp")
    e.loc[e.index[0], "name"] = "شهرک تازه"
    e.to_file(root / "nw" / "estates.shp", encoding="utf-8")
    changes.append(("شمال غرب", keys()))
    # the catalogue a province names: its content, its name unchanged
    shutil.copy(Path(__file__).resolve().parents[1] / "siteplan" / "data" / "catalogue.csv", root / "se" / "catalogue.csv")
    edit("se", lambda d: d.update(catalogue={"path": "catalogue.csv"}))
    changes.append(("<b>SE</b>", keys()))
    with open(root / "se" / "catalogue.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    changes.append(("<b>SE</b>", keys()))
    # the DEM a province reads: one cell changes
    import rasterio
    from rasterio.transform import from_origin

    minx, miny, maxx, maxy = gpd.read_file(root / "ne" / "boundary.shp").total_bounds
    profile = {"driver": "GTiff", "width": 20, "height": 20, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
               "transform": from_origin(minx, maxy, (maxx - minx) / 20, (maxy - miny) / 20)}
    dem = np.full((20, 20), 1500.0, dtype="float32")
    with rasterio.open(root / "ne" / "dem.tif", "w", **profile) as dst:
        dst.write(dem, 1)
    edit("ne", lambda d: d["layers"].update(dem={"path": "dem.tif"}))
    changes.append(("NE", keys()))
    dem[3, 4] = 1501.0
    with rasterio.open(root / "ne" / "dem.tif", "w", **profile) as dst:
        dst.write(dem, 1)
    changes.append(("NE", keys()))
    prev = base
    for changed, now in changes:
        assert [k for k in now if now[k] != prev[k]] == [changed], changed
        prev = now


def test_national_seed_overrides_the_provinces(provinces: Path, tmp_path: Path) -> None:
    root = _copy(provinces, tmp_path)
    d = yaml.safe_load(_national(root).read_text(encoding="utf-8"))
    d["seed"] = 11
    (root / "nation.yaml").write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    parts = split_scenario(root / "nation.yaml", tmp_path / "work")
    assert {u.seed for u in parts.units} == {11}
    assert any("seed 11 (the national file) replaces the provinces' own seeds" in w.message for w in parts.warnings)
    free = split_scenario(_national(root, "free.yaml"), tmp_path / "work2")
    assert {u.seed for u in free.units} == {None}
    assert {u.key for u in parts.units}.isdisjoint({u.key for u in free.units})


def test_names_unique_after_persian_normalisation(provinces: Path, tmp_path: Path) -> None:
    root = _copy(provinces, tmp_path)
    for f, name in (("nw", "كرمان"), ("ne", "کرمان ")):  # Arabic kaf and yeh / Persian, a trailing space
        p = root / f / "province.yaml"
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
        d["name"] = name
        p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    p = root / "sw" / "province.yaml"
    d = yaml.safe_load(p.read_text(encoding="utf-8"))
    del d["name"]
    d["layers"]["roads"]["path"] = "nowhere.shp"  # a problem of its own does not hide the missing name
    p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as err:
        split_scenario(_national(root), tmp_path / "w")
    msg = str(err.value)
    assert "ne/province.yaml: name 'کرمان' is the name of nw/province.yaml too ('كرمان'; the same after Persian " \
           "normalisation)" in msg
    assert "sw/province.yaml: name: missing; each province's name is its partition key" in msg
    assert "sw/province.yaml: layers.roads.path: file not found: nowhere.shp" in msg


def test_single_ownership(provinces: Path, tmp_path: Path) -> None:
    """The same estate (its land) or business (id and place) in two provincial files is an error; the same
    id for different features in two provinces is not (offices number their own registries)."""
    root = _copy(provinces, tmp_path)
    e_ne = gpd.read_file(root / "ne" / "estates.shp")
    e_sw = gpd.read_file(root / "sw" / "estates.shp")
    b_ne = gpd.read_file(root / "ne" / "businesses.shp")
    b_sw = gpd.read_file(root / "sw" / "businesses.shp")
    # different features under ids that the other province uses too: fine with closed borders
    b_sw.loc[b_sw.index[:3], "biz_id"] = b_ne["biz_id"].iloc[:3].to_numpy()
    b_sw.to_file(root / "sw" / "businesses.shp", encoding="utf-8")
    split_scenario(_national(root), tmp_path / "ok")
    # NE's first estate and business listed by SW too
    pd.concat([e_sw, e_ne.iloc[:1]]).to_file(root / "sw" / "estates.shp", encoding="utf-8")
    pd.concat([b_sw, b_ne.iloc[[5]]]).to_file(root / "sw" / "businesses.shp", encoding="utf-8")
    with pytest.raises(InputError) as err:
        split_scenario(_national(root), tmp_path / "bad")
    msg = str(err.value)
    eid, bid = e_ne["estate_id"].iloc[0], b_ne["biz_id"].iloc[5]
    assert f"sw/province.yaml: estate '{eid}' is the land of estate '{eid}' of ne/province.yaml" in msg
    assert f"sw/province.yaml: business '{bid}' is listed by ne/province.yaml too" in msg
    assert b_ne["biz_id"].iloc[0] not in msg  # the same id elsewhere is not the same business


def test_cli_errors_name_the_file(provinces: Path, tmp_path: Path) -> None:
    root = _copy(provinces, tmp_path)
    g = gpd.read_file(root / "se" / "estates.shp").drop(columns=["name"])
    g.to_file(root / "se" / "estates.shp", encoding="utf-8")
    nation = _national(root)
    for cmd in (["run", str(nation), "--out", str(tmp_path / "o")], ["validate", str(nation)]):
        r = CliRunner().invoke(main, cmd)
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert "se/province.yaml: layer 'estates'" in r.output and "missing required field(s): name" in r.output


def test_other_commands_refuse_the_national_list(provinces: Path, tmp_path: Path) -> None:
    nation = _national(provinces, "other.yaml")
    for cmd in (["suitability", str(nation), "--category", "car_repair", "--out", str(tmp_path / "s.tif")],
                ["suitability", str(nation), "--category", "car_repair", "--out", str(tmp_path / "s.tif"), "--cog"],
                ["explain", str(nation), "--category", "car_repair", "--at", "51.6,32.6"]):
        r = CliRunner().invoke(main, cmd)
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert "a national file that lists provincial scenarios has no layers of its own" in r.output


# --------------------------------------------------------------------------- open borders


def _six_km(root: Path) -> None:
    for f in FOLDERS:
        p = root / f / "province.yaml"
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
        # straight lines: the provinces are linked by straight reach (a bound on any road distance), and
        # the demo's generated roads only link settlements, so at 6 km by road nobody would cross
        d["allocation"] = {"max_distance_km": 6, "distance": "straight"}
        p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")


def test_open_borders_plan_linked_provinces_together(provinces: Path, tmp_path: Path) -> None:
    """Linked provinces are one run; its plan is the plan of one ordinary scenario holding their data,
    built here from the demo's files by the test's own code (their businesses, estates and plots, the
    context within 60 km of any of them, the union of their boxes as the boundary)."""
    root = _copy(provinces, tmp_path)
    _six_km(root)
    res = run_national_file(_national(root, cross_border=True), tmp_path / "out")
    # at 6 km three provinces reach each other's estates around Isfahan; SE reaches none (computed by
    # province_groups; tests/test_national.py checks reach_groups against brute force)
    assert [u.keys for u in res.parts.units] == [["<b>SE</b>"], ["NE", "SW", "شمال غرب"]]
    unit = res.parts.units[1]
    assert res.parts.units[0].scenario_path == (root / "se" / "province.yaml").resolve()  # alone: its own file
    rel = pd.read_csv(tmp_path / "out" / "relocation.csv", dtype=str, keep_default_na=False)
    assert sorted(rel["biz_id"]) == sorted(_thinned()["biz_id"])
    # each row keeps its own province: the one whose file lists it
    own: dict[str, str] = {}
    est_own: dict[str, str] = {}
    for f, key in zip(FOLDERS, KEYS):
        own.update(dict.fromkeys(gpd.read_file(root / f / "businesses.shp")["biz_id"], key))
        est_own.update(dict.fromkeys(gpd.read_file(root / f / "estates.shp")["estate_id"], key))
    assert (rel["partition"] == rel["biz_id"].map(own)).all()
    placed = rel[rel["status"] == "assigned"]
    crossing = placed[placed["estate_id"].map(est_own) != placed["partition"]]
    assert len(crossing) > 0 and (crossing["distance_km"].astype(float) <= 6 + 1e-9).all()
    assert set(crossing["partition"]) <= set(unit.keys)
    summ = pd.read_csv(tmp_path / "out" / "estate_summary.csv", dtype=str)
    assert (summ.groupby("estate_id")["partition"].nunique() == 1).all()
    # the same plan from one scenario of the three provinces' data
    members = [FOLDERS[KEYS.index(k)] for k in unit.keys]  # key order, as the joint run merges them
    boxes = dict(zip(FOLDERS, _boxes().geometry))
    both = tmp_path / "both"
    both.mkdir()
    d = _province_settings("joint")
    d["allocation"] = {"max_distance_km": 6, "distance": "straight"}
    near = shapely.union_all([gpd.GeoSeries([boxes[f]], crs=4326).to_crs(UTM).iloc[0].buffer(60_000)
                              for f in members])
    for name in (*OWNED, *CONTEXT):
        if name in OWNED:
            g = pd.concat([gpd.read_file(root / f / f"{name}.shp") for f in members], ignore_index=True)
        else:
            g = gpd.read_file(SRC / f"{name}.shp")
            g = g[shapely.intersects(near, g.to_crs(UTM).geometry.values)]
        gpd.GeoDataFrame(g, crs=4326).to_file(both / f"{name}.shp", encoding="utf-8")
    gpd.GeoDataFrame({"name": ["joint"]}, geometry=[shapely.union_all([boxes[f] for f in members])],
                     crs=4326).to_file(both / "boundary.shp", encoding="utf-8")
    (both / "joint.yaml").write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    run_scenario_file(both / "joint.yaml", both / "out")
    mine = tmp_path / "out" / "provinces" / unit.folder
    for f in ("relocation.csv", "estate_summary.csv"):  # the plan: the same bytes
        assert filecmp.cmp(both / "out" / f, mine / f, shallow=False), f
    # per-province figures of the joint run: each business counted for its own province
    prov = pd.read_csv(tmp_path / "out" / "provinces.csv", dtype=str, keep_default_na=False).set_index("province")
    assert list(prov.index) == ["شمال غرب", "NE", "SW", "<b>SE</b>"]  # Persian alphabetical order, Latin after
    for k in KEYS:
        mine_rows = rel[rel["partition"] == k]
        assert int(prov.loc[k, "businesses"]) == len(mine_rows)
        assert int(prov.loc[k, "assigned"]) == int((mine_rows["status"] == "assigned").sum())
    # province to province: the estate's province, from the test's own ownership
    flows = pd.read_csv(tmp_path / "out" / "province_flows.csv", dtype=str, keep_default_na=False)
    want = placed.assign(dest=placed["estate_id"].map(est_own)).groupby(["partition", "dest"]).size()
    got = flows.set_index(["origin_province", "destination_province"])["businesses"].astype(int)
    assert dict(got) == {k: int(v) for k, v in want.items()}
    assert any(o != d for o, d in got.index)  # some flow crosses a border
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<line class="x"' in page  # drawn across the border


def test_open_borders_keep_site_counts_per_province(provinces: Path, tmp_path: Path) -> None:
    """sites.count and upgrades.count are per province: a joint run of three provinces proposes three
    times one province's count (capped at what a run allows, with a warning)."""
    root = _copy(provinces, tmp_path)
    _six_km(root)
    for f in FOLDERS:
        p = root / f / "province.yaml"
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
        d["sites"], d["upgrades"] = {"count": 2}, {"count": 20}
        p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    parts = split_scenario(_national(root, cross_border=True), tmp_path / "w")
    joint = parts.units[1]
    assert joint.keys == ["NE", "SW", "شمال غرب"]
    d = yaml.safe_load(joint.scenario_path.read_text(encoding="utf-8"))
    assert d["sites"]["count"] == 6 and d["upgrades"]["count"] == 50
    assert any("may propose 50 upgrades, not 20 per province (60)" in w.message for w in parts.warnings)
    alone = load_scenario(parts.units[0].scenario_path)
    assert alone.sites.count == 2  # a province alone: its own file


def test_open_borders_province_without_boundary(provinces: Path, tmp_path: Path) -> None:
    """A linked province without a boundary layer: its data's extent (as its own run's study area) stands
    for it in the joint run's boundary, and a warning says so."""
    root = _copy(provinces, tmp_path)
    _six_km(root)
    (root / "nw" / "boundary.shp").unlink()
    p = root / "nw" / "province.yaml"
    d = yaml.safe_load(p.read_text(encoding="utf-8"))
    del d["layers"]["boundary"]
    p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    parts = split_scenario(_national(root, cross_border=True), tmp_path / "w")
    assert [u.keys for u in parts.units] == [["<b>SE</b>"], ["NE", "SW", "شمال غرب"]]
    assert any(w.startswith("national: nw/province.yaml has no boundary layer; in the joint run of NE + SW + "
                            "شمال غرب the extent of its data") for w in messages(parts.warnings))
    bound = gpd.read_file(parts.units[1].scenario_path.parent / "boundary.fgb").to_crs(UTM).geometry.iloc[0]
    nw = gpd.read_file(root / "nw" / "businesses.shp").to_crs(UTM)
    sw_box = gpd.GeoSeries([_boxes().geometry[2]], crs=4326).to_crs(UTM).iloc[0]
    assert bound.contains(shapely.union_all(nw.geometry.values).convex_hull) and bound.buffer(1).covers(sw_box)


def test_open_borders_need_compatible_settings_and_unique_ids(provinces: Path, tmp_path: Path) -> None:
    root = _copy(provinces, tmp_path)
    p = root / "ne" / "province.yaml"
    d = yaml.safe_load(p.read_text(encoding="utf-8"))
    d["allocation"] = {"suitability_weight": 0.5}
    d["zoning"] = {"shape": "bands"}
    p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    nation = _national(root, cross_border=True)
    with pytest.raises(InputError) as err:
        split_scenario(nation, tmp_path / "w")
    msg = str(err.value)
    assert "national.cross_border: provinces" in msg and "'NE' (ne/province.yaml)" in msg
    assert "differ in: allocation, zoning" in msg
    # the same settings again, but an estate id of NE used by its neighbour for another estate
    d.pop("allocation"), d.pop("zoning")
    p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    parts = split_scenario(nation, tmp_path / "w2")
    joint = next(u for u in parts.units if "NE" in u.keys and len(u.keys) > 1)
    other = next(k for k in joint.keys if k != "NE")
    f = FOLDERS[KEYS.index(other)]
    e = gpd.read_file(root / f / "estates.shp")
    e.loc[e.index[0], "estate_id"] = gpd.read_file(root / "ne" / "estates.shp")["estate_id"].iloc[0]
    e.to_file(root / f / "estates.shp", encoding="utf-8")
    with pytest.raises(InputError, match=r"layer 'estates': estate_id .* also in .*prefix them with the province"):
        split_scenario(nation, tmp_path / "w3")


# --------------------------------------------------------------------------- validate


def test_validate_provincial_list(provinces: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["validate", str(_national(provinces, "v.yaml"))])
    assert r.exit_code == 0, r.output
    assert "valid (national: 4 provincial scenarios" in r.output and "open borders" not in r.output
    r = CliRunner().invoke(main, ["validate", str(_national(provinces, "vo.yaml", cross_border=True))])
    assert r.exit_code == 0 and "; open borders, planned together: " in r.output, r.output
    root = _copy(provinces, tmp_path)
    # one province with a bad key and no estate; another's name clashes; the national file lists a missing one
    p = root / "sw" / "province.yaml"
    d = yaml.safe_load(p.read_text(encoding="utf-8"))
    d["alocation"] = {}
    p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    e = gpd.read_file(root / "ne" / "estates.shp")
    e.iloc[:0].to_file(root / "ne" / "estates.shp", encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(_national(root))])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "sw/province.yaml: alocation: unknown key (did you mean 'allocation'?)" in r.output
    # every problem together: the national file's own too
    d = yaml.safe_load((root / "nation.yaml").read_text(encoding="utf-8"))
    d["national"]["scenarios"].append("gone/province.yaml")
    d["grid"] = {"resolution_m": 100}
    (root / "nation.yaml").write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(root / "nation.yaml")])
    assert r.exit_code == 1
    assert "national.scenarios[4]: file not found: gone/province.yaml" in r.output
    assert "grid: a national file with a list of provincial scenarios" in r.output
    assert "sw/province.yaml: alocation: unknown key" in r.output
    # warnings: a province without estates
    p.write_text(yaml.safe_dump({k: v for k, v in yaml.safe_load(p.read_text(encoding="utf-8")).items()
                                 if k != "alocation"}, allow_unicode=True), encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(_national(root, "ok.yaml"))])
    assert r.exit_code == 0, r.output
    assert "warning: national: province 'NE' has no estate" in r.output


def test_validate_partition_layer(provinces: Path, tmp_path: Path) -> None:
    from test_national import _demo_settings, _provinces

    boxes = _provinces(4326)
    d = _demo_settings()
    d["national"] = {"partitions": {"path": "parts.shp"}, "field": "ostan"}
    nation = tmp_path / "n.yaml"
    nation.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    # a fifth partition far away (no business, no estate); NE cut short so that some businesses lie outside
    ne = boxes.geometry[1]
    minx, miny, maxx, maxy = ne.bounds
    extra = shapely.box(maxx + 5, miny, maxx + 6, maxy)
    parts = gpd.GeoDataFrame({"ostan": [*KEYS, "دور"]}, geometry=[*boxes.geometry[:1], shapely.box(
        minx, miny, (minx + maxx) / 2, maxy), *boxes.geometry[2:], extra], crs=4326)
    parts.to_file(tmp_path / "parts.shp", encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(nation)])
    assert r.exit_code == 0, r.output
    assert "valid (national: 5 partitions" in r.output
    assert "businesses lie outside every partition" in r.output
    assert "partition 'دور' has no business" in r.output and "partition 'دور' has no estate" in r.output
    # broken partitions: duplicate and empty keys, a line, listed with a problem of the layers
    bad = gpd.GeoDataFrame({"ostan": ["A", "A", "", "B"]},
                           geometry=[*boxes.geometry[:3], shapely.LineString([(51, 32), (52, 33)])], crs=4326)
    bad.to_file(tmp_path / "parts.geojson")
    d["national"]["partitions"]["path"] = "parts.geojson"
    shutil.copytree(SRC, tmp_path / "src")
    g = gpd.read_file(tmp_path / "src" / "estates.shp").drop(columns=["name"])
    g.to_file(tmp_path / "src" / "estates.shp", encoding="utf-8")
    d["layers"]["estates"]["path"] = str(tmp_path / "src" / "estates.shp")
    nation.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(nation)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    out = r.output
    assert "partition 'A' appears 2 times" in out and "row 3: the partition key ('ostan') is empty" in out
    assert "row 4: geometry is not a polygon" in out and "missing required field(s): name" in out
    # the field missing; no CRS
    d["national"]["field"] = "province"
    nation.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(nation)])
    assert r.exit_code == 1 and "national.partitions (parts.geojson): no field 'province' (fields: ostan)" in r.output
    d["national"]["field"] = "ostan"
    d["national"]["partitions"]["path"] = "parts.shp"
    d["layers"]["estates"]["path"] = str(SRC / "estates.shp")
    nation.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    boxes.to_file(tmp_path / "parts.shp", encoding="utf-8")
    (tmp_path / "parts.prj").unlink()
    r = CliRunner().invoke(main, ["validate", str(nation)])
    assert r.exit_code == 1 and "the file declares no CRS; give national.partitions.crs" in r.output
