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
