"""Loading input layers into one metric CRS, with field mapping, checks and geometry repair.

Every layer goes through :func:`read_layer`: read (shapefile, zipped shapefile, GeoPackage layer,
GeoJSON), detect the DBF encoding when a shapefile has no ``.cpg``, map the user's field names onto
the canonical ones, check required fields, parse numbers written with Persian digits, repair invalid
geometries (with a warning listing the ids) and exclude empty or unrepairable ones (reported with the
reason). Nothing is dropped silently: every exclusion is in :attr:`Region.excluded`.
"""

from __future__ import annotations

import logging
import re
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
from ..common.textnorm import normalize, normalize_compact, parse_number, to_ascii_digits
from ..common.vocab import OPEN_DEFAULT, VOCABULARIES, map_values
from ..errors import InputError, SiteplanWarning
from ..scenario import LayerSpec, Scenario, is_db_url, redact_url
from . import plausibility
from .plausibility import PLAUSIBILITY_ERRORS, number_text_problems
from .postgis import frame_sha256, read_db_layer
from .tables import COORD_PROBLEM, TABLE_ROW, find_column, is_table, read_table

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
    "REQUIRED_FIELDS",
    "GEOM_KIND",
    "AREA_CONSTRAINT_KINDS",
    "area_rows",
]

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "estates": ("estate_id", "name"),
    "urban": ("name",),
    "receptors": ("kind",),
    "roads": ("road_class",),
    "rail": (),
    "utilities": ("kind",),
    "constraints": ("kind",),
    "businesses": ("biz_id",),
    "plots": ("plot_id", "estate_id", "status"),
    "occupied": (),
    "vacant_land": (),
    "boundary": (),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "estates": ("kind", "gross_ha", "vacant_ha", "power", "gas", "water", "wastewater", "max_cat", "county",
                "reserved", "excluded"),
    "urban": ("population", "kind", "name_en", "county", "mixed"),
    "receptors": ("name",),
    "roads": ("name",),
    "rail": ("kind",),
    "utilities": ("name",),
    "constraints": ("buffer_m", "name"),
    "businesses": ("category", "isic", "osm_tag", "name", "area_m2", "employees", "cluster_id", "county"),
    "plots": ("area_m2",),
    "occupied": ("name",),
    "vacant_land": ("name",),
    "boundary": ("name",),
}
NUMERIC_FIELDS = {
    "population", "gross_ha", "vacant_ha", "power", "gas", "water", "wastewater", "max_cat",
    "buffer_m", "area_m2", "employees", "mixed",
}
ID_FIELDS = {"estates": "estate_id", "businesses": "biz_id", "plots": "plot_id"}
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

    Attributes
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
    warnings: list[str] = field(default_factory=list)
    excluded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["layer", "row", "id", "reason"])
    )
    files: dict[str, list[Path]] = field(default_factory=dict)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    def get(self, name: str) -> gpd.GeoDataFrame | None:
        """The layer, or None when the scenario has none."""
        return self.layers.get(name)


def detect_dbf_encoding(dbf_path: Path) -> str:
    """Guess the text encoding of a shapefile's DBF that has no ``.cpg``.

    Parameters
    ----------
    dbf_path
        The ``.dbf`` file.

    Returns
    -------
    str
        ``"utf-8"`` when every non-ASCII byte sequence decodes strictly as UTF-8, ``"cp1256"``
        (Windows Arabic/Persian, the usual encoding of Persian GIS data) when it does not, and
        ``"utf-8"`` for pure ASCII.

    Notes
    -----
    Reads the record area as bytes once; memory is the size of the DBF.
    """
    raw = dbf_path.read_bytes()
    if len(raw) < 32:
        return "utf-8"
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[header_len:]
    if all(b < 0x80 for b in body[:1_000_000]) and max(body, default=0) < 0x80:
        return "utf-8"
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1256"


