"""PostGIS in and out: input layers read from a PostgreSQL/PostGIS table or query, and a run's outputs
written into a schema in one transaction.

A layer whose ``path`` is a connection URL (``postgresql://user@host:5432/db``, or
``postgresql:///?service=NAME`` for an entry of a ``pg_service.conf``) is read from the database with
``table: schema.name`` or ``sql: SELECT ...``. The password is never in the scenario (a URL holding one
is refused): libpq takes it from ``PGPASSWORD``, ``~/.pgpass`` or the service file, so it cannot reach
an output, a log line or the manifest. :func:`export_postgis` accepts a URL with a password (on the
command line) and writes it nowhere: every message and the schema's marker name the URL without it
(:func:`redact`).

Reading runs in a read-only transaction. A table's rows come in the order of its primary key (the
``gid``/``ogc_fid`` that shp2pgsql and ogr2ogr add, in the file's order), so a plan from a table is the
plan from the file it was loaded from; a query's rows come in the order its ``ORDER BY`` gives.

The database driver (psycopg 3) is the optional extra ``siteplan[postgis]``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pandas as pd

from .errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["DB_SCHEMES", "is_db_url", "redact", "url_problem", "read_db_layer", "frame_sha256",
           "export_postgis", "MARKER_TABLE"]

log = logging.getLogger("siteplan")

#: the URL schemes of a PostgreSQL connection (libpq's connection URIs)
DB_SCHEMES = ("postgresql://", "postgres://")
#: URL query parameters that carry a secret
_SECRET_PARAMS = frozenset({"password", "sslpassword"})
#: the table siteplan writes into every schema it exports to (its ownership record)
MARKER_TABLE = "siteplan_export"
#: what the marker table's ``writer`` row says
_WRITER = "siteplan export"
_INSTALL = "PostGIS layers need the database driver: pip install 'siteplan[postgis]' (psycopg 3)"


def is_db_url(path: object) -> bool:
    """True when a layer's ``path`` is a PostgreSQL connection URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(path, str) and path.strip().lower().startswith(DB_SCHEMES)


def redact(url: str) -> str:
    """``url`` without its password: the ``user:password@`` part and a ``password=`` (or
    ``sslpassword=``) query parameter are removed; the rest is kept as written.

    Examples
    --------
    >>> redact("postgresql://planner:s3cret@db.example:5432/gis?sslmode=require&password=x")
    'postgresql://planner@db.example:5432/gis?sslmode=require'
    """
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)\Z", url, re.S)
    if m is None:
        return url
    head, netloc, rest = m.groups()
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    path, mark, query = rest.partition("?")
    if mark:
        query, hash_, frag = query.partition("#")
        kept = [kv for kv in query.split("&") if unquote(kv.split("=", 1)[0]).strip().lower() not in _SECRET_PARAMS]
        rest = path + ("?" + "&".join(kept) if kept else "") + hash_ + frag
    return head + netloc + rest


