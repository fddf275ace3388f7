"""Blockwise suitability reproduces the whole-grid result exactly."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from conftest import small_scenario

from siteplan.scoring.blockwise import saturation_distance, suitability_blockwise
from siteplan.scoring.criteria import transform
from siteplan.grid import NODATA
from siteplan.pipeline import prepare
from siteplan.scenario import TransformSpec, load_scenario


def test_blockwise_equals_whole_grid(tmp_path):
    sc = load_scenario(small_scenario(tmp_path, n_biz=30))
    prep = prepare(sc)
    for code in ("car_repair", "scrap", "chain_store"):
        s = prep.surfaces[code]
        specs = [c.spec for c in prep.crit]
        out = tmp_path / f"{code}.tif"
        counts = suitability_blockwise(specs, s.weights, prep.rules[code], prep.region.layers, sc, prep.grid, out,
                                       block=16)
        with rasterio.open(out) as ds:
            a = ds.read(1)
        whole = np.where(s.allowed, s.score, NODATA)
        assert (a == NODATA).sum() == (~s.allowed).sum()
        assert np.allclose(a, whole, atol=2e-6), np.abs(a - whole).max()
        assert counts == s.rule_cells


def test_saturation_distances():
    for spec in (TransformSpec(type="j_shaped", points=[100, 500], increasing=False),
                 TransformSpec(type="gaussian", points=[1000, 300]),
                 TransformSpec(type="linear", points=[500, 20000], increasing=False)):
        d = saturation_distance(spec)
        far = transform(np.array([d, d * 10, 1e12]), spec)
        assert np.abs(far - far[-1]).max() <= 1e-3 + 1e-7


def test_cli_blockwise_matches_in_memory(tmp_path):
    from click.testing import CliRunner

    from siteplan.cli import main

    sc = small_scenario(tmp_path, n_biz=20)
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    for args, f in ((["--blockwise"], a), ([], b)):
        r = CliRunner().invoke(main, ["suitability", str(sc), "--category", "metalwork", "--out", str(f)] + args)
        assert r.exit_code == 0, r.output
    with rasterio.open(a) as x, rasterio.open(b) as y:
        assert np.allclose(x.read(1), y.read(1), atol=2e-6)


def _every_kind_scenario(tmp_path):
    """The small scenario with one criterion of every kind (a DEM added for the slope)."""
    import typing

    import yaml
    from rasterio.transform import from_origin

    from siteplan.scenario import CriterionSpec
    from siteplan.scoring.kinds import KINDS

    path = small_scenario(tmp_path, n_biz=40)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    x0, y1, res, w, h = 49.9, 34.5, 0.02, 180, 150  # covers the study area (the region's boundary)
    xs = x0 + (np.arange(w) + 0.5) * res
    elev = (1500.0 + 9000.0 * np.maximum(xs - 51.6, 0.0) ** 2)[None, :].repeat(h, 0)
    with rasterio.open(path.parent / "dem.tif", "w", driver="GTiff", width=w, height=h, count=1, dtype="float64",
                       crs="EPSG:4326", transform=from_origin(x0, y1, res, res)) as ds:
        ds.write(elev, 1)
    data["layers"]["dem"] = {"path": "dem.tif"}
    data["criteria"] = [*data["criteria"], *[
        {"name": "in_estate", "kind": "inside", "layer": "estates",
         "transform": {"type": "linear", "points": [0, 1]}, "weight": 0.1},
        {"name": "town_size", "kind": "attribute", "layer": "urban", "field": "population",
         "transform": {"type": "sigmoid", "points": [1000, 200000]}, "weight": 0.1,
         "categories": ["chain_store"]},  # NaN off the towns: the surface too
        {"name": "trades", "kind": "catchment", "layer": "businesses", "radius_m": 8000,
         "transform": {"type": "linear", "points": [0, 20]}, "weight": 0.1},
        {"name": "flat", "kind": "raster", "layer": "dem",
         "transform": {"type": "linear", "points": [0, 15], "increasing": False}, "weight": 0.1},
    ]]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    kinds = set(typing.get_args(CriterionSpec.model_fields["kind"].annotation))
    assert kinds == set(KINDS) == {c["kind"] for c in data["criteria"]}, "a kind without a test, or one not registered"
    return load_scenario(path)


def test_every_criterion_kind_is_the_same_whole_grid_and_block_by_block(tmp_path):
    """One registry of kinds: each criterion's values computed block by block (every block padded by its
    halo) are the whole grid's, bit for bit (distances up to the saturation distance, beyond which the
    transform no longer changes); catchments to FFT round-off (the transform sizes differ)."""
    from siteplan.scoring.criteria import criteria_layers
    from siteplan.scoring.kinds import criterion_features, criterion_window, halo_cells
    from siteplan.national.raster import chunk_windows

    sc = _every_kind_scenario(tmp_path)
    prep = prepare(sc)
    layers = criteria_layers(prep.region.layers, prep.businesses)
    grid = prep.grid
    assert {c.spec.kind for c in prep.crit} == {"distance", "inside", "attribute", "catchment", "raster"}
    for i, cl in enumerate(prep.crit):
        spec = cl.spec
        feats = criterion_features(spec, layers, f"criteria[{i}]")
        halo = halo_cells(spec, grid.res)
        blocks = np.full(grid.shape, -1.0, dtype=np.float32)
        for r0, c0, h, w in chunk_windows(grid.height, grid.width, 13):
            blocks[r0:r0 + h, c0:c0 + w] = criterion_window(spec, feats, grid, (r0, c0, h, w), halo, prep.cache)
        if spec.kind == "catchment":
            assert np.allclose(blocks, cl.raw, rtol=1e-6, atol=1e-6 * float(cl.raw.max())), spec.name
            assert cl.raw.max() > 0, spec.name
        else:
            far = saturation_distance(spec.transform) if spec.kind == "distance" else np.inf
            assert np.array_equal(np.minimum(blocks, far), np.minimum(cl.raw, far), equal_nan=True), spec.name
            assert transform(blocks, spec.transform).tobytes() == cl.score.tobytes(), spec.name
        assert np.isfinite(cl.raw).any() and np.unique(cl.raw[np.isfinite(cl.raw)]).size > 1, spec.name


@pytest.mark.filterwarnings("ignore")  # rasterio in Dask's worker threads (as tests/test_national.py)
def test_dask_chunks_equal_blockwise_and_whole_grid(tmp_path):
    """The Dask path runs the blockwise plan chunk by chunk: the same bytes as the blockwise GeoTIFF, and the
    whole grid's surface, for a category scored by every kind of criterion."""
    from siteplan.national.raster import surface_array

    sc = _every_kind_scenario(tmp_path)
    prep, bare = prepare(sc), prepare(sc, with_surfaces=False)
    for code in ("car_repair", "chain_store"):
        s = prep.surfaces[code]
        out = tmp_path / f"{code}.tif"
        counts = suitability_blockwise([c.spec for c in prep.crit], s.weights, prep.rules[code], prep.region.layers,
                                       sc, prep.grid, out, block=16)
        with rasterio.open(out) as ds:
            blocks = ds.read(1)
        on_dask = np.asarray(surface_array(bare, code, chunk=16).compute(scheduler="threads"))
        assert on_dask.tobytes() == blocks.tobytes()
        whole = np.where(s.allowed, s.score, NODATA)
        assert (blocks == NODATA).sum() == (~s.allowed).sum() and counts == s.rule_cells
        assert np.allclose(blocks, whole, atol=2e-6, equal_nan=True)
        # chain_store's town_size is NaN off the towns, where the rules allow building: NaN wherever allowed
        assert np.isfinite(blocks[blocks != NODATA]).any() or (code == "chain_store" and np.isfinite(s.score).any())
        kinds = {c.spec.kind for c in prep.crit if c.spec.name in s.weights}
        assert kinds >= {"distance", "inside", "catchment", "raster"} | ({"attribute"} if code == "chain_store" else set())
