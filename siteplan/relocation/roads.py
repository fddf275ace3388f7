"""Travel along the road network: a routable graph from the roads layer and the travel-cost matrix.

This is the ONE place siteplan measures how far a business (or town, estate, site) is from a facility.
Everything that needs a distance — the relocation arcs and costs, new sites, upgrades, explain — asks
:func:`travel_costs`, which returns the pairs within the reach, sparse, in road km and minutes (or in
straight km when there is no road network).

Interface (stable; N-sites and upgrades build on it)
----------------------------------------------------
``net = build_network(roads, speeds_kmh=None, *, snap_m=SNAP_TOLERANCE_M, connector=Connector())``
    ``roads``: a GeoDataFrame of (multi)lines in a projected CRS in metres, with ``road_class`` and, when
    it came from OpenStreetMap, ``highway`` and ``oneway`` (``yes``/``true``/``1``: along the line;
    ``-1``/``reverse``: against it; anything else: both ways). Returns a :class:`RoadNetwork`.
``tc = travel_costs(points, facilities, net, reach_km=30)`` (or ``reach_min=45``)
    ``points``, ``facilities``: arrays/GeoSeries of shapely geometries in the network's CRS (points,
    or polygons such as estates: a polygon is reached at its edge). ``net=None`` measures straight
    lines (``tc.measure == "straight"``, ``minutes`` NaN). Returns :class:`TravelCosts` with COO arrays
    ``i`` (point), ``j`` (facility), ``km``, ``minutes``, sorted by (i, j), one entry per pair whose cost
    in the reach's measure is within the reach (explicit zeros kept), plus ``straight_km`` of each pair,
    ``tc.matrix("km" | "minutes")`` as a scipy CSR (points × facilities) and the connector legs of both
    sides (:class:`Access`). ``tc.cost`` is each pair's cost in the reach's measure.
``net = scenario_network(prep)`` / ``road_network(scenario, region)``
    The run's network (built once per loaded region), or None when the scenario measures straight lines
    (no roads layer, or ``allocation.distance: straight``). Pass it to :func:`travel_costs` and to
    :func:`siteplan.guild_relocation.allocate` (``network=``).
``straight_bound_km(spec, net)``
    A straight distance beyond which no pair is within the reach (for cheap prefilters).

Model
-----
* **Graph**: every line is split at its vertices; two vertices within ``snap_m`` (default 1 m) are one
  node (so OSM ways that share nodes, and lines that meet at shared vertices or endpoints, connect;
  lines that cross without a shared vertex are taken as bridges/overpasses and do not). Each
  segment's length is its planar length in the working CRS; its time is that length at the speed of
  its road class (:data:`siteplan.standards.ROAD_SPEEDS_KMH`, overridable in the scenario as
  ``allocation.road_speeds_kmh``). One-way segments get one arc; parallel arcs keep the cheapest.
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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from ..common.units import M_PER_KM
from ..rules.standards import (
    CONNECTOR_DETOUR,
    CONNECTOR_SPEED_KMH,
    FAR_FROM_ROAD_M,
    ROAD_SPEED_DEFAULT_KMH,
    ROAD_SPEEDS_KMH,
    ROAD_SPEEDS_SOURCE,
    SNAP_TOLERANCE_M,
)

__all__ = ["Access", "Connector", "RoadNetwork", "TravelCosts", "build_network", "connect", "travel_costs"]

MIN_PER_H = 60.0
# dense cells (sources × nodes or sources × points) per Dijkstra chunk: bounds the memory of one chunk
# to about CHUNK_CELLS × 8 bytes × a few arrays
CHUNK_CELLS = 4_000_000
# OSM ``oneway`` values meaning along / against the line's direction
ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
ONEWAY_REVERSE = frozenset({"-1", "reverse"})
# a segment never shorter than this (m), so that no arc has zero weight (csgraph reads 0 as no arc)
MIN_SEGMENT_M = 1e-6

Measure = Literal["km", "minutes"]


@dataclass(frozen=True)
class Connector:
    """The off-network leg from a point to the nearest road: straight distance × ``detour``, driven
    at ``speed_kmh``."""

    speed_kmh: float = CONNECTOR_SPEED_KMH
    detour: float = CONNECTOR_DETOUR


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A routable road graph (see the module docstring for the model).

    Attributes
    ----------
    crs
        The working CRS (metres).
    node_xy
        (n_nodes, 2) node coordinates.
    seg_a, seg_b
        Each segment's end nodes, in its direction of travel when one-way.
    seg_len_m, seg_speed_kmh
        Each segment's length (m) and speed (km/h).
    seg_oneway
        True where the segment is driven only from ``seg_a`` to ``seg_b``.
    seg_geom
        The segments as two-point LineStrings (``seg_a`` → ``seg_b``).
    seg_road
        Each segment's row (position) in the roads layer.
    graph_km, graph_min
        (n_nodes × n_nodes) CSR arc weights in km and minutes.
    component
        Each node's weakly connected component, numbered by decreasing size (0: the largest).
    connector
        The off-network leg's settings.
    """

    crs: object
    node_xy: np.ndarray
    seg_a: np.ndarray
    seg_b: np.ndarray
    seg_len_m: np.ndarray
    seg_speed_kmh: np.ndarray
    seg_oneway: np.ndarray
    seg_geom: np.ndarray
    seg_road: np.ndarray
    graph_km: sparse.csr_matrix
    graph_min: sparse.csr_matrix
    component: np.ndarray
    connector: Connector = field(default_factory=Connector)

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def n_components(self) -> int:
        return int(self.component.max()) + 1 if len(self.component) else 0

    def component_summary(self) -> pd.DataFrame:
        """Per weakly connected component: ``component``, ``nodes``, ``road_km`` (largest first)."""
        if not len(self.component):
            return pd.DataFrame(columns=["component", "nodes", "road_km"])
        nodes = np.bincount(self.component)
        km = np.bincount(self.component[self.seg_a], weights=self.seg_len_m, minlength=len(nodes)) / M_PER_KM
        return pd.DataFrame({"component": np.arange(len(nodes)), "nodes": nodes, "road_km": np.round(km, 3)})

    def tree(self) -> shapely.STRtree:
        """A spatial index of the segments (built on first use)."""
        t = self.__dict__.get("_tree")
        if t is None:
            t = shapely.STRtree(self.seg_geom)
            object.__setattr__(self, "_tree", t)
        return t


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
        m = sparse.csr_matrix((v, (self.i, self.j)), shape=self.shape)
        return m