def _password(url: str) -> str | None:
    """The password a URL holds (None when it holds none)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.password:
        return parts.password
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in _SECRET_PARAMS and v:
            return v
    return None


def url_problem(url: str) -> str | None:
    """Why a scenario's connection URL cannot be used (None when it can): it holds a password, which
    the scenario file (shared, and recorded in the run's manifest) must not carry."""
    if _password(url) is not None:
        return (f"{redact(url)}: the URL holds a password; siteplan never writes a password into a file, so "
                "the scenario must not hold one: remove it and set PGPASSWORD, or put it in ~/.pgpass, or use "
                "a pg_service.conf entry (postgresql:///?service=NAME)")
    return None


def _scrub(text: str, url: str) -> str:
    """A driver's message with the URL's password (if any) replaced by ``***``."""
    secret = _password(url)
    text = text.replace(url, redact(url))
    return text.replace(secret, "***") if secret else text


def _driver(where: str) -> Any:
    """The psycopg module; :class:`InputError` saying how to install it when it is missing."""
    try:
        import psycopg
    except ImportError:
        raise InputError(f"{where}: {_INSTALL}") from None
    return psycopg


@contextmanager
def _connect(url: str, where: str, *, read_only: bool) -> Iterator[Any]:
    """A psycopg connection (closed at the end), errors as :class:`InputError` naming the redacted URL."""
    psycopg = _driver(where)
    try:
        conn = psycopg.connect(url, connect_timeout=30, application_name="siteplan")
    except psycopg.Error as exc:
        msg = _scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
        raise InputError(f"{where}: cannot connect to {redact(url)}: {msg}. Check the host, port, database and "
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
                  ) -> "gpd.GeoDataFrame":
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
    psycopg = _driver(where)
    from psycopg import sql

    if (table is None) == (query is None):
        raise InputError(f"{where}: give table: (schema.table) or sql: (a SELECT), one of them")
    with _connect(url, where, read_only=True) as conn:
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
                    raise InputError(f"{where}: the {'table' if table else 'query'} has {what}; a layer needs one: "
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
            msg = _scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
            what = f"table {table}" if table else "the sql: query"
            raise InputError(f"{where}: cannot read {what} from {redact(url)}: {msg}") from None
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


def _frame(rows: list[tuple[Any, ...]], attrs: list[tuple[str, str]], crs: Any) -> "gpd.GeoDataFrame":
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


def frame_sha256(gdf: "gpd.GeoDataFrame") -> str:
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


# ------------------------------------------------------------------------------------------------
# export
# ------------------------------------------------------------------------------------------------


def _pg_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(s.dtype):
        return "double precision"
    return "text"


def _cell(v: Any) -> Any:
    """A value for COPY: None for missing, Python scalars, text without NUL (PostgreSQL text cannot hold it)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, int):
        return v
    return str(v).replace("\x00", "\ufffd")


def _run_tables(run_dir: Path) -> list[tuple[str, pd.DataFrame]]:
    """A run's layers (as for the GeoPackage: every GeoJSON layer and the relocation points) and its other
    CSV tables, by table name; CSV cells as the run held them (the formula quotes undone), id columns
    as text, other columns as numbers when every value is one."""
    from .export import gpkg_layers
    from .workbook import read_output_csv

    tables: list[tuple[str, pd.DataFrame]] = list(gpkg_layers(run_dir))
    layers = {n for n, _ in tables}
    for f in sorted(run_dir.glob("*.csv")):
        if f.stem != "relocation":
            tables.append((f"{f.stem}_csv" if f.stem in layers else f.stem, read_output_csv(f)))
    return tables


def _schema_objects(conn: Any, schema: str) -> list[tuple[str, str]]:
    """The objects a schema holds that a user could have made: relations (tables, views, …; not the
    indexes and sequences of siteplan's tables) and functions, as (kind, name)."""
    rels = conn.execute(
        "SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' "
        "WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' "
        "ELSE 'relation' END, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
        "AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))"
        " ORDER BY 2", [schema]).fetchall()
    funcs = conn.execute("SELECT 'function', p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                         "WHERE n.nspname = %s ORDER BY 2", [schema]).fetchall()
    return [(str(k), str(n)) for k, n in [*rels, *funcs]]


def _marker(conn: Any, schema: str) -> dict[str, str] | None:
    """The marker table's rows of a schema siteplan exported to (None when it has none)."""
    from psycopg import sql

    exists = conn.execute("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'r'", [schema, MARKER_TABLE]).fetchone()
    if not exists:
        return None
    try:
        rows = conn.execute(sql.SQL("SELECT key, value FROM {}").format(sql.Identifier(schema, MARKER_TABLE))).fetchall()
    except Exception:  # noqa: BLE001 - a table of that name with other columns is not our marker
        return None
    got = {str(k): str(v) for k, v in rows}
    return got if got.get("writer") == _WRITER else None


def _check_schema(conn: Any, schema: str, *, overwrite: bool, target: str) -> list[str]:
    """The tables of siteplan's earlier export into ``schema`` to drop (empty for a new or empty schema);
    :class:`InputError` when the schema is not siteplan's, holds anything else, or ``overwrite`` is off."""
    there = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone()
    if not there:
        return []
    objects = _schema_objects(conn, schema)
    if not objects:
        return []
    marker = _marker(conn, schema)
    if marker is None:
        raise InputError(f"{target}: schema '{schema}' exists and siteplan did not write it (no {MARKER_TABLE} "
                         "table); siteplan replaces only a schema it wrote: give a new --schema name")
    listed = set(json.loads(marker.get("tables", "[]"))) | {MARKER_TABLE}
    foreign = [f"{k} {n}" for k, n in objects if not (k == "table" and n in listed)]
    if foreign:
        shown = ", ".join(foreign[:10]) + (" …" if len(foreign) > 10 else "")
        raise InputError(f"{target}: schema '{schema}' holds objects siteplan did not write: {shown}; move them to "
                         "another schema (or give a new --schema name): siteplan replaces only what it wrote")
    if not overwrite:
        raise InputError(f"{target}: schema '{schema}' holds an earlier siteplan export; give --overwrite to "
                         "replace it, or a new --schema name")
    return sorted(n for k, n in objects if k == "table")


def _create_table(conn: Any, schema: str, name: str, df: pd.DataFrame) -> None:
    """Create ``schema.name`` for ``df`` (a GeoDataFrame gets a ``geom`` column of its geometry type in
    EPSG:4326) and COPY its rows in."""
    import geopandas as gpd
    import shapely
    from psycopg import sql

    spatial = isinstance(df, gpd.GeoDataFrame)
    attrs = pd.DataFrame(df.drop(columns=df.geometry.name)) if spatial else df
    cols = [sql.SQL("{} {}").format(sql.Identifier(str(c)), sql.SQL(_pg_type(attrs[c]))) for c in attrs.columns]
    names = [sql.Identifier(str(c)) for c in attrs.columns]
    wkb: list[Any] = []
    if spatial:
        geoms = df.to_crs(4326).geometry.values if df.crs is not None else df.geometry.values
        kinds = sorted({t for t in shapely.get_type_id(geoms).tolist() if t >= 0})
        gtype = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
                 6: "MultiPolygon"}.get(kinds[0], "Geometry") if len(kinds) == 1 else "Geometry"
        cols.append(sql.SQL("geom geometry({}, 4326)").format(sql.SQL(gtype)))
        names.append(sql.Identifier("geom"))
        wkb = list(shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True))
    conn.execute(sql.SQL("CREATE TABLE {} (fid bigint PRIMARY KEY, {})").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(cols)))
    copy_cols = sql.SQL(", ").join([sql.Identifier("fid"), *names])
    columns = [attrs.iloc[:, j].tolist() for j in range(attrs.shape[1])]
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(schema, name), copy_cols)) as copy:
        for i in range(len(df)):
            row = [i + 1, *(_cell(col[i]) for col in columns)]
            if spatial:
                row.append(wkb[i])
            copy.write_row(row)
    if spatial:
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(sql.Identifier(schema, name)))


