"""Writers: RFC 7946 GeoJSON, CSV, GeoTIFF, GeoPackage and the run manifest. Every writer is atomic
(write to a temporary file, then rename) and deterministic (same input, same bytes)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import gc
import json
import math
import os
import platform
import re
import threading
import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from shapely.geometry import mapping

from .._version import __version__
from ..common.atomic import atomic_path
from ..common.geom import to_rfc7946
from ..common.hashing import sha256_file
from ..common.notice import messages
from ..common.units import M2_PER_HA
from ..grid import NODATA, Grid
from .files import MARKER, unregistered
from .formats import (
    FORMULA_PREFIXES as FORMULA_PREFIXES,
)
from .formats import (
    _defuse as _defuse,
)
from .formats import (
    neutralise_formulas as neutralise_formulas,
)
from .formats import (
    safe_csv as safe_csv,
)
from .formats import (
    undo_defuse as undo_defuse,
)
from .formats import (
    write_csv as write_csv,
)
from .formats import (
    write_json as write_json,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from ..results import RunResult
    from .stagecache import StageReuse

__all__ = ["write_run", "estates_table", "write_geojson", "write_csv", "write_geotiff", "write_json", "sha256",
           "versions", "to_rfc7946",
           "export_gpkg", "is_siteplan_gpkg",
           "gpkg_layers", "undo_defuse", "write_gpkg", "GPKG_VERSION", "neutralise_formulas", "safe_csv",
           "FORMULA_PREFIXES"]


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
    written as ``nodata``."""
    data = np.where(np.isnan(array), nodata, array).astype(np.float32)
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": "float32",
        "crs": grid.crs, "transform": grid.transform, "nodata": nodata, "tiled": True,
        "blockxsize": 256, "blockysize": 256, **GEOTIFF_COMPRESSION,
    }
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)


def sha256(path: str | Path) -> str:
    """SHA-256 of a file or folder (:func:`siteplan.common.hashing.sha256_file`)."""
    return sha256_file(path)


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
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


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
        with open(path, "rb") as f:
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


def _report_language(run_dir: Path) -> str:
    """The run's report language (``both``, ``fa`` or ``en``) from its manifest."""
    try:
        m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        lang = str(((m.get("scenario") or {}).get("report") or {}).get("language", "both"))
    except (OSError, ValueError, AttributeError):
        return "both"
    return lang if lang in ("both", "fa", "en") else "both"


def _category_names(layers: list[tuple[str, gpd.GeoDataFrame]]) -> dict[str, tuple[str, str]]:
    """Category code -> (Persian, English) name, as the zones and relocation layers carry them."""
    out: dict[str, tuple[str, str]] = {}
    for name, g in layers:
        if name in ("zones", "plots") and {"category", "name_fa", "name_en"} <= set(g.columns):
            for c, fa, en in zip(g["category"], g["name_fa"], g["name_en"]):
                if isinstance(c, str) and c not in out:
                    out[c] = (str(fa) if isinstance(fa, str) and fa else c, str(en) if isinstance(en, str) and en else c)
        if name == "relocation" and {"category", "category_fa"} <= set(g.columns):
            for c, fa in zip(g["category"], g["category_fa"]):
                if isinstance(c, str) and c and c not in out:
                    out[c] = (str(fa) if isinstance(fa, str) and fa else c, c)
    return out


