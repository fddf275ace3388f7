"""The routable road graph: a roads layer split at its vertices into one-way or two-way arcs.

Every line is split at its vertices; two vertices within ``snap_m`` (default 1 m) are one node (so OSM
ways that share nodes, and lines that meet at shared vertices or endpoints, connect; lines that cross
without a shared vertex are taken as bridges/overpasses and do not). Each segment's length is its planar
length in the working CRS; its time is that length at the speed of its road class
(:data:`siteplan.standards.ROAD_SPEEDS_KMH`, overridable in the scenario as ``allocation.road_speeds_kmh``).
One-way segments get one arc; parallel arcs keep the cheapest. Routing on the graph is
:mod:`siteplan.relocation.routing`; the run's network and its notes are :mod:`siteplan.relocation.roads`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    ROAD_SPEED_DEFAULT_KMH,
    ROAD_SPEEDS_KMH,
    SNAP_TOLERANCE_M,
)

__all__ = ["MIN_PER_H", "MIN_SEGMENT_M", "Connector", "RoadNetwork", "arc_matrix", "build_network",
           "network_arrays", "network_from_arrays", "road_speeds", "speed_table"]

MIN_PER_H = 60.0

# OSM ``oneway`` values meaning along / against the line's direction
ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
ONEWAY_REVERSE = frozenset({"-1", "reverse"})
# a segment never shorter than this (m), so that no arc has zero weight (csgraph reads 0 as no arc)
MIN_SEGMENT_M = 1e-6


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
        """The number of nodes."""
        return len(self.node_xy)

    @property
    def n_components(self) -> int:
        """The number of weakly connected components."""
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


def speed_table(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """The road speeds (km/h) by class or OSM highway tag: the published table with ``overrides`` over it."""
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
    table = speed_table(speeds_kmh)
    default = table.get("other", ROAD_SPEED_DEFAULT_KMH)
    speed = pd.Series(np.nan, index=roads.index)
    if "highway" in roads:
        speed = roads["highway"].astype("string").str.strip().map(table).astype(float)
    if "road_class" in roads:
        speed = speed.fillna(roads["road_class"].astype("string").str.strip().map(table).astype(float))
    out: np.ndarray = speed.fillna(default).to_numpy(float)
    return out


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
    graph_km = arc_matrix(src, dst, np.concatenate([km, km[~oneway]]), n_nodes)
    graph_min = arc_matrix(src, dst, np.concatenate([mins, mins[~oneway]]), n_nodes)
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
    out: np.ndarray = rank[label].astype(np.int64)
    return out


def arc_matrix(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int) -> sparse.csr_matrix:
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
    out: np.ndarray = rank[label].astype(np.int64)
    return out


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
    g_km = arc_matrix(src, dst, np.concatenate([km, km[~one]]), len(xy))
    g_min = arc_matrix(src, dst, np.concatenate([mins, mins[~one]]), len(xy))
    c = np.asarray(d["connector"], float)
    return RoadNetwork(crs, xy, a, b, seg_len, speed, one, np.asarray(geom, dtype=object),
                       np.asarray(d["seg_road"], np.int64), g_km, g_min, _components(g_km),
                       Connector(float(c[0]), float(c[1])))