def export_postgis(run_dir: str | Path, url: str, schema: str, *, overwrite: bool = False,
                   _fail_after: int | None = None) -> list[str]:
    """Write every output layer and table of a run into a PostGIS schema, in one transaction.

    Parameters
    ----------
    run_dir
        A folder ``siteplan run`` wrote.
    url
        The connection URL (a password in it is used and never written or shown).
    schema
        The schema to write: made new; an empty one is used; one that an earlier export wrote (its
        ``siteplan_export`` table lists its tables, and it holds nothing else) is replaced with
        ``overwrite``; any other is refused.
    overwrite
        Replace an earlier siteplan export in ``schema``.
    _fail_after
        For tests: fail after writing this many tables (the transaction is rolled back).

    Returns
    -------
    list of str
        The tables written (``schema.name``), the marker last.

    Raises
    ------
    InputError
        ``run_dir`` is not a run folder; no driver or connection; the schema is not siteplan's; a table
        cannot be written (nothing is changed: the transaction is rolled back).
    """
    from ._version import __version__
    from .export import sha256
    from .outdir import COMMANDS, written_by

    run_dir = Path(run_dir)
    target = f"--postgis {redact(url)}"
    psycopg = _driver(target)
    from psycopg import sql

    kind = written_by(run_dir)[0] if run_dir.is_dir() else None
    if kind not in ("run", "national"):
        what = f"a folder {COMMANDS[kind]} wrote" if kind in COMMANDS else "not a folder siteplan run wrote"
        raise InputError(f"{run_dir}: {what} (no siteplan run marker or manifest); export takes the folder "
                         "`siteplan run ... --out FOLDER` wrote: give that folder")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]{0,62}", schema) or schema.lower().startswith("pg_"):
        raise InputError(f"--schema '{schema}': give a plain schema name (letters, digits, _; not starting with pg_)")
    tables = _run_tables(run_dir)
    if not tables:
        raise InputError(f"{run_dir}: holds no layer or table to export: give the folder a finished `siteplan run` wrote")
    names = [n for n, _ in tables]
    manifest = run_dir / "manifest.json"
    with _connect(url, target, read_only=False) as conn:
        try:
            with conn.transaction():
                # one export into a schema at a time (a second waits, then sees the first one's marker)
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"siteplan export {schema}"])
                if conn.execute("SELECT 1 FROM pg_type WHERE typname = 'geometry'").fetchone() is None:
                    raise InputError(f"{target}: the database has no PostGIS (no type geometry); ask its administrator "
                                     "to run CREATE EXTENSION postgis, or give a database that has it")
                old = _check_schema(conn, schema, overwrite=overwrite, target=target)
                for t in old:
                    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, t)))
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                for k, (name, df) in enumerate(tables):
                    if _fail_after is not None and k >= _fail_after:
                        raise RuntimeError(f"test fault after {k} tables")
                    _create_table(conn, schema, name, df)
                conn.execute(sql.SQL("CREATE TABLE {} (key text PRIMARY KEY, value text)").format(
                    sql.Identifier(schema, MARKER_TABLE)))
                rows = [("writer", _WRITER), ("siteplan", __version__), ("run_dir", str(run_dir.resolve())),
                        ("manifest_sha256", sha256(manifest) if manifest.is_file() else ""),
                        ("tables", json.dumps(names, ensure_ascii=False))]
                with conn.cursor() as cur:
                    cur.executemany(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(
                        sql.Identifier(schema, MARKER_TABLE)), rows)
                conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                    sql.Identifier(schema), sql.Literal(f"written by siteplan export from {run_dir.name}; "
                                                         f"see table {MARKER_TABLE}")))
        except psycopg.Error as exc:
            msg = _scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
            raise InputError(f"{target}: cannot write schema '{schema}': {msg}; nothing was changed") from None
    log.info("wrote %d tables into schema %s of %s", len(names) + 1, schema, redact(url))
    return [f"{schema}.{n}" for n in [*names, MARKER_TABLE]]
