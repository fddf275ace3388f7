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

Modules
-------
:mod:`siteplan.relocation.network` builds the graph (:func:`build_network`: segments, nodes, arcs and
components, in its docstring the model); :mod:`siteplan.relocation.routing` routes on it
(:func:`connect`, :func:`travel_costs`, :func:`routes_from`); this module is the stable face and the
run's view: the network of a scenario, its notes and summary, and the straight-line bound.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..common.units import M_PER_KM
from ..rules.standards import FAR_FROM_ROAD_M, ROAD_SPEEDS_SOURCE, SNAP_TOLERANCE_M
from .network import MIN_PER_H, speed_table
from .network import Connector as Connector
from .network import RoadNetwork as RoadNetwork
from .network import build_network as build_network
from .network import network_arrays as network_arrays
from .network import network_from_arrays as network_from_arrays
from .network import road_speeds as road_speeds
from .routing import Access as Access
from .routing import TravelCosts as TravelCosts
from .routing import as_geometries
from .routing import connect as connect
from .routing import routes_from as routes_from
from .routing import travel_costs as travel_costs

__all__ = ["Access", "Connector", "RoadNetwork", "TravelCosts", "build_network", "connect", "network_arrays",
           "network_from_arrays", "network_notes", "network_summary", "road_network", "road_speeds", "routes_from",
           "scenario_network", "straight_bound_km", "travel_costs"]


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
        g = as_geometries(geoms)
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
            "speeds_kmh": dict(sorted(speed_table(spec.road_speeds_kmh).items())),  # type: ignore[attr-defined]
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
