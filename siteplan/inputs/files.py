"""Reading one input layer's file: the file itself (a shapefile's header and sidecars, its DBF encoding,
a GeoPackage's layer, a table's coordinates) and a raster's header, checked before anything is used."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np

from ..common.notice import Notice
from ..errors import InputError
from ..scenario import LayerSpec
from .tables import is_table, read_table

__all__ = ["detect_dbf_encoding", "layer_files", "raster_problems", "read_layer_file", "shapefile_problems"]

#: the layer reader's messages under the name they had before this module was split off
log = logging.getLogger("siteplan.inputs.region")


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
    except UnicodeDecodeError:
        return "cp1256"
    return "utf-8"


def _sidecar(path: Path, ext: str) -> Path | None:
    for cand in (path.with_suffix(ext), path.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return None


def layer_files(path: Path) -> list[Path]:
    """The files a layer is read from (for the manifest's hashes): a shapefile's parts, else the file or
    folder (an Esri file geodatabase ``.gdb``, hashed as a whole by :func:`siteplan.outputs.writer.sha256`)."""
    if path.suffix.lower() == ".shp":
        return [p for p in sorted(path.parent.glob(path.stem + ".*")) if p.suffix.lower() in
                {".shp", ".shx", ".dbf", ".prj", ".cpg"}]
    return [path]


def read_layer_file(path: Path, spec: LayerSpec, where: str, warns: list[Notice]) -> gpd.GeoDataFrame:
    """A layer's file read as it is (a table through :func:`siteplan.inputs.tables.read_table`, a shapefile
    in its detected encoding, a GeoPackage's named layer); what the reading says is added to ``warns``."""
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
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several types; all mean the same to the user
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
    except Exception:  # noqa: BLE001 - a source GDAL cannot list is read as given (the read says why)
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
    with path.open("rb") as fh:
        head = fh.read(_SHP_HEADER)
    if len(head) < _SHP_HEADER or int.from_bytes(head[:4], "big") != 9994:
        return [(f"{where}: cannot read {path.name}: it is not a shapefile (no shapefile header in its first 100 "
                "bytes); export the layer again from the GIS")]
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
        with dbf.open("rb") as fh:
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
    except Exception as exc:  # noqa: BLE001 - rasterio and GDAL raise several types; all mean the same to the user
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [(f"{where}: cannot read {path.name} as a raster (a GeoTIFF of elevations): {msg}; give a GeoTIFF "
                "or another raster GDAL reads")]
    problems = []
    if bands < 1 or w < 1 or h < 1:
        problems.append(f"{where}: {path.name} holds no raster band (size {w} × {h}, {bands} bands); give a "
                        "GeoTIFF of elevations")
    if crs is None:
        problems.append(f"{where}: {path.name} has no coordinate reference system; save it as a GeoTIFF with "
                        "its CRS")
    return problems