def _sidecar(path: Path, ext: str) -> Path | None:
    for cand in (path.with_suffix(ext), path.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return None


def _files_of(path: Path) -> list[Path]:
    """The files a layer is read from (for the manifest's hashes): a shapefile's parts, else the file or
    folder (an Esri file geodatabase ``.gdb``, hashed as a whole by :func:`siteplan.outputs.writer.sha256`)."""
    if path.suffix.lower() == ".shp":
        return [p for p in sorted(path.parent.glob(path.stem + ".*")) if p.suffix.lower() in
                {".shp", ".shx", ".dbf", ".prj", ".cpg"}]
    return [path]


def read_layer_file(path: Path, spec: LayerSpec, where: str, warns: list[str]) -> gpd.GeoDataFrame:
    if is_table(path):
        gdf, w = read_table(path, spec, where)
        warns.extend(w)
        return gdf
    if path.suffix.lower() == ".shp" and path.is_file():
        broken = shapefile_problems(path, where)
        if broken:
            raise InputError(broken)
    kwargs: dict[str, object] = {}
    layer = _layer_of(path, spec, where)
    if layer:
        kwargs["layer"] = layer
    encoding = spec.encoding
    if encoding is None and path.suffix.lower() == ".shp" and _sidecar(path, ".cpg") is None:
        dbf = _sidecar(path, ".dbf")
        if dbf is not None:
            encoding = detect_dbf_encoding(dbf)
            if encoding != "utf-8":
                log.info("%s: no .cpg beside the shapefile; text detected as %s", where, encoding)
    if encoding:
        kwargs["encoding"] = encoding
    target = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return gpd.read_file(target, engine="pyogrio", **kwargs)
    except Exception as exc:  # pyogrio raises several types; all mean the same to the user
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{where}: cannot read {path.name}: {msg}. Check that it is a shapefile, "
                         "zipped shapefile, GeoPackage or Esri file geodatabase (.gdb folder; give 'layer:'), GeoJSON, "
                         "or a table (.csv, .xlsx, .ods "
                         "with lon:/lat:, x:/y: or wkt:)") from None


def _layer_of(path: Path, spec: LayerSpec, where: str) -> str | None:
    """The layer of a multi-layer source (GeoPackage, zip of shapefiles) to read: ``layer:`` when the
    file has it, the only layer with geometry when there is one; an error listing the layers when
    ``layer:`` names none of them or is missing while several layers have geometry."""
    import pyogrio

    target = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        listed = [(str(n), None if t is None else str(t)) for n, t in pyogrio.list_layers(target)]
    except Exception:
        return spec.layer
    names = [n for n, _ in listed]
    shown = ", ".join(f"'{n}' ({t or 'no geometry'})" for n, t in listed[:30]) + (" …" if len(listed) > 30 else "")
    if spec.layer is not None:
        if spec.layer in names or (len(listed) <= 1 and path.suffix.lower() not in (".gpkg", ".zip", ".gdb")):
            return spec.layer
        raise InputError(f"{where}: layer: {path.name} has no layer '{spec.layer}'; its layers: {shown}")
    spatial = [n for n, t in listed if t is not None]
    if len(spatial) > 1:
        raise InputError(f"{where}: {path.name} holds {len(spatial)} layers with geometry, and the scenario does not "
                         f"say which to read: {shown}; name one with layer: (e.g. layer: {spatial[0]})")
    return spatial[0] if len(spatial) == 1 and len(listed) > 1 else None


#: Bytes of a shapefile's (.shp, .shx) header.
_SHP_HEADER = 100


