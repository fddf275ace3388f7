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


def _pieces(tmp_path):
    """The small scenario's prepared run, plan inputs and plan (on its road network)."""
    from siteplan.pipeline import plan_inputs, prepare, relocate

    prep = prepare(_province_without_wastewater(tmp_path))
    inputs = plan_inputs(prep)
    return prep, inputs, relocate(prep, inputs)


def _same_costs(a, b) -> None:
    import numpy as np

    assert (a.measure, a.reach, a.shape) == (b.measure, b.reach, b.shape)
    for f in ("i", "j", "km", "minutes", "straight_km"):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), f
    for side in ("points", "facilities"):
        for f in ("seg", "t", "off_m", "leg_km", "leg_min"):
            assert np.array_equal(getattr(getattr(a, side), f), getattr(getattr(b, side), f), equal_nan=True)


def test_travel_memo_slices_give_what_travel_costs_gives(tmp_path):
    """The upgrades' re-allocations slice one travel-cost call (issue 31): for any subset of the
    businesses and estates (an estate twice, as a reserved share splits it), the slice is what
    travel_costs computes on the subset; a geometry or reach the run's call did not have is computed."""
    import numpy as np

    from siteplan.locate.upgrades import TravelMemo
    from siteplan.relocation.roads import scenario_network, travel_costs

    prep, inputs, _ = _pieces(tmp_path)
    net = scenario_network(prep)
    assert net is not None
    km = prep.scenario.allocation.max_distance_km
    pts = np.asarray(inputs.businesses.geometry.values, dtype=object)
    est = np.asarray(inputs.estates.geometry.values, dtype=object)
    memo = TravelMemo(pts, est, net, reach_km=km)
    rng = np.random.default_rng(3)
    for _ in range(4):
        pi = np.sort(rng.choice(len(pts), size=len(pts) // 2, replace=False))
        fj = np.sort(rng.choice(len(est), size=max(1, len(est) // 2), replace=False))
        fj = np.concatenate([fj, fj[:1]])
        _same_costs(memo(pts[pi], est[fj], net, reach_km=km), travel_costs(pts[pi], est[fj], net, reach_km=km))
    # copies of the geometries (matched by their WKB), a point the run does not have, another reach
    copies = shapely.from_wkb(shapely.to_wkb(pts[:40]))
    _same_costs(memo(copies, est, net, reach_km=km), travel_costs(copies, est, net, reach_km=km))
    moved = np.concatenate([pts[:10], [shapely.Point(pts[0].x + 123.0, pts[0].y)]])
    _same_costs(memo(moved, est, net, reach_km=km), travel_costs(moved, est, net, reach_km=km))
    _same_costs(memo(pts[:50], est, net, reach_km=km / 2), travel_costs(pts[:50], est, net, reach_km=km / 2))


def test_upgrades_compute_travel_costs_once_with_the_same_answer(tmp_path, monkeypatch):
    """The estimates and verifications (a dozen re-allocations on the demo) read the travel costs of one
    call instead of routing every business again, and rank and figure exactly as without it."""
    from siteplan.locate import upgrades as up
    from siteplan.relocation import model, roads

    prep, inputs, plan = _pieces(tmp_path)
    n_calls = [0]
    real = roads.travel_costs

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        n_calls[0] += 1
        return real(*a, **k)

    monkeypatch.setattr(roads, "travel_costs", counting)
    monkeypatch.setattr(model, "travel_costs", counting)
    fast, fast_notes = up.propose_upgrades(prep, plan, inputs)
    assert len(fast) and (fast["figure"] == "rerun").any()
    assert n_calls[0] == 1
    monkeypatch.setattr(up, "_travel_memo", lambda prep, inputs: None)
    n_calls[0] = 0
    slow, slow_notes = up.propose_upgrades(prep, plan, inputs)
    assert n_calls[0] > 1
    pd.testing.assert_frame_equal(fast, slow)
    assert fast_notes == slow_notes
