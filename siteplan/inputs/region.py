"""Loading input layers into one metric CRS, with field mapping, checks and geometry repair.

Every layer goes through :func:`read_layer`: read (shapefile, zipped shapefile, GeoPackage layer,
GeoJSON), detect the DBF encoding when a shapefile has no ``.cpg``, map the user's field names onto
the canonical ones, check required fields, parse numbers written with Persian digits, repair invalid
geometries (with a warning listing the ids) and exclude empty or unrepairable ones (reported with the
reason). Nothing is dropped silently: every exclusion is in :attr:`Region.excluded`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from ..common.geom import polygonal
from ..common.notice import Notice
from ..errors import InputError, SiteplanWarning
from ..scenario import LayerSpec, Scenario, is_db_url, redact_url
from . import plausibility
from .fields import (
    ID_FIELDS,
    NUMERIC_FIELDS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    empty_layer,
    map_fields,
    normalise_values,
)
from .files import detect_dbf_encoding, layer_files, raster_problems, read_layer_file, shapefile_problems
from .postgis import frame_sha256, read_db_layer
from .tables import COORD_PROBLEM, TABLE_ROW

log = logging.getLogger(__name__)

__all__ = [
    "ImplausibleDataError",
    "Region",
    "read_layer",
    "load_region",
    "utm_crs_for",
    "detect_dbf_encoding",
    "shapefile_problems",
    "raster_problems",
    "read_layer_file",
    "REQUIRED_FIELDS",
    "OPTIONAL_FIELDS",
    "NUMERIC_FIELDS",
    "ID_FIELDS",
    "GEOM_KIND",
    "AREA_CONSTRAINT_KINDS",
    "area_rows",
]

GEOM_KIND = {
    "estates": "polygon", "urban": "polygon", "plots": "polygon", "boundary": "polygon",
    "occupied": "polygon", "vacant_land": "polygon",
    "roads": "line", "rail": "line", "businesses": "point",
    "receptors": "any", "utilities": "any", "constraints": "any",
}
#: constraint kinds that are areas (an outline drawn as a closed line is read as the area inside it; an
#: open line is refused): the other kinds (river, fault, qanat, well) may be lines or points
AREA_CONSTRAINT_KINDS = ("protected", "wetland", "airport")
_POLY = {"Polygon", "MultiPolygon"}
_LINE = {"LineString", "MultiLineString", "LinearRing"}
_POINT = {"Point", "MultiPoint"}


@dataclass
class Region:
    """Validated layers of a study in one metric CRS.

    Parameters
    ----------
    crs
        The projected, metric CRS all layers share.
    layers
        Canonical layer name to GeoDataFrame (canonical field names, original text kept, ``*_norm``
        columns for matching).
    study_area
        Polygon of the study (the ``boundary`` layer, else the layers' extent plus a margin).
    warnings
        Human-readable warnings (repairs, exclusions, assumptions).
    excluded
        One row per excluded feature: ``layer``, ``row``, ``id``, ``reason``.
    files
        Input files read, per layer (for the manifest's hashes).
    sources
        Layers read from a database, per layer: the source (its URL without a password, and the table
        or ``sql``) and the SHA-256 of the content read (:func:`siteplan.inputs.postgis.frame_sha256`).
    """

    crs: CRS
    layers: dict[str, gpd.GeoDataFrame]
    study_area: BaseGeometry
    warnings: list[Notice] = field(default_factory=list)
    excluded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["layer", "row", "id", "reason"])
    )
    files: dict[str, list[Path]] = field(default_factory=dict)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    def get(self, name: str) -> gpd.GeoDataFrame | None:
        """The layer, or None when the scenario has none."""
        return self.layers.get(name)


def read_layer(name: str, spec: LayerSpec, scenario: Scenario) -> tuple[gpd.GeoDataFrame, list[Notice], pd.DataFrame]:
    """Read one layer, map its fields and check and repair it (CRS unchanged).

    Parameters
    ----------
    name
        Canonical layer name (``estates``, ``urban``, ...).
    spec
        The layer's entry in the scenario.
    scenario
        The scenario (for the base folder and the scenario-wide CRS).

    Returns
    -------
    gdf, warnings, excluded
        The layer with canonical fields, warnings, and a frame of excluded rows with reasons.

    Raises
    ------
    InputError
        Unreadable file, missing required field, no CRS declared, empty layer, duplicate ids.
    """
    path = scenario.resolve(spec.path)
    where = plausibility.layer_where(name, spec)
    read_warns: list[Notice] = []
    if is_db_url(spec.path):
        raw = read_db_layer(spec.path, table=spec.table, query=spec.sql, where=where)
    else:
        raw = read_layer_file(path, spec, where, read_warns)
    gdf, notes = map_fields(raw, name, spec, scenario, where)
    read_warns += notes
    if spec.source is not None:  # a mapped fields.source wins where it is filled; else the constant is the source
        gdf["source"] = gdf["source"].where(gdf["source"].notna() & (gdf["source"].astype(str).str.strip() != ""),
                                            spec.source) if "source" in spec.fields else spec.source
    if gdf.crs is None:
        gdf = gdf.set_crs(spec.crs or scenario.crs)
    if len(gdf) == 0:
        return empty_layer(gdf, name, spec, where)
    gdf, value_warns = normalise_values(gdf, name, spec, where)
    gdf = gdf.reset_index(drop=True)
    # a table's rows are numbered as the spreadsheet shows them (the header is row 1)
    gdf["_row"] = gdf.pop(TABLE_ROW).astype("int64") if TABLE_ROW in gdf.columns else np.arange(1, len(gdf) + 1)
    excluded_rows = _missing_ids(gdf, name, where)
    gdf, warns, drop = _check_geometries(gdf, name, where, excluded_rows)
    warns[:0] = read_warns + value_warns
    gdf = gdf.drop(columns=[COORD_PROBLEM], errors="ignore")
    idf = ID_FIELDS.get(name)
    if idf:
        drop |= gdf[idf].isna().to_numpy()
    keep = gdf.loc[~drop].copy()
    if len(keep) == 0 and not spec.allow_empty:
        raise InputError(f"{where}: no usable feature left: all {len(gdf)} were excluded "
                         f"({excluded_rows[0]['reason'] if excluded_rows else 'unknown'})")
    excluded = pd.DataFrame(excluded_rows, columns=["layer", "row", "id", "reason"])
    if len(excluded):
        warns.append(Notice("rows-excluded", f"{where}: excluded {len(excluded)} feature(s): "
                            + "; ".join(f"row {r.row} ({r.id}): {r.reason}" for r in excluded.head(10).itertuples())
                            + (" …" if len(excluded) > 10 else ""), {"features": len(excluded)}))
    return keep, warns, excluded


def _missing_ids(gdf: gpd.GeoDataFrame, name: str, where: str) -> list[dict[str, object]]:
    """Rows without an id (excluded, with the reason); duplicate ids are an error."""
    idf = ID_FIELDS.get(name)
    rows: list[dict[str, object]] = []
    if not idf:
        return rows
    missing_id = gdf[idf].isna()
    rows.extend({"layer": name, "row": int(r), "id": None, "reason": f"no {idf}"} for r in gdf.loc[missing_id, "_row"])
    dup = gdf.loc[~missing_id, [idf, "_row"]]
    shared = dup[dup[idf].duplicated(keep=False)]
    if len(shared):
        groups = shared.groupby(idf, sort=True)["_row"].agg(list)
        items = [f"{k} (rows {', '.join(str(int(r)) for r in rows_)})" for k, rows_ in groups.iloc[:20].items()]
        raise InputError(f"{where}: duplicate {idf} values: {'; '.join(items)}{' …' if len(groups) > 20 else ''} "
                         f"({len(groups)} id(s) shared by {len(shared)} rows in all); ids must be unique")
    return rows


def _check_geometries(gdf: gpd.GeoDataFrame, name: str, where: str, excluded_rows: list[dict[str, object]]
                      ) -> tuple[gpd.GeoDataFrame, list[Notice], np.ndarray]:
    """Repair invalid geometries, turn business polygons into points, and mark empty or unusable
    ones (appended to ``excluded_rows``); returns the layer, warnings and the rows to drop."""
    warns: list[Notice] = []
    idf = ID_FIELDS.get(name)
    ident = gdf[idf] if idf else gdf["_row"].astype(str)
    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    why = gdf[COORD_PROBLEM] if COORD_PROBLEM in gdf.columns else pd.Series(None, index=gdf.index, dtype=object)
    for r, i, w in zip(gdf.loc[empty, "_row"], ident[empty], why[empty]):
        excluded_rows.append({"layer": name, "row": int(r), "id": i,
                              "reason": w if isinstance(w, str) else "empty or missing geometry"})
    invalid = ~empty & ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        if GEOM_KIND[name] == "polygon":
            fixed = np.array([polygonal(g) for g in fixed], dtype=object)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        ids = ", ".join(map(str, ident[invalid][:20]))
        warns.append(Notice("geometry-repaired", f"{where}: repaired {int(invalid.sum())} invalid geometr"
                            f"{'y' if invalid.sum() == 1 else 'ies'} (ids: {ids}{' …' if invalid.sum() > 20 else ''})",
                            {"features": int(invalid.sum())}))
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs, index=gdf.index))
    gdf, area_warns = _areas_from_rings(gdf, name, where, ident, empty)
    warns.extend(area_warns)
    types = gdf.geometry.geom_type.to_numpy()
    want = {"polygon": _POLY, "line": _LINE, "point": _POINT, "any": _POLY | _LINE | _POINT}[GEOM_KIND[name]]
    bad_type = ~empty & ~pd.Series(types).isin(want).to_numpy()
    if name == "businesses":
        poly = bad_type & pd.Series(types).isin(_POLY).to_numpy()
        if poly.any():
            gdf.loc[poly, "geometry"] = gdf.geometry[poly].representative_point()
            warns.append(Notice("polygon-to-point",
                                f"{where}: {int(poly.sum())} business polygons replaced by a point inside them",
                                {"features": int(poly.sum())}))
            bad_type &= ~poly
    unrepaired = ~empty & (shapely.is_empty(gdf.geometry.values) | bad_type)
    for r, i, t in zip(gdf.loc[unrepaired, "_row"], ident[unrepaired], types[unrepaired]):
        excluded_rows.append({"layer": name, "row": int(r), "id": i,
                              "reason": f"geometry {t} cannot be used as {GEOM_KIND[name]} (unrepairable)"})
    return gdf, warns, np.asarray(empty | unrepaired)


def area_rows(gdf: gpd.GeoDataFrame, name: str) -> np.ndarray:
    """Which features of a layer are areas: every feature of a polygon layer (estates, urban, plots,
    boundary, ...), and the constraints of an area kind (:data:`AREA_CONSTRAINT_KINDS`)."""
    if GEOM_KIND[name] == "polygon":
        return np.ones(len(gdf), dtype=bool)
    if name == "constraints" and "kind" in gdf.columns:
        return np.asarray(gdf["kind"].isin(AREA_CONSTRAINT_KINDS).to_numpy())
    return np.zeros(len(gdf), dtype=bool)


def _areas_from_rings(gdf: gpd.GeoDataFrame, name: str, where: str, ident: pd.Series, empty: np.ndarray
                      ) -> tuple[gpd.GeoDataFrame, list[Notice]]:
    """Areas drawn as lines: a closed ring (every part of a multi-line closed) becomes the polygon it
    encloses (nested rings are holes), with one warning naming the layer and the count; an open line
    where an area is meant is an error (never read as a line: a place inside a protected area drawn as
    an outline would be 'far' from it).

    Raises
    ------
    InputError
        Open lines among the areas, with their rows and ids.
    """
    geoms = gdf.geometry.values
    types = np.asarray(shapely.get_type_id(geoms))
    points = area_rows(gdf, name) & ~empty & np.isin(types, (0, 4)) if GEOM_KIND[name] != "polygon" else \
        np.zeros(len(gdf), dtype=bool)
    if points.any():  # a point has no inside: a place in the area would be 'far' from it
        rows, ids = gdf.loc[points, "_row"].to_numpy(), ident[points].astype(str).to_numpy()
        listed = ", ".join(f"row {int(r)}" + (f" ({i})" if i != str(int(r)) else "") for r, i in zip(rows[:20], ids[:20]))
        raise InputError(f"{where}: {int(points.sum())} feature(s) are points, but constraints of kind "
                         f"{'/'.join(AREA_CONSTRAINT_KINDS)} are areas: {listed}{' …' if points.sum() > 20 else ''}; "
                         "draw each as a polygon (its outline)")
    # 1 LineString, 2 LinearRing, 5 MultiLineString
    lines = area_rows(gdf, name) & ~empty & np.isin(types, (1, 2, 5))
    if not lines.any():
        return gdf, []
    closed = lines & np.asarray(shapely.is_closed(geoms), dtype=bool)
    opened = lines & ~closed
    what = (f"layer '{name}' holds areas" if GEOM_KIND[name] == "polygon"
            else f"constraints of kind {'/'.join(AREA_CONSTRAINT_KINDS)} are areas")
    if opened.any():
        rows = gdf.loc[opened, "_row"].to_numpy()
        ids = ident[opened].astype(str).to_numpy()
        listed = ", ".join(f"row {int(r)}" + (f" ({i})" if i != str(int(r)) else "") for r, i in zip(rows[:20], ids[:20]))
        raise InputError(f"{where}: {int(opened.sum())} feature(s) are open lines, but {what}: {listed}"
                         f"{' …' if opened.sum() > 20 else ''}; draw each as a polygon (or close its outline)")
    geoms = geoms.copy()
    fixed = shapely.build_area(shapely.node(geoms[closed]))
    geoms[closed] = np.array([polygonal(g) for g in fixed], dtype=object)
    n = int(closed.sum())
    rows = ", ".join(str(int(r)) for r in gdf.loc[closed, "_row"].to_numpy()[:20])
    msg = (f"{where}: {n} closed line{'s' if n > 1 else ''} read as the area{'s' if n > 1 else ''} "
           f"{'they enclose' if n > 1 else 'it encloses'} ({what}; rows {rows}{' …' if n > 20 else ''}); "
           "store them as polygons to silence this")
    return gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs, index=gdf.index)), [
        Notice("rings-as-areas", msg, {"features": n})]


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS 84 UTM zone CRS containing a point.

    Parameters
    ----------
    lon, lat
        Degrees.

    Returns
    -------
    pyproj.CRS
        EPSG:326zz (north) or EPSG:327zz (south).

    Examples
    --------
    >>> utm_crs_for(51.67, 32.65).to_epsg()   # Isfahan
    32639
    """
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def load_region(scenario: Scenario) -> Region:
    """Load every layer of a scenario into one metric CRS.

    Parameters
    ----------
    scenario
        A validated scenario.

    Returns
    -------
    Region
        The layers in one projected, metric CRS (the scenario's ``crs``, else the local UTM zone),
        with the study area, the warnings and the features excluded with their reasons.

    Raises
    ------
    InputError
        With every problem of every layer, collected.
    """
    raw, warns, excluded, problems, files, sources = _read_layers(scenario)
    if not raw:
        raise _with_warnings(InputError(problems), warns)
    # plausibility (siteplan.inputs.plausibility): values and coordinates that cannot be true are errors; they
    # are checked on every layer that could be read, so that one `validate` lists them all
    pre = plausibility.check_read_layers(raw, scenario, ID_FIELDS)
    warns.extend(pre.findings.warnings)
    if len(pre.unusable) == len(raw):
        raise _with_warnings(InputError(problems + pre.findings.errors), warns)
    crs = _working_crs(scenario, pre.centre, raw)
    layers = {name: g.to_crs(crs) for name, g in raw.items() if name not in pre.unusable}
    if "boundary" in layers:
        study = shapely.union_all(layers["boundary"].geometry.values)
    else:
        xs = np.array([g.total_bounds for g in layers.values() if len(g)])
        minx, miny, maxx, maxy = xs[:, 0].min(), xs[:, 1].min(), xs[:, 2].max(), xs[:, 3].max()
        pad = 0.05 * max(maxx - minx, maxy - miny, 2000.0)
        study = box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    post = plausibility.check_projected_layers(layers, study, scenario, ID_FIELDS, pre.far)
    warns.extend(post.warnings)
    ex = pd.concat(excluded, ignore_index=True) if excluded else pd.DataFrame(columns=["layer", "row", "id", "reason"])
    if problems:
        raise _with_warnings(InputError(problems + pre.findings.errors + post.errors), warns)
    if pre.findings.errors or post.errors:
        # the layers were read: hand them on, so that `validate` can also check the scenario against them
        whole = not pre.unusable
        raise _with_warnings(ImplausibleDataError(
            pre.findings.errors + post.errors,
            Region(crs=crs, layers=layers, study_area=study, warnings=warns, excluded=ex,
                   files=files, sources=sources) if whole else None), warns)
    for notice in warns:
        warnings.warn(notice.message, SiteplanWarning, stacklevel=2)
    return Region(crs=crs, layers=layers, study_area=study, warnings=warns, excluded=ex, files=files, sources=sources)


def _with_warnings(err: InputError, warns: list[Notice]) -> InputError:
    """``err`` carrying the warnings of what was read (excluded rows, repairs …): a refused run still
    shows them, so that fixing the errors does not reveal more problems (the CLI prints them)."""
    err.warnings = list(dict.fromkeys([*getattr(err, "warnings", []), *warns]))
    return err


def _read_layers(scenario: Scenario) -> tuple[dict[str, gpd.GeoDataFrame], list[Notice], list[pd.DataFrame], list[str],
                                              dict[str, list[Path]], dict[str, dict[str, str]]]:
    """Read every layer of a scenario (:func:`read_layer`), going on past the ones that fail; the DEM
    is opened as a raster. Returns the layers read, warnings, excluded rows, problems, files and the
    database sources (:attr:`Region.sources`)."""
    raw: dict[str, gpd.GeoDataFrame] = {}
    warns: list[Notice] = []
    excluded: list[pd.DataFrame] = []
    problems: list[str] = []
    files: dict[str, list[Path]] = {}
    sources: dict[str, dict[str, str]] = {}
    for name, spec in scenario.layers.items():
        if is_db_url(spec.path):
            if name == "dem":
                problems.append(f"{plausibility.layer_where(name, spec)}: the DEM is a raster, read from a file "
                                "(GeoTIFF); export it from the database to a file and give its path")
                continue
            try:
                gdf, w, ex = read_layer(name, spec, scenario)
            except InputError as err:
                problems.extend(err.problems)
                continue
            raw[name] = gdf
            warns.extend(w)
            if len(ex):
                excluded.append(ex)
            files[name] = []
            sources[name] = {f"{redact_url(spec.path)} {spec.table or 'sql'}": frame_sha256(gdf)}
            continue
        if name == "dem":
            files[name] = [scenario.resolve(spec.path)]
            problems += raster_problems(scenario.resolve(spec.path), plausibility.layer_where(name, spec))
            continue
        try:
            read_spec, enc_warns = plausibility.checked_encoding(name, spec, scenario.resolve(spec.path))
            gdf, w, ex = read_layer(name, read_spec, scenario)
        except InputError as err:
            problems.extend(err.problems)
            continue
        raw[name] = gdf
        warns.extend(enc_warns + w)
        if len(ex):
            excluded.append(ex)
        files[name] = layer_files(scenario.resolve(spec.path))
    return raw, warns, excluded, problems, files, sources


def _working_crs(scenario: Scenario, centre: tuple[float, float] | None, raw: dict[str, gpd.GeoDataFrame]) -> CRS:
    """The scenario's ``crs``, else the UTM zone of the study's centre (the median of the layers'
    medians, see :mod:`siteplan.inputs.plausibility`: a few far features cannot flip it, as the centre of the
    bounds would), else of the layers' bounds."""
    if scenario.crs:
        crs = CRS.from_user_input(scenario.crs)
        if not crs.is_projected:
            raise InputError(f"crs: '{scenario.crs}' is not a projected (metric) CRS; give a projected "
                             "CRS such as a UTM zone, or leave 'crs' out to pick the local UTM zone")
        return crs
    if centre is not None:
        crs = utm_crs_for(*centre)
    else:
        bounds = np.array([g.to_crs(4326).total_bounds for g in raw.values() if len(g)])
        lon = (bounds[:, 0].min() + bounds[:, 2].max()) / 2
        lat = (bounds[:, 1].min() + bounds[:, 3].max()) / 2
        crs = utm_crs_for(float(lon), float(lat))
    log.info("working CRS: %s (local UTM zone)", crs.name)
    return crs


class ImplausibleDataError(InputError):
    """Every layer was read, but some values or coordinates cannot be true (:mod:`siteplan.inputs.plausibility`).

    Parameters
    ----------
    problems
        One message per problem, naming the layer, the rows and the values.
    region
        The region as read (every layer present, nothing repaired), for checks that still make sense on
        it (``siteplan validate`` lists the scenario's own problems with these); None when a layer is
        unusable as a whole.
    """

    def __init__(self, problems: str | list[str], region: Region | None = None) -> None:
        super().__init__(problems)
        self.region = region