def shapefile_problems(path: Path, where: str) -> list[str]:
    """A shapefile whose files are cut short or do not belong together: the ``.shp`` shorter than its
    header says or than the records its ``.shx`` indexes, a ``.shx`` or ``.dbf`` cut short, a ``.dbf``
    with another number of records than the ``.shx``. GDAL reads such a file without an error, the lost
    features as empty geometries (which would be excluded as such); each problem is an error naming
    the file.

    Parameters
    ----------
    path
        The ``.shp`` file.
    where
        The layer in messages.

    Returns
    -------
    list of str
        One message per problem (empty when the files are whole).
    """
    problems: list[str] = []
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(_SHP_HEADER)
    if len(head) < _SHP_HEADER or int.from_bytes(head[:4], "big") != 9994:
        return [f"{where}: cannot read {path.name}: it is not a shapefile (no shapefile header in its first 100 "
                "bytes); export the layer again from the GIS"]
    declared = 2 * int.from_bytes(head[24:28], "big")
    fix = "; the file is cut short (an interrupted copy or download?): copy or export the layer again"
    shx = _sidecar(path, ".shx")
    n_shx = None
    if shx is not None:
        raw = shx.read_bytes()
        n_shx = max(len(raw) - _SHP_HEADER, 0) // 8
        shx_declared = 2 * int.from_bytes(raw[24:28], "big") if len(raw) >= _SHP_HEADER else _SHP_HEADER
        if len(raw) < shx_declared:
            problems.append(f"{shx.name}: {len(raw):,} bytes, but its header says {shx_declared:,}{fix}")
        index = np.frombuffer(raw[_SHP_HEADER:_SHP_HEADER + 8 * n_shx], dtype=">i4").reshape(-1, 2).astype(np.int64)
        ends = 2 * index[:, 0] + 8 + 2 * index[:, 1]
        beyond = int((ends > size).sum())
        if beyond:
            problems.append(f"{path.name}: {beyond:,} of the {n_shx:,} features its index ({shx.name}) lists lie "
                            f"beyond the end of the file ({size:,} bytes){fix}")
    if size < declared and not problems:
        problems.append(f"{path.name}: {size:,} bytes, but its header says {declared:,}{fix}")
    dbf = _sidecar(path, ".dbf")
    if dbf is not None:
        with open(dbf, "rb") as fh:
            raw = fh.read(32)
        dsize = dbf.stat().st_size
        if len(raw) >= 12:
            nrec, hlen, rlen = (int.from_bytes(raw[4:8], "little"), int.from_bytes(raw[8:10], "little"),
                                int.from_bytes(raw[10:12], "little"))
            if dsize < hlen + nrec * rlen:
                held = max(dsize - hlen, 0) // max(rlen, 1)
                problems.append(f"{dbf.name}: holds {held:,} whole records, but its header says {nrec:,}{fix}")
            elif n_shx is not None and nrec != n_shx:
                problems.append(f"{dbf.name} has {nrec:,} records but {shx.name if shx else '.shx'} indexes "
                                f"{n_shx:,} features: the files do not belong together; export the layer again")
    return [p if p.startswith(where) else f"{where}: {p}" for p in problems]


#: text fields shown as the user wrote them (matching uses their normalized ``*_norm`` form); other text
#: fields are keys or vocabulary values and are trimmed
DISPLAY_FIELDS = frozenset({"name", "name_en", "source"})


