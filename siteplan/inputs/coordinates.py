"""Coordinates that cannot be true: impossible for the declared CRS, outside its area of use, at (0, 0),
far from the rest of the study, latitude and longitude swapped, and features outside the boundary;
part of the plausibility checks (:mod:`siteplan.inputs.plausibility`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from ..common.notice import Notice
from .findings import Findings, listing, row_id

__all__ = ["AOU_MARGIN_DEG", "FAR_KM", "MAX_COORD", "CoordinateCheck", "check_coordinates", "check_outside_boundary"]

#: Features farther than this from the study's centre (or three times the study's own reach, if
#: larger) are errors: no provincial plan spans them.
FAR_KM = 300.0
#: Degrees a feature may lie outside its CRS's area of use before a warning.
AOU_MARGIN_DEG = 1.0
#: Coordinates beyond this (in any unit of any CRS: 100,000 km in metres) are not on Earth: an error.
MAX_COORD = 1e8


def _haversine_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@dataclass
class CoordinateCheck:
    """What :func:`check_coordinates` found: findings, the study's centre (lon, lat) for the working
    CRS, the layers that cannot be projected, and the rows (positions) of each layer far away."""

    findings: Findings
    centre: tuple[float, float] | None
    unusable: set[str]
    far: dict[str, np.ndarray]


def _fmt_xy(x: float, y: float) -> str:
    return f"({x:,.6g}, {y:,.6g})"


def check_coordinates(raw: dict[str, gpd.GeoDataFrame], wheres: dict[str, str],
                      id_fields: dict[str, str]) -> CoordinateCheck:
    """Coordinates in their declared CRS: impossible for the CRS, outside its area of use, at (0, 0),
    far from the rest of the study, latitude and longitude swapped.

    Parameters
    ----------
    raw
        Layers as read, in their declared CRS, with ``_row``.
    wheres
        Layer name to its description in messages.
    id_fields
        Layer name to its id field.
    """
    out = Findings()
    unusable: set[str] = set()
    geo: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, gdf in raw.items():
        if not len(gdf) or gdf.crs is None:
            continue
        found = _layer_coordinates(name, gdf, wheres[name], id_fields.get(name), out)
        if found is None:
            unusable.add(name)
        else:
            geo[name] = found
    centre, far = _far_features(raw, geo, wheres, id_fields, out)
    return CoordinateCheck(out, centre, unusable, far)


def _absurd_coordinates(gdf: gpd.GeoDataFrame, where: str, idf: str | None, out: Findings) -> bool:
    """Features with a vertex that is not a finite number (NaN, ±inf) or beyond ±:data:`MAX_COORD`: an
    error naming the rows (True when there are any: the layer cannot be projected or measured)."""
    coords, idx = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    bad_vertex = ~np.isfinite(coords).all(axis=1) | (np.abs(np.nan_to_num(coords)) > MAX_COORD).any(axis=1)
    if not bad_vertex.any():
        return False
    rows, first = np.unique(idx[bad_vertex], return_index=True)
    shown = coords[bad_vertex][first]
    items = [f"{row_id(gdf, int(i), idf)} at {_fmt_xy(float(c[0]), float(c[1]))}" for i, c in zip(rows, shown)]
    out.errors.append(f"{where}: {len(rows)} of {len(gdf)} feature(s) have coordinates that are not finite numbers "
                      f"or lie beyond ±{MAX_COORD:,.0f} (farther than anything on Earth in any CRS): "
                      f"{listing(items)}; correct their coordinates or remove them")
    return True


@dataclass(frozen=True)
class _Layer:
    """A layer being checked: its name, frame, where it is read from, its id field, and the RFC 7946
    note for a GeoJSON file (empty for others)."""

    name: str
    gdf: gpd.GeoDataFrame
    where: str
    idf: str | None
    rfc: str


def _wrong_units(lyr: _Layer, crs: CRS, b: np.ndarray, centres: tuple[np.ndarray, np.ndarray, np.ndarray],
                 out: Findings) -> bool:
    """Degrees beyond ±180/±90 in a geographic CRS, or only degrees in a projected one: an error said
    (True), else False."""
    gdf, where, idf, name, rfc = lyr.gdf, lyr.where, lyr.idf, lyr.name, lyr.rfc
    x, y, ok = centres
    if crs.is_geographic:
        bad = ok & ((np.abs(b[:, [0, 2]]) > 180).any(axis=1) | (np.abs(b[:, [1, 3]]) > 90).any(axis=1))
        if not bad.any():
            return False
        idx = np.flatnonzero(bad)
        items = [f"{row_id(gdf, i, idf)} at {_fmt_xy(x[i], y[i])}" for i in idx]
        out.errors.append(
            f"{where}: {len(idx)} of {len(gdf)} feature(s) have coordinates impossible for {crs.name} "
            f"(longitude beyond ±180 or latitude beyond ±90): {listing(items)}; these look like projected "
            f"metres (e.g. UTM): declare the layer's real CRS with its .prj or layers.{name}.crs{rfc}")
        return True
    if ok.any() and (np.abs(b[ok][:, [0, 2]]) <= 180).all() and (np.abs(b[ok][:, [1, 3]]) <= 90).all() \
            and len(gdf) >= 1 and (np.abs(x[ok]) > 1).any():
        items = [f"{row_id(gdf, i, idf)} at {_fmt_xy(x[i], y[i])}" for i in np.flatnonzero(ok)]
        out.errors.append(
            f"{where}: the layer declares the projected CRS {crs.name} (metres), but all its coordinates are "
            f"within ±180/±90, impossible for a study area in metres: they look like longitude/latitude "
            f"degrees: {listing(items)}; declare EPSG:4326 (layers.{name}.crs){rfc}")
        return True
    return False


def _outside_area_of_use(lyr: _Layer, crs: CRS, lonlat: tuple[np.ndarray, np.ndarray, np.ndarray],
                         out: Findings) -> bool:
    """Features outside the area of use of a projected CRS: a warning, or an error (True) when every
    feature is."""
    aou = crs.area_of_use
    if aou is None or crs.is_geographic:
        return False
    lon, lat, fin = lonlat
    w, s, e, n = aou.bounds
    m = AOU_MARGIN_DEG
    # an area of use that crosses the antimeridian (west above east) is the union of its two sides
    inside_lon = ((lon >= w - m) | (lon <= e + m)) if w > e else ((lon >= w - m) & (lon <= e + m))
    outside = fin & ~(inside_lon & (lat >= s - m) & (lat <= n + m))
    if not outside.any():
        return False
    idx = np.flatnonzero(outside)
    items = [f"{row_id(lyr.gdf, i, lyr.idf)} at lon/lat {_fmt_xy(lon[i], lat[i])}" for i in idx]
    msg = (f"{lyr.where}: {len(idx)} of {len(lyr.gdf)} feature(s) lie outside the area of use of its CRS "
           f"{crs.name} ({w:g}° to {e:g}°E, {s:g}° to {n:g}°N): {listing(items)}")
    if outside.sum() == fin.sum():
        out.errors.append(msg + f"; is the CRS right? declare the real one with the .prj or "
                          f"layers.{lyr.name}.crs{lyr.rfc}")
        return True
    out.warnings.append(Notice("crs-area-of-use", msg + "; check that the CRS is right",
                               {"features": len(idx), "of": len(lyr.gdf)}))
    return False


def _layer_coordinates(name: str, gdf: gpd.GeoDataFrame, where: str, idf: str | None, out: Findings
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """One layer's checks of :func:`check_coordinates`: lon, lat (degrees), usable rows and the raw x
    when the CRS is geographic (for the swap test); None when the layer cannot be projected."""
    crs = CRS.from_user_input(gdf.crs)
    if _absurd_coordinates(gdf, where, idf, out):
        return None
    b = gdf.geometry.bounds.to_numpy(dtype=float)
    x, y = b[:, 0] / 2 + b[:, 2] / 2, b[:, 1] / 2 + b[:, 3] / 2
    ok = np.isfinite(x) & np.isfinite(y)
    is_json = ".json" in where.lower() or ".geojson" in where.lower()
    rfc = " (a GeoJSON file is EPSG:4326 longitude/latitude by RFC 7946; its 'crs' member is not to be trusted)" \
        if is_json else ""
    lyr = _Layer(name, gdf, where, idf, rfc)
    if _wrong_units(lyr, crs, b, (x, y, ok), out):
        return None
    try:
        pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=gdf.crs).to_crs(4326)
        lon, lat = pts.x.to_numpy(dtype=float), pts.y.to_numpy(dtype=float)
    except Exception as exc:  # noqa: BLE001 - pyproj raises several types for impossible input
        out.errors.append(f"{where}: its coordinates cannot be converted from {crs.name} to longitude/latitude "
                          f"({type(exc).__name__}); check the layer's CRS")
        return None
    fin = np.isfinite(lon) & np.isfinite(lat)
    if (~fin & ok).any():
        idx = np.flatnonzero(~fin & ok)
        items = [f"{row_id(gdf, i, idf)} at {_fmt_xy(x[i], y[i])}" for i in idx]
        out.errors.append(f"{where}: {len(idx)} feature(s) have coordinates impossible for {crs.name}: "
                          f"{listing(items)}; check the layer's CRS{rfc}")
        return None
    if _outside_area_of_use(lyr, crs, (lon, lat, fin), out):
        return None
    null = fin & (np.abs(lon) < 0.5) & (np.abs(lat) < 0.5)
    if null.any():
        idx = np.flatnonzero(null)
        items = [f"{row_id(gdf, i, idf)} at {_fmt_xy(x[i], y[i])}" for i in idx]
        out.errors.append(f"{where}: {len(idx)} feature(s) lie at (0, 0), a placeholder for missing coordinates: "
                          f"{listing(items)}; give their real coordinates or remove them")
    return lon, lat, fin & ~null, x if crs.is_geographic else np.full_like(x, np.nan)


def _far_features(raw: dict[str, gpd.GeoDataFrame], geo: dict[str, Any], wheres: dict[str, str],
                  id_fields: dict[str, str], out: Findings) -> tuple[tuple[float, float] | None, dict[str, Any]]:
    """The study's centre (the boundary's, else the median of the layers' medians: one far layer or a
    few far features cannot move it) and the features far from it (errors; lat/lon swap named)."""
    far: dict[str, np.ndarray] = {}
    if not geo:
        return None, far
    medians = {n: (float(np.median(lon[ok])), float(np.median(lat[ok]))) for n, (lon, lat, ok, _) in geo.items()
               if ok.any()}
    if not medians:
        return None, far
    if "boundary" in geo and "boundary" in medians:
        b = raw["boundary"].to_crs(4326).total_bounds
        clon, clat = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        reach = float(_haversine_km(clon, clat, b[0], b[1]))
    else:
        clon = float(np.median([m[0] for m in medians.values()]))
        clat = float(np.median([m[1] for m in medians.values()]))
        reaches = [float(np.percentile(_haversine_km(clon, clat, lon[ok], lat[ok]), 95))
                   for lon, lat, ok, _ in geo.values() if ok.any()]
        reach = float(np.median(reaches))
    limit = max(FAR_KM, 3 * reach)
    for name, (lon, lat, ok, xdeg) in geo.items():
        gdf, idf, where = raw[name], id_fields.get(name), wheres[name]
        d = _haversine_km(clon, clat, lon, lat)
        is_far = ok & (d > limit)
        if not is_far.any():
            continue
        far[name] = is_far
        swapped = is_far & np.isfinite(xdeg) & (_haversine_km(clon, clat, lat, lon) <= limit)
        rest = is_far & ~swapped
        if swapped.any():
            idx = np.flatnonzero(swapped)
            items = [f"{row_id(gdf, i, idf)} at {_fmt_xy(lon[i], lat[i])}" for i in idx]
            whole = "all" if swapped.sum() == ok.sum() else f"{len(idx)} of {int(ok.sum())}"
            out.errors.append(
                f"{where}: lat/lon swapped? {whole} feature(s) lie {float(d[idx].min()):,.0f} km or more from the "
                f"study area (centre {clon:.2f}°E {clat:.2f}°N) but fall inside it with longitude and latitude "
                f"exchanged: {listing(items)}; write x = longitude (east), y = latitude (north)")
        if rest.any():
            idx = np.flatnonzero(rest)
            items = [f"{row_id(gdf, i, idf)} at lon/lat {_fmt_xy(lon[i], lat[i])} ({d[i]:,.0f} km)" for i in idx]
            utm = CRS.from_user_input(gdf.crs).utm_zone if gdf.crs is not None else None
            hint = f" (is UTM zone {utm} in its .prj the zone of its numbers?)" if utm else ""
            out.errors.append(
                f"{where}: {len(idx)} of {len(gdf)} feature(s) lie far from the rest of the study (more than "
                f"{limit:,.0f} km from its centre {clon:.2f}°E {clat:.2f}°N){hint}: {listing(items)}; correct "
                "their coordinates or CRS, or remove them")
    return (clon, clat), far


def check_outside_boundary(layers: dict[str, gpd.GeoDataFrame], study: Any, wheres: dict[str, str],
                           id_fields: dict[str, str], far: dict[str, np.ndarray]) -> Findings:
    """Estates and businesses outside the ``boundary`` layer (projected; warnings; far ones are
    already errors)."""
    out = Findings()
    if "boundary" not in layers:
        return out
    zone = shapely.buffer(study, 1000.0)
    shapely.prepare(zone)
    for name in ("estates", "businesses", "plots"):
        gdf = layers.get(name)
        if gdf is None or not len(gdf):
            continue
        outside = ~shapely.intersects(zone, gdf.geometry.values)
        if name in far and len(far[name]) == len(gdf):
            outside &= ~far[name]
        if outside.any():
            idx = np.flatnonzero(outside)
            items = [row_id(gdf, i, id_fields.get(name)) for i in idx]
            out.warnings.append(Notice("outside-boundary",
                                       f"{wheres[name]}: {len(idx)} of {len(gdf)} feature(s) lie outside the "
                                       f"boundary layer (more than 1 km): {listing(items)}",
                                       {"features": len(idx), "of": len(gdf)}))
    return out
