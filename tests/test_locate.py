"""New-site search: contiguity, holes, area bounds, spacing, allowed cells, impossible targets."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS
from scipy import ndimage

from siteplan.criteria import Grid, distance_field
from siteplan.locate import grow_regions, rank_estates, regions_to_polygons

GRID = Grid(Affine(100, 0, 500000, 0, -100, 3600000), 200, 150, 100.0, CRS.from_epsg(32639))


def _surface(seed=0):
    rng = np.random.default_rng(seed)
    s = ndimage.gaussian_filter(rng.random(GRID.shape), 6).astype(np.float32)
    s = (s - s.min()) / (s.max() - s.min())
    allowed = rng.random(GRID.shape) > 0.05
    allowed[:, 90:95] = False  # a river
    return s, allowed


@pytest.mark.parametrize("seed", range(5))
def test_regions_are_valid(seed):
    s, allowed = _surface(seed)
    res = grow_regions(s, allowed, GRID, count=4, area_ha=40, min_area_ha=20, max_area_ha=60, min_spacing_m=800)
    assert len(res.regions) == 4, res.failures
    for r in res.regions:
        lab, n = ndimage.label(r, structure=np.ones((3, 3)))
        assert n == 1  # 8-connected
        assert np.array_equal(ndimage.binary_fill_holes(r), r)  # no holes
        assert allowed[r].all()  # only allowed cells
        assert 20 <= r.sum() * 1.0 <= 60  # 1 ha cells
    for i in range(4):
        d = distance_field(res.regions[i], GRID.res)
        for j in range(i + 1, 4):
            assert d[res.regions[j]].min() >= 800
    polys = regions_to_polygons(res.regions, GRID)
    assert all(abs(p.area / 1e4 - r.sum()) < 1e-6 for p, r in zip(polys, res.regions))


def test_keeps_away_from_existing_estates():
    s, allowed = _surface(1)
    est = np.zeros(GRID.shape, bool)
    est[70:80, 40:50] = True
    s[70:80, 40:50] = 1.0
    res = grow_regions(s, allowed, GRID, count=2, area_ha=30, min_area_ha=10, max_area_ha=50, min_spacing_m=0,
                       avoid=est, avoid_m=1500)
    d = distance_field(est, GRID.res)
    assert all(d[r].min() >= 1500 for r in res.regions)


def test_impossible_targets_are_explained():
    s, allowed = _surface(2)
    tiny = np.zeros(GRID.shape, bool)
    tiny[10:14, 10:14] = True  # 16 ha of allowed land
    res = grow_regions(s, tiny, GRID, count=3, area_ha=50, min_area_ha=30, max_area_ha=60, min_spacing_m=0)
    assert res.regions == [] and res.failures
    assert "no allowed area of at least 30 ha" in res.failures[0]
    res = grow_regions(s, allowed, GRID, count=30, area_ha=50, min_area_ha=40, max_area_ha=60, min_spacing_m=5000)
    assert len(res.regions) < 30
    assert any(f.startswith(f"site {len(res.regions) + 1} of 30") for f in res.failures)
    res = grow_regions(s, allowed, GRID, count=1, area_ha=50, min_area_ha=40, max_area_ha=30, min_spacing_m=0)
    assert "max_area_ha 30 is below min_area_ha 40" in res.failures[0]


def test_rank_estates_topsis():
    import pandas as pd

    elig = pd.DataFrame({"estate_id": ["A", "B", "C"], "category": "x", "eligible": [True, True, False],
                         "reason": ["", "", "no gas"], "usable_frac": [1.0, 1.0, 1.0], "usable_ha": 1.0})
    scores = pd.DataFrame({"estate_id": ["A", "B", "C"], "category": "x", "score": [0.9, 0.5, 1.0]})
    cap = pd.DataFrame({"estate_id": ["A", "B", "C"], "capacity_m2": [1e5, 1e5, 1e6]})
    r = rank_estates(elig, scores, cap).set_index("estate_id")
    assert r.loc["A", "rank"] == 1 and r.loc["B", "rank"] == 2 and pd.isna(r.loc["C", "rank"])
