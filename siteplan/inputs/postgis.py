"""PostGIS layers in: a layer read from a PostgreSQL/PostGIS table or query.

A layer whose ``path`` is a connection URL (``postgresql://user@host:5432/db``, or
``postgresql:///?service=NAME`` for an entry of a ``pg_service.conf``) is read from the database with
``table: schema.name`` or ``sql: SELECT ...``. The password is never in the scenario (a URL holding one
is refused, :func:`siteplan.scenario.url_problem`): libpq takes it from ``PGPASSWORD``, ``~/.pgpass`` or
the service file, so it cannot reach an output, a log line or the manifest. Every message names the URL
without a password (:func:`siteplan.scenario.redact_url`).

Reading runs in a read-only transaction. A table's rows come in the order of its primary key (the
``gid``/``ogc_fid`` that shp2pgsql and ogr2ogr add, in the file's order), so a plan from a table is the
plan from the file it was loaded from; a query's rows come in the order its ``ORDER BY`` gives.

The database driver (psycopg 3) is the optional extra ``siteplan[postgis]``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..scenario import redact_url, url_password

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["read_db_layer", "frame_sha256", "connect_db"]

_INSTALL = "PostGIS layers need the database driver: pip install 'siteplan[postgis]' (psycopg 3)"


def scrub(text: str, url: str) -> str:
    """A driver's message with the URL's password (if any) replaced by ``***``."""
    secret = url_password(url)
    text = text.replace(url, redact_url(url))
    return text.replace(secret, "***") if secret else text


def driver(where: str) -> Any:
    """The psycopg module; :class:`InputError` saying how to install it when it is missing."""
    try:
        import psycopg
    except ImportError:
        raise InputError(f"{where}: {_INSTALL}") from None
    return psycopg


@contextmanager
def connect_db(url: str, where: str, *, read_only: bool) -> Iterator[Any]:
    """A psycopg connection (closed at the end), errors as :class:`InputError` naming the redacted URL."""
    psycopg = driver(where)
    try:
        conn = psycopg.connect(url, connect_timeout=30, application_name="siteplan")
    except psycopg.Error as exc:
        msg = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
        raise InputError(f"{where}: cannot connect to {redact_url(url)}: {msg}. Check the host, port, database and "
                         "user; the password comes from PGPASSWORD, ~/.pgpass or a pg_service.conf entry") from None
    try:
        if read_only:
            conn.read_only = True
        else:
            conn.autocommit = True  # conn.transaction() is then the one transaction, committed or rolled back
        yield conn
    finally:
        conn.close()


def _split_table(table: str) -> tuple[str, ...]:
    """``schema.name`` or ``name`` as identifier parts (a name with a dot in it: use ``sql:``)."""
    parts = tuple(p.strip() for p in table.split(".", 1))
    if not all(parts):
        raise ValueError(f"'{table}' is not a table name; write schema.table or table")
    return parts


#: PostgreSQL types read as they are (psycopg gives Python ints, floats, bools and str); others as text
_INT_TYPES = frozenset({"int2", "int4", "int8", "oid"})
_FLOAT_TYPES = frozenset({"float4", "float8", "numeric"})
_KEEP_TYPES = _INT_TYPES | _FLOAT_TYPES | frozenset({"bool", "text", "varchar", "bpchar", "name", "char"})


def read_db_layer(url: str, *, table: str | None = None, query: str | None = None, where: str = "layer"
                  ) -> gpd.GeoDataFrame:
    """Read a layer from a PostGIS table or query.

    Parameters
    ----------
    url
        The connection URL (its password, if any, is never shown).
    table
        ``schema.name`` or ``name``: read in primary-key order when the table has one.
    query
        A ``SELECT`` (run in a read-only transaction, as a subquery): its rows in its own order.
    where
        The layer in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns as read (integers, floats, booleans and text; other types as their text), the one
        geometry column as ``geometry``, the CRS of its SRID (none for SRID 0).

    Raises
    ------
    InputError
        No driver, no connection, no such table, a query that fails, no geometry column or several, or
        geometries of several SRIDs.
    """
    psycopg = driver(where)
    from psycopg import sql

    if (table is None) == (query is None):
        raise InputError(f"{where}: give table: (schema.table) or sql: (a SELECT), one of them")
    with connect_db(url, where, read_only=True) as conn:
        try:
            if table is not None:
                ident = sql.Identifier(*_split_table(table))
                inner: Any = sql.SQL("SELECT * FROM {}").format(ident)
                order = _primary_key(conn, ident.as_string(conn))
            else:
                inner = sql.SQL(query.strip().rstrip(";"))  # type: ignore[union-attr]
                order = []
            with conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT * FROM ({}) AS siteplan_q LIMIT 0").format(inner))
                cols = [(d.name, d.type_code) for d in cur.description or []]
                types = dict(cur.execute("SELECT oid::int, typname FROM pg_type WHERE oid = ANY(%s)",
                                         [[oid for _, oid in cols]]).fetchall())
                names = [c for c, _ in cols]
                dup = sorted({c for c in names if names.count(c) > 1})
                if dup:
                    raise InputError(f"{where}: the query gives the column(s) {', '.join(dup)} more than once; "
                                     "name each column once (AS ...)")
                geoms = [c for c, oid in cols if types.get(oid) in ("geometry", "geography")]
                if len(geoms) != 1:
                    what = "no geometry column" if not geoms else f"{len(geoms)} geometry columns ({', '.join(geoms)})"
                    raise InputError(f"{where}: the {'table' if table else 'query'} has {what}; a layer needs one: "  # noqa: S608 - a message
                                     "select it with sql: (SELECT id, name, geom FROM ...)")
                gcol = geoms[0]
                select = _select_list(cols, types, gcol)
                stmt = sql.SQL("SELECT {} FROM ({}) AS siteplan_q").format(sql.SQL(", ").join(select), inner)
                if order:
                    stmt = sql.SQL("{} ORDER BY {}").format(stmt, sql.SQL(", ").join(map(sql.Identifier, order)))
                rows = cur.execute(stmt).fetchall()
            found = sorted({int(r[-1]) for r in rows if r[-1] is not None})
            if len(found) > 1:
                raise InputError(f"{where}: the geometries have {len(found)} SRIDs ({', '.join(map(str, found))}); a "
                                 "layer has one: transform them with sql: (SELECT ..., ST_Transform(geom, 4326) AS geom ...)")
            crs = _crs_of(conn, found[0]) if found and found[0] != 0 else None
        except psycopg.Error as exc:
            msg = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
            what = f"table {table}" if table else "the sql: query"
            raise InputError(f"{where}: cannot read {what} from {redact_url(url)}: {msg}") from None
    return _frame(rows, [(c, types.get(oid, "")) for c, oid in cols if c != gcol], crs)


def _select_list(cols: list[tuple[str, int]], types: dict[int, str], gcol: str) -> list[Any]:
    """The select list reading a table's columns as siteplan takes them: integers, floats (numeric as
    float8), booleans and text as they are, other types as their text; the geometry last, as WKB and SRID."""
    from psycopg import sql

    select: list[Any] = []
    for c, oid in cols:
        t = types.get(oid, "")
        if c == gcol:
            continue
        ci = sql.Identifier(c)
        if t == "numeric":
            select.append(sql.SQL("{}::float8").format(ci))
        elif t in _KEEP_TYPES:
            select.append(ci)
        else:
            select.append(sql.SQL("{}::text").format(ci))
    g: Any = sql.Identifier(gcol)
    if types.get(dict(cols)[gcol]) != "geometry":
        g = sql.SQL("{}::geometry").format(g)
    select.append(sql.SQL("ST_AsBinary({g}), ST_SRID({g})").format(g=g))
    return select


def _frame(rows: list[tuple[Any, ...]], attrs: list[tuple[str, str]], crs: Any) -> gpd.GeoDataFrame:
    """A layer of rows read with :func:`_select_list` (attribute columns, then WKB and SRID): integer
    columns as int64 (float64 with NaN where a value is missing), floats as float64, others as objects."""
    import geopandas as gpd
    import shapely

    data: dict[str, Any] = {}
    for k, (c, t) in enumerate(attrs):
        values = [r[k] for r in rows]
        if t in _INT_TYPES and all(v is not None for v in values):
            data[c] = np.array(values, dtype=np.int64)
        elif t in _FLOAT_TYPES or t in _INT_TYPES:
            data[c] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        else:
            data[c] = pd.Series(values, dtype=object)
    geometry = shapely.from_wkb([None if r[-2] is None else bytes(r[-2]) for r in rows])
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    frame = frame.rename(columns={"geometry": "geometry_"}) if "geometry" in frame.columns else frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=frame.index), crs=crs)


def _primary_key(conn: Any, regclass: str) -> list[str]:
    """The primary-key columns of a table, in key order (empty when it has none)."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)", [regclass]).fetchall()
    return [r[0] for r in rows]


def _crs_of(conn: Any, srid: int) -> Any:
    """The CRS of a PostGIS SRID: its authority code (EPSG) when ``spatial_ref_sys`` gives one, else its WKT."""
    from pyproj import CRS

    row = conn.execute("SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = %s", [srid]).fetchone()
    if row is None:
        return CRS.from_epsg(srid)
    auth, code, wkt = row
    if auth and str(auth).upper() == "EPSG" and code:
        return CRS.from_epsg(int(code))
    return CRS.from_wkt(wkt)


def frame_sha256(gdf: gpd.GeoDataFrame) -> str:
    """SHA-256 of a layer's content (column names and types, values, geometries as WKB): what the
    manifest records for a layer read from a database, which has no file to hash."""
    import shapely

    h = hashlib.sha256()
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    h.update(repr([(str(c), str(attrs[c].dtype)) for c in attrs.columns]).encode())
    if len(attrs.columns) and len(attrs):
        h.update(pd.util.hash_pandas_object(attrs.astype(str), index=False).to_numpy().tobytes())
    if len(gdf):
        h.update(b"".join(b or b"" for b in shapely.to_wkb(gdf.geometry.values, hex=False)))
    return h.hexdigest()
