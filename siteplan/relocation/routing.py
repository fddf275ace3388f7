"""Routing on the road network: how points join it and the travel costs of the pairs within a reach.

* **Connectors**: each point (business, town, estate, site) joins the road at the nearest point of the
  nearest segment; the off-network leg is that straight distance × ``connector.detour`` driven at
  ``connector.speed_kmh`` (defaults :data:`siteplan.standards.CONNECTOR_DETOUR`,
  :data:`~siteplan.standards.CONNECTOR_SPEED_KMH`). From there the route runs along the segment to
  either end (only downstream on a one-way segment), or directly to a facility on the same segment.
* **Two measures, each exact**: ``km`` is the shortest road distance (connector legs included) and
  ``minutes`` the fastest travel time; each is its own shortest path (they may follow different
  routes). The reach is given in one of them (``reach_km`` or ``reach_min``), which is the measure of
  the allocation cost.
* **Computation**: scipy.sparse.csgraph Dijkstra with ``limit=`` (only nodes within the reach are
  settled) from one virtual node per facility on the reversed graph (the facility's arrival legs as
  its arcs), facilities in chunks so memory stays bounded; the points' access legs are added in
  numpy. No Python loop over points.

The graph is built by :mod:`siteplan.relocation.network`; :mod:`siteplan.relocation.roads` is the
stable interface (the run's network, its notes and these functions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from ..common.units import M_PER_KM
from ..rules.standards import FAR_FROM_ROAD_M
from .network import MIN_PER_H, MIN_SEGMENT_M, RoadNetwork, arc_matrix

__all__ = ["Access", "TravelCosts", "as_geometries", "connect", "end_costs", "routes_from", "travel_costs"]

# dense cells (sources × nodes or sources × points) per Dijkstra chunk: bounds the memory of one chunk
# to about CHUNK_CELLS × 8 bytes × a few arrays
CHUNK_CELLS = 4_000_000

Measure = Literal["km", "minutes"]


@dataclass(frozen=True, eq=False)
class Access:
    """How each point joins the network: its segment, position along it (0 at ``seg_a``, 1 at
    ``seg_b``), the straight distance to the road (m) and the connector leg in km and minutes."""

    seg: np.ndarray
    t: np.ndarray
    off_m: np.ndarray
    leg_km: np.ndarray
    leg_min: np.ndarray

    def far(self, threshold_m: float = FAR_FROM_ROAD_M) -> np.ndarray:
        """Mask of the points farther than ``threshold_m`` from any road."""
        return self.off_m > threshold_m


@dataclass(frozen=True, eq=False)
class TravelCosts:
    """Travel costs of the (point, facility) pairs within the reach (see :func:`travel_costs`).

    Attributes
    ----------
    i, j
        Point and facility positions of each pair, sorted by (i, j).
    km, minutes
        Road km (shortest) and minutes (fastest) of each pair, connector legs included; under
        ``measure == "straight"``: straight km and NaN minutes.
    straight_km
        The straight-line distance of each pair (km).
    measure
        ``"km"`` or ``"minutes"`` (road, the reach's measure) or ``"straight"``.
    reach
        The reach, in the measure's unit.
    shape
        (points, facilities).
    points, facilities
        The connector legs (None for straight lines).
    """

    i: np.ndarray
    j: np.ndarray
    km: np.ndarray
    minutes: np.ndarray
    straight_km: np.ndarray
    measure: Literal["km", "minutes", "straight"]
    reach: float
    shape: tuple[int, int]
    points: Access | None = None
    facilities: Access | None = None

    @property
    def cost(self) -> np.ndarray:
        """Each pair's cost in the reach's measure (km, minutes, or straight km)."""
        return self.minutes if self.measure == "minutes" else self.km

    def matrix(self, which: Literal["km", "minutes", "straight_km", "cost"] = "cost") -> sparse.csr_matrix:
        """The pairs as a CSR matrix (points × facilities); explicit zeros are kept, absent = out of reach."""
        v = {"km": self.km, "minutes": self.minutes, "straight_km": self.straight_km, "cost": self.cost}[which]
        return sparse.csr_matrix((v, (self.i, self.j)), shape=self.shape)


def connect(net: RoadNetwork, geoms: np.ndarray) -> Access:
    """Each geometry's connector: the nearest point of the nearest segment (a polygon from its edge,
    0 m when a road touches or enters it).

    Parameters
    ----------
    net
        The network.
    geoms
        Shapely geometries in the network's CRS.

    Returns
    -------
    Access
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0 or not len(net.seg_a):
        nan = np.full(n, np.nan)
        return Access(np.full(n, -1, np.int64), nan, nan.copy(), nan.copy(), nan.copy())
    (qi, seg), _ = net.tree().query_nearest(geoms, all_matches=False, return_distance=True)
    s = np.full(n, -1, np.int64)
    s[qi] = seg
    ok = s >= 0
    line = shapely.shortest_line(net.seg_geom[s[ok]], geoms[ok])
    xy = shapely.get_coordinates(line).reshape(-1, 2, 2)
    on_road = shapely.points(xy[:, 0])
    off = np.full(n, np.nan)
    t = np.full(n, np.nan)
    off[ok] = np.hypot(*(xy[:, 1] - xy[:, 0]).T)
    t[ok] = np.clip(shapely.line_locate_point(net.seg_geom[s[ok]], on_road) / net.seg_len_m[s[ok]], 0.0, 1.0)
    leg_km = off * net.connector.detour / M_PER_KM
    return Access(s, t, off, leg_km, leg_km / net.connector.speed_kmh * MIN_PER_H)


