"""Point layers from tables: CSV, XLSX and ODS with coordinate columns or a WKT column.

A registry kept in a spreadsheet becomes a point layer when the scenario names its coordinate
columns (``x``/``y`` or ``lon``/``lat``, with ``crs:``; ``lon``/``lat`` default to EPSG:4326) or a
column of WKT geometries (``wkt:``). Column names are matched after Persian normalisation
(:func:`siteplan.common.textnorm.normalize`), numbers may use Persian/Arabic digits and the Arabic decimal
separator ``٫``. A row without usable coordinates keeps its place with an empty geometry and the
reason in the ``_coord_problem`` column, so :mod:`siteplan.inputs.region` excludes and reports it by row
number; nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.notice import Notice
from ..common.textnorm import comma_hint, normalize_compact, parse_number
from ..errors import InputError

if TYPE_CHECKING:
    from ..scenario import LayerSpec

__all__ = ["TABLE_SUFFIXES", "is_table", "read_table", "find_column", "COORD_PROBLEM", "TABLE_ROW"]

#: file suffixes read as tables (not through GDAL)
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".ods", ".xls"}
#: the column holding why a row has no geometry (read by :mod:`siteplan.inputs.region`)
COORD_PROBLEM = "_coord_problem"
#: the column holding each row's number as the spreadsheet shows it (the header is row 1)
TABLE_ROW = "_table_row"

_AUTO_X = ("x", "lon", "long", "lng", "longitude", "طول", "طول جغرافیایی", "easting")
_AUTO_Y = ("y", "lat", "latitude", "عرض", "عرض جغرافیایی", "northing")
_AUTO_WKT = ("wkt", "geometry", "geom", "the_geom")
_ENGINES = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".ods": "odf"}


def is_table(path: Path) -> bool:
    """True when the file is read as a table (CSV, XLSX, ODS).

    Parameters
    ----------
    path
        A layer's file.

    Returns
    -------
    bool
        True when its suffix (in any case) is one of :data:`TABLE_SUFFIXES`.
    """
    return path.suffix.lower() in TABLE_SUFFIXES


def find_column(columns: list[str], name: str) -> list[str]:
    """The columns whose name equals ``name`` after Persian normalisation (ي/ی, ك/ک, ZWNJ, spaces
    and underscores, digits, case): the exact name alone when present."""
    if name in columns:
        return [name]
    key = normalize_compact(name)
    return [c for c in columns if normalize_compact(c) == key] if key else []


#: how much of a CSV :func:`_blank_start` reads to find its first line
_HEAD_BYTES = 1 << 16


def _blank_start(path: Path, tries: list[str], where: str) -> None:
    """Refuse a CSV that is empty or whose first line (the header) is blank or only separators, with what to
    do (pandas would say "Could not determine delimiter", or read the blank line as no columns)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)  # the first line is all it looks at: never the whole registry
            whole = not fh.read(1)
    except OSError:
        return  # the reader says what is wrong
    for enc in tries:
        try:  # incremental: a character cut at the end of the head is not a decoding error
            text = codecs.getincrementaldecoder(enc)().decode(head, final=whole).lstrip("\ufeff")
        except (UnicodeDecodeError, LookupError):
            continue
        if whole and not text.strip():
            raise InputError(f"{where}: {path.name} is empty (no header row, no rows): its first line must name the "
                             "columns, then one line per feature")
        lines = text.splitlines()
        if not lines or not (whole or len(lines) > 1 or text.endswith(("\n", "\r"))):
            return  # the first line runs past the head: pandas reads on
        first = lines[0]
        if not first.strip(" \t,;|"):
            raise InputError(f"{where}: the first line of {path.name} is blank{' or only separators' if first.strip() else ''}"
                             ": it must be the header row naming the columns (remove the lines above it)")
        return


