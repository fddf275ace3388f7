"""Locate stage speed (issue 31, item 3): the new sites' candidate cells are cached by their exact
inputs, so a rerun or a what-if that leaves a value chain's open demand as it was reads them, with the
same bits as computing them; anything changed in them is computed again."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import edit_yaml, small_scenario
from pyproj import CRS

from siteplan.common.atomic import write_shapefile
from siteplan.grid import Grid
from siteplan.locate import newsites
from siteplan.scenario import load_scenario


def _grid() -> Grid:
    return Grid.covering(shapely.box(0, 0, 20_000, 15_000), 250.0, CRS.from_epsg(32639))


def _inputs(seed: int = 3) -> tuple[np.ndarray, np.ndarray, Grid, float, np.ndarray, np.ndarray]:
    g = _grid()
    rng = np.random.default_rng(seed)
    xy = rng.uniform([0, 0], [20_000, 15_000], size=(40, 2))
    land = rng.uniform(200, 5000, size=40)
    ok = rng.random(g.shape) > 0.3
    score = rng.random(g.shape).astype(np.float32)
    return xy, land, g, 6000.0, ok, score


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the catchments computed (a cache hit computes none)."""
    calls: list[int] = []
    real = newsites.catchment_field

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(newsites, "catchment_field", counting)
    return calls


def _same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    return all(x.dtype == y.dtype and x.tobytes() == y.tobytes() for x, y in zip(a, b))


def test_candidate_cells_hit_is_bitwise_the_computed_answer(tmp_path, monkeypatch, counted):
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", "off")
    xy, land, g, reach, ok, score = _inputs()
    cold = newsites.candidate_cells(xy, land, g, reach, ok, score)
    again = newsites.candidate_cells(xy, land, g, reach, ok, score)
    assert len(counted) == 2  # no cache folder: computed each time
    assert len(cold[0]) and _same(cold, again)

    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path / "cache"))
    first = newsites.candidate_cells(xy, land, g, reach, ok, score)
    assert len(counted) == 3 and _same(first, cold)
    hit = newsites.candidate_cells(xy, land, g, reach, ok, score)
    assert len(counted) == 3  # read, not computed
    assert _same(hit, cold)
    assert list((tmp_path / "cache" / "sites").glob("*.pkl"))


@pytest.mark.parametrize("change", ["land", "xy", "ok", "score", "reach"])
def test_candidate_cells_changed_input_is_computed_again(tmp_path, monkeypatch, counted, change):
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path / "cache"))
    xy, land, g, reach, ok, score = _inputs()
    newsites.candidate_cells(xy, land, g, reach, ok, score)
    xy2, land2, ok2, score2, reach2 = xy.copy(), land.copy(), ok.copy(), score.copy(), reach
    if change == "land":
        land2[7] += 1.0
    elif change == "xy":
        xy2[7, 0] += 300.0
    elif change == "ok":
        ok2[3, 4] = not ok2[3, 4]
    elif change == "score":
        score2[3, 4] = np.float32(score2[3, 4] * 0.5)
    else:
        reach2 = reach + 250.0
    got = newsites.candidate_cells(xy2, land2, g, reach2, ok2, score2)
    assert len(counted) == 2  # another key: computed
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", "off")
    assert _same(got, newsites.candidate_cells(xy2, land2, g, reach2, ok2, score2))


def _starved(tmp_path, n_biz: int = 200):
    """The small scenario with almost no vacant land in its estates: most businesses are unassigned."""
    sc = small_scenario(tmp_path, n_biz=n_biz)
    shp = sc.parent / "estates.shp"
    g = gpd.read_file(shp)
    g["vacant_ha"] = 0.05
    write_shapefile(g, shp)
    edit_yaml(sc, lambda d: d.update(sites={"count": 3, "min_area_ha": 5, "max_area_ha": 300,
                                            "candidates_per_chain": 2}))
    return load_scenario(sc)


def _sites(search: newsites._DemandSearch) -> list[tuple[object, ...]]:
    sites, notes = search.run()
    return [(s.chain, s.target_ids, s.score, s.res_m, s.sized_by, s.start, shapely.to_wkb(s.geometry))
            for s in sites] + [tuple(notes)]


def test_demand_search_with_cache_finds_the_cold_sites_and_recomputes_a_changed_chain(tmp_path, monkeypatch,
                                                                                      counted):
    """The demand search reading its candidate cells from the cache finds exactly the sites of a search
    without any cache; a what-if that changes one chain's open demand computes that chain's cells
    again and reads the other chains' (their open demand is as it was)."""
    from siteplan.pipeline import plan_inputs, prepare, relocate

    prep = prepare(_starved(tmp_path))
    plan = relocate(prep, plan_inputs(prep))
    estates = prep.region.layers["estates"]
    un = newsites.unassigned_businesses(prep, plan)
    assert un["chain"].nunique() >= 2

    monkeypatch.setenv("SITEPLAN_CACHE_DIR", "off")
    cold = _sites(newsites._DemandSearch(prep, un, estates))
    n_cold = len(counted)
    assert n_cold and len(cold) > 2

    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path / "cache"))
    assert _sites(newsites._DemandSearch(prep, un, estates)) == cold  # stores
    counted.clear()
    assert _sites(newsites._DemandSearch(prep, un, estates)) == cold  # reads
    assert not counted

    # the what-if: one business of the first chain needs more land; its chain is computed again
    changed = un.copy()
    first = min(changed["chain"].unique())
    at = changed.index[changed["chain"] == first][0]
    changed.loc[at, "land_m2"] = float(changed.loc[at, "land_m2"]) + 500.0
    counted.clear()
    warm = _sites(newsites._DemandSearch(prep, changed, estates))
    assert counted  # the changed chain's cells (and those after its sites) computed
    assert len(counted) < n_cold  # the chains left as they were are read
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", "off")
    assert warm == _sites(newsites._DemandSearch(prep, changed, estates))


def test_robustness_reads_the_sweep_matrix_pivot_table_would_build():
    """robustness() reads the one-at-a-time sweep as a (criterion, delta) × candidate matrix straight
    from oat_sweep's rows (no pivot_table): the same matrix, in the same order, as the pivot it replaced."""
    from siteplan.locate.sensitivity import estate_closeness, oat_sweep

    rng = np.random.default_rng(11)
    x = rng.random((7, 4))
    cap = rng.uniform(1, 50, 7)
    oat = oat_sweep(x, np.array([0.4, 0.3, 0.2, 0.1]), ["c", "a", "d", "b"],
                    combine=lambda s: estate_closeness(s, cap))
    pivot = oat.pivot_table(index=["criterion", "delta"], columns="candidate", values="rank", sort=False)
    sweep = oat["rank"].to_numpy().reshape(-1, len(x))
    sweeps = list(zip(oat["criterion"].to_numpy()[::len(x)], oat["delta"].to_numpy()[::len(x)]))
    assert (pivot.to_numpy() == sweep).all()
    assert list(pivot.index) == sweeps
