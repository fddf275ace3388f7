"""Upgrade proposals (siteplan.locate.upgrades): estates that lack a utility, ranked by what the upgrade would
place, beside new sites."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from conftest import edit_yaml, small_scenario

from siteplan.common.atomic import write_shapefile
from siteplan.pipeline import run
from siteplan.scenario import load_scenario


def _province_without_wastewater(tmp_path):
    """The small scenario where no estate has wastewater and every estate has room: the car washes (which
    need wastewater) are the unassigned demand; a new site must keep 10 km from every estate."""
    sc = small_scenario(tmp_path, n_biz=300)
    shp = sc.parent / "estates.shp"
    g = gpd.read_file(shp)
    g["wastewater"] = 0
    g["vacant_ha"] = g["gross_ha"] * 0.6
    g["max_cat"] = 5.1
    g["power"] = 1
    g["water"] = 1
    write_shapefile(g, shp)
    # a sewer main 2 km east of the first estate: the cost proxy measures it
    ushp = sc.parent / "utilities.shp"
    u = gpd.read_file(ushp)
    e0 = g.to_crs(g.estimate_utm_crs()).geometry.iloc[0]
    x = e0.bounds[2] + 2000
    line = gpd.GeoSeries([shapely.LineString([(x, e0.bounds[1]), (x, e0.bounds[3])])], crs=g.estimate_utm_crs())
    sewer = gpd.GeoDataFrame({"kind": ["sewer"]}, geometry=line.to_crs(u.crs))
    write_shapefile(gpd.GeoDataFrame(pd.concat([u, sewer], ignore_index=True), crs=u.crs), ushp)
    edit_yaml(sc, lambda d: (d.update(sites={"count": 2, "min_area_ha": 5, "max_area_ha": 100,
                                             "min_distance_from_estates_km": 10}),
                             d["allocation"].update(max_distance_km=40)))
    return load_scenario(sc)


def test_wastewater_upgrade_ranked_above_a_distant_new_site(tmp_path):
    res = run(_province_without_wastewater(tmp_path))
    rows = res.plan.rows
    un = rows[(rows.status == "unassigned") & rows.category.notna()]
    wash = un[un.category == "car_wash_oil"]
    assert len(wash) > 0 and un.reason.str.contains("wastewater").any()
    up = res.upgrades
    assert len(up) and up.iloc[0].upgrade == "add wastewater"
    assert "car_wash_oil" in up.iloc[0].categories
    best = up.iloc[0]
    # the numbers: what it places, and the cost proxy a planner reads
    assert 0 < best.businesses <= len(un)
    assert best.in_reach >= best.businesses
    assert "wastewater network" in best.cost_proxy and "km away" in best.cost_proxy
    opts = res.options
    first_up = opts[opts.option == "upgrade"].iloc[0]
    sites = opts[opts.option == "new site"]
    assert len(sites)
    # the upgrade places the car washes nearer than any new site would
    assert first_up["rank"] < sites["rank"].min() or first_up.businesses > sites.businesses.max()
    print("\n" + opts.to_string())


def test_upgrades_can_be_turned_off(tmp_path):
    sc = small_scenario(tmp_path, n_biz=40)
    edit_yaml(sc, lambda d: d.update(upgrades={"count": 0}))
    res = run(load_scenario(sc))
    assert res.upgrades is not None and res.upgrades.empty
    assert isinstance(res.options, pd.DataFrame)