def _project(run_dir: Path, gpkg: Path, qgz: Path, layers: list[tuple[str, gpd.GeoDataFrame]],
             tifs: list[Path], folder_name: str, lang: str) -> None:
    """Write the QGIS project ``qgz`` beside ``gpkg`` (:func:`siteplan.outputs.qgsproject.write_project`)."""
    from ..report.styles import TITLES
    from .gisstyle import label
    from .qgsproject import write_project

    try:
        m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        crs, title = m.get("crs") or "EPSG:4326", str((m.get("scenario") or {}).get("name") or "siteplan")
    except (OSError, ValueError, AttributeError):
        crs, title = "EPSG:4326", "siteplan"
    sa = dict(layers).get("study_area")
    extent = tuple(sa.to_crs(crs).total_bounds) if sa is not None and len(sa) else None
    names = _category_names(layers)
    rasters = []
    for t in tifs:
        code = t.stem.removesuffix("_sd")
        fa, en = names.get(code, (code, code))
        if t.stem.endswith("_sd"):
            fa, en = f"{fa} (انحراف معیار تناسب)", f"{en} (suitability SD)"
        rasters.append((f"siteplan_suit_{t.stem}", f"{folder_name}/{t.name}", label((fa, en), lang), t))
    write_project(qgz, gpkg.name, layers, rasters, crs, extent, lang,
                  f"siteplan — {title}: {label(TITLES['estates'], lang)}")


def _check_replace(target: Path, option: str, overwrite: bool, ours: Callable[[Path], bool]) -> None:
    """Refuse an existing ``target`` unless ``overwrite`` and it is siteplan's own export (``ours``)."""
    from ..errors import InputError

    if not os.path.lexists(target):
        return
    if os.path.islink(target) or not target.is_file():
        raise InputError(f"{option} {target}: exists and is not a file siteplan export wrote; siteplan never "
                         "replaces it: choose another name")
    if not ours(target):
        raise InputError(f"{option} {target}: exists and siteplan export did not write it (no siteplan marker); "
                         "siteplan never replaces a file it did not write, even with --overwrite: choose another name")
    if not overwrite:
        raise InputError(f"{option} {target}: exists (an earlier siteplan export): choose another name, or pass "
                         "--overwrite to replace it")