def _straight(points: np.ndarray, facilities: np.ndarray, reach_km: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, km) of the pairs within ``reach_km`` in a straight line, sorted."""
    if not len(points) or not len(facilities):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    tree = shapely.STRtree(facilities)
    i, j = tree.query(points, predicate="dwithin", distance=reach_km * M_PER_KM)
    km = shapely.distance(points[i], facilities[j]) / M_PER_KM
    order = np.lexsort((j, i))
    return i[order].astype(np.int64), j[order].astype(np.int64), km[order]


def travel_costs(points: object, facilities: object, net: RoadNetwork | None, *, reach_km: float | None = None,
                 reach_min: float | None = None) -> TravelCosts:
    """Travel costs from every point to every facility within the reach: the ONE cost function.

    Parameters
    ----------
    points
        Geometries (array, GeoSeries or GeoDataFrame) of the origins (businesses, towns), network CRS.
    facilities
        Geometries of the destinations (estates, candidate sites); polygons are reached at their edge.
    net
        The road network; None: straight lines (``reach_min`` is then refused).
    reach_km, reach_min
        The reach, exactly one of them: road km (shortest) or minutes (fastest). It is the cost's
        measure; pairs beyond it are absent.

    Returns
    -------
    TravelCosts
        Pairs within the reach, sorted by (point, facility), with road km, minutes and straight km.
    """
    if (reach_km is None) == (reach_min is None):
        raise ValueError("give exactly one of reach_km and reach_min")
    pts = as_geometries(points)
    fac = as_geometries(facilities)
    shape = (len(pts), len(fac))
    if net is None:
        if reach_km is None:
            raise ValueError("a reach in minutes needs a road network")
        i, j, km = _straight(pts, fac, float(reach_km))
        return TravelCosts(i, j, km, np.full(len(i), np.nan), km.copy(), "straight", float(reach_km), shape)
    measure: Measure = "km" if reach_km is not None else "minutes"
    reach = float(reach_km if reach_km is not None else reach_min)  # type: ignore[arg-type]
    pa, fa = connect(net, pts), connect(net, fac)
    i, j, km, mins = _road_pairs(net, pa, fa, measure, reach)
    straight = shapely.distance(pts[i], fac[j]) / M_PER_KM if len(i) else np.zeros(0)
    return TravelCosts(i, j, km, mins, straight, measure, reach, shape, pa, fa)


def as_geometries(x: object) -> np.ndarray:
    """The shapely geometries of a GeoDataFrame, a GeoSeries or a sequence, as an object array."""
    if isinstance(x, gpd.GeoDataFrame):
        return np.asarray(x.geometry.values, dtype=object)
    if isinstance(x, gpd.GeoSeries):
        return np.asarray(x.values, dtype=object)
    return np.asarray(x, dtype=object)


def end_costs(net: RoadNetwork, acc: Access, leg: np.ndarray, w_per_m: np.ndarray, *, depart: bool
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per point, its two end nodes and the cost to leave by each (``depart``) or arrive by each;
    ``inf`` where the one-way direction forbids it or the point has no road. Costs in the unit of
    ``w_per_m`` (per metre of segment) plus ``leg``."""
    s = np.maximum(acc.seg, 0)
    has = acc.seg >= 0
    L = net.seg_len_m[s] * w_per_m[s]
    t = np.nan_to_num(acc.t)
    to_a = leg + t * L          # between the point and node a
    to_b = leg + (1 - t) * L    # between the point and node b
    one = net.seg_oneway[s]
    if depart:   # leaving the point: to b always, to a only on a two-way segment
        cost_a, cost_b = np.where(one, np.inf, to_a), to_b
    else:        # arriving at the point: from a always, from b only on a two-way segment
        cost_a, cost_b = to_a, np.where(one, np.inf, to_b)
    cost_a = np.where(has, cost_a, np.inf)
    cost_b = np.where(has, cost_b, np.inf)
    return net.seg_a[s], net.seg_b[s], cost_a, cost_b


