"""Siting standards and land norms with their sources (STANDARDS.md): the DOE 1378 distance table,
default buffers of constraint features, the slope limit. Rules are compiled from these in
:mod:`siteplan.rules`; the VNG separation distances per environmental category live with the
catalogue (:func:`siteplan.guilds.catalogue.separation_m`).
"""

from __future__ import annotations

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

#: Travel speeds (km/h) by road class and by OpenStreetMap ``highway`` tag, for road travel times
#: (:mod:`siteplan.roads`). The OSM classes are the free-flow speeds of OSRM's default car profile
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
