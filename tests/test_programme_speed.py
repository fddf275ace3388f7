"""The programme stage's fast residents count (issue 31): the same figures as one union of each group's
buffers, without that union over whole towns (contained point buffers left out, the union taken by
disjoint subsets, the parts inside an urban area counted by their own area, point buffers from a
template per distance)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from siteplan.programme import exposure
from siteplan.programme.exposure import QUAD_SEGS, Residents


def _by_union(res: Residents, geoms: np.ndarray, quiet_m: np.ndarray, mixed_m: np.ndarray,
              sets: list[np.ndarray]) -> np.ndarray:
    """Each set's residents the plain way: per kind, one union of all its buffers, then each urban
    area's population by the share of its area inside (a settlement point: whole when reached)."""
    out = np.zeros(len(sets))
    area = shapely.area(res.geoms)
    for k, s in enumerate(sets):
        for is_mixed, dist in ((False, quiet_m), (True, mixed_m)):
            g, d = geoms[s], dist[s]
            keep = (d > 0) & ~shapely.is_missing(g)
            keep[keep] &= ~shapely.is_empty(g[keep])
            if not keep.any():
                continue
            union = shapely.union_all(shapely.buffer(g[keep], d[keep], quad_segs=QUAD_SEGS))
            for u, pop, mx, a in zip(res.geoms, res.population, res.mixed, area):
                if mx != is_mixed or not union.intersects(u):
                    continue
                out[k] += pop * (1.0 if a <= 0 else min(shapely.area(shapely.intersection(union, u)) / a, 1.0))
    return out


def _instance(seed: int) -> tuple[Residents, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """A random province: urban boxes (some touching), a settlement point, dense and sparse businesses
    (repeated spots, buffers inside others, buffers touching an urban edge), polygon sites, empty sets."""
    rng = np.random.default_rng(seed)
    urban = [shapely.box(x, y, x + rng.uniform(300, 1500), y + rng.uniform(300, 1500))
             for x, y in rng.uniform(0, 5000, (10, 2))]
    urban += [shapely.box(6000, 0, 7000, 1000), shapely.box(7000, 0, 8000, 1000)]  # touching
    urban += [shapely.box(2200, 2200, 2900, 2800), shapely.Point(2500, 2500)]  # the dense town; a settlement
    res = Residents(np.array(urban, dtype=object), rng.uniform(100, 5000, len(urban)),
                    np.r_[rng.random(len(urban) - 1) < 0.3, False])
    dense = rng.normal(2500, 300, (400, 2))
    sparse = rng.uniform(-500, 8500, (200, 2))
    spots = np.repeat(rng.uniform(0, 5000, (20, 2)), 3, axis=0)  # three businesses on each spot
    edge = np.array([[6500.0, -100.0], [7000.0, 1100.0], [7500.0, 500.0]])  # 100 m from an edge, on the seam
    pts = list(shapely.points(np.concatenate([dense, sparse, spots, edge])))
    sites = [shapely.box(6100, 1200, 6400, 1500), shapely.box(6400, 1200, 6700, 1500)]  # touching sites
    geoms = np.array(pts + sites * 4 + [None, shapely.Point()], dtype=object)
    n = len(geoms)
    quiet = rng.choice([0.0, 10.0, 30.0, 100.0, 200.0, 500.0], n)
    quiet[len(dense) + len(sparse) + len(spots):len(pts)] = 100.0  # touch the edge exactly
    mixed = rng.choice([0.0, 10.0, 50.0, 300.0], n)
    sets = [np.arange(n), rng.permutation(n)[:150], np.arange(len(dense)), np.array([], dtype=np.int64),
            np.arange(len(pts), n), np.array([5, 5, 7]), np.arange(0, n, 3), np.arange(len(dense), n)[::-1]]
    return res, geoms, quiet, mixed, sets


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_count_equals_the_union_count(seed):
    res, geoms, quiet, mixed, sets = _instance(seed)
    got = res.exposed_sets(geoms, quiet, mixed, sets)
    want = _by_union(res, geoms, quiet, mixed, sets)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    assert got[0] > 0 and got[3] == 0
    # each set alone gives the same float (shared buffers and unions change nothing)
    for k, s in enumerate(sets):
        assert got[k] == float(res.exposed(geoms[s], quiet[s], mixed[s]).sum())


def test_no_union_gets_a_buffer_inside_another(monkeypatch):
    """The union is never handed a point's buffer that lies inside another of the same run (the old
    code handed the whole town's buffers to one union)."""
    res, geoms, quiet, mixed, sets = _instance(3)
    seen: list[np.ndarray] = []
    real = exposure._UNION

    def spy(bufs):
        seen.append(np.asarray(bufs, dtype=object))
        return real(bufs)

    monkeypatch.setattr(exposure, "_UNION", spy)
    res.exposed_sets(geoms, quiet, mixed, sets)
    big = [b for b in seen if len(b) >= exposure._PRUNE_FROM]
    assert big
    for bufs in big:
        disc = bufs[shapely.get_num_coordinates(bufs) == 4 * QUAD_SEGS + 1]  # points' buffers
        i, j = shapely.STRtree(disc).query(disc, predicate="covered_by")
        assert (i == j).all()


def test_left_out_buffers_lie_inside_a_kept_one():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 2000, (3000, 2))
    xy[1000:1100] = xy[:100]  # repeats
    r = rng.choice([10.0, 30.0, 200.0, 500.0], len(xy))
    r[1000:1100] = r[:100]
    # near the limit: a small disc just inside and just outside a big one's inscribed circle
    cos = np.cos(np.pi / (4 * QUAD_SEGS))
    xy[2000], r[2000] = (5000.0, 5000.0), 500.0
    xy[2001], r[2001] = (5000.0 + 500.0 * cos - 10.0 - 1e-6, 5000.0), 10.0
    xy[2002], r[2002] = (5000.0, 5000.0 + 500.0 * cos - 10.0 + 1e-3), 10.0
    out = exposure._inside_another(xy, r)
    assert out[1000:1100].all() and out[2001] and not out[2002]
    bufs = exposure._discs(xy, r)
    inside, _ = shapely.STRtree(bufs[~out]).query(bufs[out], predicate="covered_by")
    assert set(inside.tolist()) == set(range(int(out.sum())))
    # polygons' buffers (NaN centres) are never left out
    xy[:10] = np.nan
    assert not exposure._inside_another(xy, r)[:10].any()