def _road_pairs(net: RoadNetwork, pa: Access, fa: Access, measure: Measure, reach: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, km, minutes) of the pairs within ``reach`` in ``measure`` (see :func:`travel_costs`).

    One Dijkstra per facility (in chunks) on the reversed graph gives the cost from every node; only the
    points at a node a facility reaches within the reach, and those on its own segment, are costed
    (:func:`_candidates`, :func:`_pair_costs`), with the same sums a dense points × facilities table gives.

    Parameters
    ----------
    net
        The road network.
    pa, fa
        How the points and the facilities join the network (:func:`connect`).
    measure
        ``km`` or ``minutes``: the reach's measure.
    reach
        The reach in that measure.

    Returns
    -------
    tuple of numpy.ndarray
        Point, facility, road km and minutes of each pair within the reach, sorted by point then facility.
    """
    n_p, n_f, n = len(pa.seg), len(fa.seg), net.n_nodes
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if n_p == 0 or n_f == 0 or n == 0:
        return empty
    km_per_m = np.full(len(net.seg_a), 1.0 / M_PER_KM)
    min_per_m = km_per_m / net.seg_speed_kmh * MIN_PER_H
    limits = _limits(net, pa, fa, measure, reach)
    per = {"km": (pa.leg_km, fa.leg_km, km_per_m, net.graph_km),
           "minutes": (pa.leg_min, fa.leg_min, min_per_m, net.graph_min)}
    prep = {m: _reversed_graph(net, pa, fa, per[m]) for m in per}
    # direct routes along a shared segment (never through a node)
    same_i, same_j = _same_segment(pa.seg, fa.seg)
    direct = {m: _direct(net, pa, fa, same_i, same_j, per[m][0], per[m][1], per[m][2]) for m in per}
    # the points at each node (either end of their segment), to look at only those a facility reaches
    ends = prep[measure]
    by_node = _points_by_node(np.concatenate([ends[1], ends[2]]), np.concatenate([ends[3], ends[4]]), n)
    chunk = max(1, min(n_f, CHUNK_CELLS // (n + n_f)))
    out_i, out_j, out_km, out_min = [], [], [], []
    for c0 in range(0, n_f, chunk):
        rows = np.arange(c0, min(n_f, c0 + chunk))
        dist = {m: csgraph.dijkstra(prep[m][0], directed=True, indices=rows + n, limit=limits[m])[:, :n]
                for m in per}
        here = (same_j >= c0) & (same_j < rows[-1] + 1)
        r, c = _candidates(dist[measure], reach * (1 + 1e-12), by_node, n_p, same_j[here] - c0, same_i[here])
        vals = {m: _pair_costs(dist[m], prep[m][1:], r, c, (same_j[here] - c0, same_i[here], direct[m][here]))
                for m in per}
        keep = vals[measure] <= reach * (1 + 1e-12)
        out_i.append(c[keep])
        out_j.append(r[keep] + c0)
        out_km.append(vals["km"][keep])
        out_min.append(vals["minutes"][keep])
    i = np.concatenate(out_i).astype(np.int64)
    j = np.concatenate(out_j).astype(np.int64)
    km, mins = np.concatenate(out_km), np.concatenate(out_min)
    order = np.lexsort((j, i))
    return i[order], j[order], km[order], mins[order]


def _limits(net: RoadNetwork, pa: Access, fa: Access, measure: Measure, reach: float) -> dict[str, float]:
    """The Dijkstra limit of each measure: the reach in its own, and in the other a bound the primary
    route of any pair within the reach never exceeds (its legs at the connector speed, its road part at
    the slowest/fastest road); the optimum of the other measure is no worse than that route."""
    v_min, v_max = float(net.seg_speed_kmh.min()), float(net.seg_speed_kmh.max())
    legs_km = float(np.nanmax(pa.leg_km, initial=0.0) + np.nanmax(fa.leg_km, initial=0.0))
    if measure == "km":
        return {"km": reach, "minutes": (legs_km / net.connector.speed_kmh + reach / v_min) * MIN_PER_H}
    return {"minutes": reach, "km": reach / MIN_PER_H * max(v_max, net.connector.speed_kmh)}


def _reversed_graph(net: RoadNetwork, pa: Access, fa: Access,
                    legs: tuple[np.ndarray, np.ndarray, np.ndarray, sparse.csr_matrix]
                    ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One measure's reversed graph with one virtual node per facility (its arcs: the facility's arrival
    legs), and the points' end nodes and costs to leave by each.

    Parameters
    ----------
    net
        The road network.
    pa, fa
        How the points and the facilities join the network.
    legs
        The measure's point legs, facility legs, cost per metre of each segment and graph.

    Returns
    -------
    tuple
        ``(graph, a, b, cost_a, cost_b)``: the augmented reversed graph and :func:`end_costs` of the points.
    """
    p_leg, f_leg, w, g = legs
    n, n_f = net.n_nodes, len(fa.seg)
    fa_a, fa_b, fc_a, fc_b = end_costs(net, fa, f_leg, w, depart=False)
    pa_a, pa_b, pc_a, pc_b = end_costs(net, pa, p_leg, w, depart=True)
    gt = g.T.tocsr()
    rows = np.concatenate([np.arange(n_f), np.arange(n_f)]) + n
    cols = np.concatenate([fa_a, fa_b])
    arrive = np.concatenate([fc_a, fc_b])
    ok = np.isfinite(arrive)
    virt = arc_matrix(rows[ok], cols[ok], np.maximum(arrive[ok], MIN_SEGMENT_M / M_PER_KM), n + n_f)
    # (a zero arrival leg is raised to a negligible weight: csgraph reads a zero arc as none)
    aug = (sparse.bmat([[gt, None], [None, sparse.csr_matrix((n_f, n_f))]], format="csr") + virt).tocsr()
    return aug, pa_a, pa_b, pc_a, pc_b


