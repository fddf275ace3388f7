"""PostGIS out: ``siteplan export RUN --postgis URL --schema NAME`` writes every output layer and table of
a run into a schema, in one transaction (all or nothing), replacing only a schema siteplan wrote.

The URL may hold a password (given on the command line): it is used and written nowhere; every message
and the schema's marker table name the URL without it (:func:`siteplan.scenario.redact_url`).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..inputs.postgis import connect_db, driver, scrub
from ..scenario import redact_url

__all__ = ["export_postgis", "MARKER_TABLE", "create_table"]

log = logging.getLogger("siteplan")

#: the table siteplan writes into every schema it exports to (its ownership record)
MARKER_TABLE = "siteplan_export"
#: what the marker table's ``writer`` row says
_WRITER = "siteplan export"


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
    from .gpkg import gpkg_layers
    from .workbook import read_output_csv

    tables: list[tuple[str, pd.DataFrame]] = list(gpkg_layers(run_dir))
    layers = {n for n, _ in tables}
    tables.extend((f"{f.stem}_csv" if f.stem in layers else f.stem, read_output_csv(f))
                  for f in sorted(run_dir.glob("*.csv")) if f.stem != "relocation")
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
    import psycopg
    from psycopg import sql

    exists = conn.execute("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'r'", [schema, MARKER_TABLE]).fetchone()
    if not exists:
        return None
    try:
        rows = conn.execute(sql.SQL("SELECT key, value FROM {}").format(sql.Identifier(schema, MARKER_TABLE))).fetchall()
    except psycopg.Error:  # a table of that name with other columns is not our marker
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


def create_table(conn: Any, schema: str, name: str, df: pd.DataFrame) -> None:
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
    from .._version import __version__
    from .manifest import sha256
    from .marker import require_run_folder

    run_dir = Path(run_dir)
    target = f"--postgis {redact_url(url)}"
    psycopg = driver(target)
    from psycopg import sql

    require_run_folder(run_dir)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]{0,62}", schema) or schema.lower().startswith("pg_"):
        raise InputError(f"--schema '{schema}': give a plain schema name (letters, digits, _; not starting with pg_)")
    tables = _run_tables(run_dir)
    if not tables:
        raise InputError(f"{run_dir}: holds no layer or table to export: give the folder a finished `siteplan run` wrote")
    names = [n for n, _ in tables]
    manifest = run_dir / "manifest.json"
    with connect_db(url, target, read_only=False) as conn:
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
                    create_table(conn, schema, name, df)
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
            msg = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
            raise InputError(f"{target}: cannot write schema '{schema}': {msg}; nothing was changed") from None
    log.info("wrote %d tables into schema %s of %s", len(names) + 1, schema, redact_url(url))
    return [f"{schema}.{n}" for n in [*names, MARKER_TABLE]]
