"""Plausibility checks of the input layers: data that reads without complaint but cannot be true.

Called by :func:`siteplan.inputs.region.load_region` (so ``siteplan validate`` and every run make the same
checks). Each check returns :class:`Findings`: **errors** (the run is refused, every error listed at
once) and **warnings** (the run goes on; the message says what was assumed). The rule:

* an **error** is a value that cannot be true or would make the plan wrong without a trace: a
  negative area, text in a number field, vacant land above the gross area or far above the estate's
  own polygon, coordinates impossible for the declared CRS, a feature at (0, 0) or far from the rest
  of the study (another continent, latitude and longitude swapped), control characters or NUL bytes
  in an id;
* a **warning** is a value that is possible but suspicious, or missing and replaced by an assumption:
  an empty ``vacant_ha`` (capacity from ``allocation.default_vacant_share`` or none), ``gross_ha`` far
  from the polygon's own area, features a little outside the boundary or the CRS's area of use, a
  ``.cpg`` that does not match the text (read with the encoding that decodes, never as mojibake).

Every message names the layer, the rows (1-based, as in the file) and ids, and the values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..common.notice import Notice
from ..common.textnorm import parse_number

__all__ = [
    "Findings",
    "PLAUSIBILITY_ERRORS",
    "number_text_problems",
    "id_text_problems",
    "dbf_nul_problems",
    "check_area_fields",
    "geojson_nul_problems",
    "cpg_encoding",
    "mojibake_rows",
    "check_coordinates",
    "check_capacity",
    "check_duplicate_estates",
    "check_plot_estates",
    "check_outside_boundary",
    "FAR_KM",
    "MAX_COORD",
    "MAX_ESTATE_HA",
    "check_sizes",
]

#: Features farther than this from the study's centre (or three times the study's own reach, if
#: larger) are errors: no provincial plan spans them.
FAR_KM = 300.0
#: Degrees a feature may lie outside its CRS's area of use before a warning.
AOU_MARGIN_DEG = 1.0
#: ``gross_ha`` beyond this factor of the polygon's own area (either way) is a warning.
GROSS_FACTOR = 3.0
#: ``vacant_ha`` above this factor of the polygon's own area is an error.
VACANT_FACTOR = 1.5
#: Key of ``GeoDataFrame.attrs`` where the readers leave errors found before values are coerced.
PLAUSIBILITY_ERRORS = "siteplan_plausibility_errors"
#: How many rows a message lists.
MAX_LISTED = 10
#: An estate (or plot) polygon larger than this (ha; 500 km²) is an error: no industrial estate is, and
#: zoning's work grows with the area.
MAX_ESTATE_HA = 50_000.0
#: Coordinates beyond this (in any unit of any CRS: 100,000 km in metres) are not on Earth: an error.
MAX_COORD = 1e8

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass
class Findings:
    """Errors (the run is refused) and warnings (the run goes on) of the plausibility checks."""

    errors: list[str] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)

    def extend(self, other: Findings) -> Findings:
        self.errors += other.errors
        self.warnings += other.warnings
        return self


def _listing(items: list[str]) -> str:
    more = len(items) - MAX_LISTED
    return ", ".join(items[:MAX_LISTED]) + (f" … ({more} more)" if more > 0 else "")


def _row_id(gdf: pd.DataFrame, i: Any, id_field: str | None) -> str:
    row = int(gdf["_row"].iloc[i]) if "_row" in gdf.columns else i + 1
    ident = gdf[id_field].iloc[i] if id_field and id_field in gdf.columns else None
    return f"row {row}" + (f" ({ident})" if ident is not None and not (isinstance(ident, float)
                                                                       and math.isnan(ident)) else "")


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


# ---------------------------------------------------------------------------------------------- text

def number_text_problems(gdf: pd.DataFrame, col: str, where: str, id_field: str | None,
                         row_column: str | None = None) -> list[str]:
    """Values of a number field that are text and do not parse as a number (an error), looked at
    before they are coerced; rows counted from 1 in file order (or from ``row_column``)."""
    bad = [i for i, v in enumerate(gdf[col]) if not _missing(v) and parse_number(v) is None]
    if not bad:
        return []
    rows = (gdf[row_column].to_numpy() if row_column and row_column in gdf.columns
            else np.arange(1, len(gdf) + 1))
    ids = gdf[id_field] if id_field and id_field in gdf.columns else None
    items = [f"row {int(rows[i])}" + (f" ({ids.iloc[i]})" if ids is not None and not _missing(ids.iloc[i]) else "")
             + f": {str(gdf[col].iloc[i])!r}" for i in bad]
    return [f"{where}: field '{col}' must be a number, but {len(bad)} value(s) are text that does not read as "
            f"one: {_listing(items)}; write a number (Persian digits are fine) or leave it empty"]


def id_text_problems(gdf: pd.DataFrame, id_field: str | None, where: str) -> list[str]:
    """Ids holding control characters or NUL bytes (errors)."""
    if not id_field or id_field not in gdf.columns:
        return []
    bad = [i for i, v in enumerate(gdf[id_field]) if isinstance(v, str) and _CONTROL.search(v)]
    if not bad:
        return []
    items = [f"row {int(gdf['_row'].iloc[i]) if '_row' in gdf.columns else i + 1}: "
             f"{gdf[id_field].iloc[i]!r}" for i in bad]
    return [f"{where}: {id_field} holds control characters (NUL, tab, line breaks …) in {len(bad)} row(s): "
            f"{_listing(items)}; ids must be plain text"]


def _dbf_fields(raw: bytes) -> tuple[int, int, int, list[tuple[bytes, str, int, int]]]:
    nrec = int.from_bytes(raw[4:8], "little")
    header_len = int.from_bytes(raw[8:10], "little")
    rec_len = int.from_bytes(raw[10:12], "little")
    fields = []
    pos, offset = 32, 1
    while pos + 32 <= header_len and raw[pos] != 0x0D:
        desc = raw[pos:pos + 32]
        name = desc[:11].split(b"\x00")[0]
        length = desc[16]
        fields.append((name, chr(desc[11]), offset, length))
        offset += length
        pos += 32
    return nrec, header_len, rec_len, fields


def dbf_nul_problems(dbf: Path, where: str, encoding: str, rename: dict[str, str]) -> list[str]:
    """Text fields of a DBF with a NUL byte inside the value (the reader would cut the text there):
    errors naming the field, rows and what would be read. ``rename`` maps file field names to
    canonical ones (for the message)."""
    try:
        raw = dbf.read_bytes()
        nrec, header_len, rec_len, fields = _dbf_fields(raw)
    except (OSError, IndexError):
        return []
    problems = []
    for name, kind, off, length in fields:
        if kind != "C":
            continue
        bad = []
        for r in range(nrec):
            start = header_len + r * rec_len
            if start + rec_len > len(raw):
                break
            value = raw[start + off:start + off + length].rstrip(b"\x00 ")
            if b"\x00" in value:
                shown = value.decode(encoding, "replace")
                bad.append(f"row {r + 1}: {shown!r} (read as {shown.split(chr(0))[0]!r})")
        if bad:
            fname = name.decode(encoding, "replace")
            label = rename.get(fname, fname)
            problems.append(f"{where}: field '{label}' has a NUL byte inside the text of {len(bad)} row(s), which "
                            f"cuts the value short: {_listing(bad)}; remove the NUL characters in the file")
    return problems


#: a JSON escape of NUL (``\u0000``) that is not itself an escaped backslash
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def geojson_nul_problems(path: Path, where: str, rename: dict[str, str]) -> list[str]:
    """Text values of a GeoJSON file holding a NUL character (``\u0000``), which GDAL's reader cuts the
    text at (an id ``"E\u00002"`` would be read as ``"E"``): errors naming the field and the rows (1-based,
    in file order). ``rename`` maps file field names to canonical ones (for the message)."""
    import json

    try:
        raw = path.read_bytes()
    except OSError:
        return []
    if not _JSON_NUL.search(raw):
        return []
    try:
        features = json.loads(raw).get("features") or []
    except (ValueError, AttributeError):
        return []
    bad: dict[str, list[str]] = {}
    for r, f in enumerate(features, start=1):
        props = f.get("properties") if isinstance(f, dict) else None
        for k, v in (props.items() if isinstance(props, dict) else ()):
            if isinstance(v, str) and "\x00" in v:
                bad.setdefault(str(rename.get(k, k)), []).append(f"row {r}: {v!r} (read as {v.split(chr(0))[0]!r})")
    return [f"{where}: field '{k}' has a NUL character (\\u0000) inside the text of {len(items)} row(s), which cuts "
            f"the value short: {_listing(items)}; remove the NUL characters in the file" for k, items in bad.items()]


_CODEPAGES = {"1256": "cp1256", "utf8": "utf-8", "utf-8": "utf-8", "65001": "utf-8", "1252": "cp1252",
              "ansi 1256": "cp1256", "windows-1256": "cp1256", "ldid/101": "cp1256"}


def cpg_encoding(dbf: Path, cpg: Path | None, declared: str | None) -> tuple[str | None, str | None]:
    """The encoding to read a DBF with when its declared encoding (``.cpg`` or the scenario's
    ``encoding:``) does not decode its text, or decodes UTF-8 text as mojibake.

    Returns
    -------
    tuple
        ``(encoding, reason)``: the encoding to use and a warning, or ``(None, None)`` when the
        declared one is right (or there is nothing to decide).
    """
    if declared is None and cpg is None:
        return None, None
    name = declared or cpg.read_text(encoding="ascii", errors="replace").strip() if cpg else declared
    name = (name or "").strip()
    codec = _CODEPAGES.get(name.lower(), name.lower())
    try:
        "".encode(codec)
    except LookupError:
        codec = ""
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 32 else 0
    body = raw[header_len:]
    if body.isascii():
        return None, None
    try:
        body.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    source = f"encoding '{declared}'" if declared else f"{cpg.name if cpg else '.cpg'} ('{name}')"
    if codec:
        try:
            body.decode(codec)
            decodes = True
        except UnicodeDecodeError:
            decodes = False
    else:
        decodes = False
    if codec in ("utf-8", "utf8") and not decodes:
        return "cp1256", (f"the {source} says UTF-8 but the text is not UTF-8; read as Windows-1256 (cp1256) "
                          "instead. Fix or delete the .cpg")
    if codec not in ("utf-8", "utf8") and utf8:
        return "utf-8", (f"the {source} says {name} but the text is UTF-8 (read as {name} it would be mojibake "
                         "such as 'Ø§Ù…'); read as UTF-8 instead. Fix or delete the .cpg")
    if not decodes:
        return "cp1256", (f"the {source} names an encoding that does not decode the text; read as Windows-1256 "
                          "(cp1256) instead. Fix or delete the .cpg")
    return None, None


#: C1 control characters: bytes a code page leaves undefined come through as U+0080-U+009F
_C1 = re.compile("[\x80-\x9f]")
_ARABIC = re.compile("[\u0600-\u06ff]")


def _code_page_bytes(v: str, enc: str) -> bytes:
    """``v`` back to the bytes it was decoded from with code page ``enc`` (C1 characters as their byte);
    raises UnicodeEncodeError when ``enc`` cannot have produced it."""
    if _C1.search(v) is None:
        return v.encode(enc)
    return b"".join(c.encode(enc) if ord(c) > 0xFF or not 0x80 <= ord(c) <= 0x9F else bytes([ord(c)]) for c in v)


def _is_mojibake(v: str) -> bool:
    if v.isascii():
        return False
    for enc in ("cp1256", "cp1252"):
        try:
            fixed = _code_page_bytes(v, enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != v and _ARABIC.search(fixed) is not None:
            return True
    return False


def mojibake_rows(gdf: pd.DataFrame) -> dict[str, list[int]]:
    """Text columns with values that are UTF-8 Persian decoded with a single-byte code page
    (``Ø§Ù…``, ``ط§ظ…``): column name to row positions."""
    found: dict[str, list[int]] = {}
    seen: dict[str, bool] = {}  # each distinct text is checked once
    for col in gdf.columns:
        if col == "geometry" or col.startswith("_") or gdf[col].dtype.kind in "fiub":
            continue
        rows = []
        for i, v in enumerate(gdf[col].tolist()):  # a list iterates far faster than a Series
            if isinstance(v, str):
                bad = seen.get(v)
                if bad is None:
                    bad = seen[v] = _is_mojibake(v)
                if bad:
                    rows.append(i)
        if rows:
            found[col] = rows
    return found


# -------------------------------------------------------------------------------------- coordinates

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
    items = [f"{_row_id(gdf, int(i), idf)} at {_fmt_xy(float(c[0]), float(c[1]))}" for i, c in zip(rows, shown)]
    out.errors.append(f"{where}: {len(rows)} of {len(gdf)} feature(s) have coordinates that are not finite numbers "
                      f"or lie beyond ±{MAX_COORD:,.0f} (farther than anything on Earth in any CRS): "
                      f"{_listing(items)}; correct their coordinates or remove them")
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
        items = [f"{_row_id(gdf, i, idf)} at {_fmt_xy(x[i], y[i])}" for i in idx]
        out.errors.append(
            f"{where}: {len(idx)} of {len(gdf)} feature(s) have coordinates impossible for {crs.name} "
            f"(longitude beyond ±180 or latitude beyond ±90): {_listing(items)}; these look like projected "
            f"metres (e.g. UTM): declare the layer's real CRS with its .prj or layers.{name}.crs{rfc}")
        return True
    if ok.any() and (np.abs(b[ok][:, [0, 2]]) <= 180).all() and (np.abs(b[ok][:, [1, 3]]) <= 90).all() \
            and len(gdf) >= 1 and (np.abs(x[ok]) > 1).any():
        items = [f"{_row_id(gdf, i, idf)} at {_fmt_xy(x[i], y[i])}" for i in np.flatnonzero(ok)]
        out.errors.append(
            f"{where}: the layer declares the projected CRS {crs.name} (metres), but all its coordinates are "
            f"within ±180/±90, impossible for a study area in metres: they look like longitude/latitude "
            f"degrees: {_listing(items)}; declare EPSG:4326 (layers.{name}.crs){rfc}")
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
    if w > e:  # crosses the antimeridian
        inside_lon = (lon >= w - m) | (lon <= e + m)
    else:
        inside_lon = (lon >= w - m) & (lon <= e + m)
    outside = fin & ~(inside_lon & (lat >= s - m) & (lat <= n + m))
    if not outside.any():
        return False
    idx = np.flatnonzero(outside)
    items = [f"{_row_id(lyr.gdf, i, lyr.idf)} at lon/lat {_fmt_xy(lon[i], lat[i])}" for i in idx]
    msg = (f"{lyr.where}: {len(idx)} of {len(lyr.gdf)} feature(s) lie outside the area of use of its CRS "
           f"{crs.name} ({w:g}° to {e:g}°E, {s:g}° to {n:g}°N): {_listing(items)}")
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
    except Exception as exc:  # pyproj raises several types for impossible input
        out.errors.append(f"{where}: its coordinates cannot be converted from {crs.name} to longitude/latitude "
                          f"({type(exc).__name__}); check the layer's CRS")
        return None
    fin = np.isfinite(lon) & np.isfinite(lat)
    if (~fin & ok).any():
        idx = np.flatnonzero(~fin & ok)
        items = [f"{_row_id(gdf, i, idf)} at {_fmt_xy(x[i], y[i])}" for i in idx]
        out.errors.append(f"{where}: {len(idx)} feature(s) have coordinates impossible for {crs.name}: "
                          f"{_listing(items)}; check the layer's CRS{rfc}")
        return None
    if _outside_area_of_use(lyr, crs, (lon, lat, fin), out):
        return None
    null = fin & (np.abs(lon) < 0.5) & (np.abs(lat) < 0.5)
    if null.any():
        idx = np.flatnonzero(null)
        items = [f"{_row_id(gdf, i, idf)} at {_fmt_xy(x[i], y[i])}" for i in idx]
        out.errors.append(f"{where}: {len(idx)} feature(s) lie at (0, 0), a placeholder for missing coordinates: "
                          f"{_listing(items)}; give their real coordinates or remove them")
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
            items = [f"{_row_id(gdf, i, idf)} at {_fmt_xy(lon[i], lat[i])}" for i in idx]
            whole = "all" if swapped.sum() == ok.sum() else f"{len(idx)} of {int(ok.sum())}"
            out.errors.append(
                f"{where}: lat/lon swapped? {whole} feature(s) lie {float(d[idx].min()):,.0f} km or more from the "
                f"study area (centre {clon:.2f}°E {clat:.2f}°N) but fall inside it with longitude and latitude "
                f"exchanged: {_listing(items)}; write x = longitude (east), y = latitude (north)")
        if rest.any():
            idx = np.flatnonzero(rest)
            items = [f"{_row_id(gdf, i, idf)} at lon/lat {_fmt_xy(lon[i], lat[i])} ({d[i]:,.0f} km)" for i in idx]
            utm = CRS.from_user_input(gdf.crs).utm_zone if gdf.crs is not None else None
            hint = f" (is UTM zone {utm} in its .prj the zone of its numbers?)" if utm else ""
            out.errors.append(
                f"{where}: {len(idx)} of {len(gdf)} feature(s) lie far from the rest of the study (more than "
                f"{limit:,.0f} km from its centre {clon:.2f}°E {clat:.2f}°N){hint}: {_listing(items)}; correct "
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
            items = [_row_id(gdf, i, id_fields.get(name)) for i in idx]
            out.warnings.append(Notice("outside-boundary",
                                       f"{wheres[name]}: {len(idx)} of {len(gdf)} feature(s) lie outside the "
                                       f"boundary layer (more than 1 km): {_listing(items)}",
                                       {"features": len(idx), "of": len(gdf)}))
    return out


# ----------------------------------------------------------------------------------------- capacity

def check_capacity(estates: gpd.GeoDataFrame, where: str, default_vacant_share: float | None,
                   plots: gpd.GeoDataFrame | None = None) -> Findings:
    """``vacant_ha`` and ``gross_ha`` of the estates (working, metric CRS) against each other and
    against the polygon's own area. Negative values, vacant above gross and vacant far above the
    polygon are errors; an empty vacant_ha and a gross_ha far from the polygon are warnings."""
    out = Findings()
    if not len(estates):
        return out
    n = len(estates)
    nan = pd.Series(np.nan, index=estates.index)
    vac = pd.to_numeric(estates["vacant_ha"], errors="coerce") if "vacant_ha" in estates else nan
    gross = pd.to_numeric(estates["gross_ha"], errors="coerce") if "gross_ha" in estates else nan
    area = pd.Series(estates.geometry.area.to_numpy() / 10_000.0, index=estates.index)
    ids = estates["estate_id"].astype(str) if "estate_id" in estates else pd.Series(
        [str(i + 1) for i in range(n)], index=estates.index)
    rows = estates["_row"] if "_row" in estates else pd.Series(range(1, n + 1), index=estates.index)

    def item(i: Any, text: str = "") -> str:
        return f"row {int(rows[i])} ({ids[i]}){': ' + text if text else ''}"

    for col, s in (("vacant_ha", vac), ("gross_ha", gross)):
        neg = s < 0
        if neg.any():
            out.errors.append(f"{where}: {col} is negative for {int(neg.sum())} estate(s): "
                              + _listing([item(i, f"{s[i]:,.6g}") for i in s.index[neg]])
                              + "; an area cannot be negative")
    with_plots = set(plots["estate_id"]) if plots is not None and len(plots) and "estate_id" in plots else set()
    empty = vac.isna() & ~ids.isin(with_plots)
    if empty.any():
        listed = _listing([item(i) for i in vac.index[empty]])
        if default_vacant_share is not None:
            out.warnings.append(Notice("vacant-assumed",
                                       f"{where}: vacant_ha is empty for {int(empty.sum())} of {n} estate(s) "
                                       f"({listed}); their capacity is assumed to be "
                                       f"allocation.default_vacant_share = {default_vacant_share:g} of their gross area",
                                       {"estates": int(empty.sum()), "of": n}))
        else:
            out.warnings.append(Notice("vacant-missing",
                                       f"{where}: vacant_ha is empty for {int(empty.sum())} of {n} estate(s) "
                                       f"({listed}); their capacity is 0, so no business can be relocated there; "
                                       "fill vacant_ha or set allocation.default_vacant_share",
                                       {"estates": int(empty.sum()), "of": n}))
    above = (vac > gross) & (vac >= 0)
    if above.any():
        out.errors.append(f"{where}: vacant_ha is above gross_ha for {int(above.sum())} estate(s): "
                          + _listing([item(i, f"vacant {vac[i]:,.6g} ha > gross {gross[i]:,.6g} ha")
                                      for i in vac.index[above]])
                          + "; vacant land is part of the gross area")
    valid_area = area > 0
    huge = (vac > VACANT_FACTOR * area) & valid_area
    if huge.any():
        out.errors.append(f"{where}: capacity far above the estate's own area for {int(huge.sum())} estate(s): "
                          + _listing([item(i, f"{vac[i]:,.0f} ha of capacity in a {area[i]:,.0f} ha estate "
                                              "(its polygon)") for i in vac.index[huge]])
                          + "; check vacant_ha (its unit is hectares) and the polygon")
    ratio = gross / area
    off = valid_area & (gross > 0) & ((ratio > GROSS_FACTOR) | (ratio < 1 / GROSS_FACTOR))
    if off.any():
        out.warnings.append(Notice("gross-area-off",
                                   f"{where}: gross_ha is far from the polygon's own area for {int(off.sum())} "
                                   "estate(s): " + _listing([item(i, f"gross_ha {gross[i]:,.6g} ha, polygon "
                                                                     f"{area[i]:,.6g} ha") for i in gross.index[off]])
                                   + "; check gross_ha (hectares) and the polygon", {"estates": int(off.sum())}))
    return out


def check_area_fields(layers: dict[str, gpd.GeoDataFrame], wheres: dict[str, str], id_fields: dict[str, str]
                      ) -> Findings:
    """``area_m2`` of businesses and plots (working, metric CRS): negative is an error (it was replaced by the
    category's default or lowered an estate's capacity without a word), and a plot's ``area_m2`` above
    :data:`VACANT_FACTOR` × its polygon is an error (it is the plot estate's capacity and decides which
    business fits)."""
    out = Findings()
    for name in ("businesses", "plots"):
        gdf = layers.get(name)
        if gdf is None or not len(gdf) or "area_m2" not in gdf:
            continue
        a = pd.to_numeric(gdf["area_m2"], errors="coerce").to_numpy(float)
        neg = np.flatnonzero(a < 0)
        if len(neg):
            items = [f"{_row_id(gdf, int(i), id_fields.get(name))}: {a[i]:,.6g}" for i in neg]
            out.errors.append(f"{wheres[name]}: area_m2 is negative for {len(neg)} feature(s): {_listing(items)}; "
                              "an area cannot be negative: correct it or leave it empty")
        if name == "plots":
            poly = shapely.area(gdf.geometry.values)
            big = np.flatnonzero((poly > 0) & (a > VACANT_FACTOR * poly))
            if len(big):
                items = [f"{_row_id(gdf, int(i), id_fields.get(name))}: area_m2 {a[i]:,.6g} m², polygon "
                         f"{poly[i]:,.0f} m²" for i in big]
                out.errors.append(f"{wheres[name]}: area_m2 is far above the plot's own polygon for {len(big)} "
                                  f"plot(s): {_listing(items)}; check area_m2 (square metres) and the polygon")
    return out


# ------------------------------------------------------------------------------------ consistency

#: Two estates whose polygons overlap by at least this share of their union (intersection over union)
#: are one piece of land under two ids: an error (its land would be counted twice).
DUPLICATE_IOU = 0.9


def check_duplicate_estates(estates: gpd.GeoDataFrame, where: str) -> Findings:
    """Estates with the same or a nearly identical polygon under different ids (working CRS): errors
    naming both rows and ids and the overlap. A small estate inside a large one is not a duplicate."""
    out = Findings()
    geoms = estates.geometry.values
    if len(estates) < 2:
        return out
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    if not len(left):
        return out
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    union = shapely.area(geoms[left]) + shapely.area(geoms[right]) - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    dup = iou >= DUPLICATE_IOU
    if not dup.any():
        return out
    items = [f"{_row_id(estates, int(a), 'estate_id')} and {_row_id(estates, int(b), 'estate_id')} "
             f"({'the same polygon' if v >= 0.9999 else f'{v:.0%} of their land shared'})"
             for a, b, v in zip(left[dup], right[dup], iou[dup])]
    out.errors.append(f"{where}: {int(dup.sum())} pair(s) of estates have the same or nearly the same polygon under "
                      f"two ids, so their land would be counted twice: {_listing(items)}; keep one feature per "
                      "estate (merge or delete the copies)")
    return out


def check_plot_estates(plots: gpd.GeoDataFrame, estates: gpd.GeoDataFrame | None, where: str) -> Findings:
    """Plots whose ``estate_id`` is no estate of the estates layer (errors naming the rows and the
    closest estate ids): they would belong to no estate."""
    out = Findings()
    if not len(plots) or "estate_id" not in plots.columns or estates is None or "estate_id" not in estates:
        return out
    known = set(estates["estate_id"].dropna().astype(str))
    ids = plots["estate_id"]
    bad = np.flatnonzero(~ids.astype(str).isin(known).to_numpy() | ids.isna().to_numpy())
    if not len(bad):
        return out
    from ..common.vocab import nearest

    named = sorted({str(ids.iloc[i]) for i in bad if not _missing(ids.iloc[i])})
    hints = [f"'{v}' → '{n}'" for v in named[:5] if (n := nearest(v, sorted(known)))]
    items = [f"{_row_id(plots, int(i), 'plot_id')}: " + ("no estate_id" if _missing(ids.iloc[i])
                                                           else f"estate_id {str(ids.iloc[i])!r}") for i in bad]
    out.errors.append(f"{where}: {len(bad)} of {len(plots)} plot(s) name an estate_id that no estate of the estates "
                      f"layer has: {_listing(items)}"
                      + (f" (closest estate ids: {', '.join(hints)})" if hints else "")
                      + "; correct their estate_id, or remove the plots")
    return out


def check_sizes(layers: dict[str, gpd.GeoDataFrame], wheres: dict[str, str], id_fields: dict[str, str]) -> Findings:
    """Estate and plot polygons (working, metric CRS) larger than :data:`MAX_ESTATE_HA`: errors naming the
    rows, so that an estate of a thousand km² (wrong unit, wrong CRS, the province's outline in the
    estates layer) is refused before zoning cuts it into millions of cells."""
    out = Findings()
    for name in ("estates", "plots"):
        gdf = layers.get(name)
        if gdf is None or not len(gdf):
            continue
        ha = shapely.area(gdf.geometry.values) / 10_000.0
        big = np.flatnonzero(ha > MAX_ESTATE_HA)
        if len(big):
            items = [f"{_row_id(gdf, int(i), id_fields.get(name))}: {ha[i]:,.0f} ha" for i in big]
            out.errors.append(f"{wheres[name]}: {len(big)} of {len(gdf)} polygon(s) are larger than "
                              f"{MAX_ESTATE_HA:,.0f} ha ({MAX_ESTATE_HA / 100:,.0f} km²), implausible for "
                              f"{'an industrial estate' if name == 'estates' else 'a plot'}: {_listing(items)}; "
                              "check the polygon and the layer's CRS (or remove the feature)")
    return out


# ------------------------------------------------------------------------------------- entry points

def layer_where(name: str, spec: Any) -> str:
    """A layer as messages name it (as :func:`siteplan.inputs.region.read_layer` does)."""
    table = getattr(spec, "table", None)
    part = spec.layer or table or ("sql" if getattr(spec, "sql", None) else None)
    return f"layer '{name}' ({spec.path}{':' + part if part else ''})"


def checked_encoding(name: str, spec: Any, path: Path) -> tuple[Any, list[Notice]]:
    """The layer's spec with the encoding its DBF needs when the ``.cpg`` (or ``encoding:``) does
    not decode the text or would turn UTF-8 into mojibake, and the warning saying so."""
    if path.suffix.lower() != ".shp":
        return spec, []
    dbf = next((c for c in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if c.exists()), None)
    if dbf is None:
        return spec, []
    cpg = next((c for c in (path.with_suffix(".cpg"), path.with_suffix(".CPG")) if c.exists()), None)
    try:
        enc, why = cpg_encoding(dbf, cpg, spec.encoding)
    except OSError:
        return spec, []
    if enc is None:
        return spec, []
    return spec.model_copy(update={"encoding": enc}), [Notice("encoding-changed", f"{layer_where(name, spec)}: {why}")]


def check_read_layers(raw: dict[str, gpd.GeoDataFrame], scenario: Any, id_fields: dict[str, str]
                      ) -> CoordinateCheck:
    """Every check of the layers as read, before they are projected: text that does not read as a
    number, control characters in ids, NUL bytes in a DBF, mojibake, and the coordinates
    (:func:`check_coordinates`); also the study's centre for the working CRS."""
    wheres = {n: layer_where(n, scenario.layers[n]) for n in raw}
    out = Findings()
    for name, gdf in raw.items():
        where, idf = wheres[name], id_fields.get(name)
        out.errors += gdf.attrs.get(PLAUSIBILITY_ERRORS, [])
        for col in dict.fromkeys([idf, *(c for c in ("estate_id", "biz_id", "plot_id") if c in gdf.columns)]):
            out.errors += id_text_problems(gdf, col, where)
        spec = scenario.layers[name]
        path = scenario.resolve(spec.path)
        if path.suffix.lower() in (".geojson", ".json"):
            out.errors += geojson_nul_problems(path, where, {v: k for k, v in spec.fields.items()})
        if path.suffix.lower() == ".shp":
            dbf = next((c for c in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if c.exists()), None)
            if dbf is not None:
                rename = {v: k for k, v in spec.fields.items()}
                out.errors += dbf_nul_problems(dbf, where, spec.encoding or "utf-8", rename)
        for col, rows in mojibake_rows(gdf).items():
            items = [f"{_row_id(gdf, i, idf)}: {str(gdf[col].iloc[i])[:30]!r}" for i in rows]
            out.warnings.append(Notice("mojibake",
                                       f"{where}: field '{col}' has {len(rows)} value(s) that look like UTF-8 Persian "
                                       f"read with the wrong encoding (mojibake): {_listing(items)}; save the file "
                                       "as UTF-8 with a matching .cpg, or set the layer's encoding:",
                                       {"values": len(rows)}))
    check = check_coordinates(raw, wheres, id_fields)
    check.findings = out.extend(check.findings)
    return check


def check_projected_layers(layers: dict[str, gpd.GeoDataFrame], study: Any, scenario: Any,
                           id_fields: dict[str, str], far: dict[str, np.ndarray]) -> Findings:
    """The checks that need the working (metric) CRS: estate capacity against the polygons
    (:func:`check_capacity`) and features outside the boundary (:func:`check_outside_boundary`)."""
    wheres = {n: layer_where(n, scenario.layers[n]) for n in layers}
    out = Findings()
    if "estates" in layers:
        out.extend(check_capacity(layers["estates"], wheres["estates"], scenario.allocation.default_vacant_share,
                                  layers.get("plots")))
        out.extend(check_duplicate_estates(layers["estates"], wheres["estates"]))
        if "plots" in layers:
            out.extend(check_plot_estates(layers["plots"], layers["estates"], wheres["plots"]))
    out.extend(check_outside_boundary(layers, study, wheres, id_fields, far))
    out.extend(check_sizes(layers, wheres, id_fields))
    out.extend(check_area_fields(layers, wheres, id_fields))
    return out