def export_gpkg(run_dir: str | Path, gpkg: str | Path, *, rasters: bool = True, project: bool = True,
                overwrite: bool = False) -> list[str]:
    """Copy every vector output of a run folder into one GeoPackage (for QGIS) with each layer's style,
    the suitability rasters into a folder beside it, and a QGIS project opening them styled.

    Layers: every ``*.geojson`` of the run (estates, zones, sites, clusters, flows, plots when
    written), ``relocation`` (a point per business from ``relocation.csv``, every column kept) and
    ``study_area``, in EPSG:4326 as in the run folder, at GeoPackage version :data:`GPKG_VERSION`, with
    the same column types in every layer (:func:`column_types`). Each layer's style (the report's
    colours, classes and legend labels, :mod:`siteplan.report.styles`) is in QGIS's ``layer_styles`` table,
    as QML and SLD (:mod:`siteplan.outputs.gisstyle`).

    Parameters
    ----------
    run_dir
        A folder ``siteplan run`` wrote.
    gpkg
        The GeoPackage to write; it replaces ``gpkg`` only once complete. Refused, before anything is
        read, when it is inside ``run_dir`` or is one of the run's inputs recorded in its manifest
        (:func:`siteplan.outputs.outfile.check_output_file`).
    rasters
        Also copy ``suitability/*.tif`` into ``<gpkg stem>_suitability/`` next to ``gpkg``: a folder of
        siteplan's own with the rules of an output folder (:class:`siteplan.outputs.outdir.OutputFolder`): made
        new, or replaced only when it holds nothing but the rasters an earlier export recorded in its
        marker; anything else there (a DEM, notes, a viewer's ``.aux.xml``) is refused, never deleted.
    project
        Also write ``<gpkg stem>.qgz`` beside ``gpkg``: a QGIS project with the layers styled and grouped
        as in the report, the suitability rasters with the report's colour ramp and the study area as
        the initial extent (the same rules as ``gpkg``: never an input, never inside ``run_dir``).
    overwrite
        Replace an existing ``gpkg``, ``.qgz`` and rasters folder, each only when siteplan's export wrote
        it (its marker: :func:`is_siteplan_gpkg`, :func:`siteplan.outputs.qgsproject.is_siteplan_qgz`, the
        folder's ``.siteplan-run``). Without it an existing one is refused; a file or folder siteplan
        did not write is refused even with it. Every refusal comes before anything is written.

    Returns
    -------
    list of str
        The layer names written (and ``<folder>/<file>.tif`` for each raster copied).

    Raises
    ------
    InputError
        ``run_dir`` is not a folder ``siteplan run`` wrote; ``gpkg`` would replace an input or lies inside
        ``run_dir``; the rasters folder holds files siteplan did not write, or an input; ``gpkg`` or the
        ``.qgz`` exists and is not siteplan's export, or is without ``overwrite``.
    """
    import shutil

    from ..errors import InputError
    from .outdir import COMMANDS, OutputFolder, written_by
    from .outfile import check_output_file, run_inputs

    run_dir = Path(run_dir)
    gpkg = Path(gpkg)
    kind = written_by(run_dir)[0] if run_dir.is_dir() else None
    if kind not in ("run", "national"):
        what = f"a folder {COMMANDS[kind]} wrote" if kind in COMMANDS else "not a folder siteplan run wrote"
        raise InputError(f"{run_dir}: {what} (no siteplan run marker or manifest); export takes the folder "
                         "`siteplan run ... --out FOLDER` wrote: give that folder")
    inputs = run_inputs(run_dir)
    check_output_file(gpkg, inputs, option="--gpkg", folders={"the run folder": run_dir})
    qgz = gpkg.with_suffix(".qgz")
    if project:
        check_output_file(qgz, inputs, option=f"--gpkg {gpkg}: its QGIS project", folders={"the run folder": run_dir})
    from .qgsproject import is_siteplan_qgz

    _check_replace(gpkg, "--gpkg", overwrite, is_siteplan_gpkg)
    if project:
        _check_replace(qgz, f"--gpkg {gpkg}: its QGIS project", overwrite, is_siteplan_qgz)
    layers = gpkg_layers(run_dir)
    listed = written_by(run_dir)[1] or set()
    missing = sorted(f for f in listed if ((f.endswith(".geojson") and "/" not in f) or f == "relocation.csv")
                     and not (run_dir / f).is_file())
    if missing:
        raise InputError(f"{run_dir}: {', '.join(missing)} missing, though siteplan wrote "
                         f"{'it' if len(missing) == 1 else 'them'} there; the folder is incomplete: run the "
                         "scenario again to rebuild it")
    if not layers:
        raise InputError(f"{run_dir}: holds no layer to export (no *.geojson, no relocation.csv): give the "
                         "folder a finished `siteplan run` wrote")
    from .gisstyle import styles_table

    lang = _report_language(run_dir)
    styles = styles_table(layers, lang)
    tifs = sorted((run_dir / "suitability").glob("*.tif")) if rasters else []
    folder = gpkg.with_name(gpkg.stem + "_suitability")
    if not tifs:
        names = write_gpkg(layers, gpkg, styles=styles, marker=True)
        if project:
            _project(run_dir, gpkg, qgz, layers, [], folder.name, lang)
            names.append(qgz.name)
        return names
    with OutputFolder(folder, kind="export", overwrite=overwrite, inputs={**inputs, "the run folder": run_dir},
                      option=f"--gpkg {gpkg}: its rasters folder") as out:
        names = write_gpkg(layers, gpkg, styles=styles, marker=True)
        for t in tifs:
            shutil.copy2(t, out.stage / t.name)
            names.append(f"{folder.name}/{t.name}")
        if project:
            _project(run_dir, gpkg, qgz, layers, tifs, folder.name, lang)
            names.append(qgz.name)
    return names


# ------------------------------------------------------------------------------------------------
# the run folder
# ------------------------------------------------------------------------------------------------