def _speed_table(overrides: Mapping[str, float] | None) -> dict[str, float]:
    table = dict(ROAD_SPEEDS_KMH)
    if overrides:
        table.update({str(k): float(v) for k, v in overrides.items()})
    return table


def _oneway_code(roads: gpd.GeoDataFrame) -> np.ndarray:
    """Per road: 1 along the line, -1 against it, 0 both ways."""
    if "oneway" not in roads:
        return np.zeros(len(roads), np.int8)
    v = roads["oneway"].astype("string").str.strip().str.lower().fillna("")
    return np.where(v.isin(ONEWAY_FORWARD), 1, np.where(v.isin(ONEWAY_REVERSE), -1, 0)).astype(np.int8)


def road_speeds(roads: gpd.GeoDataFrame, speeds_kmh: Mapping[str, float] | None = None) -> np.ndarray:
    """Each road's speed (km/h): its ``highway`` tag's speed when the table has it, else its
    ``road_class``'s, else :data:`~siteplan.standards.ROAD_SPEED_DEFAULT_KMH` (``other``)."""
    table = _speed_table(speeds_kmh)
    default = table.get("other", ROAD_SPEED_DEFAULT_KMH)
    speed = pd.Series(np.nan, index=roads.index)
    if "highway" in roads:
        speed = roads["highway"].astype("string").str.strip().map(table).astype(float)
    if "road_class" in roads:
        speed = speed.fillna(roads["road_class"].astype("string").str.strip().map(table).astype(float))
    return speed.fillna(default).to_numpy(float)