def _points_by_node(node: np.ndarray, cost: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The points at each node, as ``points[ptr[k]:ptr[k + 1]]`` for node ``k``.

    Parameters
    ----------
    node
        The end nodes of the points' segments: the ``a`` ends of all points, then their ``b`` ends.
    cost
        The cost between each point and that end (``inf``: not by that end; left out).
    n
        The number of nodes.

    Returns
    -------
    tuple of numpy.ndarray
        ``(ptr, points)``.
    """
    n_p = len(node) // 2
    ok = np.flatnonzero(np.isfinite(cost))
    order = ok[np.argsort(node[ok], kind="stable")]
    ptr = np.searchsorted(node[order], np.arange(n + 1))
    return ptr, order % n_p


def _candidates(dist: np.ndarray, bound: float, by_node: tuple[np.ndarray, np.ndarray], n_p: int,
                direct_r: np.ndarray, direct_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (facility row, point) pairs that may be within ``bound``: a point at a node the facility
    reaches within it (a route's cost is at least its road part), or on the facility's own segment.

    Parameters
    ----------
    dist
        The cost from each facility of the chunk to each node (``inf`` beyond the Dijkstra limit).
    bound
        The reach (with its rounding margin).
    by_node
        The points at each node (:func:`_points_by_node`).
    n_p
        The number of points.
    direct_r, direct_c
        The (row, point) pairs on a shared segment.

    Returns
    -------
    tuple of numpy.ndarray
        Rows and points of the distinct candidate pairs, by row then point.
    """
    ptr, points = by_node
    r, node = np.nonzero(dist <= bound)
    cnt = ptr[node + 1] - ptr[node]
    at = np.repeat(ptr[node] - np.cumsum(cnt) + cnt, cnt) + np.arange(int(cnt.sum()))
    key = np.unique(np.concatenate([np.repeat(r, cnt) * n_p + points[at], direct_r * n_p + direct_c]))
    return key // n_p, key % n_p


def _pair_costs(dist: np.ndarray, ends: tuple[np.ndarray, ...], r: np.ndarray, c: np.ndarray,
                direct: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """The cost of each (facility row, point) pair: by either end of the point's segment, or directly
    along a shared segment when that is cheaper.

    Parameters
    ----------
    dist
        The cost from each facility of the chunk to each node.
    ends
        The points' end nodes and their costs to leave by each: ``(a, b, cost_a, cost_b)``.
    r, c
        The pairs (distinct, by row then point).
    direct
        The shared-segment pairs' rows, points and direct costs.

    Returns
    -------
    numpy.ndarray
        One cost per pair.
    """
    pa_a, pa_b, pc_a, pc_b = ends
    v = np.minimum(dist[r, pa_a[c]] + pc_a[c], dist[r, pa_b[c]] + pc_b[c])
    dr, dc, dv = direct
    if len(dr):
        n_p = len(pa_a)
        at = np.searchsorted(r * n_p + c, dr * n_p + dc)  # every direct pair is a candidate
        v[at] = np.minimum(v[at], dv)
    out: np.ndarray = v
    return out


def _same_segment(p_seg: np.ndarray, f_seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point, facility) pairs on the same segment."""
    ok_p = np.flatnonzero(p_seg >= 0)
    ok_f = np.flatnonzero(f_seg >= 0)
    if not len(ok_p) or not len(ok_f):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    m = pd.DataFrame({"i": ok_p, "s": p_seg[ok_p]}).merge(pd.DataFrame({"j": ok_f, "s": f_seg[ok_f]}), on="s")
    return m["i"].to_numpy(np.int64), m["j"].to_numpy(np.int64)


def _direct(net: RoadNetwork, pa: Access, fa: Access, i: np.ndarray, j: np.ndarray, p_leg: np.ndarray,
            f_leg: np.ndarray, w_per_m: np.ndarray) -> np.ndarray:
    """Cost of going straight along the shared segment (inf against a one-way segment)."""
    if not len(i):
        return np.zeros(0)
    s = pa.seg[i]
    L = net.seg_len_m[s] * w_per_m[s]
    dt = fa.t[j] - pa.t[i]
    along = np.abs(dt) * L
    ok = ~net.seg_oneway[s] | (dt >= 0)
    return np.where(ok, p_leg[i] + along + f_leg[j], np.inf)


def routes_from(net: RoadNetwork | None, point: object, facilities: np.ndarray, ids: list[str], spec: object,
                top: int = 5) -> pd.DataFrame:
    """The routes from one point to the facilities within the reach, cheapest first (at most ``top``):
    ``estate_id``, ``road_km``, ``minutes``, ``straight_km``, ``leg_km`` (the point's off-road leg).
    On straight lines ``road_km`` and ``minutes`` are NaN and the pairs are those within the reach in km."""
    reach_min = getattr(spec, "reach_min", None)
    kw = {"reach_min": reach_min} if (reach_min is not None and net is not None) else \
        {"reach_km": float(spec.max_distance_km)}  # type: ignore[attr-defined]
    tc = travel_costs(np.array([point], dtype=object), facilities, net, **kw)
    leg = float(tc.points.leg_km[0]) if tc.points is not None else 0.0
    df = pd.DataFrame({"estate_id": np.asarray(ids, dtype=object)[tc.j],
                       "road_km": tc.km if net is not None else np.nan,
                       "minutes": tc.minutes, "straight_km": tc.straight_km, "leg_km": leg,
                       "_cost": tc.cost})
    return df.sort_values(["_cost", "estate_id"], kind="mergesort").head(top).drop(columns="_cost") \
        .reset_index(drop=True)