def test_disc_template_is_geos_buffer_to_the_bit():
    rng = np.random.default_rng(11)
    xy = np.c_[rng.uniform(-1e6, 1e6, 5000), rng.uniform(3e6, 4.5e6, 5000)]
    r = rng.choice([0.5, 10.0, 33.3, 200.0, 1234.5], 5000)
    got = exposure._discs(xy, r)
    want = shapely.buffer(shapely.points(xy), r, quad_segs=QUAD_SEGS)
    assert shapely.equals_identical(got, want).all()


def test_road_pairs_within_reach_are_the_all_pairs_answer_cut_at_the_reach():
    """The pairs within a reach (looked up only where a facility reaches a point's segment end) are the
    pairs of an unbounded reach whose cost is within it, with the same costs, on a grid with one-way
    streets, a road apart, points off the roads and polygon facilities."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from siteplan.relocation.roads import build_network, travel_costs

    rng = np.random.default_rng(2)
    lines = [LineString([(0, y), (20_000, y)]) for y in range(0, 20_001, 2500)]
    lines += [LineString([(x, 0), (x, 20_000)]) for x in range(0, 20_001, 2500)]
    lines += [LineString([(40_000, 0), (45_000, 0)])]
    oneway = rng.choice(["no", "no", "yes", "-1"], len(lines))
    roads = gpd.GeoDataFrame({"road_class": rng.choice(["primary", "residential"], len(lines)), "oneway": oneway},
                             geometry=lines, crs="EPSG:32639")
    net = build_network(roads)
    pts = np.array(list(shapely.points(rng.uniform(-1000, 46_000, (3000, 2)))), dtype=object)
    fac = np.array([shapely.box(x, y, x + 300, y + 200) for x, y in rng.uniform(-500, 45_000, (60, 2))]
                   + list(shapely.points(rng.uniform(0, 20_000, (20, 2)))), dtype=object)
    for key, reach in (("reach_km", 6.0), ("reach_min", 9.0)):
        cut = travel_costs(pts, fac, net, **{key: reach})
        every = travel_costs(pts, fac, net, **{key: 1e6})
        cost = every.km if key == "reach_km" else every.minutes
        within = cost <= reach * (1 + 1e-12)
        assert 0 < len(cut.i) < len(every.i)
        np.testing.assert_array_equal(cut.i, every.i[within])
        np.testing.assert_array_equal(cut.j, every.j[within])
        np.testing.assert_allclose(cut.km, every.km[within], rtol=1e-12)
        np.testing.assert_allclose(cut.minutes, every.minutes[within], rtol=1e-12)


def test_member_digests_hash_each_member_as_before() -> None:
    """The memo's member digests, hashed once per distinct (geometry object, distances), are each
    member's own SHA-256 of its WKB and two distances (the memo's keys and file bytes unchanged):
    repeated objects, equal copies, -0.0 against 0.0, NaN, None and empty geometries included."""
    import hashlib

    from siteplan.programme import setmemo

    rng = np.random.default_rng(3)
    pts = shapely.points(rng.uniform(0, 1e4, (400, 2)))
    zones = shapely.buffer(shapely.points(rng.uniform(0, 1e4, (5, 2))), 200.0)
    after = pts.copy()
    moved = rng.random(400) < 0.5
    after[moved] = zones[rng.integers(0, 5, int(moved.sum()))]
    copies = np.array([shapely.Point(1.0, 2.0), shapely.Point(1.0, 2.0)], dtype=object)  # equal, not the same
    geoms = np.concatenate([pts, after, copies, np.array([None, shapely.Point()], dtype=object)])
    q = rng.choice([0.0, -0.0, 100.0, np.nan], len(geoms))
    m = rng.choice([0.0, 50.0], len(geoms))
    want = np.array([np.frombuffer(hashlib.sha256((shapely.to_wkb(g) if g is not None else b"")
                                                  + q[i:i + 1].tobytes() + m[i:i + 1].tobytes()).digest(), np.uint8)
                     for i, g in enumerate(geoms)])
    assert np.array_equal(setmemo._member_digests(geoms, q, m), want)
    assert setmemo._member_digests(geoms[:0], q[:0], m[:0]).shape == (0, 32)


def test_origins_worked_out_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The programme and the write stage both ask for each business's origin town: the nearest-town
    search runs once per run, and again when the run's businesses change."""
    from types import SimpleNamespace

    import geopandas as gpd
    import pandas as pd

    from siteplan.programme import summaries

    urban = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)])
    biz = gpd.GeoDataFrame({"biz_id": ["b1", "b2", "b3"]},
                           geometry=[shapely.Point(1, 1), shapely.Point(25, 5), shapely.Point(14, 5)])
    rows = pd.DataFrame({"biz_id": ["b3", "b1", "b2"]})
    class Plan:  # a plan (weakly referenced, as relocation.Plan is)
        def __init__(self, rows: pd.DataFrame) -> None:
            self.rows = rows

    res = SimpleNamespace(prep=SimpleNamespace(region=SimpleNamespace(layers={"urban": urban}), businesses=biz),
                          plan=Plan(rows))
    built = []
    real = shapely.STRtree

    def tree(geoms: np.ndarray) -> shapely.STRtree:
        built.append(len(geoms))
        return real(geoms)

    monkeypatch.setattr(summaries.shapely, "STRtree", tree)
    first = summaries.origins(res)  # type: ignore[arg-type]
    second = summaries.origins(SimpleNamespace(prep=res.prep, plan=res.plan))  # a copy of the run: same plan
    assert first.to_dict() == second.to_dict() == {"b3": "A", "b1": "A", "b2": "B"} and len(built) == 1
    second.iloc[0] = "changed"  # a caller's change does not reach the next caller
    assert summaries.origins(res).to_dict() == first.to_dict()  # type: ignore[arg-type]
    res.plan.rows = rows.iloc[:2].copy()
    assert summaries.origins(res).to_dict() == {"b3": "A", "b1": "A"} and len(built) == 2  # type: ignore[arg-type]
    plain = SimpleNamespace(prep=res.prep, plan=SimpleNamespace(rows=res.plan.rows))  # no weak reference: not kept
    assert summaries.origins(plain).to_dict() == {"b3": "A", "b1": "A"} and len(built) == 3  # type: ignore[arg-type]
