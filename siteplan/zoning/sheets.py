"""The report's per-estate zoning sheets: each estate's zone rows and a small map of its zones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["SHEET_COLUMNS", "ZoningSheet", "zoning_sheets"]

#: columns of the report's per-estate zoning sheet
SHEET_COLUMNS = ["zone_id", "name_fa", "name_en", "env_cat", "sep_m", "min_home_m", "area_ha", "units", "plots",
                 "convexity", "land_basis"]


@dataclass(frozen=True)
class ZoningSheet:
    """One estate's zoning sheet: its zones' rows, one SVG path per zone and the estate's outline (numbers
    only; the outline empty when the estate's geometry was not given).

    Parameters
    ----------
    estate_id
        The estate's id.
    rows
        Its zones' rows (:data:`SHEET_COLUMNS`), in the zones' order.
    paths
        One SVG path per zone (numbers only, north up), in the order of ``rows``.
    outline
        The estate's outline as one SVG path in the same box; empty when its geometry was not given.
    """

    estate_id: str
    rows: pd.DataFrame
    paths: list[str]
    outline: str = ""


def _svg_path(g: Any, minx: float, miny: float, span: float, size: float) -> str:
    """A (multi)polygon as one SVG path in a ``size`` box (north up)."""
    parts = []
    for poly in shapely.get_parts(g):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            px = (xy[:, 0] - minx) / span * size
            py = size - (xy[:, 1] - miny) / span * size
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py)) + "Z")
    return "".join(parts)


def zoning_sheets(zones: gpd.GeoDataFrame, *, size: float = 100.0,
                  estates: gpd.GeoDataFrame | None = None) -> list[ZoningSheet]:
    """Per estate, the rows and a small map of its zones (for the report's zoning sheets).

    Parameters
    ----------
    zones
        The zones (working CRS).
    size
        Side of the map's square view box.
    estates
        The estates (``estate_id`` and geometry, the zones' CRS): each sheet then draws its estate's
        outline too, and the view box holds the whole estate.

    Returns
    -------
    list of ZoningSheet
        Per estate (in id order): ``rows`` (a frame of :data:`SHEET_COLUMNS`), ``paths`` (one SVG
        path per zone, numbers only, in a ``size`` × ``size`` box, north up) and ``outline``.
    """
    shapes = {}
    if estates is not None and len(estates) and "estate_id" in estates:
        shapes = {str(e): g for e, g in zip(estates["estate_id"], estates.geometry.values) if g is not None}
    out = []
    # the table and the geometries taken apart once, then each estate's rows by position
    table = pd.DataFrame(zones[SHEET_COLUMNS])
    allg = np.asarray(zones.geometry.values, dtype=object)
    rows = pd.Series(np.arange(len(zones))).groupby(zones["estate_id"].to_numpy(), sort=True).groups
    for eid, at in rows.items():
        pos = np.asarray(at)
        outline = shapes.get(str(eid))
        mine = list(allg[pos])
        geoms = mine + ([outline] if outline is not None else [])
        minx, miny, maxx, maxy = shapely.total_bounds(np.array(geoms, dtype=object))
        span = max(maxx - minx, maxy - miny, 1e-9)
        paths = [_svg_path(g, minx, miny, span, size) for g in mine]
        line = _svg_path(outline, minx, miny, span, size) if outline is not None else ""
        out.append(ZoningSheet(str(eid), table.iloc[pos].reset_index(drop=True), paths, line))
    return out