def _clean_text(series: pd.Series, *, display: bool = False) -> pd.Series:
    """Text as ``str``, missing values as None; trimmed, except a display field's text (a name with a
    leading tab or space is written as it is), which is only emptied when it is all white space."""
    def clean(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        t = str(v)
        return t if display and t.strip() else t.strip()

    return series.map(clean)


def read_layer(name: str, spec: LayerSpec, scenario: Scenario) -> tuple[gpd.GeoDataFrame, list[str], pd.DataFrame]:
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
    read_warns: list[str] = []
    if is_db_url(spec.path):
        raw = read_db_layer(spec.path, table=spec.table, query=spec.sql, where=where)
    else:
        raw = read_layer_file(path, spec, where, read_warns)
    gdf, notes = _map_fields(raw, name, spec, scenario, where)
    read_warns += notes
    if spec.source is not None:  # a mapped fields.source wins where it is filled; else the constant is the source
        gdf["source"] = gdf["source"].where(gdf["source"].notna() & (gdf["source"].astype(str).str.strip() != ""),
                                            spec.source) if "source" in spec.fields else spec.source
    if gdf.crs is None:
        gdf = gdf.set_crs(spec.crs or scenario.crs)
    if len(gdf) == 0:
        return _empty_layer(gdf, name, spec, where)
    gdf, value_warns = _normalise_values(gdf, name, spec, where)
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
        warns.append(f"{where}: excluded {len(excluded)} feature(s): "
                     + "; ".join(f"row {r.row} ({r.id}): {r.reason}" for r in excluded.head(10).itertuples())
                     + (" …" if len(excluded) > 10 else ""))
    return keep, warns, excluded


def _map_fields(gdf: gpd.GeoDataFrame, name: str, spec: LayerSpec, scenario: Scenario, where: str
                ) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Rename the user's fields to canonical names; every problem (unknown or missing field, no CRS)
    raised at once. Returns the layer and notes (a field the mapping shadows)."""
    known = set(REQUIRED_FIELDS[name]) | set(OPTIONAL_FIELDS[name]) | {"source"}
    cols = [str(c) for c in gdf.columns if c != "geometry" and not str(c).startswith("_")]
    compact: dict[str, list[str]] = {}
    for c in cols:
        compact.setdefault(normalize_compact(c), []).append(c)
    rename, problems = _field_mapping(spec, name, known, cols, where)
    # the mapping wins over a field of the file that already has the canonical name (and is not mapped
    # itself): that field is not read, and the log and `validate` say so
    shadowed = sorted(c for u, c in rename.items() if c != u and c in gdf.columns and c not in rename)
    notes = [f"{where}: fields.{c}: maps '{u}' to {c}; the file's own field named '{c}' is not read (the "
             "mapping wins)" for u, c in rename.items() if c in shadowed]
    gdf = gdf.drop(columns=shadowed)
    for canon in known:
        same = compact.get(normalize_compact(canon), [])
        if canon not in rename.values() and canon not in gdf.columns and len(same) == 1 and same[0] not in rename:
            rename[same[0]] = canon
    gdf = gdf.rename(columns=rename)
    problems += _mapped_layer_problems(gdf, name, spec, scenario, (where, cols))
    if problems:
        raise InputError(problems)
    return gdf, notes


def _field_mapping(spec: LayerSpec, name: str, known: set[str], cols: list[str], where: str
                   ) -> tuple[dict[str, str], list[str]]:
    """The file's fields the scenario's ``fields:`` mapping names, as file field → canonical name, and
    the problems of the mapping (a coordinate column, an unknown canonical name, a field not found or
    matched twice)."""
    problems: list[str] = []
    rename: dict[str, str] = {}
    for canon, user in spec.fields.items():
        if canon in ("x", "y", "lon", "lat", "wkt"):
            problems.append(f"{where}: fields.{canon}: coordinate columns are named on the layer itself "
                            f"(layers.{name}.{canon}: {user}), not under fields")
            continue
        if canon not in known:
            problems.append(f"{where}: fields.{canon}: '{canon}' is not a field of layer '{name}' "
                            f"(known: {', '.join(sorted(known))})")
            continue
        found = find_column(cols, user) if user != "geometry" else []
        if len(found) != 1:
            what = (f"several fields match '{user}' after Persian normalisation ({', '.join(found)})" if found
                    else f"the file has no field '{user}'")
            problems.append(f"{where}: fields.{canon}: {what} (its fields: {', '.join(cols)})")
            continue
        rename[found[0]] = canon
    return rename, problems


def _mapped_layer_problems(gdf: gpd.GeoDataFrame, name: str, spec: LayerSpec, scenario: Scenario,
                           at: tuple[str, list[str]]) -> list[str]:
    """A layer's problems once its fields are renamed: required fields missing, no CRS (``at``: where
    it is read from and the file's own fields)."""
    where, cols = at
    problems = []
    missing = [f for f in REQUIRED_FIELDS[name] if f not in gdf.columns]
    if name == "businesses" and not any(f in gdf.columns for f in ("category", "isic", "osm_tag", "name")):
        missing.append("one of category/isic/osm_tag/name")
    if missing:
        problems.append(f"{where}: missing required field(s): {', '.join(missing)}; the file has "
                        f"{', '.join(cols) or 'no fields'}. "
                        f"Map them under layers.{name}.fields (canonical: your_field)")
    if gdf.crs is None and not (spec.crs or scenario.crs):
        what = ("the table's x/y columns carry no coordinate reference system" if is_table(Path(spec.path))
                else "the file has no coordinate reference system (no .prj)")
        problems.append(f"{where}: {what}; declare it "
                        f"with layers.{name}.crs (e.g. 'EPSG:4326') or a scenario-wide 'crs:'")
    return problems


def _empty_layer(gdf: gpd.GeoDataFrame, name: str, spec: LayerSpec, where: str
                 ) -> tuple[gpd.GeoDataFrame, list[str], pd.DataFrame]:
    """An empty layer with its canonical columns, when the scenario allows it (else an error)."""
    if not spec.allow_empty:
        raise InputError(f"{where}: the layer is empty; a '{name}' layer needs at least one feature "
                         f"(or set layers.{name}.allow_empty: true to run without any)")
    for canon in REQUIRED_FIELDS[name]:
        if canon not in gdf.columns:
            gdf[canon] = pd.Series(dtype=object)
    for col in gdf.columns:
        if col != "geometry" and col not in NUMERIC_FIELDS:
            gdf[col] = gdf[col].astype(object)
    gdf["_row"] = pd.Series(dtype="int64")
    if name in ("urban",) or "name" in gdf.columns:
        gdf["name_norm"] = pd.Series(dtype=object)
    return gdf, [f"{where}: the layer is empty (allowed by the scenario)"], pd.DataFrame(
        columns=["layer", "row", "id", "reason"])


def _normalise_values(gdf: gpd.GeoDataFrame, name: str, spec: LayerSpec, where: str
                      ) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Numbers parsed (Persian digits too), text trimmed, ids as ASCII strings, vocabulary fields
    mapped to canonical values (:mod:`siteplan.common.vocab`) and names normalized for matching
    (``name_norm``); returns the layer and warnings (values an open field sent to its default)."""
    _parse_columns(gdf, name, where)
    control = _strip_controls(gdf, name, where)
    for col in ("estate_id", "biz_id", "plot_id", "isic"):
        if col in gdf.columns:
            gdf[col] = gdf[col].map(_ascii_id)
    mapped = [c for c in gdf.columns if c != "geometry" and c not in NUMERIC_FIELDS
              and ((name, c) in VOCABULARIES or c in spec.values)]
    raw = {c: gdf[c].copy() for c in mapped}
    for col in ("name", "kind", "road_class", "status", "category", "osm_tag"):
        if col in gdf.columns:
            gdf[col + "_norm" if col == "name" else col] = (
                gdf[col].map(normalize) if col == "name"
                else gdf[col].map(lambda v: normalize(v).replace(" ", "_") if v else None)
            )
    warns = control
    for col in mapped:
        gdf[col], defaulted = map_values(raw[col], gdf[col], name, col, spec.values.get(col))
        if defaulted:
            warns.append(f"{where}: {col}: {sum(defaulted.values())} feature(s) with value(s) not in its vocabulary "
                         f"({', '.join(VOCABULARIES[name, col])}) taken as '{OPEN_DEFAULT[name, col]}': "
                         + ", ".join(f"'{v}' ({n})" for v, n in defaulted.most_common(20))
                         + f"; map them under layers.{name}.values.{col} if they are main roads")
    return gdf, warns


def _parse_columns(gdf: gpd.GeoDataFrame, name: str, where: str) -> None:
    """Numbers parsed (Persian digits too; text that is no number noted as a plausibility error) and
    text trimmed, in place."""
    for col in gdf.columns:
        if col == "geometry":
            continue
        if col in NUMERIC_FIELDS:
            # text that does not read as a number is an error (load_region raises it), never a silent NaN
            gdf.attrs.setdefault(PLAUSIBILITY_ERRORS, []).extend(
                number_text_problems(gdf, col, where, ID_FIELDS.get(name), TABLE_ROW))
            gdf[col] = pd.to_numeric(gdf[col].map(parse_number), errors="coerce").astype("float64")
        elif gdf[col].dtype == object or str(gdf[col].dtype).startswith("str"):
            gdf[col] = _clean_text(gdf[col], display=col in DISPLAY_FIELDS)


def _ascii_id(v: object) -> str | None:
    """An id as ASCII text (Persian digits too; a spreadsheet's ``12.0`` is ``12``), None when missing."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return to_ascii_digits(str(v)).strip().removesuffix(".0") or None


#: the C0 control characters that are not white space, and DEL (NUL, escape, bell …): never part of a
#: text; tabs and line breaks are white space, kept as written (the terminal and the CSVs escape them)
_CONTROL_CHARS = tuple(chr(c) for c in (*range(32), 127) if not chr(c).isspace())
_CONTROL = re.compile("[" + "".join(_CONTROL_CHARS) + "]")
_CONTROL_DROP = str.maketrans(dict.fromkeys(map(ord, _CONTROL_CHARS)))
#: fields holding ids: control characters in them are errors (:func:`siteplan.inputs.plausibility.id_text_problems`)
ID_LIKE = ("estate_id", "biz_id", "plot_id", "isic")


def _without_controls(text: str) -> str | None:
    out = text.translate(_CONTROL_DROP)
    return out if out.strip() else None


def _strip_controls(gdf: gpd.GeoDataFrame, name: str, where: str) -> list[str]:
    """Remove the control characters that are not white space (NUL, escape, DEL …) from the text fields
    other than ids, in place; one warning per field naming its rows. Ids keep them (they are refused:
    an id is matched, not read)."""
    rows = gdf[TABLE_ROW].to_numpy() if TABLE_ROW in gdf.columns else np.arange(1, len(gdf) + 1)
    idf = ID_FIELDS.get(name)
    warns = []
    for col in gdf.columns:
        if col == "geometry" or str(col).startswith("_") or col in ID_LIKE or col in NUMERIC_FIELDS:
            continue
        values = gdf[col].to_numpy(dtype=object)
        joined = "".join([v for v in values if isinstance(v, str)])
        if not any(c in joined for c in _CONTROL_CHARS):  # a few fast scans of the whole column (the usual case)
            continue
        hit = np.flatnonzero([isinstance(v, str) and _CONTROL.search(v) is not None for v in values])
        before = gdf[col].iloc[hit]
        gdf.iloc[hit, gdf.columns.get_loc(col)] = before.map(_without_controls).to_numpy()
        items = [f"row {int(rows[i])}" + (f" ({gdf[idf].iloc[i]})" if idf in gdf.columns and
                                          isinstance(gdf[idf].iloc[i], str) else "") + f": {before.iloc[k]!r}"
                 for k, i in enumerate(hit[:10])]
        more = " …" if len(hit) > 10 else ""
        warns.append(f"{where}: field '{col}' held control characters (NUL, escape …) in {len(hit)} row(s), "
                     f"removed: {', '.join(items)}{more}; clean the file to silence this warning")
    return warns


def _missing_ids(gdf: gpd.GeoDataFrame, name: str, where: str) -> list[dict[str, object]]:
    """Rows without an id (excluded, with the reason); duplicate ids are an error."""
    idf = ID_FIELDS.get(name)
    rows: list[dict[str, object]] = []
    if not idf:
        return rows
    missing_id = gdf[idf].isna()
    for r in gdf.loc[missing_id, "_row"]:
        rows.append({"layer": name, "row": int(r), "id": None, "reason": f"no {idf}"})
    dup = gdf.loc[~missing_id, idf]
    dups = sorted(set(dup[dup.duplicated()]))
    if dups:
        raise InputError(f"{where}: duplicate {idf} values: {', '.join(map(str, dups[:20]))}"
                         f"{' …' if len(dups) > 20 else ''} ({len(dups)} in all); ids must be unique")
    return rows


def _check_geometries(gdf: gpd.GeoDataFrame, name: str, where: str, excluded_rows: list[dict[str, object]]
                      ) -> tuple[gpd.GeoDataFrame, list[str], np.ndarray]:
    """Repair invalid geometries, turn business polygons into points, and mark empty or unusable
    ones (appended to ``excluded_rows``); returns the layer, warnings and the rows to drop."""
    warns: list[str] = []
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
        warns.append(f"{where}: repaired {int(invalid.sum())} invalid geometr"
                     f"{'y' if invalid.sum() == 1 else 'ies'} (ids: {ids}{' …' if invalid.sum() > 20 else ''})")
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
            warns.append(f"{where}: {int(poly.sum())} business polygons replaced by a point inside them")
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
        return gdf["kind"].isin(AREA_CONSTRAINT_KINDS).to_numpy()
    return np.zeros(len(gdf), dtype=bool)


def _areas_from_rings(gdf: gpd.GeoDataFrame, name: str, where: str, ident: pd.Series, empty: np.ndarray
                      ) -> tuple[gpd.GeoDataFrame, list[str]]:
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
    return gdf.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs, index=gdf.index)), [msg]


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
    for msg in warns:
        warnings.warn(msg, SiteplanWarning, stacklevel=2)
    return Region(crs=crs, layers=layers, study_area=study, warnings=warns, excluded=ex, files=files, sources=sources)


