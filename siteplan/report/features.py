"""The report's map layers as GeoJSON and JSON-safe values (the shared helpers of :mod:`.layers` and
:mod:`.context`): plain values, a layer's feature collection in EPSG:4326, a layer specification and
a legend of swatches. Plain data only: the page encodes it (a JSON data block, ``textContent``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ..common.geom import to_rfc7946

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["plain_value", "features", "layer", "swatches"]


def plain_value(v: Any) -> Any:
    """A JSON-safe property value: plain Python numbers and strings (None for missing or not finite)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    return str(v)


def features(gdf: gpd.GeoDataFrame, props: list[dict[str, Any]], simplify_m: float = 0.0) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326, 6 decimals, about 0.1 m on screen)."""
    geoms = gdf.geometry.values
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    g4 = shapely.transform(to_rfc7946(geoms, gdf.crs), lambda c: np.round(c, 6)) if len(gdf) else []
    feats = [{"type": "Feature", "properties": {k: (v if k in ("_s", "_p", "_t") else plain_value(v)) for k, v in p.items()},
              "geometry": shapely.geometry.mapping(g)} for g, p in zip(g4, props)]
    return {"type": "FeatureCollection", "features": feats}


def layer(name: dict[str, str], *, show: bool, features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A GeoJSON layer's specification for ``app.js`` (group ``analysis`` unless ``extra`` says otherwise),
    shown when the page opens when ``show``."""
    return {"kind": "geojson", "name": name, "show": show, "features": features, "group": "analysis", **extra}


def swatches(items: list[tuple[str, Any]], shape: str = "box") -> dict[str, Any]:
    """A legend of coloured boxes (``shape`` box) or lines (``line``): ``[(colour, label), ...]``."""
    return {"type": shape, "items": [[c, t] for c, t in items]}
