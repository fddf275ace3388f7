"""The geographic file formats of a run folder: RFC 7946 GeoJSON and tiled, compressed GeoTIFF, each written
atomically (a temporary file, then a rename) with the same bytes for the same input."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import rasterio
from shapely.geometry import mapping

from ..common.atomic import atomic_path
from ..common.geom import to_rfc7946
from ..grid import NODATA, Grid

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["GEOTIFF_COMPRESSION", "write_geojson", "write_geotiff"]


def _clean(v: Any) -> Any:
    """A property's value as JSON holds it: NumPy scalars as Python's, reals rounded to 6 decimals, NaN, an
    infinity and pandas' missing values as null, lists item by item, anything else as text."""
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else round(f, 6)
    if isinstance(v, (np.integer, np.bool_)):
        return v.item()
    return v if isinstance(v, (int, str)) else str(v)


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path, *, columns: list[str] | None = None) -> None:
    """Write an RFC 7946 FeatureCollection (EPSG:4326, no ``crs`` member, UTF-8, 7 decimals).

    Parameters
    ----------
    gdf
        Features with a CRS.
    path
        Target file.
    columns
        Properties to write, in order (default: every non-geometry column).
    """
    cols = columns or [c for c in gdf.columns if c != gdf.geometry.name]
    geoms = to_rfc7946(gdf.geometry.values, gdf.crs) if len(gdf) else np.array([])
    values = [gdf[c].tolist() for c in cols]  # each column read once (not a lookup per cell)
    feats = []
    for i, row in enumerate(zip(*values)) if cols else enumerate([()] * len(gdf)):
        props = {c: _clean(v) for c, v in zip(cols, row)}
        g = geoms[i]
        feats.append({"type": "Feature", "properties": props,
                      "geometry": None if g is None or g.is_empty else mapping(g)})
    doc = {"type": "FeatureCollection", "features": feats}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")


#: the GeoTIFFs' compression: DEFLATE (read by every GDAL, QGIS and rasterio) at level 4 without a
#: predictor. Measured on the demo's 32 rasters (CPU to write; README "Outputs"): half the CPU of the
#: default level with the floating-point predictor (3), and 9 % smaller — suitability rasters repeat
#: values (nodata, plateaus) that the predictor's byte shuffling hides from DEFLATE
GEOTIFF_COMPRESSION = {"compress": "deflate", "zlevel": 4}


def write_geotiff(array: np.ndarray, grid: Grid, path: str | Path, *, nodata: float = NODATA) -> None:
    """Write a float32 GeoTIFF, tiled 256×256 and DEFLATE-compressed (:data:`GEOTIFF_COMPRESSION`), NaN
    written as ``nodata``.

    The file is written atomically: a failure leaves neither a half-written file nor a temporary one.

    Parameters
    ----------
    array
        One band, ``grid``'s shape (cast to float32; NaN = no data).
    grid
        The grid it lies on: its CRS (the working CRS), transform and size go into the file.
    path
        The GeoTIFF file (its parent folder is created; an existing file is replaced).
    nodata
        The value written for NaN and recorded as the band's nodata (default :data:`siteplan.grid.NODATA`).
    """
    data = np.where(np.isnan(array), nodata, array).astype(np.float32)
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": "float32",
        "crs": grid.crs, "transform": grid.transform, "nodata": nodata, "tiled": True,
        "blockxsize": 256, "blockysize": 256, **GEOTIFF_COMPRESSION,
    }
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)

