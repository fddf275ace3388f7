"""Siting rules at their edges, exact distance fields, and transforms."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage
from shapely.geometry import Point, box

from siteplan.grid import FieldCache, Grid, distance_field
from siteplan.scoring.criteria import transform
from siteplan.guilds.catalogue import load_catalogue
from siteplan.inputs.region import load_region
from siteplan.rules.ruleset import compile_rules, compile_rulesets
from siteplan.scenario import TransformSpec, parse_scenario

UTM = "EPSG:32639"


def _region(tmp_path, crs_out: str):
    """A town (square), an estate, businesses at 199 m and 201 m from the town, in crs_out files."""
    town = box(550000, 3600000, 552000, 3602000)
    sites = [Point(552000 + 199.0, 3601000), Point(552000 + 201.0, 3601000)]
    est = box(553000, 3600000, 553500, 3600500)
    layers = {
        "urban": gpd.GeoDataFrame({"name": ["شهر"], "population": [20000]}, geometry=[town], crs=UTM),
        "estates": gpd.GeoDataFrame({"estate_id": ["E1"], "name": ["شهرک"]}, geometry=[est], crs=UTM),
        "businesses": gpd.GeoDataFrame({"biz_id": ["b199", "b201"], "name": ["جوشکاری", "جوشکاری"]},
                                       geometry=sites, crs=UTM),
    }
    spec = {}
    for k, g in layers.items():
        p = tmp_path / f"{k}.geojson"
        g.to_crs(crs_out).to_file(p, driver="GeoJSON")
        spec[k] = {"path": p.name}
    sc = parse_scenario({"layers": spec}, base_dir=tmp_path)
    return sc, load_region(sc)


@pytest.mark.parametrize("crs_in", [UTM, "EPSG:4326"])
def test_200m_rule_edge(tmp_path, crs_in):
    sc, region = _region(tmp_path, crs_in)
    assert region.crs.to_epsg() == 32639
    cat = load_catalogue(overrides={"metalwork": {"sep_m": 200}})
    rs = compile_rulesets(cat, sc, region.layers, region.study_area)["metalwork"]
    homes = [r for r in rs if r.target == "homes"]
    assert homes[0].min_m == 200
    b = region.layers["businesses"]
    res = rs.check(b.geometry.values, ids=list(b.biz_id))
    res = res[res.rule_id == homes[0].rule_id]
    got = dict(zip(res.id, res.passed))
    assert got == {"b199": False, "b201": True}
    dist = dict(zip(res.id, res.actual_m))
    assert abs(dist["b199"] - 199) < 1e-3 and abs(dist["b201"] - 201) < 1e-3
    assert set(res.columns) >= {"rule_id", "required_m", "actual_m", "passed", "description"}


def test_doe_and_mixed_rules_compile(tmp_path):
    sc, region = _region(tmp_path, UTM)
    cat = load_catalogue()
    rules = compile_rules(cat, sc, region.layers)
    ids = {r.rule_id for r in rules["stone_cutting"]}  # DOE group ج
    assert {"VNG-3.2-HOMES", "VNG-3.2-MIXED", "DOE1378-ج-settlements", "DOE1378-ج-sensitive"} <= ids
    assert all(r.source for r in rules["stone_cutting"])
    sc2 = parse_scenario({"layers": {k: {"path": f"{k}.geojson"} for k in ("urban", "estates", "businesses")},
                          "rules": {"doe_table": "none", "mixed_areas": ["شهر"]}}, base_dir=tmp_path)
    rules2 = compile_rulesets(cat, sc2, region.layers, region.study_area)["stone_cutting"]
    assert not any(r.group == "doe" for r in rules2)
    # the town is mixed: the 50 m (one step less) rule applies to it, the 100 m one to nothing
    b = region.layers["businesses"]
    res = rules2.check(b.geometry.values, ids=list(b.biz_id))
    mixed = res[res.rule_id == "VNG-3.2-MIXED"]
    assert mixed.passed.all() and (mixed.required_m == 50).all()
    assert np.isinf(res[res.rule_id == "VNG-3.2-HOMES"].actual_m).all()


def test_distance_field_is_exact_euclidean():
    rng = np.random.default_rng(0)
    mask = rng.random((120, 90)) < 0.01
    d = distance_field(mask, 30.0)
    ref = ndimage.distance_transform_edt(~mask) * 30.0
    assert np.max(np.abs(d - ref)) < 1e-3
    # against brute force
    pts = np.argwhere(mask)
    rr, cc = np.mgrid[0:120, 0:90]
    brute = np.sqrt(((rr[..., None] - pts[:, 0]) ** 2 + (cc[..., None] - pts[:, 1]) ** 2).min(-1)) * 30.0
    assert np.max(np.abs(d - brute)) < 1e-3
    assert np.isinf(distance_field(np.zeros((3, 3), bool), 1.0)).all()


def test_rule_mask_excludes_exactly_the_cells_whose_square_is_too_near(tmp_path):
    import dataclasses

    import shapely

    sc, region = _region(tmp_path, UTM)
    grid = Grid.covering(region.study_area, 100.0, region.crs)
    cache = FieldCache(grid)
    cat = load_catalogue(overrides={"metalwork": {"sep_m": 500}})
    rs = compile_rulesets(cat, sc, region.layers, region.study_area, fields=cache)["metalwork"]
    rs = dataclasses.replace(rs, rules=tuple(r for r in rs if r.target == "homes"))
    allowed, counts = rs.mask()
    # brute force: the distance from every cell's square to the town
    rr, cc = np.mgrid[0:grid.height, 0:grid.width]
    x, y = grid.xy(rr.ravel(), cc.ravel())
    boxes = shapely.box(x - 50, y - 50, x + 50, y + 50)
    town = shapely.union_all(region.layers["urban"].geometry.values)
    exact = shapely.distance(boxes, town).reshape(grid.shape)
    assert (allowed == (exact >= 500)).all()
    assert counts["VNG-3.2-HOMES"] == int((exact < 500).sum())


@pytest.mark.parametrize("kind", ["linear", "sigmoid"])
def test_transforms_at_control_points(kind):
    t = TransformSpec(type=kind, points=[100, 500])
    y = transform(np.array([0, 100, 300, 500, 900.0]), t)
    assert y[0] == 0 and y[1] == 0 and y[3] == 1 and y[4] == 1
    assert abs(y[2] - 0.5) < 1e-6
    yd = transform(np.array([100, 500.0]), TransformSpec(type=kind, points=[100, 500], increasing=False))
    assert list(yd) == [1.0, 0.0]


def test_symmetric_j_gaussian_ms_threshold():
    sym = transform(np.array([0, 1, 2, 3, 4, 5.0]), TransformSpec(type="linear", points=[1, 2, 3, 4]))
    assert list(sym) == [0, 0, 1, 1, 0, 0]
    j = transform(np.array([0, 1, 2, 3.0]), TransformSpec(type="j_shaped", points=[1, 2]))
    assert j[2] == 1 and abs(j[1] - 0.5) < 1e-6 and j[0] > 0  # IDRISI J-shape: 0.5 at a, never 0
    g = transform(np.array([10, 12.0]), TransformSpec(type="gaussian", points=[10, 2]))
    assert g[0] == 1 and abs(g[1] - np.exp(-0.5)) < 1e-6
    ms = transform(np.array([5, 10, 20.0]), TransformSpec(type="ms_large", points=[10, 5]))
    assert ms[0] == 0 and ms[1] == 0 and abs(ms[2] - (1 - 5 / 15)) < 1e-6
    th = transform(np.array([4, 5, 6.0]), TransformSpec(type="threshold", points=[5]))
    assert list(th) == [0, 1, 1]
    cat = transform(np.array(["city", "town", "x"], dtype=object),
                    TransformSpec(type="categorical", mapping={"city": 1, "town": 0.5}))
    assert list(cat) == [1, 0.5, 0]
    assert np.isnan(transform(np.array([np.nan]), TransformSpec(points=[0, 1])))[0]


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-1e5, 1e5), w=st.floats(1e-3, 1e5), kind=st.sampled_from(["linear", "sigmoid", "j_shaped"]),
       inc=st.booleans())
def test_transforms_monotonic_and_bounded(a, w, kind, inc):
    x = np.linspace(a - 2 * w, a + 3 * w, 200)
    y = transform(x, TransformSpec(type=kind, points=[a, a + w], increasing=inc))
    assert np.all((y >= 0) & (y <= 1))
    dy = np.diff(y.astype(float))
    assert np.all(dy >= -1e-6) if inc else np.all(dy <= 1e-6)


def test_slope_rule_from_a_dem(tmp_path):
    """A DEM flat in the west and 20 % steep in the east: the slope rule excludes the east only."""
    import rasterio
    from rasterio.transform import from_origin

    from siteplan.scoring.criteria import slope_percent
    from siteplan.outputs.explain import explain
    from siteplan.pipeline import prepare

    sc0, region = _region(tmp_path, UTM)
    x0, y1, res = 548000.0, 3604000.0, 50.0
    w, h = 160, 120
    xs = x0 + (np.arange(w) + 0.5) * res
    elev = np.where(xs < 552500, 1500.0, 1500.0 + (xs - 552500) * 0.20)[None, :].repeat(h, 0)
    dem = tmp_path / "dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=w, height=h, count=1, dtype="float64", crs=UTM,
                       transform=from_origin(x0, y1, res, res)) as ds:
        ds.write(elev, 1)
    spec = {k: {"path": f"{k}.geojson"} for k in ("urban", "estates", "businesses")}
    spec["dem"] = {"path": "dem.tif"}
    sc = parse_scenario({"layers": spec, "grid": {"resolution_m": 100}, "rules": {"max_slope_pct": 15}},
                        base_dir=tmp_path)
    grid = Grid.covering(box(549000, 3599000, 555000, 3603000), 100.0, region.crs)
    s = slope_percent(str(dem), grid)
    cx = grid.transform.c + (np.arange(grid.width) + 0.5) * 100
    assert np.nanmax(np.abs(s[:, cx < 552000])) < 1e-6
    assert np.allclose(s[1:-1, cx > 553000], 20.0, atol=1e-3)
    prep = prepare(sc)
    rules = prep.rules["metalwork"]
    assert any(r.rule_id == "SLOPE-MAX" for r in rules)
    surf = prep.surfaces["metalwork"]
    gx = prep.grid.transform.c + (np.arange(prep.grid.width) + 0.5) * prep.grid.res
    steep = (gx > 553000) & (gx < 555500)
    assert not surf.allowed[5:-5][:, steep].any()
    ex = explain(prep, "metalwork", at=tuple(gpd.GeoSeries([Point(553300, 3601000)], crs=UTM).to_crs(4326).iloc[0].coords[0]))
    row = ex.rules[ex.rules.rule_id == "SLOPE-MAX"].iloc[0]
    assert not row.passed and abs(row.actual_m - 20) < 1e-3
    assert any("SLOPE-MAX" in line and "20.0 %" in line for line in ex.lines())


@pytest.mark.parametrize("shape,k", [((61, 83), 7), ((40, 9), 12), ((9, 40), 3), ((1, 30), 2)])
def test_catchment_convolution_is_scipy_fftconvolve_bit_for_bit(shape, k):
    """Catchments convolve without importing scipy.signal (a second of start-up) and reuse a disc's
    transform: the bits of ``scipy.signal.fftconvolve(..., mode="same")`` all the same."""
    from scipy.signal import fftconvolve

    from siteplan.grid import _convolve_same

    rng = np.random.default_rng(3)
    acc = np.where(rng.random(shape) < 0.05, rng.random(shape) * 1e4, 0.0)
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    disc = (xx ** 2 + yy ** 2 <= k * k).astype(np.float64)
    want = fftconvolve(acc, disc, mode="same")
    spectra: dict = {}
    for _ in range(2):  # the second time from the kept transform of the disc
        got = _convolve_same(acc, disc, spectra, (1.0, float(k), float(k)))
        assert got.shape == want.shape and got.tobytes() == want.tobytes()
    assert len(spectra) == (0 if 1 in shape else 1)


def test_criteria_reading_the_same_features_are_computed_once(tmp_path):
    """Two criteria over the same features share their raw values (and, with the same transform, their
    scores); another radius is another computation."""
    from siteplan.scenario import CriterionSpec
    from siteplan.scoring.suitability import criterion_layers

    _, region = _region(tmp_path, UTM)
    grid = Grid.covering(region.study_area, 250.0, region.crs)
    cache = FieldCache(grid)
    t = {"type": "linear", "points": [0, 30000]}
    specs = [CriterionSpec(name=n, kind="catchment", layer="urban", field="population", radius_m=r, transform=t)
             for n, r in (("a", 2000), ("b", 2000), ("c", 500))]
    specs.append(CriterionSpec(name="d", kind="catchment", layer="urban", field="population", radius_m=2000,
                               transform={"type": "linear", "points": [0, 9000]}))
    a, b, c, d = criterion_layers(specs, region.layers, grid, cache)
    assert a.raw is b.raw and a.score is b.score and a.raw is d.raw and d.score is not a.score
    assert c.raw is not a.raw and not np.array_equal(c.raw, a.raw)
    assert len(cache.spectra) == 2 and a.raw.max() == 20000