def estates_table(res: RunResult) -> gpd.GeoDataFrame:
    """estates.geojson: each estate with capacity used and left, and per category its eligibility,
    reason, score, rank and robustness."""
    est = res.prep.region.layers["estates"]
    keep = [c for c in ("estate_id", "name", "kind", "gross_ha", "vacant_ha", "max_cat") if c in est]
    out = est[keep + ["geometry"]].copy()
    if out.empty:
        return gpd.GeoDataFrame(out, geometry="geometry", crs=est.crs)
    cap = res.plan.estate_summary.groupby("estate_id").agg(capacity_m2=("capacity_m2", "first"),
                                                            used_m2=("used_m2", "sum"),
                                                            units_in=("units", "sum"))
    out = out.merge(cap, left_on="estate_id", right_index=True, how="left")
    out["cap_ha"] = (out.pop("capacity_m2") / M2_PER_HA).round(4)
    out["used_ha"] = (out.pop("used_m2") / M2_PER_HA).round(4)
    out["left_ha"] = (out["cap_ha"] - out["used_ha"]).clip(lower=0).round(4)
    out["units_in"] = out["units_in"].fillna(0).astype(int)
    r = res.ranks.set_index(["estate_id", "category"])
    for code in res.prep.codes:
        sub = r.xs(code, level="category").reindex(out["estate_id"])
        out[f"elig_{code}"] = sub["eligible"].to_numpy()
        out[f"why_{code}"] = sub["reason"].to_numpy()
        out[f"score_{code}"] = sub["score"].to_numpy()
        out[f"rank_{code}"] = sub["rank"].to_numpy()
        out[f"prank_{code}"] = sub["p_rank"].to_numpy()
        out[f"oat_{code}"] = sub["oat_ranks"].to_numpy()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=est.crs)


def _input_hashes(res: RunResult) -> dict[str, dict[str, str]]:
    """The manifest's ``inputs``: per layer, the SHA-256 of each file read (a file geodatabase folder as a
    whole, hashed once however many layers it serves); for a database layer, its source (URL without
    password, table or ``sql``) and the SHA-256 of the content read."""
    inputs: dict[str, dict[str, str]] = {}
    seen: dict[Path, str] = {}
    for layer, files in res.prep.region.files.items():
        inputs[layer] = {str(f.name): seen[f] if f in seen else seen.setdefault(f, sha256(f)) for f in files}
    for layer, source in res.prep.region.sources.items():
        inputs[layer] = dict(source)
    return inputs


def _raster_jobs(res: RunResult, out_dir: Path, reuse: StageReuse | None) -> list[Callable[[], object]]:
    """The jobs writing ``suitability/<code>.tif`` (with ``outputs.suitability_tifs``) and, with sensitivity
    draws, ``<code>_sd.tif``, then the ``explain/`` data, in that order (the order their stage keys are
    recorded in): each file copied from the ``--reuse`` run when its key is that run's
    (:meth:`siteplan.outputs.stagecache.StageReuse.output`), else computed and encoded."""
    from .explain import EXPLAIN_DIR, write_explain_data

    jobs: list[Callable[[], object]] = []
    if res.prep.scenario.outputs.suitability_tifs:
        for code in res.prep.surfaces:
            jobs.append(functools.partial(_score_tif, res, code, out_dir, reuse))
            if res.prep.scenario.sensitivity.draws > 0:
                jobs.append(functools.partial(_sd_tif, res, code, out_dir, reuse))
    # what `siteplan explain RUN_DIR` reads
    jobs.append(functools.partial(write_explain_data, res.prep, res.usable, res.elig, out_dir / EXPLAIN_DIR,
                                  reuse=reuse))
    return jobs


def _score_tif(res: RunResult, code: str, out_dir: Path, reuse: StageReuse | None) -> None:
    """``suitability/<code>.tif``: category ``code``'s suitability, excluded cells as nodata."""
    rel = f"suitability/{code}.tif"
    if reuse is not None and reuse.output(rel, reuse.surface_file_key(code, "score", rasterio.__gdal_version__),
                                          out_dir / rel):
        return
    write_geotiff(res.prep.surfaces[code].masked, res.prep.grid, out_dir / rel)