def _with_warnings(err: InputError, warns: list[str]) -> InputError:
    """``err`` carrying the warnings of what was read (excluded rows, repairs …): a refused run still
    shows them, so that fixing the errors does not reveal more problems (the CLI prints them)."""
    err.warnings = list(dict.fromkeys([*getattr(err, "warnings", []), *warns]))
    return err


def _read_layers(scenario: Scenario) -> tuple[dict[str, gpd.GeoDataFrame], list[str], list[pd.DataFrame], list[str],
                                              dict[str, list[Path]], dict[str, dict[str, str]]]:
    """Read every layer of a scenario (:func:`read_layer`), going on past the ones that fail; the DEM
    is opened as a raster. Returns the layers read, warnings, excluded rows, problems, files and the
    database sources (:attr:`Region.sources`)."""
    raw: dict[str, gpd.GeoDataFrame] = {}
    warns: list[str] = []
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
            spec, enc_warns = plausibility.checked_encoding(name, spec, scenario.resolve(spec.path))
            gdf, w, ex = read_layer(name, spec, scenario)
        except InputError as err:
            problems.extend(err.problems)
            continue
        raw[name] = gdf
        warns.extend(enc_warns + w)
        if len(ex):
            excluded.append(ex)
        files[name] = _files_of(scenario.resolve(spec.path))
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


def raster_problems(path: Path, where: str) -> list[str]:
    """A raster input (the DEM) that cannot be used: not a raster GDAL reads (a text file named .tif),
    no band, no CRS. Opens the header only.

    Parameters
    ----------
    path
        The raster file.
    where
        The layer in messages.

    Returns
    -------
    list of str
        One message per problem (empty when the raster can be read).
    """
    import rasterio

    if not path.is_file():
        return [f"{where}: {path.name} is not a regular file; give a GeoTIFF of elevations"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(path) as src:
                bands, crs, w, h = src.count, src.crs, src.width, src.height
    except Exception as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [f"{where}: cannot read {path.name} as a raster (a GeoTIFF of elevations): {msg}; give a GeoTIFF "
                "or another raster GDAL reads"]
    problems = []
    if bands < 1 or w < 1 or h < 1:
        problems.append(f"{where}: {path.name} holds no raster band (size {w} × {h}, {bands} bands); give a "
                        "GeoTIFF of elevations")
    if crs is None:
        problems.append(f"{where}: {path.name} has no coordinate reference system; save it as a GeoTIFF with "
                        "its CRS")
    return problems


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

    def __init__(self, problems: str | list[str], region: "Region | None" = None) -> None:
        super().__init__(problems)
        self.region = region
