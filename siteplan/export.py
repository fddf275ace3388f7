"""Writers: RFC 7946 GeoJSON, CSV, GeoTIFF, GeoPackage and the run manifest. Every writer is atomic
(write to a temporary file, then rename) and deterministic (same input, same bytes)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from shapely.geometry import mapping

from ._geom import polygonal
from ._io import atomic_path
from .criteria import Grid

__all__ = ["write_geojson", "write_csv", "write_geotiff", "write_json", "sha256", "versions", "to_rfc7946",
           "export_gpkg", "neutralise_formulas", "safe_csv", "FORMULA_PREFIXES", "NODATA"]

NODATA = -9999.0


def _clean(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else round(f, 6)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v if isinstance(v, (int, str)) else str(v)


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
    return shapely.orient_polygons(g, exterior_cw=False)


def _snap(g: Any) -> Any:
    """set_precision for one geometry, falling back to rounding and repairing when GEOS refuses."""
    try:
        return shapely.set_precision(g, 1e-7, mode="valid_output")
    except shapely.errors.GEOSException:
        r = shapely.make_valid(shapely.transform(g, lambda c: np.round(c, 7)))
        return shapely.set_precision(r, 1e-7, mode="pointwise")


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
    feats = []
    for i in range(len(gdf)):
        props = {c: _clean(gdf[c].iat[i]) for c in cols}
        g = geoms[i]
        feats.append({"type": "Feature", "properties": props,
                      "geometry": None if g is None or g.is_empty else mapping(g)})
    doc = {"type": "FeatureCollection", "features": feats}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _defuse(v: Any) -> Any:
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` that a spreadsheet cannot read as formulas (OWASP's CSV-injection advice).

    Every *string* cell (and column name) that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage
    return gets a leading single quote, so ``=HYPERLINK(...)`` is shown as text, not evaluated. Numeric
    columns are left alone (``-3.5`` in a float column stays a number), but the text ``"-3"`` in a
    string column is prefixed. Quotes and separators inside cells are handled by the CSV quoting.
    Every CSV siteplan writes goes through this.
    """
    out = df.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out.isetitem(i, s.map(_defuse))
    out.columns = [_defuse(c) for c in out.columns]
    return out


def _has_cr(df: pd.DataFrame) -> bool:
    if any(isinstance(c, str) and "\r" in c for c in df.columns):
        return True
    return any(df.iloc[:, i].map(lambda v: isinstance(v, str) and "\r" in v).any()
               for i in range(df.shape[1]) if not pd.api.types.is_numeric_dtype(df.iloc[:, i].dtype))


def safe_csv(df: pd.DataFrame, path: str | Path | None = None, *, bom: bool = False) -> str | None:
    """``df.to_csv`` without the index, formulas neutralised (:func:`neutralise_formulas`).

    Lines end with LF; when a cell holds a carriage return, the file uses CRLF (RFC 4180) so that
    the CSV writer quotes that cell and the CR cannot start a new row (a row of the attacker's
    making would escape the formula check). Returns the text when ``path`` is None.
    """
    safe = neutralise_formulas(df)
    return safe.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8",
                       lineterminator="\r\n" if _has_cr(safe) else "\n")


def write_csv(df: pd.DataFrame, path: str | Path, *, bom: bool = False) -> None:
    """Write a UTF-8 CSV (with a byte-order mark when ``bom``, which Excel needs for Persian); string
    cells that a spreadsheet would read as formulas are neutralised (:func:`safe_csv`)."""
    with atomic_path(path) as tmp:
        safe_csv(df, tmp, bom=bom)


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON (UTF-8, indented, keys in insertion order) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def write_geotiff(array: np.ndarray, grid: Grid, path: str | Path, *, nodata: float = NODATA) -> None:
    """Write a float32 GeoTIFF, tiled 256×256 and DEFLATE-compressed, NaN written as ``nodata``."""
    data = np.where(np.isnan(array), nodata, array).astype(np.float32)
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": "float32",
        "crs": grid.crs, "transform": grid.transform, "nodata": nodata, "tiled": True,
        "blockxsize": 256, "blockysize": 256, "compress": "deflate", "predictor": 3,
    }
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data, 1)


def sha256(path: str | Path) -> str:
    """SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Versions of Python, GDAL and the packages siteplan uses."""
    out = {"python": platform.python_version(), "gdal": rasterio.__gdal_version__}
    for pkg in ("siteplan", "numpy", "pandas", "scipy", "geopandas", "shapely", "pyproj", "pyogrio",
                "rasterio", "scikit-learn", "folium", "pydantic", "click", "pyyaml"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def utc_now() -> str:
    """Current UTC time, ISO 8601 (for the manifest only; never in deterministic outputs)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def export_gpkg(run_dir: str | Path, gpkg: str | Path) -> list[str]:
    """Copy every GeoJSON layer of a run folder into one GeoPackage (for QGIS).

    Returns
    -------
    list of str
        The layer names written.
    """
    run_dir = Path(run_dir)
    names = []
    with atomic_path(gpkg) as tmp:
        for f in sorted(run_dir.glob("*.geojson")):
            gdf = gpd.read_file(f)
            if gdf.crs is None:
                gdf = gdf.set_crs(4326)
            gdf.to_file(tmp, layer=f.stem, driver="GPKG", engine="pyogrio")
            names.append(f.stem)
    return names
