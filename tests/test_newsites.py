"""New sites for the unassigned demand (siteplan.locate.newsites): where the demand is, sized to it, and who
each site takes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from conftest import edit_yaml, small_scenario

from siteplan.common.atomic import write_shapefile
from siteplan.pipeline import run
from siteplan.scenario import load_scenario
from siteplan.common.units import M2_PER_HA


def _starved(tmp_path, **sites):
    """The small scenario with almost no vacant land in its estates: most businesses are unassigned."""
    sc = small_scenario(tmp_path, n_biz=200)
    shp = sc.parent / "estates.shp"
    g = gpd.read_file(shp)
    g["vacant_ha"] = 0.05
    write_shapefile(g, shp)
    edit_yaml(sc, lambda d: d.update(sites={"count": 3, "min_area_ha": 5, "max_area_ha": 300, **sites}))
    return load_scenario(sc)


def test_sites_take_unassigned_businesses_within_reach(tmp_path):
    res = run(_starved(tmp_path))
    rows, sites = res.plan.rows, res.sites
    assert len(sites) >= 1
    reach_m = res.prep.scenario.allocation.max_distance_km * 1000
    biz = res.prep.businesses.set_index("biz_id")
    ntg = res.prep.scenario.allocation.net_to_gross
    for s in sites.itertuples():
        mine = rows[rows.site_id == s.site_id]
        assert len(mine) == s.units > 0
        assert (mine.status == "unassigned").all()  # the plan onto existing estates is unchanged
        d = shapely.distance(biz.loc[mine.biz_id].geometry.values, s.geometry)
        assert (d <= reach_m + 1).all()
        assert set(mine.category) <= set(s.categories.split(", "))
        # sized to the demand it was sought for (within the scenario's min/max area)
        land = mine.land_m2.sum()
        assert mine.land_m2.sum() <= s.net_ha * M2_PER_HA + 1
        assert s.area_ha <= max(5.0, s.sized_for and land / ntg / M2_PER_HA * 3 + 1)
        # a site is many cells of its own grid, not one analysis cell
        assert s.grid_m < res.prep.grid.res and s.area_ha * M2_PER_HA / s.grid_m**2 > 30
    # every site respects the rules of its categories on its exact geometry
    for s in sites.itertuples():
        for code in s.categories.split(", "):
            keep, _ = res.prep.rules[code].usable(s.geometry)
            assert keep.area >= s.geometry.area * (1 - 3e-3)
    # and keeps off the existing estates
    est = res.prep.region.layers["estates"].geometry.values
    gap = res.prep.scenario.sites.min_distance_from_estates_km * 1000
    for geom in sites.geometry:
        assert np.min(shapely.distance(est, geom)) >= gap - res.prep.grid.res


def test_no_demand_no_site(tmp_path):
    sc = small_scenario(tmp_path, n_biz=30)
    shp = sc.parent / "estates.shp"
    g = gpd.read_file(shp)
    area_ha = g.to_crs(g.estimate_utm_crs()).area / M2_PER_HA
    g["gross_ha"] = area_ha
    g["vacant_ha"] = area_ha * 0.9
    g["max_cat"] = 9
    for u in ("power", "gas", "water", "wastewater"):
        g[u] = 1
    write_shapefile(g, shp)
    edit_yaml(sc, lambda d: d["allocation"].update(max_distance_km=500))
    res = run(load_scenario(sc))
    un = res.plan.rows[(res.plan.rows.status == "unassigned") & res.plan.rows.category.notna()]
    if un.empty:
        assert res.sites.empty
    else:  # whatever is left has its reason; a site exists only where it takes someone
        assert (res.sites["units"] > 0).all()


def test_search_shares_work_and_finds_what_a_search_from_scratch_finds(tmp_path, monkeypatch):
    """The greedy search computes each chain's catchment once per set of open businesses and the rules'
    distance fields from the target features near each window only (issue 31); the sites, their
    targets and notes are those of a search that recomputes everything for every seed."""
    from siteplan import grid as grid_mod
    from siteplan.locate import newsites
    from siteplan.pipeline import plan_inputs, prepare, relocate

    sc = _starved(tmp_path, count=3, candidates_per_chain=2)
    prep = prepare(sc)
    plan = relocate(prep, plan_inputs(prep))
    estates = prep.region.layers["estates"]
    un = newsites.unassigned_businesses(prep, plan)
    assert len(un)

    calls = []
    real = grid_mod.catchment_field

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(newsites, "catchment_field", counting)
    search = newsites._DemandSearch(prep, un, estates)
    sites, notes = search.run()
    assert len(sites) >= 2
    # one catchment per chain and per site found at most (every seed of every chain before)
    assert len(calls) <= len(search.chains) + len(sites)

    class FromScratch(newsites._DemandSearch):
        def _candidates(self, ch, sel):  # type: ignore[no-untyped-def]
            self._cover.clear()
            return super()._candidates(ch, sel)

        def _best_seed(self):  # type: ignore[no-untyped-def]
            self._spacing = None
            return super()._best_seed()

        def _rule_distances(self, codes, fine):  # type: ignore[no-untyped-def]
            return {}  # every rule mask computes its own fields from all the target features

    ref, ref_notes = FromScratch(prep, un, estates).run()
    assert notes == ref_notes
    assert [(s.chain, s.target_ids, s.score, s.res_m, s.sized_by, s.start, shapely.to_wkb(s.geometry))
            for s in sites] == [(s.chain, s.target_ids, s.score, s.res_m, s.sized_by, s.start,
                                 shapely.to_wkb(s.geometry)) for s in ref]


def test_window_rule_distances_give_the_rules_own_masks(tmp_path):
    """The rule masks on a site's window are the same with the window's distance fields (only the
    target features near the window rasterized, one field per target for all the chain's rules) as
    when each rule computes its own field from every feature."""
    from siteplan.locate import newsites
    from siteplan.pipeline import plan_inputs, prepare, relocate

    prep = prepare(_starved(tmp_path))
    plan = relocate(prep, plan_inputs(prep))
    search = newsites._DemandSearch(prep, newsites.unassigned_businesses(prep, plan), prep.region.layers["estates"])
    rng = np.random.default_rng(5)
    g = prep.grid
    checked = 0
    for ch in search.chains:
        codes = search.codes[ch]
        for r, c in zip(rng.integers(0, g.height, 4), rng.integers(0, g.width, 4)):
            x, y = (float(v[0]) for v in g.xy(np.array([r]), np.array([c])))
            for area_ha in (5.0, 60.0):
                fine = newsites._site_grid(x, y, area_ha * M2_PER_HA, g)
                dist = search._rule_distances(codes, fine)
                for k in codes:
                    a, na = prep.rules[k].mask(grid=fine)
                    b, nb = prep.rules[k].mask(grid=fine, distance=dist)
                    assert np.array_equal(a, b) and na == nb
                    checked += 1
    assert checked
