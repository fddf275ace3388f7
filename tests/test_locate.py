"""New-site search: contiguity, holes, area bounds, spacing, allowed cells, impossible targets."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS
from scipy import ndimage

from siteplan.scoring.criteria import Grid, distance_field
from siteplan.locate.ranking import grow_regions, rank_estates, regions_to_polygons

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


def _brute_pmedian(wc, p):
    import itertools

    return min(wc[:, list(s)].min(axis=1).sum() for s in itertools.combinations(range(wc.shape[1]), p))


@pytest.mark.parametrize("seed", range(12))
def test_p_median_exact_and_heuristic_against_brute_force(seed):
    from siteplan.locate.facility import p_median

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 12)), int(rng.integers(2, 8))
    p = int(rng.integers(1, m + 1))
    cost = rng.uniform(0, 50, (n, m))
    w = rng.integers(1, 5, n).astype(float)
    best = _brute_pmedian(w[:, None] * cost, p)
    ex = p_median(cost, w, p)
    assert ex.method == "MILP (HiGHS)" and ex.status == "optimal"
    assert abs(ex.objective - best) < 1e-6 * max(best, 1) and len(ex.open) == p
    h = p_median(cost, w, p, exact_max_vars=0)
    assert h.objective >= best - 1e-6 and h.lower_bound <= best + 1e-6 and h.gap >= 0
    assert len(set(h.open)) == p and set(h.assign) <= set(h.open)


def test_p_median_heuristic_close_to_milp_on_small_instances():
    from siteplan.locate.facility import p_median

    rng = np.random.default_rng(7)
    pts, cand = rng.uniform(0, 100, (150, 2)), rng.uniform(0, 100, (30, 2))
    cost = np.hypot(*(pts[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 10, 150).astype(float)
    ex = p_median(cost, w, 5)
    h = p_median(cost, w, 5, exact_max_vars=0)
    assert ex.status == "optimal"
    assert h.lower_bound <= ex.objective + 1e-6 <= h.objective + 2e-6
    assert h.gap <= 0.05 and (h.objective - ex.objective) / ex.objective <= 0.02


def test_capacitated_facility_location():
    import itertools

    from siteplan.errors import InfeasibleError
    from siteplan.locate.facility import capacitated_facility_location

    rng = np.random.default_rng(3)
    n, m = 6, 3
    cost = rng.uniform(1, 20, (n, m))
    d = rng.integers(1, 5, n).astype(float)
    q = np.array([8.0, 9.0, 10.0])
    f = np.array([30.0, 25.0, 40.0])
    r = capacitated_facility_location(cost, d, q, f)
    best = np.inf
    for assign in itertools.product(range(m), repeat=n):
        a = np.array(assign)
        load = np.bincount(a, weights=d, minlength=m)
        if (load > q).any():
            continue
        best = min(best, f[np.unique(a)].sum() + (d * cost[np.arange(n), a]).sum())
    assert abs(r.objective - best) < 1e-6 and r.status == "optimal"
    load = np.bincount(r.assign, weights=d, minlength=m)
    assert (load <= q + 1e-9).all() and set(r.assign) <= set(r.open)
    with pytest.raises(InfeasibleError, match="smaller than the total demand"):
        capacitated_facility_location(cost, d * 10, q, f)


def test_p_median_bad_input():
    from siteplan.errors import InputError
    from siteplan.locate.facility import p_median

    with pytest.raises(InputError, match="p = 5 must be between 1 and the 3"):
        p_median(np.ones((4, 3)), np.ones(4), 5)
    with pytest.raises(InputError, match="n×m"):
        p_median(np.ones((4, 3)), np.ones(5), 1)


def test_max_spacing_keeps_regions_together():
    s, allowed = _surface(4)
    res = grow_regions(s, allowed, GRID, count=3, area_ha=20, min_area_ha=10, max_area_ha=30, min_spacing_m=500,
                       max_spacing_m=2000)
    assert len(res.regions) == 3
    for k in range(1, 3):
        d = distance_field(np.logical_or.reduce(res.regions[:k]), GRID.res)
        assert d[res.regions[k]].min() <= 2000 and d[res.regions[k]].min() >= 500
    res = grow_regions(s, allowed, GRID, count=3, area_ha=20, min_area_ha=10, max_area_ha=30, min_spacing_m=3000,
                       max_spacing_m=2000)
    assert len(res.regions) == 1 and any("within max spacing 2000 m" in f for f in res.failures)


def test_estate_closeness_equals_topsis_and_vectorizes():
    from siteplan.locate.ranking import estate_closeness
    from siteplan.scoring.suitability import topsis

    rng = np.random.default_rng(2)
    s, cap = rng.random(7), rng.random(7) * 50
    ref = topsis(np.c_[s, cap], np.array([0.7, 0.3]), np.array([True, True]))
    assert np.allclose(estate_closeness(s, cap), ref)
    rows = rng.random((5, 7))
    assert np.allclose(estate_closeness(rows, cap)[3], estate_closeness(rows[3], cap))