def build_network(roads: gpd.GeoDataFrame, speeds_kmh: Mapping[str, float] | None = None, *,
                  snap_m: float = SNAP_TOLERANCE_M, connector: Connector | None = None) -> RoadNetwork:
    """The routable graph of a roads layer (working CRS, metres).

    Parameters
    ----------
    roads
        Lines or multilines with optional ``road_class``, ``highway``, ``oneway``; empty and
        non-line geometries are ignored (the layer's checks report them).
    speeds_kmh
        Speeds by class or OSM highway tag, over :data:`siteplan.standards.ROAD_SPEEDS_KMH`.
    snap_m
        Vertices closer than this are one node.
    connector
        The off-network leg's settings.

    Returns
    -------
    RoadNetwork
    """
    speed_of_road = road_speeds(roads, speeds_kmh)
    if (speed_of_road <= 0).any() or not np.isfinite(speed_of_road).all():
        raise ValueError("road speeds must be positive and finite")
    oneway_of_road = _oneway_code(roads)
    geoms = shapely.get_parts(np.asarray(roads.geometry.values), return_index=True)
    parts, road_of_part = geoms
    lines = shapely.get_type_id(parts) == 1  # LineString
    parts, road_of_part = parts[lines], road_of_part[lines]
    coords, part_of_coord = shapely.get_coordinates(parts, return_index=True)
    # segments: consecutive coordinates of one part
    same = part_of_coord[1:] == part_of_coord[:-1]
    a_idx = np.flatnonzero(same)
    b_idx = a_idx + 1
    # nodes: coordinates snapped within snap_m (pairs within the tolerance joined transitively)
    uniq, inv = np.unique(coords, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    node_of_uniq = _snap(uniq, snap_m)
    node_of_coord = node_of_uniq[inv]
    seg_a, seg_b = node_of_coord[a_idx], node_of_coord[b_idx]
    road = road_of_part[part_of_coord[a_idx]]
    keep = seg_a != seg_b
    seg_a, seg_b, road, a_idx, b_idx = seg_a[keep], seg_b[keep], road[keep], a_idx[keep], b_idx[keep]
    # node coordinates: the first snapped vertex of each node (deterministic: np.unique order)
    n_nodes = int(node_of_uniq.max()) + 1 if len(node_of_uniq) else 0
    first = np.full(n_nodes, len(uniq), np.int64)
    np.minimum.at(first, node_of_uniq, np.arange(len(uniq)))
    node_xy = uniq[first] if n_nodes else np.zeros((0, 2))
    ow = oneway_of_road[road]
    rev = ow == -1
    seg_a, seg_b = np.where(rev, seg_b, seg_a), np.where(rev, seg_a, seg_b)
    seg_xy = np.stack([node_xy[seg_a], node_xy[seg_b]], axis=1)
    seg_len = np.maximum(np.hypot(*(seg_xy[:, 1] - seg_xy[:, 0]).T), MIN_SEGMENT_M)
    seg_speed = speed_of_road[road]
    oneway = ow != 0
    seg_geom = shapely.linestrings(seg_xy.reshape(-1, 2), indices=np.repeat(np.arange(len(seg_a)), 2)) \
        if len(seg_a) else np.array([], dtype=object)
    km = seg_len / M_PER_KM
    mins = km / seg_speed * MIN_PER_H
    src = np.concatenate([seg_a, seg_b[~oneway]])
    dst = np.concatenate([seg_b, seg_a[~oneway]])
    graph_km = _arc_matrix(src, dst, np.concatenate([km, km[~oneway]]), n_nodes)
    graph_min = _arc_matrix(src, dst, np.concatenate([mins, mins[~oneway]]), n_nodes)
    component = _components(graph_km)
    return RoadNetwork(roads.crs, node_xy, seg_a.astype(np.int64), seg_b.astype(np.int64), seg_len, seg_speed,
                       oneway, np.asarray(seg_geom, dtype=object), road.astype(np.int64), graph_km, graph_min,
                       component, connector or Connector())


def _snap(xy: np.ndarray, tol: float) -> np.ndarray:
    """Node of each (unique) vertex: vertices within ``tol`` joined transitively, nodes numbered in
    order of their first vertex."""
    n = len(xy)
    if n == 0:
        return np.zeros(0, np.int64)
    if tol <= 0:
        return np.arange(n, dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(tol, output_type="ndarray")
    if not len(pairs):
        return np.arange(n, dtype=np.int64)
    g = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = csgraph.connected_components(g, directed=False)
    # renumber by first vertex
    first = np.full(label.max() + 1, n, np.int64)
    np.minimum.at(first, label, np.arange(n))
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[label].astype(np.int64)


def _arc_matrix(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> sparse.csr_matrix:
    """CSR arcs keeping the cheapest of parallel arcs (a CSR built from COO would add them)."""
    if not len(src):
        return sparse.csr_matrix((n, n))
    order = np.lexsort((w, dst, src))
    s, d, w = src[order], dst[order], w[order]
    first = np.r_[True, (s[1:] != s[:-1]) | (d[1:] != d[:-1])]
    return sparse.csr_matrix((w[first], (s[first], d[first])), shape=(n, n))


def _components(g: sparse.csr_matrix) -> np.ndarray:
    """Weakly connected components, numbered by decreasing size (ties by first node)."""
    if g.shape[0] == 0:
        return np.zeros(0, np.int64)
    _, label = csgraph.connected_components(g, directed=True, connection="weak")
    size = np.bincount(label)
    first = np.full(len(size), len(label), np.int64)
    np.minimum.at(first, label, np.arange(len(label)))
    order = np.lexsort((first, -size))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[label].astype(np.int64)


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
    pts = _geoms(points)
    fac = _geoms(facilities)
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


def _geoms(x: object) -> np.ndarray:
    if isinstance(x, gpd.GeoDataFrame):
        return np.asarray(x.geometry.values, dtype=object)
    if isinstance(x, gpd.GeoSeries):
        return np.asarray(x.values, dtype=object)
    return np.asarray(x, dtype=object)


def _ends(net: RoadNetwork, acc: Access, leg: np.ndarray, w_per_m: np.ndarray, depart: bool
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
    # the second measure's bound: the primary route of any pair within the reach costs at most this in
    # the other measure (its legs at the connector speed, its road part at the slowest/fastest road), and
    # the optimum of the other measure is no worse than that route
    v_min, v_max = float(net.seg_speed_kmh.min()), float(net.seg_speed_kmh.max())
    legs_km = float(np.nanmax(pa.leg_km, initial=0.0) + np.nanmax(fa.leg_km, initial=0.0))
    if measure == "km":
        limits = {"km": reach, "minutes": (legs_km / net.connector.speed_kmh + reach / v_min) * MIN_PER_H}
    else:
        limits = {"minutes": reach, "km": reach / MIN_PER_H * max(v_max, net.connector.speed_kmh)}
    per = {"km": (pa.leg_km, fa.leg_km, km_per_m, net.graph_km),
           "minutes": (pa.leg_min, fa.leg_min, min_per_m, net.graph_min)}
    # reversed graphs with one virtual node per facility (arcs: its arrival legs)
    prep = {}
    for m, (p_leg, f_leg, w, g) in per.items():
        fa_a, fa_b, fc_a, fc_b = _ends(net, fa, f_leg, w, depart=False)
        pa_a, pa_b, pc_a, pc_b = _ends(net, pa, p_leg, w, depart=True)
        gt = g.T.tocsr()
        rows = np.concatenate([np.arange(n_f), np.arange(n_f)]) + n
        cols = np.concatenate([fa_a, fa_b])
        arrive = np.concatenate([fc_a, fc_b])
        ok = np.isfinite(arrive)
        virt = _arc_matrix(rows[ok], cols[ok], np.maximum(arrive[ok], MIN_SEGMENT_M / M_PER_KM), n + n_f)
        # (a zero arrival leg is raised to a negligible weight: csgraph reads a zero arc as none)
        aug = (sparse.bmat([[gt, None], [None, sparse.csr_matrix((n_f, n_f))]], format="csr") + virt).tocsr()
        prep[m] = (aug, pa_a, pa_b, pc_a, pc_b)
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
    return v


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


def scenario_network(prep: object) -> RoadNetwork | None:
    """The run's road network (:func:`road_network` of a :class:`siteplan.results.Prepared`'s scenario and
    region), or None when travel is measured in straight lines."""
    return road_network(prep.scenario, prep.region)  # type: ignore[attr-defined]


def road_network(scenario: object, region: object) -> RoadNetwork | None:
    """The road network of a scenario's region (built once per loaded region and kept on it), or None
    when travel is measured in straight lines (no roads layer, or ``allocation.distance: straight``).

    Parameters
    ----------
    scenario
        The :class:`siteplan.scenario.Scenario` (its ``allocation``: distance, speeds, connector).
    region
        Its loaded :class:`siteplan.region.Region` (the ``roads`` layer, working CRS).

    Returns
    -------
    RoadNetwork or None
    """
    cached = getattr(region, "_road_network", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    spec = scenario.allocation  # type: ignore[attr-defined]
    roads = region.layers.get("roads")  # type: ignore[attr-defined]
    has = roads is not None and len(roads) > 0
    net = None
    if spec.uses_roads(roads=has):
        net = build_network(roads, spec.road_speeds_kmh,
                            connector=Connector(spec.connector_speed_kmh, spec.connector_detour))
    object.__setattr__(region, "_road_network", net)
    return net


def network_notes(net: RoadNetwork, places: Mapping[str, object], threshold_m: float = FAR_FROM_ROAD_M
                  ) -> list[str]:
    """Warnings about the network: disconnected components, and the places (businesses, towns,
    estates) farther than ``threshold_m`` from any road.

    Parameters
    ----------
    net
        The network.
    places
        Layer name → geometries (network CRS).
    threshold_m
        The far-from-road distance.

    Returns
    -------
    list of str
    """
    notes = []
    comp = net.component_summary()
    if len(comp) > 1:
        total = float(comp["road_km"].sum())
        rest = comp.iloc[1:]
        notes.append(f"roads: the network has {len(comp)} disconnected parts; the largest holds "
                     f"{comp['road_km'].iat[0]:,.1f} of {total:,.1f} road km, the {len(rest)} others "
                     f"{float(rest['road_km'].sum()):,.1f} km ({int(rest['nodes'].sum())} nodes) — places joined to "
                     "them reach only what lies on the same part; join the lines (shared end points) if they meet")
    for name, geoms in places.items():
        g = _geoms(geoms)
        if not len(g):
            continue
        acc = connect(net, g)
        far = acc.far(threshold_m)
        if far.any():
            notes.append(f"{name}: {int(far.sum())} of {len(g)} lie more than {threshold_m / M_PER_KM:g} km from any "
                         f"road (farthest {np.nanmax(acc.off_m) / M_PER_KM:.1f} km); their off-road leg is counted at "
                         f"{net.connector.speed_kmh:g} km/h × {net.connector.detour:g} detour")
    return notes


def network_summary(net: RoadNetwork | None, spec: object) -> dict[str, object]:
    """The manifest's ``travel`` section: the measure, the reach, and the network's size and settings."""
    if net is None:
        return {"distance": "straight", "measure": "straight km",
                "reach_km": float(spec.max_distance_km)}  # type: ignore[attr-defined]
    reach_min = spec.reach_min  # type: ignore[attr-defined]
    comp = net.component_summary()
    return {"distance": "road", "measure": "minutes" if reach_min is not None else "road km",
            "reach": f"{reach_min:g} min" if reach_min is not None else f"{spec.max_distance_km:g} km",  # type: ignore[attr-defined]
            "nodes": net.n_nodes, "segments": len(net.seg_a), "road_km": round(float(net.seg_len_m.sum()) / M_PER_KM, 3),
            "components": len(comp), "oneway_segments": int(net.seg_oneway.sum()),
            "speeds_kmh": {k: v for k, v in sorted(_speed_table(spec.road_speeds_kmh).items())},  # type: ignore[attr-defined]
            "speeds_source": ROAD_SPEEDS_SOURCE,
            "connector": {"speed_kmh": net.connector.speed_kmh, "detour": net.connector.detour},
            "snap_m": SNAP_TOLERANCE_M}


def straight_bound_km(spec: object, net: RoadNetwork | None) -> float:
    """A straight distance (km) beyond which no pair can be within the reach: the reach itself in km
    (a road route is never shorter than the straight line), or, for a reach in minutes, the distance
    covered at the fastest speed of the network and connector. For cheap prefilters by straight line."""
    reach_min = getattr(spec, "reach_min", None)
    if net is None or reach_min is None:
        return float(spec.max_distance_km)  # type: ignore[attr-defined]
    v_max = max(float(net.seg_speed_kmh.max()) if len(net.seg_a) else 0.0, net.connector.speed_kmh)
    return float(reach_min) / MIN_PER_H * v_max


def network_arrays(net: RoadNetwork) -> dict[str, np.ndarray]:
    """The network as plain arrays (for a run's ``explain/`` data; :func:`network_from_arrays` reads them)."""
    return {"node_xy": net.node_xy, "seg_a": net.seg_a, "seg_b": net.seg_b, "seg_speed_kmh": net.seg_speed_kmh,
            "seg_oneway": net.seg_oneway, "seg_road": net.seg_road,
            "connector": np.array([net.connector.speed_kmh, net.connector.detour])}


def network_from_arrays(d: Mapping[str, np.ndarray], crs: object) -> RoadNetwork:
    """The network saved by :func:`network_arrays` (the same graph, arcs and components)."""
    xy = np.asarray(d["node_xy"], float).reshape(-1, 2)
    a, b = np.asarray(d["seg_a"], np.int64), np.asarray(d["seg_b"], np.int64)
    speed, one = np.asarray(d["seg_speed_kmh"], float), np.asarray(d["seg_oneway"], bool)
    seg_xy = np.stack([xy[a], xy[b]], axis=1)
    seg_len = np.maximum(np.hypot(*(seg_xy[:, 1] - seg_xy[:, 0]).T), MIN_SEGMENT_M)
    geom = (shapely.linestrings(seg_xy.reshape(-1, 2), indices=np.repeat(np.arange(len(a)), 2)) if len(a)
            else np.array([], dtype=object))
    km = seg_len / M_PER_KM
    mins = km / speed * MIN_PER_H
    src, dst = np.concatenate([a, b[~one]]), np.concatenate([b, a[~one]])
    g_km = _arc_matrix(src, dst, np.concatenate([km, km[~one]]), len(xy))
    g_min = _arc_matrix(src, dst, np.concatenate([mins, mins[~one]]), len(xy))
    c = np.asarray(d["connector"], float)
    return RoadNetwork(crs, xy, a, b, seg_len, speed, one, np.asarray(geom, dtype=object),
                       np.asarray(d["seg_road"], np.int64), g_km, g_min, _components(g_km),
                       Connector(float(c[0]), float(c[1])))


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
