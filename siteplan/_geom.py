"""Small geometry helpers shared by the stages."""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["polygonal"]

_POLY = {"Polygon", "MultiPolygon"}


def polygonal(g: BaseGeometry, min_area: float = 0.0) -> BaseGeometry:
    """The polygonal part of a geometry (a collection's lines and points, and polygons of at most
    ``min_area``, dropped); empty if none."""
    if g is None or g.is_empty:
        return shapely.Polygon()
    if g.geom_type == "Polygon" and g.area > min_area:
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in _POLY]
    parts = [q for p in parts for q in shapely.get_parts(p) if q.area > min_area]
    return shapely.multipolygons(parts) if len(parts) > 1 else (parts[0] if parts else shapely.Polygon())
