"""Road travel costs (:mod:`siteplan.relocation.roads`, issue #26): agreement with an independent shortest-path
computation written here (a plain heapq Dijkstra on a graph built from the lines by this test), no
road distance below the straight line, one-way streets, disconnected parts, and the demo on roads."""

from __future__ import annotations

import heapq
import json
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from siteplan.relocation.roads import Connector, build_network, network_notes, travel_costs
from siteplan.rules.standards import ROAD_SPEEDS_KMH

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "shapefiles" / "isfahan_demo"
CRS = 32639
REL = 1e-3  # 0.1 %


# ---------------------------------------------------------------- the independent computation


def _independent(roads: gpd.GeoDataFrame, points: np.ndarray, facilities: np.ndarray, conn: Connector,
                 speeds: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """(points × facilities) shortest road km and fastest minutes, computed without siteplan.relocation.roads:
    each line split at its vertices (exact coordinates as nodes), each point and facility joined to
    the nearest point of the roads by a connector arc (straight × detour at the connector speed), the
    road segment it lands on split there, and a heapq Dijkstra from every facility on reversed arcs."""
    arcs: dict[str, dict[object, list[tuple[object, float]]]] = {"km": defaultdict(list), "min": defaultdict(list)}
    segs = []   # (a_xy, b_xy, speed, oneway) in the direction of travel
    for g, cls, hw, ow in zip(roads.geometry, roads.get("road_class", pd.Series([None] * len(roads))),
                              roads.get("highway", pd.Series([None] * len(roads))),
                              roads.get("oneway", pd.Series([None] * len(roads)))):
        sp = speeds.get(str(hw), speeds.get(str(cls), speeds["other"]))
        ow = str(ow).lower() if ow is not None else "no"
        for part in getattr(g, "geoms", [g]):
            c = [tuple(map(float, xy)) for xy in part.coords]
            if ow in ("-1", "reverse"):
                c = c[::-1]
            for a, b in zip(c[:-1], c[1:]):
                if a != b:
                    segs.append((a, b, sp, ow in ("yes", "true", "1", "-1", "reverse")))
    seg_a = np.array([s[0] for s in segs])
    seg_b = np.array([s[1] for s in segs])
    all_roads = shapely.MultiLineString([LineString([s[0], s[1]]) for s in segs])
    # where each place lands: a point on some segment; the segments are split there
    cuts: dict[int, list[tuple[float, object]]] = defaultdict(list)
    legs = {}
    for kind, geoms in (("p", points), ("f", facilities)):
        for k, g in enumerate(geoms):
            line = shapely.shortest_line(g, all_roads)
            (gx, gy), (rx, ry) = line.coords
            off = float(np.hypot(rx - gx, ry - gy))
            # the segment holding the road point (brute force, point-to-segment distance)
            d = seg_b - seg_a
            t = np.clip(((rx - seg_a[:, 0]) * d[:, 0] + (ry - seg_a[:, 1]) * d[:, 1]) / (d ** 2).sum(1), 0, 1)
            gap = np.hypot(seg_a[:, 0] + t * d[:, 0] - rx, seg_a[:, 1] + t * d[:, 1] - ry)
            s = int(np.argmin(gap))
            cuts[s].append((float(t[s]), ("cut", kind, k)))
            legs[(kind, k)] = off * conn.detour / 1000.0
    for s, (a, b, sp, one) in enumerate(segs):
        length = float(np.hypot(b[0] - a[0], b[1] - a[1])) / 1000.0
        stops = [(0.0, ("xy", a))] + sorted(cuts.get(s, []), key=lambda x: x[0]) + [(1.0, ("xy", b))]
        for (t0, n0), (t1, n1) in zip(stops[:-1], stops[1:]):
            km = (t1 - t0) * length
            for w, v in (("km", km), ("min", km / sp * 60.0)):
                arcs[w][n1].append((n0, v))          # reversed arcs: n1 <- n0
                if not one:
                    arcs[w][n0].append((n1, v))
    # Dijkstra from each facility's road point (its leg as the start) on the reversed arcs; a business's
    # cost is its road point's plus its own leg
    out = {}
    for w in ("km", "min"):
        per_km = 1.0 if w == "km" else 60.0 / conn.speed_kmh
        res = np.full((len(points), len(facilities)), np.inf)
        for j in range(len(facilities)):
            start = ("cut", "f", j)
            dist = _dijkstra(arcs[w], start, legs[("f", j)] * per_km)
            for i in range(len(points)):
                res[i, j] = dist.get(("cut", "p", i), np.inf) + legs[("p", i)] * per_km
        out[w] = res
    return out["km"], out["min"]


def _dijkstra(arcs: dict, start: object, d0: float) -> dict:
    """Plain heapq Dijkstra from ``start`` (at cost ``d0``) over ``arcs[u] = [(v, cost), ...]``."""
    dist = {start: d0}
    heap = [(d0, 0, start)]
    seen = set()
    tie = 1
    while heap:
        dd, _, u = heapq.heappop(heap)
        if u in seen:
            continue
        seen.add(u)
        for v, c in arcs.get(u, []):
            nd = dd + c
            if nd < dist.get(v, np.inf):
                dist[v] = nd
                heapq.heappush(heap, (nd, tie, v))
                tie += 1
    return dist


def _check(roads: gpd.GeoDataFrame, points: np.ndarray, facilities: np.ndarray, reach_km: float) -> int:
    net = build_network(roads)
    tc = travel_costs(points, facilities, net, reach_km=reach_km)
    km, mins = _independent(roads, points, facilities, net.connector, dict(ROAD_SPEEDS_KMH))
    # every pair within the reach found, none beyond it, at the independent cost
    inside = np.argwhere(km <= reach_km * (1 - REL))
    got = set(zip(tc.i.tolist(), tc.j.tolist()))
    assert {(int(i), int(j)) for i, j in inside} <= got
    assert all(km[i, j] <= reach_km * (1 + REL) for i, j in got)
    np.testing.assert_allclose(tc.km, km[tc.i, tc.j], rtol=REL, atol=1e-6)
    np.testing.assert_allclose(tc.minutes, mins[tc.i, tc.j], rtol=REL, atol=1e-6)
    # never shorter than the straight line
    straight = shapely.distance(points[tc.i], facilities[tc.j]) / 1000.0
    np.testing.assert_allclose(tc.straight_km, straight, rtol=1e-9)
    assert (tc.km >= straight - 1e-9).all()
    return len(tc.i)


# ---------------------------------------------------------------- the demo and an OSM province


def test_demo_road_distances_agree_with_an_independent_dijkstra():
    roads = gpd.read_file(DEMO / "roads.shp").to_crs(CRS)
    biz = gpd.read_file(DEMO / "businesses.shp").to_crs(CRS)
    est = gpd.read_file(DEMO / "estates.shp").to_crs(CRS)
    pts = biz.geometry.values[::40]          # 150 businesses spread over the province
    n = _check(roads, np.asarray(pts, dtype=object), np.asarray(est.geometry.values, dtype=object), 30.0)
    assert n > 20


@pytest.fixture(scope="module")
def osm_region(tmp_path_factory):
    pyrosm = pytest.importorskip("pyrosm")
    from siteplan.cli.ingest_osm import ingest_osm

    out = tmp_path_factory.mktemp("osm") / "region"
    ingest_osm(Path(pyrosm.__file__).parent / "data" / "test.osm.pbf", out)
    return out / "region.gpkg"


def test_osm_province_road_distances_agree_and_respect_oneway(osm_region):
    roads = gpd.read_file(osm_region, layer="roads")
    assert {"highway", "oneway"} <= set(roads.columns)
    assert (roads["oneway"] == "yes").sum() > 0          # the extract has one-way ways
    crs = roads.estimate_utm_crs()
    roads = roads.to_crs(crs)
    biz = gpd.read_file(osm_region, layer="businesses").to_crs(crs)
    est = gpd.read_file(osm_region, layer="estates").to_crs(crs)
    assert len(biz) and len(est)
    net = build_network(roads)
    assert net.seg_oneway.any()
    # estates by a point inside each: a polygon that several roads touch joins the nearest one, a choice
    # between equals that the two computations may make differently
    pts = np.asarray(shapely.point_on_surface(est.geometry.values), dtype=object)
    n = _check(roads, np.asarray(biz.geometry.values, dtype=object), pts, 5.0)
    assert n > 0


# ---------------------------------------------------------------- synthetic cases


def _lines(rows: list[tuple[list[tuple[float, float]], str, str]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"road_class": [r[1] for r in rows], "oneway": [r[2] for r in rows]},
                            geometry=[LineString(r[0]) for r in rows], crs=CRS)


def test_oneway_is_respected():
    # a 1 km square loop: the bottom side A->B is one-way eastwards, the others two-way
    sq = [((0, 0), (1000, 0), "yes"), ((1000, 0), (1000, 1000), "no"), ((1000, 1000), (0, 1000), "no"),
          ((0, 1000), (0, 0), "no")]
    roads = _lines([([a, b], "other", o) for a, b, o in sq])
    net = build_network(roads, connector=Connector(speed_kmh=15.0, detour=1.0))
    a, b = np.array([Point(0, -1)], dtype=object), np.array([Point(1000, -1)], dtype=object)
    east = travel_costs(a, b, net, reach_km=10)
    west = travel_costs(b, a, net, reach_km=10)
    assert east.km[0] == pytest.approx(1.002, abs=1e-9)        # along the one-way side
    assert west.km[0] == pytest.approx(3.002, abs=1e-9)        # around the loop
    # reversing the way's direction ("-1") swaps them; a same-segment trip against it goes around too
    rev = build_network(_lines([([a_, b_], "other", "-1" if o == "yes" else o) for a_, b_, o in sq]),
                        connector=Connector(speed_kmh=15.0, detour=1.0))
    assert travel_costs(a, b, rev, reach_km=10).km[0] == pytest.approx(3.002, abs=1e-9)
    assert travel_costs(b, a, rev, reach_km=10).km[0] == pytest.approx(1.002, abs=1e-9)
    # minutes: road at the class speed, the 1 m legs at the connector speed
    assert east.minutes[0] == pytest.approx(1.0 / ROAD_SPEEDS_KMH["other"] * 60 + 0.002 / 15 * 60)


def test_disconnected_component_is_reported_and_not_crossed():
    roads = _lines([([(0, 0), (5000, 0)], "primary", "no"), ([(0, 10_000), (3000, 10_000)], "other", "no")])
    net = build_network(roads)
    assert net.n_components == 2
    notes = network_notes(net, {"businesses": [Point(100, 10_050)], "estates": [Point(4000, 5)]})
    assert any("2 disconnected parts" in n for n in notes)
    tc = travel_costs(np.array([Point(100, 10_050)], dtype=object), np.array([Point(4000, 5)], dtype=object), net,
                      reach_km=1000)
    assert len(tc.i) == 0        # no route between the parts, however far the reach
    far = network_notes(net, {"businesses": [Point(100, 5000)]})
    assert any("businesses: 1 of 1 lie more than 2 km from any road" in n for n in far)


def test_lines_meeting_within_the_snap_tolerance_connect_and_crossings_do_not():
    # two lines whose end points are 0.5 m apart meet; a line crossing without a shared vertex does not
    roads = _lines([([(0, 0), (1000, 0)], "other", "no"), ([(1000.5, 0), (2000, 0)], "other", "no"),
                    ([(500, -1000), (500, 1000)], "other", "no")])
    net = build_network(roads)
    assert net.n_components == 2
    tc = travel_costs(np.array([Point(0, 0)], dtype=object), np.array([Point(2000, 0)], dtype=object), net,
                      reach_km=10)
    assert tc.km[0] == pytest.approx(2.0, abs=1e-3)


def test_reach_in_minutes_and_parallel_roads():
    # a slow direct road and a fast detour: the shortest km and the fastest minutes take different roads
    roads = _lines([([(0, 0), (10_000, 0)], "residential", "no"),
                    ([(0, 0), (5000, 3000), (10_000, 0)], "motorway", "no")])
    net = build_network(roads)
    a, b = np.array([Point(0, 0)], dtype=object), np.array([Point(10_000, 0)], dtype=object)
    tc = travel_costs(a, b, net, reach_min=60)
    detour_km = 2 * np.hypot(5000, 3000) / 1000
    assert tc.km[0] == pytest.approx(10.0)
    assert tc.minutes[0] == pytest.approx(detour_km / 90 * 60)
    assert tc.measure == "minutes" and tc.cost[0] == tc.minutes[0]
    assert len(travel_costs(a, b, net, reach_min=detour_km / 90 * 60 * 0.99).i) == 0
    straight = travel_costs(a, b, None, reach_km=20)
    assert straight.measure == "straight" and straight.km[0] == pytest.approx(10.0)


def test_travel_costs_are_deterministic():
    roads = gpd.read_file(DEMO / "roads.shp").to_crs(CRS)
    biz = gpd.read_file(DEMO / "businesses.shp").to_crs(CRS)
    est = gpd.read_file(DEMO / "estates.shp").to_crs(CRS)
    one = travel_costs(biz, est, build_network(roads), reach_km=30)
    two = travel_costs(biz, est, build_network(roads), reach_km=30)
    for k in ("i", "j", "km", "minutes", "straight_km"):
        assert getattr(one, k).tobytes() == getattr(two, k).tobytes()


# ---------------------------------------------------------------- the demo run


def test_demo_runs_on_road_costs_by_default(demo_run_dir):
    m = json.loads((demo_run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["travel"]["distance"] == "road" and m["travel"]["measure"] == "road km"
    rel = pd.read_csv(demo_run_dir / "relocation.csv", encoding="utf-8-sig")
    cols = list(rel.columns)
    assert cols[cols.index("distance_km") + 1: cols.index("distance_km") + 3] == ["road_km", "minutes"]
    a = rel[rel["status"] == "assigned"]
    assert a["road_km"].notna().all() and a["minutes"].notna().all()
    assert (a["road_km"] >= a["distance_km"] - 1e-3).all()
    assert (a["road_km"] <= 30 + 1e-3).all()
    report = (demo_run_dir / "report.html").read_text(encoding="utf-8")
    assert "by road" in report


# ---------------------------------------------------------------- validate and a small run


def _small(tmp_path, fn):
    from conftest import edit_yaml, small_scenario

    tmp_path.mkdir(parents=True, exist_ok=True)
    sc = small_scenario(tmp_path)
    edit_yaml(sc, fn)
    return sc


def test_validate_reports_disconnected_roads_and_far_places(tmp_path):
    from click.testing import CliRunner

    from siteplan.common.atomic import write_shapefile
    from siteplan.cli import main

    sc = _small(tmp_path, lambda d: None)
    roads = gpd.read_file(sc.parent / "roads.shp")
    # a short road far from the rest: a second part of the network
    x, y = roads.total_bounds[0] - 0.3, roads.total_bounds[1] - 0.3
    extra = gpd.GeoDataFrame({"road_class": ["other"]}, geometry=[LineString([(x, y), (x + 0.01, y)])], crs=roads.crs)
    write_shapefile(pd.concat([roads, extra], ignore_index=True), sc.parent / "roads.shp")
    r = CliRunner().invoke(main, ["validate", str(sc)])
    assert r.exit_code == 0, r.output
    assert "roads: the network has 2 disconnected parts" in r.output
    assert "from any road" in r.output


def test_reach_in_minutes_needs_roads(tmp_path):
    from click.testing import CliRunner

    from siteplan.cli import main

    def no_roads(d):
        d["layers"].pop("roads")
        d["criteria"] = [c for c in d["criteria"] if c["layer"] != "roads"]
        d["allocation"]["reach_min"] = 40
        d["allocation"].pop("max_distance_km")

    sc = _small(tmp_path, no_roads)
    r = CliRunner().invoke(main, ["validate", str(sc)])
    assert r.exit_code == 1 and "allocation.reach_min: a reach in minutes needs road distances" in r.output
    assert "Traceback" not in r.output


def test_small_run_road_and_straight(tmp_path):
    from siteplan.pipeline import run
    from siteplan.scenario import load_scenario

    road_sc = _small(tmp_path / "a", lambda d: None)
    straight_sc = _small(tmp_path / "b", lambda d: d["allocation"].update({"distance": "straight"}))
    mins_sc = _small(tmp_path / "c", lambda d: (d["allocation"].pop("max_distance_km"),
                                                d["allocation"].update({"reach_min": 45})))
    road, straight, mins = (run(load_scenario(p)) for p in (road_sc, straight_sc, mins_sc))
    assert road.plan.measure == "km" and straight.plan.measure == "straight" and mins.plan.measure == "minutes"
    assert "road_km" not in straight.plan.rows and "road_km" in road.plan.rows
    a = road.plan.rows[road.plan.rows.status == "assigned"]
    assert len(a) and (a["road_km"] <= 30 + 1e-3).all() and (a["road_km"] >= a["distance_km"] - 1e-3).all()
    m = mins.plan.rows[mins.plan.rows.status == "assigned"]
    assert len(m) and (m["minutes"] <= 45 + 0.05).all()
    un = road.plan.rows[road.plan.rows.status == "unassigned"]["reason"]
    assert not un.str.contains(r"within 30 km \(", regex=True).any()   # reasons say "by road"
    # a nearest-estate distance in a road run is straight, and says so; a straight run's needs not
    assert not un.str.contains(r"at [\d.]+ km\)", regex=True).any()
    assert not straight.plan.rows["reason"].fillna("").str.contains("straight line").any()


def test_explain_prints_routes_by_road(tmp_path):
    from siteplan.outputs.explain import explain
    from siteplan.pipeline import prepare
    from siteplan.relocation.roads import scenario_network
    from siteplan.scenario import load_scenario

    sc = _small(tmp_path, lambda d: None)
    prep = prepare(load_scenario(sc))
    b = prep.businesses.to_crs(4326).geometry.iloc[0]
    e = explain(prep, "car_repair", at=(b.x, b.y))
    text = "\n".join(e.lines())
    assert "routes by road to the estates within reach" in text
    assert e.routes is not None and len(e.routes)
    est = prep.region.layers["estates"]
    tc = travel_costs(prep.businesses.geometry.values[:1], est.geometry.values, scenario_network(prep), reach_km=30)
    best = int(np.argmin(tc.km))
    assert e.routes["estate_id"].iat[0] == est["estate_id"].iat[tc.j[best]]
    assert e.routes["road_km"].iat[0] == pytest.approx(tc.km[best], rel=1e-6)
    assert f"{tc.km[best]:8.2f} km by road" in text
    assert e.as_dict()["travel"] == "road"
