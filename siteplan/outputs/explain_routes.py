"""Routes from a point to the estates, answered from a finished run without routing again.

``siteplan explain RUN_DIR --at LON,LAT`` prints the routes by road from the point to the estates within
the reach (:func:`siteplan.relocation.roads.routes_from`). Routing there needs the road graph and
Dijkstra (scipy, the relocation package: most of a second of imports and set-up). A run therefore saves,
beside the network in ``explain/roads.npz``, what those routes need: each estate's shortest cost **from
every node** of the network to it (road km and minutes, connector legs included, as
:func:`siteplan.relocation.roads.travel_costs` computes them on its reversed graph) and how each estate joins
the network. A point's routes are then its connector to the nearest segment and, per estate, the
cheaper of its two segment ends plus that stored cost (or the direct route along a shared segment):
the very arithmetic of :func:`~siteplan.relocation.roads.travel_costs`, on the very numbers it would
compute, in numpy and shapely only.

Stored (keys of ``roads.npz``, beside the network's): ``route_{km,minutes}_{indptr,indices,data}`` (CSR,
estates × nodes, the finite costs within the stored bound), ``route_bound`` (the bounds of km and
minutes the costs were computed to), ``route_reach`` (the reach and whether it is in minutes) and
``route_fac_{seg,t,leg_km,leg_min}`` (the estates' connectors). A network too large for that
(:data:`MAX_CELLS`) stores none; explain then routes as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

__all__ = ["route_arrays", "routes_at", "has_routes", "MAX_CELLS"]

#: at most this many (estate, node) cells are routed when a run is written (else none are stored)
MAX_CELLS = 20_000_000
_M_PER_KM = 1000.0
_MIN_PER_H = 60.0
_KEYS = ("route_km_indptr", "route_km_indices", "route_km_data", "route_minutes_indptr",
         "route_minutes_indices", "route_minutes_data", "route_bound", "route_reach", "route_fac_seg",
         "route_fac_t", "route_fac_leg_km", "route_fac_leg_min")


def _bounds(net: Any, fac_leg_km: np.ndarray, reach: float, *, minutes: bool) -> dict[str, float]:
    """The costs (km, minutes) up to which the estates' costs are stored: the reach in its measure; in the
    other, :func:`siteplan.relocation.routing._road_pairs`'s bound for any point that can reach an estate
    (a point's leg is at most the reach when any pair is within it; twice that is stored)."""
    speed = np.asarray(net.seg_speed_kmh, float)
    v_min, v_max = float(speed.min()), float(speed.max())
    if minutes:
        return {"minutes": reach, "km": reach / _MIN_PER_H * max(v_max, net.connector.speed_kmh)}
    legs = 2.0 * reach + float(np.nanmax(fac_leg_km, initial=0.0))
    return {"km": reach, "minutes": (legs / net.connector.speed_kmh + reach / v_min) * _MIN_PER_H}


def route_arrays(net: Any, facilities: np.ndarray, spec: Any) -> dict[str, np.ndarray]:
    """Each facility's cost from every node of ``net`` (both measures) and its connector, as plain arrays
    for ``explain/roads.npz`` (:func:`routes_at` reads them); empty when the network is too large
    (:data:`MAX_CELLS`) or empty.

    Parameters
    ----------
    net
        The run's :class:`siteplan.relocation.roads.RoadNetwork` as explain reads it back
        (:func:`siteplan.relocation.roads.network_from_arrays`).
    facilities
        The estates' geometries, in the order explain lists them.
    spec
        The run's ``allocation`` (``reach_min`` or ``max_distance_km``).

    Returns
    -------
    dict of numpy.ndarray
    """
    from scipy import sparse
    from scipy.sparse import csgraph

    from ..relocation.network import MIN_SEGMENT_M, arc_matrix
    from ..relocation.routing import connect, end_costs

    n, n_f = net.n_nodes, len(facilities)
    if n == 0 or n_f == 0 or not len(net.seg_a) or n * n_f > MAX_CELLS:
        return {}
    reach_min = getattr(spec, "reach_min", None)
    minutes = reach_min is not None
    reach = float(reach_min) if reach_min is not None else float(spec.max_distance_km)
    fa = connect(net, np.asarray(facilities, dtype=object))
    km_per_m = np.full(len(net.seg_a), 1.0 / _M_PER_KM)
    per = {"km": (fa.leg_km, km_per_m, net.graph_km),
           "minutes": (fa.leg_min, km_per_m / net.seg_speed_kmh * _MIN_PER_H, net.graph_min)}
    bound = _bounds(net, fa.leg_km, reach, minutes=minutes)
    out: dict[str, np.ndarray] = {}
    for m, (f_leg, w, g) in per.items():
        fa_a, fa_b, fc_a, fc_b = end_costs(net, fa, f_leg, w, depart=False)
        rows = np.concatenate([np.arange(n_f), np.arange(n_f)]) + n
        arrive = np.concatenate([fc_a, fc_b])
        ok = np.isfinite(arrive)
        virt = arc_matrix(rows[ok], np.concatenate([fa_a, fa_b])[ok],
                          np.maximum(arrive[ok], MIN_SEGMENT_M / _M_PER_KM), n + n_f)
        aug = (sparse.bmat([[g.T.tocsr(), None], [None, sparse.csr_matrix((n_f, n_f))]], format="csr") + virt).tocsr()
        d = csgraph.dijkstra(aug, directed=True, indices=np.arange(n_f) + n, limit=bound[m])[:, :n]
        fin = np.isfinite(d)
        out[f"route_{m}_indptr"] = np.concatenate([[0], np.cumsum(fin.sum(axis=1))]).astype(np.int64)
        out[f"route_{m}_indices"] = np.nonzero(fin)[1].astype(np.int64)
        out[f"route_{m}_data"] = d[fin].astype(np.float64)
    out["route_bound"] = np.array([bound["km"], bound["minutes"]], dtype=np.float64)
    out["route_reach"] = np.array([reach, 1.0 if minutes else 0.0], dtype=np.float64)
    out["route_fac_seg"] = np.asarray(fa.seg, np.int64)
    for k in ("t", "leg_km", "leg_min"):
        out[f"route_fac_{k}"] = np.asarray(getattr(fa, k), np.float64)
    return out


def has_routes(d: Mapping[str, np.ndarray]) -> bool:
    """True when ``roads.npz``'s arrays hold the estates' stored costs (:func:`route_arrays`)."""
    return all(k in d for k in _KEYS)


class _Net:
    """The saved network as the point's routes need it: segments, their lengths and index."""

    def __init__(self, d: Mapping[str, np.ndarray]) -> None:
        xy = np.asarray(d["node_xy"], float).reshape(-1, 2)
        self.n = len(xy)
        self.seg_a, self.seg_b = np.asarray(d["seg_a"], np.int64), np.asarray(d["seg_b"], np.int64)
        self.speed, self.oneway = np.asarray(d["seg_speed_kmh"], float), np.asarray(d["seg_oneway"], bool)
        # as siteplan.relocation.roads.network_from_arrays makes them
        seg_xy = np.stack([xy[self.seg_a], xy[self.seg_b]], axis=1)
        self.seg_len = np.maximum(np.hypot(*(seg_xy[:, 1] - seg_xy[:, 0]).T), _MIN_SEGMENT_M)
        self.geom = shapely.linestrings(seg_xy.reshape(-1, 2), indices=np.repeat(np.arange(len(self.seg_a)), 2))
        c = np.asarray(d["connector"], float)
        self.conn_speed, self.detour = float(c[0]), float(c[1])

    def connect(self, point: Any) -> tuple[int, float, float, float]:
        """The point's segment, position along it, leg in km and in minutes
        (:func:`siteplan.relocation.roads.connect` of one point)."""
        g = np.array([point], dtype=object)
        (_qi, seg), _ = shapely.STRtree(self.geom).query_nearest(g, all_matches=False, return_distance=True)
        s = int(seg[0])
        line = shapely.shortest_line(self.geom[[s]], g)
        xy = shapely.get_coordinates(line).reshape(-1, 2, 2)
        off = np.hypot(*(xy[:, 1] - xy[:, 0]).T)
        t = np.clip(shapely.line_locate_point(self.geom[[s]], shapely.points(xy[:, 0])) / self.seg_len[[s]], 0.0, 1.0)
        leg_km = off * self.detour / _M_PER_KM
        return s, float(t[0]), float(leg_km[0]), float((leg_km / self.conn_speed * _MIN_PER_H)[0])


#: the shortest segment (m), as siteplan.relocation.network.MIN_SEGMENT_M (tested equal)
_MIN_SEGMENT_M = 1e-6


def _column(d: Mapping[str, np.ndarray], m: str, node: int, n_f: int) -> np.ndarray:
    """Every estate's stored cost from ``node`` in measure ``m`` (inf where none is stored)."""
    indptr, indices, data = d[f"route_{m}_indptr"], d[f"route_{m}_indices"], d[f"route_{m}_data"]
    if len(indptr) != n_f + 1:
        raise ValueError(f"route_{m}: {len(indptr) - 1} estates stored, {n_f} listed")
    hit = np.flatnonzero(indices == node)
    out = np.full(n_f, np.inf)
    out[np.searchsorted(indptr, hit, side="right") - 1] = data[hit]
    return out


def _measure(d: Mapping[str, np.ndarray], net: _Net, m: str, at: tuple[int, float, float],
             limit: float) -> np.ndarray:
    """Each estate's cost from the point in measure ``m`` (``at``: segment, position, leg in ``m``), as
    :func:`siteplan.relocation.routing._road_pairs` computes it: the cheaper segment end plus the estate's
    cost from it (none beyond ``limit``), or the direct route along a shared segment."""
    s, t, leg = at
    n_f = len(d["route_fac_seg"])
    w = np.full(len(net.seg_a), 1.0 / _M_PER_KM)
    if m == "minutes":
        w = w / net.speed * _MIN_PER_H
    L = net.seg_len[s] * w[s]
    cost_a, cost_b = leg + t * L, leg + (1 - t) * L
    if net.oneway[s]:  # leaving the point: towards seg_b only
        cost_a = np.inf
    v = np.full(n_f, np.inf)
    for node, cost in ((net.seg_a[s], cost_a), (net.seg_b[s], cost_b)):
        col = _column(d, m, int(node), n_f)
        v = np.minimum(v, np.where(col <= limit, col, np.inf) + cost)
    same = np.flatnonzero(d["route_fac_seg"] == s)
    if len(same):
        f_leg = d["route_fac_leg_min" if m == "minutes" else "route_fac_leg_km"][same]
        dt = d["route_fac_t"][same] - t
        direct = np.where(~net.oneway[s] | (dt >= 0), leg + np.abs(dt) * L + f_leg, np.inf)
        v[same] = np.minimum(v[same], direct)
    return v


def _limits(d: Mapping[str, np.ndarray], net: _Net, leg_km: float) -> tuple[str, float, dict[str, float]]:
    """The reach's measure, the reach and the Dijkstra bound of each measure for a point whose leg is
    ``leg_km`` (:func:`siteplan.relocation.routing._road_pairs`'s ``limits``)."""
    reach, minutes = float(d["route_reach"][0]), bool(d["route_reach"][1])
    if minutes:
        return "minutes", reach, {"minutes": reach,
                                  "km": reach / _MIN_PER_H * max(float(net.speed.max()), net.conn_speed)}
    legs = float(np.nanmax(np.array([leg_km]), initial=0.0) + np.nanmax(d["route_fac_leg_km"], initial=0.0))
    return "km", reach, {"km": reach, "minutes": (legs / net.conn_speed + reach / float(net.speed.min())) * _MIN_PER_H}


def routes_at(d: Mapping[str, np.ndarray], point: Any, facilities: np.ndarray, ids: list[str], spec: Any,
              top: int = 5) -> pd.DataFrame | None:
    """:func:`siteplan.relocation.roads.routes_from` of one point on the road network, from the costs a run
    stored (:func:`route_arrays`): the same table. None when they cannot answer (not stored, or stored for
    another reach or other estates): the caller routes on the network.

    Parameters
    ----------
    d
        The arrays of the run's ``explain/roads.npz``.
    point
        The point (working CRS).
    facilities, ids
        The estates' geometries and ids, in the order the costs were stored.
    spec
        The run's travel settings (``reach_min``, ``max_distance_km``).
    top
        At most this many routes, cheapest first.

    Returns
    -------
    pandas.DataFrame or None
        ``estate_id``, ``road_km``, ``minutes``, ``straight_km``, ``leg_km``.
    """
    reach_min = getattr(spec, "reach_min", None)
    want = (float(reach_min), 1.0) if reach_min is not None else (float(spec.max_distance_km), 0.0)
    if not has_routes(d) or tuple(float(x) for x in d["route_reach"]) != want or len(d["route_fac_seg"]) != len(ids):
        return None
    net = _Net(d)
    s, t, leg_km, leg_min = net.connect(point)
    measure, reach, limit = _limits(d, net, leg_km)
    cost = {m: _measure(d, net, m, (s, t, leg), limit[m]) for m, leg in (("km", leg_km), ("minutes", leg_min))}
    j = np.flatnonzero(cost[measure] <= reach * (1 + 1e-12))
    straight = shapely.distance(np.array([point] * len(j), dtype=object), np.asarray(facilities, dtype=object)[j]) \
        / _M_PER_KM if len(j) else np.zeros(0)
    df = pd.DataFrame({"estate_id": np.asarray(ids, dtype=object)[j], "road_km": cost["km"][j],
                       "minutes": cost["minutes"][j], "straight_km": straight, "leg_km": leg_km,
                       "_cost": cost[measure][j]})
    return df.sort_values(["_cost", "estate_id"], kind="mergesort").head(top).drop(columns="_cost") \
        .reset_index(drop=True)
