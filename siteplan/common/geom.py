"""Small geometry helpers shared by the stages."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["polygonal", "polsby_popper", "to_rfc7946", "as_written", "WRITTEN_SNAP_M"]

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


def to_rfc7946(geoms: np.ndarray | gpd.GeoSeries, crs: Any) -> np.ndarray:
    """Geometries in EPSG:4326, coordinates rounded to 7 decimals, polygon exteriors counter-clockwise
    and holes clockwise (RFC 7946 §3.1.6)."""
    g = np.asarray(gpd.GeoSeries(np.asarray(geoms), crs=crs).to_crs(4326).values)
    # snap to the 1e-7 degree grid keeping the result valid (a sliver may collapse), then wind
    poly_in = np.isin(shapely.get_type_id(g), [3, 6])  # Polygon, MultiPolygon
    g = shapely.make_valid(g)
    try:
        g = shapely.set_precision(g, 1e-7, mode="valid_output")
    except shapely.errors.GEOSException:
        g = np.array([_snap(x) for x in g], dtype=object)
    # snapping may leave a collapsed sliver as a line beside the polygon: keep polygons polygonal
    if poly_in.any():
        g[poly_in] = [polygonal(x) for x in g[poly_in]]
    return np.asarray(shapely.orient_polygons(g, exterior_cw=False))


#: metres: how far the GeoJSON writer's 1e-7 degree grid (:func:`to_rfc7946`) may move a vertex (half a
#: grid step on each axis, about 0.6 cm, rounded up)
WRITTEN_SNAP_M = 0.01


def as_written(geoms: np.ndarray | list[Any], crs: Any) -> np.ndarray:
    """The geometries as the GeoJSON writer will write them (:func:`to_rfc7946`: valid, on the 1e-7 degree
    grid, zero-width spikes and slivers gone), back in ``crs``: what is measured and checked in ``crs``
    is then what is written (to the reprojection's float noise; writing the result again gives the
    same coordinates).

    Parameters
    ----------
    geoms
        Geometries in ``crs``.
    crs
        Their (projected) CRS.

    Returns
    -------
    numpy.ndarray
        The written geometries in ``crs`` (empty ones stay empty).
    """
    g = np.asarray(geoms, dtype=object)
    if len(g) == 0:
        return g
    w = to_rfc7946(g, crs)
    back = np.asarray(gpd.GeoSeries(w, crs=4326).to_crs(crs).values, dtype=object)
    bad = ~shapely.is_valid(back)
    if bad.any():  # the round trip bent an edge across another: repair (rare, and only by float noise)
        back[bad] = [polygonal(shapely.make_valid(x)) for x in back[bad]]
    return back


def _snap(g: Any) -> Any:
    """set_precision for one geometry, falling back to rounding and repairing when GEOS refuses."""
    try:
        return shapely.set_precision(g, 1e-7, mode="valid_output")
    except shapely.errors.GEOSException:
        r = shapely.make_valid(shapely.transform(g, lambda c: np.round(c, 7)))
        return shapely.set_precision(r, 1e-7, mode="pointwise")


def polsby_popper(geom: BaseGeometry) -> float:
    """Compactness 4πA/P² (1 for a disc, near 0 for slivers).

    Parameters
    ----------
    geom
        A polygon (or any geometry; the area over the boundary's length).

    Returns
    -------
    float
        The compactness in [0, 1]; 0 for a geometry without a length (a point, an empty one).
    """
    p = geom.length
    return float(4 * np.pi * geom.area / p ** 2) if p > 0 else 0.0