def _sd_tif(res: RunResult, code: str, out_dir: Path, reuse: StageReuse | None) -> None:
    """``suitability/<code>_sd.tif``: the standard deviation of category ``code``'s score over the weights'
    sensitivity draws (:mod:`siteplan.locate.sensitivity`), excluded cells as nodata."""
    sc = res.prep.scenario
    rel = f"suitability/{code}_sd.tif"
    if reuse is not None and reuse.output(rel, reuse.surface_file_key(
            code, "sd", rasterio.__gdal_version__, sc.sensitivity.model_dump(mode="json"), res.seed), out_dir / rel):
        return
    from ..locate.sensitivity import score_sd, score_sd_mc

    s = res.prep.surfaces[code]
    by_name = {c.spec.name: c for c in res.prep.crit}
    layers_k = [by_name[n].score for n in s.weights]
    wk = np.array(list(s.weights.values()))
    sd = score_sd(layers_k, wk, sc.sensitivity.concentration) if sc.aggregation.method == "wlc" \
        else score_sd_mc(layers_k, wk, sc.sensitivity.concentration, sc.aggregation.method,
                         sc.aggregation.order_weights, draws=sc.sensitivity.draws, seed=res.seed)
    write_geotiff(np.where(s.allowed, sd, np.nan), res.prep.grid, out_dir / rel)


class _Background:
    """Write jobs run in the order given on one worker thread, beside the calling thread's own writing.

    The files of a run do not depend on the order they are written in, and the jobs given here
    (``plan.xlsx``, the GeoTIFFs and the explain data: mostly zlib's and GDAL's compression, which release
    the GIL) share no state with the calling thread's (the CSVs, the GeoJSON, the report) but what they read;
    the stage keys they record (:meth:`siteplan.outputs.stagecache.StageReuse.output`) are recorded in the
    order given, as before. Every file still goes through :func:`siteplan.common.atomic.atomic_path`.

    Errors are raised as the sequence of jobs would raise them: the calling thread's writing before the
    background jobs (:meth:`then`) raises its own error; the background jobs' first error comes before
    the error of the calling thread's job after them. On any error the jobs not started are cancelled and
    the one running is waited for, so nothing is written after the error reaches the caller.

    Parameters
    ----------
    threaded
        Run the jobs on a worker thread; False: run them on the calling thread, in the order of the
        sequence (:meth:`then`), as one thread wrote before.
    """

    def __init__(self, *, threaded: bool) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="siteplan-write") if threaded else None
        self._queued: list[Callable[[], object]] = []
        self._futures: list[Future[object]] = []
        self._failed = threading.Event()

    def __enter__(self) -> _Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self._failed.set()  # whatever is left is not started
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, job: Callable[[], object]) -> None:
        """Queue ``job`` (started at once on the worker thread; with ``threaded`` False, by :meth:`then`)."""
        if self._pool is None:
            self._queued.append(job)
        else:
            self._futures.append(self._pool.submit(self._guarded, job))

    def _guarded(self, job: Callable[[], object]) -> object:
        """Run ``job`` unless a job before it (or the calling thread) failed."""
        if self._failed.is_set():
            return None
        try:
            return job()
        except BaseException:
            self._failed.set()
            raise

    def join(self) -> None:
        """Run or wait for every queued job, in order; the first one's error is raised."""
        for job in self._queued:
            job()
        self._queued.clear()
        for f in self._futures:
            f.result()

    def then(self, job: Callable[[], object]) -> None:
        """Run ``job`` on the calling thread after the queued jobs in the sequence (while they run, when
        threaded), then wait for them: their error comes first, then ``job``'s."""
        if self._pool is None:
            self.join()
            job()
            return
        error: Exception | None = None
        try:
            job()
        except Exception as e:  # raised after the queued jobs' (unchained: it is the one error of the sequence)
            error = e
        self.join()
        if error is not None:
            raise error


