"""Siting standards and land norms with their sources (STANDARDS.md): the DOE 1378 distance table,
default buffers of constraint features, the slope limit, and the road travel figures
(:mod:`siteplan.common.travel`). Rules are compiled from these in
:mod:`siteplan.rules`; the VNG separation distances per environmental category live with the
catalogue (:func:`siteplan.guilds.catalogue.separation_m`).
"""

from __future__ import annotations

# road travel (speeds, the connector leg, snapping, far from roads) lives below the stages, where the
# scenario's defaults read it too; re-exported here, the home of the standards' numbers
from ..common.travel import CONNECTOR_DETOUR as CONNECTOR_DETOUR
from ..common.travel import CONNECTOR_SPEED_KMH as CONNECTOR_SPEED_KMH
from ..common.travel import FAR_FROM_ROAD_M as FAR_FROM_ROAD_M
from ..common.travel import ROAD_SPEED_DEFAULT_KMH as ROAD_SPEED_DEFAULT_KMH
from ..common.travel import ROAD_SPEEDS_KMH as ROAD_SPEEDS_KMH
from ..common.travel import ROAD_SPEEDS_SOURCE as ROAD_SPEEDS_SOURCE
from ..common.travel import SNAP_TOLERANCE_M as SNAP_TOLERANCE_M

__all__ = ["CONNECTOR_DETOUR", "CONNECTOR_SPEED_KMH", "FAR_FROM_ROAD_M", "ROAD_SPEEDS_KMH", "ROAD_SPEEDS_SOURCE",
           "ROAD_SPEED_DEFAULT_KMH", "SNAP_TOLERANCE_M",
           "CONSTRAINT_DEFAULT_BUFFER_M", "DOE_1378", "DOE_SOURCE", "VNG_SOURCE", "MAX_SLOPE_PCT", "SLOPE_SOURCE"]

#: Hard-exclusion buffers around constraint features when the layer gives no ``buffer_m``
#: (assumptions within the published ranges of STANDARDS.md §5: rivers ≥ 200–500 m, faults ≥ 1–2 km).
CONSTRAINT_DEFAULT_BUFFER_M: dict[str, float] = {
    "protected": 0.0, "river": 300.0, "fault": 1000.0, "wetland": 1000.0, "airport": 3000.0,
    "qanat": 200.0, "well": 100.0,
}

#: Iran DOE 1378 siting table (Cabinet resolution 64677/ت18591هـ), STANDARDS.md §3, confirmed.
#: group -> list of (rule key, target, distance m)
DOE_1378: dict[str, list[tuple[str, str, float]]] = {
    "الف": [],
    "ب": [("settlements", "homes", 200.0), ("sensitive", "sensitive", 200.0)],
    "ج": [("settlements", "homes", 500.0), ("sensitive", "sensitive", 500.0)],
    "د": [("settlements", "homes", 1000.0), ("sensitive", "sensitive", 500.0),
          ("highway", "roads_major", 250.0), ("main_road", "roads_main", 150.0),
          ("nature", "nature", 1000.0), ("river_qanat", "water", 200.0), ("wells", "wells", 100.0)],
    "ه": [("settlements", "homes", 1500.0), ("sensitive", "sensitive", 1000.0),
          ("highway", "roads_major", 250.0), ("main_road", "roads_main", 150.0),
          ("nature", "nature", 1000.0), ("river_qanat", "water", 300.0), ("wells", "wells", 100.0)],
}
DOE_SOURCE = "Iran DOE siting rules 1378 (Cabinet resolution 64677/ت18591هـ)"
VNG_SOURCE = "VNG Bedrijven en milieuzonering 2009"
#: land steeper than this (percent) is unsuitable for industrial estates (STANDARDS.md §5)
MAX_SLOPE_PCT = 15.0
SLOPE_SOURCE = "STANDARDS.md §5 (excluded above 15 %)"
