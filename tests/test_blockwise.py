"""Blockwise suitability reproduces the whole-grid result exactly."""

from __future__ import annotations

import numpy as np
import rasterio
from conftest import small_scenario

from siteplan.scoring.blockwise import saturation_distance, suitability_blockwise
from siteplan.scoring.criteria import transform
from siteplan.outputs.writer import NODATA
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
