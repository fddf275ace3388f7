"""Road travel figures with their sources: speeds by road class and OpenStreetMap ``highway`` tag, the
off-network connector leg, the snapping tolerance of the road graph and the distance beyond which a
place is far from any road.

They live below every stage: the scenario's defaults (``allocation.connector_speed_kmh``,
``connector_detour``) and the road network (:mod:`siteplan.relocation.roads`) read the same numbers;
:mod:`siteplan.rules.standards` re-exports them with the other standards.
"""

from __future__ import annotations

__all__ = ["CONNECTOR_DETOUR", "CONNECTOR_SPEED_KMH", "FAR_FROM_ROAD_M", "ROAD_SPEEDS_KMH", "ROAD_SPEEDS_SOURCE",
           "ROAD_SPEED_DEFAULT_KMH", "SNAP_TOLERANCE_M"]

#: Travel speeds (km/h) by road class and by OpenStreetMap ``highway`` tag, for road travel times
#: (:mod:`siteplan.relocation.roads`). The OSM classes are the free-flow speeds of OSRM's default car profile
#: (Project-OSRM/osrm-backend, ``profiles/car.lua``, table ``speeds.highway``), chosen over Iran's
#: posted limits (freeways 120, roads 95 km/h for cars) because a relocation trip is made by vans and
#: trucks with stops, and over design speeds because those are maxima of geometry, not travel. The
#: classes of a siteplan roads layer (``road_class``: motorway, trunk, primary, secondary, other) take the
#: same figures, ``other`` that of OSM ``tertiary`` (a rural road linking villages). A scenario
#: overrides any of them with ``allocation.road_speeds_kmh`` (e.g. a province's measured speeds).
ROAD_SPEEDS_KMH: dict[str, float] = {
    "motorway": 90.0, "motorway_link": 45.0, "trunk": 85.0, "trunk_link": 40.0,
    "primary": 65.0, "primary_link": 30.0, "secondary": 55.0, "secondary_link": 25.0,
    "tertiary": 40.0, "tertiary_link": 20.0, "unclassified": 25.0, "residential": 25.0,
    "living_street": 10.0, "service": 15.0, "other": 40.0,
}
ROAD_SPEEDS_SOURCE = ("OSRM car profile (osrm-backend profiles/car.lua) free-flow speeds by highway class; "
                      "road_class 'other' as OSM tertiary")
#: speed (km/h) of a road class found in neither the table nor the scenario
ROAD_SPEED_DEFAULT_KMH = 40.0
#: the off-network leg from a business, town or estate to the nearest road: its straight length × this
#: detour factor (a typical circuity of local access tracks, 1.2–1.4 in the literature on route
#: circuity; an assumption), driven at CONNECTOR_SPEED_KMH (OSRM's ``track``/``service`` order of speed)
CONNECTOR_DETOUR = 1.3
CONNECTOR_SPEED_KMH = 15.0
#: vertices of the roads layer closer than this (m) are one node of the graph
SNAP_TOLERANCE_M = 1.0
#: a business, town or estate farther than this (m) from any road is reported (validate, run warnings)
FAR_FROM_ROAD_M = 2_000.0
