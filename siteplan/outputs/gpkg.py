"""A run folder's layers in one GeoPackage: the layers read back from the folder with the same column types
in every layer, and the GeoPackage written atomically with fixed bytes and siteplan's marker."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..common.atomic import atomic_path
from .formats import undo_defuse

__all__ = ["GPKG_VERSION", "GPKG_DATE", "GPKG_MARKER", "INTEGER_COLUMNS", "REAL_COLUMNS", "column_types",
           "study_area_layer", "gpkg_layers", "is_siteplan_gpkg", "write_gpkg"]


#: GeoPackage version written by :func:`export_gpkg`: 1.2 is read without a warning by every GDAL since
#: 2.2 (GDAL 3.7 and later write 1.4 by default, which GDAL 3.6 warns about)
GPKG_VERSION = "1.2"


#: integer columns of the GeoPackage's layers (a whole number or empty in every category and layer): written
#: as INTEGER everywhere, even where an ineligible category leaves the column empty
INTEGER_COLUMNS = re.compile(r"^(rank|rank_.+|units|units_in|members|pop_reach|sized_for|plots)$")
#: real columns: written as REAL everywhere, even where every value is empty
REAL_COLUMNS = re.compile(r"^(score|score_.+|prank_.+|share_used|.+_(km|ha|m|m2))$")


def column_types(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` with the same column types in every layer and category: :data:`INTEGER_COLUMNS` as
    64-bit integers (nullable; a column holding a fraction is left real, never truncated), every other
    integer column 64-bit, :data:`REAL_COLUMNS` as reals (an all-empty one too)."""
    out = gdf.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        s = out[c]
        if INTEGER_COLUMNS.match(str(c)) and (pd.api.types.is_numeric_dtype(s.dtype) or s.isna().all()) \
                and not pd.api.types.is_bool_dtype(s.dtype):
            v = pd.to_numeric(s, errors="coerce").astype("float64")
            if bool(np.all(np.isnan(v) | (v == np.round(v)))):
                out[c] = v.astype("Int64")
        elif REAL_COLUMNS.match(str(c)) and (pd.api.types.is_numeric_dtype(s.dtype) or s.isna().all()) \
                and not pd.api.types.is_bool_dtype(s.dtype):
            out[c] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.astype("Int64")
    return out


def study_area_layer(run_dir: Path) -> gpd.GeoDataFrame | None:
    """The run's study area (from its ``explain/`` data) as a one-feature layer in EPSG:4326, or ``None``
    when the run folder has no explain data."""
    folder = run_dir / "explain"
    if not (folder / "geometry.npz").is_file() or not (folder / "explain.json").is_file():
        return None
    import shapely

    meta = json.loads((folder / "explain.json").read_text(encoding="utf-8"))
    with np.load(folder / "geometry.npz", allow_pickle=False) as geo:
        data, off = geo["g0_wkb"], geo["g0_off"]
        g = shapely.from_wkb(data[off[0]:off[1]].tobytes())
    return gpd.GeoDataFrame({"name": ["study area"]}, geometry=[g], crs=meta["crs"]).to_crs(4326)