@contextlib.contextmanager
def _old_objects_frozen() -> Iterator[None]:
    """Leave the objects that exist now out of the garbage collector's full collections for the block
    (:func:`gc.freeze`; ``gc.unfreeze`` after, unless a caller froze them). Writing allocates many small
    objects; each full collection it triggers would traverse the whole heap of the run (hundreds of
    thousands of objects), about 0.3 s of the demo's report. New garbage is still collected; the bytes
    written are the same."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def write_run(res: RunResult, out_dir: Path, *, scenario_file: Path | None = None,
              reuse: StageReuse | None = None) -> dict[str, str]:
    """Write every output file into ``out_dir`` (which must be empty or new); returns file hashes.

    With ``reuse`` (the run's :class:`siteplan.outputs.stagecache.StageReuse`), each suitability GeoTIFF and
    ``explain/rasters.npz`` gets a key (the manifest's ``stages.files``) and, where the ``--reuse`` run recorded
    the same key, is copied from it (:meth:`~siteplan.outputs.stagecache.StageReuse.output`) instead of encoded:
    the same bytes either way."""
    with _old_objects_frozen():
        return _write_run(res, out_dir, scenario_file=scenario_file, reuse=reuse)


#: threads writing a run's files: 2 (``plan.xlsx``, the GeoTIFFs and the explain data on a worker thread beside
#: the CSVs, GeoJSON and report, :class:`_Background`), or 1 (one after the other); the same bytes either way.
#: 1 for now: in one clean-clone test run a GDAL warning (NotGeoreferencedWarning) surfaced while the report
#: warped its overlays and the worker wrote GeoTIFFs (GDAL's and Python's warning state are not per thread
#: alike); two threads come back once that is understood and tested under load
WRITE_THREADS = 1


def _write_run(res: RunResult, out_dir: Path, *, scenario_file: Path | None,
               reuse: StageReuse | None) -> dict[str, str]:
    """:func:`write_run` (inside :func:`_old_objects_frozen`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()
    from ..programme.summaries import estate_totals, relocation_table
    from .workbook import write_workbook

    with _Background(threaded=WRITE_THREADS > 1) as background:
        relocation, totals = relocation_table(res), estate_totals(res)  # in the CSVs and in plan.xlsx
        # the main tables in one workbook, for managers (its zip compression is most of its time)
        background.submit(functools.partial(write_workbook, res, out_dir / "plan.xlsx", relocation=relocation,
                                            estates=totals))
        for job in _raster_jobs(res, out_dir, reuse):
            background.submit(job)
        _write_tables(res, out_dir, relocation, totals)
        background.then(functools.partial(_write_report, res, out_dir))
    res.timings["write"] = round(time.perf_counter() - t0, 3)
    res.timings_cpu["write"] = round(time.process_time() - c0, 3)
    hashes = {str(p.relative_to(out_dir)): sha256(p) for p in sorted(out_dir.rglob("*"))
              if p.is_file() and p.name != MARKER}
    stray = unregistered([Path(k).as_posix() for k in hashes])
    if stray:  # a bug, never a user's input: every file a run writes is on the one list
        raise RuntimeError(f"the run wrote {stray}, which siteplan.outputs.files.RUN_FILES does not list")
    write_json(_manifest(res, scenario_file, hashes), out_dir / "manifest.json")
    return hashes


def _write_report(res: RunResult, out_dir: Path) -> None:
    """``report.html``, with ``outputs.report``."""
    if res.prep.scenario.outputs.report:
        from ..report import build_report

        build_report(res, out_dir / "report.html")


def _write_tables(res: RunResult, out_dir: Path, relocation: pd.DataFrame, totals: pd.DataFrame) -> None:
    """The CSVs and the GeoJSON layers (``relocation``, ``totals``: the run's relocation table and estate
    totals, :mod:`siteplan.programme.summaries`)."""
    from ..guilds.decide import review_table
    from ..programme import summaries as t

    bom = res.prep.scenario.outputs.csv_bom
    write_csv(relocation, out_dir / "relocation.csv", bom=bom)
    write_csv(t.estate_category_table(res), out_dir / "estate_summary.csv", bom=bom)
    write_csv(totals, out_dir / "estates.csv", bom=bom)
    for name, df in (("upgrades.csv", res.upgrades), ("options.csv", res.options)):
        if df is not None:
            write_csv(df, out_dir / name, bom=bom)
    write_csv(review_table(res.prep.businesses, res.prep.catalogue), out_dir / "review.csv", bom=bom)
    towns = t.origins(res)  # each business's origin town, for flows.csv and towns.csv
    write_csv(t.flows_table(res, towns=towns), out_dir / "flows.csv", bom=bom)
    write_geojson(t.flow_lines(res), out_dir / "flows.geojson")
    for by, name in (("town", "towns.csv"), ("county", "counties.csv")):
        origins = t.origin_table(res, by, towns=towns)
        if origins is not None:
            write_csv(origins, out_dir / name, bom=bom)
    write_geojson(estates_table(res), out_dir / "estates.geojson")
    for name, gdf in (("zones", res.zones), ("sites", res.sites), ("clusters", res.clusters), ("plots", res.plots)):
        if gdf is not None:
            write_geojson(gdf, out_dir / f"{name}.geojson")
    for name, df in _programme_tables(res):
        write_csv(df, out_dir / name, bom=bom)


def _programme_tables(res: RunResult) -> list[tuple[str, pd.DataFrame]]:
    """The programme's CSVs (``impact``, ``feasibility``, ``chains``, ``phases``) and ``reletting.csv``, those
    the run has, in that order."""
    out: list[tuple[str, pd.DataFrame]] = []
    if res.programme is not None:
        out += [("impact.csv", res.programme.impact), ("feasibility.csv", res.programme.feasibility),
                ("chains.csv", res.programme.chains)]
        if getattr(res.programme, "phasing", None) is not None:
            out.append(("phases.csv", res.programme.phasing.table))
    if res.reletting is not None and len(res.reletting):
        out.append(("reletting.csv", res.reletting))
    return out


def _manifest(res: RunResult, scenario_file: Path | None, hashes: dict[str, str]) -> dict[str, Any]:
    """The run's ``manifest.json`` (``hashes``: the outputs' SHA-256, :func:`write_run`)."""
    sc = res.prep.scenario
    rows = res.plan.rows
    return {
        "siteplan": __version__,
        "created_utc": utc_now(),
        "scenario_file": str(scenario_file) if scenario_file else None,
        "scenario_sha256": sha256(scenario_file) if scenario_file else None,
        "scenario": sc.model_dump(mode="json", exclude={"base_dir"}),
        "seed": res.seed,
        "crs": res.prep.region.crs.to_string(),
        "grid": {"width": res.prep.grid.width, "height": res.prep.grid.height, "res_m": res.prep.grid.res},
        "inputs": _input_hashes(res),
        "versions": versions(),
        "solver": res.plan.solver,
        "travel": _travel_summary(res),
        "site_choice": res.site_choice,
        **({"baseline": res.baseline} if res.baseline else {}),
        "counts": {
            "businesses": len(rows),
            "assigned": int((rows.status == "assigned").sum()),
            "unassigned": int((rows.status == "unassigned").sum()),
            "unclassified": int(rows["category"].isna().sum()),
            "estates": len(res.prep.region.layers["estates"]),
            "zones": len(res.zones),
            "sites": len(res.sites),
            "clusters": len(res.clusters),
        },
        "excluded_features": res.prep.region.excluded.to_dict(orient="records"),
        "timings_s": res.timings,
        "timings_cpu_s": res.timings_cpu,
        "warnings": messages(res.warnings),
        "outputs_sha256": hashes,
    }


def _travel_summary(res: RunResult) -> dict[str, object]:
    """The manifest's ``travel``: how distances were measured (road or straight) and the network."""
    from ..relocation.roads import network_summary, scenario_network

    return network_summary(scenario_network(res.prep), res.prep.scenario.allocation)