def _read_csv(path: Path, encoding: str | None, where: str) -> tuple[pd.DataFrame, list[Notice]]:
    sep = "\t" if path.suffix.lower() == ".tsv" else None
    tries = [encoding] if encoding else ["utf-8-sig", "cp1256"]
    _blank_start(path, tries, where)
    last: Exception | None = None
    for enc in tries:
        try:
            df = pd.read_csv(path, encoding=enc, sep=sep, engine="python", dtype=object, keep_default_na=False,
                             skip_blank_lines=False)
            df = df.map(lambda v: None if isinstance(v, str) and not v.strip() else v)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except Exception as exc:  # noqa: BLE001 - a malformed CSV: one message whatever pandas raised
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"{where}: cannot read {path.name} as CSV: {msg}") from None
        warns: list[Notice] = []
        if enc == "cp1256" and not encoding:
            warns.append(Notice("encoding-assumed", f"{where}: {path.name} is not UTF-8; read as Windows-1256 "
                                "(cp1256). Check the Persian text in the outputs, or give layers.<name>.encoding"))
        return df, warns
    raise InputError(f"{where}: cannot decode {path.name} with {', '.join(t for t in tries if t)} "
                     f"({last}); give the file's encoding with layers.<name>.encoding") from None


def _read_sheet(path: Path, sheet: str | int | None, where: str) -> pd.DataFrame:
    engine = _ENGINES[path.suffix.lower()]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = pd.ExcelFile(path, engine=engine)
    except ImportError as exc:
        raise InputError(f"{where}: reading {path.suffix} files needs the '{exc.name or engine}' package "
                         f"(pip install {'odfpy' if engine == 'odf' else 'openpyxl'})") from None
    except Exception as exc:  # noqa: BLE001 - the spreadsheet readers raise several types; all mean the same
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{where}: cannot read {path.name} as a spreadsheet: {msg}") from None
    names = [str(s) for s in book.sheet_names]
    if sheet is None:
        target: str | int = 0
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise InputError(f"{where}: sheet: {path.name} has {len(names)} sheet(s) ({', '.join(names)}); "
                             f"sheet numbers count from 0")
        target = sheet
    else:
        found = find_column(names, sheet)
        if len(found) != 1:
            raise InputError(f"{where}: sheet: {path.name} has no sheet '{sheet}' (its sheets: {', '.join(names)})")
        target = found[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = book.parse(target, dtype=object)
    book.close()
    return df


def _column(df: pd.DataFrame, key: str, name: str | None, auto: tuple[str, ...], where: str,
            problems: list[str]) -> str | None:
    cols = [str(c) for c in df.columns if not str(c).startswith("_")]
    if name is not None:
        found = find_column(cols, name)
        if len(found) == 1:
            return found[0]
        what = f"has several columns matching '{name}' ({', '.join(found)})" if found else f"has no column '{name}'"
        problems.append(f"{where}: {key}: the table {what} (its columns: {', '.join(cols)})")
        return None
    for a in auto:
        found = find_column(cols, a)
        if len(found) == 1:
            return found[0]
    return None


def _cell(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()


def _points(df: pd.DataFrame, xcol: str, ycol: str) -> tuple[np.ndarray, list[str | None]]:
    geoms = np.full(len(df), None, dtype=object)
    reasons: list[str | None] = []
    for i, (xv, yv) in enumerate(zip(df[xcol].tolist(), df[ycol].tolist())):
        x, y = parse_number(xv), parse_number(yv)
        why = None
        for col, raw, num in ((xcol, xv, x), (ycol, yv, y)):
            if num is None or not np.isfinite(num):
                text = _cell(raw)
                why = f"no usable coordinates: '{col}' is empty" if not text else \
                    f"no usable coordinates: '{col}' is not a number ({text[:30]!r}{comma_hint(text)})"
                break
        if why is None and x is not None and y is not None:
            geoms[i] = shapely.Point(x, y)
        reasons.append(why)
    return geoms, reasons


def _wkt(df: pd.DataFrame, col: str) -> tuple[np.ndarray, list[str | None]]:
    geoms = np.full(len(df), None, dtype=object)
    reasons: list[str | None] = []
    for i, v in enumerate(df[col].tolist()):
        text = _cell(v)
        if not text:
            reasons.append(f"no usable coordinates: '{col}' is empty")
            continue
        try:
            g = shapely.from_wkt(text)
        except shapely.errors.GEOSException:  # not WKT
            reasons.append(f"no usable coordinates: '{col}' is not WKT ({text[:30]!r})")
            continue
        geoms[i] = g
        reasons.append(None if g is not None and not g.is_empty else f"no usable coordinates: '{col}' is empty")
    return geoms, reasons


def read_table(path: Path, spec: LayerSpec, where: str) -> tuple[gpd.GeoDataFrame, list[Notice]]:
    """Read a CSV/XLSX/ODS table as a point (or WKT) layer.

    Parameters
    ----------
    path
        The table.
    spec
        The layer's scenario entry (``x``/``y`` or ``lon``/``lat``, ``wkt``, ``sheet``, ``crs``,
        ``encoding``).
    where
        The layer's name in messages.

    Returns
    -------
    gdf, warnings
        Every row of the table, in order, with its geometry (None where the coordinates are unusable;
        the reason in ``_coord_problem``) and the CRS declared (``lon``/``lat`` default to EPSG:4326).

    Raises
    ------
    InputError
        Unreadable file, unknown sheet, coordinate columns not found or not named.
    """
    warns: list[Notice] = []
    if path.suffix.lower() == ".xls":
        raise InputError(f"{where}: {path.name} is an old Excel (.xls) workbook; save it as .xlsx (or CSV UTF-8) "
                         "in Excel or LibreOffice and point the scenario at that file")
    if spec.sheet is not None and path.suffix.lower() not in _ENGINES:
        warns.append(Notice("sheet-ignored", f"{where}: sheet: ignored, {path.name} is a CSV file with no sheets"))
    if path.suffix.lower() in _ENGINES:
        df = _read_sheet(path, spec.sheet, where)
    else:
        df, csv_warns = _read_csv(path, spec.encoding, where)
        warns += csv_warns
    df.columns = [str(c).strip() for c in df.columns]
    df[TABLE_ROW] = np.arange(2, len(df) + 2)
    blank = df.drop(columns=[TABLE_ROW]).map(lambda v: _cell(v) == "").all(axis=1)
    df = df.loc[~blank]
    df = df.loc[:, [not c.startswith("Unnamed: ") or df[c].notna().any() for c in df.columns]]
    problems: list[str] = []
    xname, yname = spec.x or spec.lon, spec.y or spec.lat
    geographic = bool(spec.lon or spec.lat)
    wcol = _column(df, "wkt", spec.wkt, () if xname or yname else _AUTO_WKT, where, problems)
    xcol = ycol = None
    if wcol is None and not spec.wkt:
        xcol = _column(df, "x" if spec.x else "lon", xname, _AUTO_X, where, problems)
        ycol = _column(df, "y" if spec.y else "lat", yname, _AUTO_Y, where, problems)
        if not problems and (xcol is None or ycol is None):
            problems.append(f"{where}: a table needs its coordinate columns named: lon: and lat: (degrees), or x: "
                            f"and y: with crs:, or wkt: for a column of WKT geometries (its columns: "
                            f"{', '.join(c for c in df.columns if c != TABLE_ROW)})")
        elif not (spec.x or spec.lon) and xcol is not None and ycol is not None:
            warns.append(Notice("coordinates-guessed", f"{where}: coordinates read from the columns '{xcol}' and "
                                f"'{ycol}' (found by name; name them with lon:/lat: or x:/y: to be sure)"))
            geographic = normalize_compact(xcol) not in ("x", "easting")
    if problems:
        raise InputError(problems)
    if wcol is not None:
        geoms, reasons = _wkt(df, wcol)
        drop = [wcol]
    else:
        assert xcol is not None and ycol is not None
        geoms, reasons = _points(df, xcol, ycol)
        drop = [xcol, ycol]
    crs = spec.crs or ("EPSG:4326" if geographic else None)
    df = df.rename(columns={"geometry": "geometry_text"}) if wcol != "geometry" else df  # the name is taken
    gdf = gpd.GeoDataFrame(df.drop(columns=drop).reset_index(drop=True),
                           geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    gdf[COORD_PROBLEM] = reasons
    return gdf, warns