def gpkg_layers(run_dir: Path) -> list[tuple[str, gpd.GeoDataFrame]]:
    """A run folder's layers for a GeoPackage: every ``*.geojson``, ``relocation`` (a point per
    business from ``relocation.csv``, every column kept) and ``study_area`` (from the run's ``explain/``
    data), in EPSG:4326, with the same column types in every layer (:func:`column_types`). The estates
    also carry ``share_used``, the share of capacity used that the report and the styles class them by
    (:func:`siteplan.report.styles.share_used`)."""
    from ..report.styles import share_used

    layers: list[tuple[str, gpd.GeoDataFrame]] = []
    for f in sorted(run_dir.glob("*.geojson")):
        gdf = gpd.read_file(f)
        gdf = gdf if gdf.crs is not None else gdf.set_crs(4326)
        if f.stem == "estates" and {"cap_ha", "used_ha"} <= set(gdf.columns):
            gdf["share_used"] = [round(share_used(float(c), float(u)), 6) if pd.notna(c) and pd.notna(u) else None
                                 for c, u in zip(gdf["cap_ha"], gdf["used_ha"])]
        layers.append((f.stem, column_types(gdf)))
    rel = run_dir / "relocation.csv"
    if rel.exists():
        df = pd.read_csv(rel, encoding="utf-8-sig", dtype={"biz_id": str, "estate_id": str, "zone_id": str},
                         keep_default_na=False, na_values={"lon": [""], "lat": [""], "distance_km": [""],
                                                           "road_km": [""], "minutes": [""], "land_m2": [""]})
        # the CSV's formula quotes are for spreadsheets; the layer holds the run's values (ids join)
        df.columns = [undo_defuse(str(c)) for c in df.columns]
        for c in df.select_dtypes(include="object").columns:
            df[c] = df[c].map(undo_defuse)
        layers.append(("relocation", column_types(gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326))))
    sa = study_area_layer(run_dir)
    if sa is not None:
        layers.append(("study_area", sa))
    return layers


#: the date GDAL writes into a GeoPackage's tables (``gpkg_contents.last_change``) instead of now, so
#: that the same layers give the same bytes
GPKG_DATE = "2000-01-01T00:00:00.000Z"


#: the key of the dataset metadata (``gpkg_metadata``) that marks a GeoPackage ``siteplan export`` wrote
GPKG_MARKER = "SITEPLAN_EXPORT"


def is_siteplan_gpkg(path: Path) -> bool:
    """True when ``path`` is a GeoPackage ``siteplan export`` wrote (its ``gpkg_metadata`` holds
    :data:`GPKG_MARKER`). Read only (SQLite's ``immutable`` mode: no journal or lock file is made); any
    other file, or one that cannot be read, is not siteplan's."""
    import sqlite3
    from urllib.parse import quote

    try:
        with Path(path).open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                return False
        con = sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro&immutable=1", uri=True)
        try:
            rows = con.execute("SELECT metadata FROM gpkg_metadata WHERE md_scope = 'dataset'").fetchall()
        finally:
            con.close()
    except (OSError, sqlite3.Error):
        return False
    return any(isinstance(m, str) and f'key="{GPKG_MARKER}"' in m for (m,) in rows)


def write_gpkg(layers: list[tuple[str, gpd.GeoDataFrame]], gpkg: Path, *,
               styles: pd.DataFrame | None = None, marker: bool = False) -> list[str]:
    """Write layers into one GeoPackage (version :data:`GPKG_VERSION`), atomically; the same layers give
    the same bytes (GDAL's ``OGR_CURRENT_DATE`` fixed while writing). ``styles``, QGIS's ``layer_styles``
    table (:func:`siteplan.outputs.gisstyle.styles_table`), is written with them; ``marker`` records
    :data:`GPKG_MARKER` in the dataset's metadata (``gpkg_metadata``), what ``export --overwrite`` checks
    before replacing the file (:func:`is_siteplan_gpkg`). Returns the layer names."""
    import pyogrio

    names = []
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        with atomic_path(gpkg) as tmp, warnings.catch_warnings():
            # the temporary name ends in .part until the file is complete; GDAL warns about that
            warnings.filterwarnings("ignore", message=".*(non conformant file extension|filename extension should be)",
                                    category=RuntimeWarning)
            for k, (name, gdf) in enumerate(layers):
                opts = {"VERSION": GPKG_VERSION} if k == 0 else {}
                meta = {GPKG_MARKER: "siteplan export"} if k == 0 and marker else None
                gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", dataset_options=opts or None,
                            dataset_metadata=meta)
                names.append(name)
            if styles is not None and len(styles):
                # QGIS's own table of layer styles (an attributes table, FID "id", as QGIS creates it)
                pyogrio.write_dataframe(styles, tmp, layer="layer_styles", driver="GPKG",
                                        layer_options={"FID": "id"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
    return names

