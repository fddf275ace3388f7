"""Where GIS units work: plan.xlsx, Esri file geodatabase input, PostGIS in and out (issue #30).

The PostGIS tests run against a real PostgreSQL + PostGIS server: a throwaway cluster made by the
``pg_server`` fixture (initdb into a temporary folder, a Unix socket there, no TCP; as root the server
runs as ``nobody``), stopped and removed at the end. Without the server binaries or the PostGIS
extension they are skipped with a note (`make test` as root installs Debian's ``postgresql`` and
``postgis``).
"""

from __future__ import annotations

import glob
import io
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.cli import main

HOSTILE = '=HYPERLINK("http://evil.example/x","click")'
PASSWORD = "Pw-7f3a-zz9!q"


# ------------------------------------------------------------------------------------------------
# a small scenario with a hostile business name, run once from its shapefiles
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shp_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(scenario, run folder) of the small scenario with one business named :data:`HOSTILE`."""
    from siteplan.common.atomic import write_shapefile

    tmp = tmp_path_factory.mktemp("gisio")
    sc = small_scenario(tmp, n_biz=40)
    biz = gpd.read_file(sc.parent / "businesses.shp")
    biz.loc[biz.index[0], "name"] = HOSTILE
    write_shapefile(biz, sc.parent / "businesses.shp")
    out = tmp / "run_shp"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    return sc, out


def _compared(run: Path) -> dict[str, bytes]:
    """The plan outputs of a run folder compared across input formats: every file but the manifest
    (it records the inputs, which differ by format)."""
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != "manifest.json" and not p.name.startswith(".siteplan")}


def _assert_same_plan(a: Path, b: Path) -> None:
    fa, fb = _compared(a), _compared(b)
    assert sorted(fa) == sorted(fb)
    differ = [k for k in fa if fa[k] != fb[k]]
    assert not differ, f"outputs differ: {differ}"


# ------------------------------------------------------------------------------------------------
# plan.xlsx
# ------------------------------------------------------------------------------------------------


def test_plan_xlsx_sheets_rows_and_hostile_text(shp_run):
    import openpyxl

    _, out = shp_run
    xlsx = out / "plan.xlsx"
    assert "plan.xlsx" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs_sha256"]
    wb = openpyxl.load_workbook(xlsx)
    expected = ["summary", "relocation", "estates", "sites"]
    assert wb.sheetnames[:4] == expected
    assert set(wb.sheetnames) <= {*expected, "upgrades", "options", "impact"}
    assert ("impact" in wb.sheetnames) == (out / "impact.csv").is_file()
    # each sheet has the rows of its CSV (plus the header)
    for sheet, csv in (("relocation", "relocation.csv"), ("estates", "estates.csv"), ("impact", "impact.csv"),
                       ("upgrades", "upgrades.csv"), ("options", "options.csv")):
        if (out / csv).is_file():
            n = len(pd.read_csv(out / csv, encoding="utf-8-sig"))
            assert wb[sheet].max_row == n + 1, sheet
    sites = gpd.read_file(out / "sites.geojson")
    assert wb["sites"].max_row == len(sites) + 1
    rel = wb["relocation"]
    head = [c.value for c in rel[1]]
    assert head == list(pd.read_csv(out / "relocation.csv", encoding="utf-8-sig", nrows=0).columns)
    # the hostile name is a text cell holding the name as it is, never a formula
    names = {r[head.index("name")].value: r[head.index("name")] for r in rel.iter_rows(min_row=2)}
    cell = names[HOSTILE]
    assert cell.data_type == "s" and cell.quotePrefix
    sheet_xml = zipfile.ZipFile(xlsx).read("xl/worksheets/sheet2.xml").decode()
    assert "<f>" not in sheet_xml and "HYPERLINK" in sheet_xml
    # Persian text kept; right to left (report.language is "both": Persian first); frozen header; formats
    assert any(isinstance(v, str) and re.search("[\u0600-\u06ff]", v) for v in names)
    for ws in wb:
        assert ws.sheet_view.rightToLeft and ws.freeze_panes == "A2"
        assert all(c.font.b for c in ws[1])
    lon = rel.cell(row=2, column=head.index("lon") + 1)
    assert isinstance(lon.value, float) and lon.number_format == "0.0000000"
    summary = {r[0].value: r[2].value for r in wb["summary"].iter_rows(min_row=2)}
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert summary["businesses"] == man["counts"]["businesses"] and summary["assigned"] == man["counts"]["assigned"]


def test_xlsx_summary_values_formatted_by_item():
    import openpyxl

    from siteplan.outputs.workbook import workbook_bytes

    df = pd.DataFrame([("businesses", "واحدها", 1234), ("land placed (ha)", "زمین", 12.5),
                       ("optimality gap", "شکاف", 6.6916e-05), ("seed", "بذر", 20260101), ("scenario", "س", "demo")],
                      columns=["item", "item_fa", "value"]).astype({"value": object})
    ws = openpyxl.load_workbook(io.BytesIO(workbook_bytes([("summary", df)])))["summary"]
    fmt = {r[0].value: r[2].number_format for r in ws.iter_rows(min_row=2)}
    assert fmt["optimality gap"].endswith("%") and fmt["optimality gap"].startswith("0.00")  # not General (6.69E-05)
    assert fmt["businesses"] == "#,##0" and fmt["land placed (ha)"] == "#,##0.00" and fmt["seed"] == "0"
    assert ws.cell(row=4, column=3).value == pytest.approx(6.6916e-05)  # the number kept, only its format


def test_workbook_bytes_deterministic_and_direction(monkeypatch):
    import openpyxl

    from siteplan.outputs.workbook import workbook_bytes

    df = pd.DataFrame({"name": [HOSTILE, "نانوایی\u200cبربری", "-3", "a\x01b"], "share": [0.5, 0.25, 1.0, None],
                       "units": [1, 2, 3, 4]})
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a = workbook_bytes([("t", df)])
    time.sleep(2.1)  # a zip entry's time has a resolution of 2 seconds
    assert workbook_bytes([("t", df)]) == a
    wb = openpyxl.load_workbook(io.BytesIO(a))
    ws = wb["t"]
    assert not ws.sheet_view.rightToLeft
    assert [ws.cell(row=i, column=1).value for i in range(2, 6)] == [HOSTILE, "نانوایی\u200cبربری", "-3", "a\ufffdb"]
    assert [ws.cell(row=i, column=1).quotePrefix for i in range(2, 6)] == [True, False, True, False]
    assert ws.cell(row=2, column=2).number_format == "0.0%" and ws.cell(row=5, column=2).value is None
    assert wb.properties.created.year == 2000 and wb.properties.modified.year == 2000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    b = workbook_bytes([("t", df)], rtl=True)
    wb = openpyxl.load_workbook(io.BytesIO(b))
    assert wb["t"].sheet_view.rightToLeft and wb.properties.modified.year == 2023


def _openpyxl_workbook_bytes(sheets, *, rtl=False):
    """plan.xlsx as siteplan wrote it with openpyxl before #31 (the reference the direct writer must match
    byte for byte): cell by cell through openpyxl, then the zip entries copied with one fixed date."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    from siteplan.outputs.formats import _defuse
    from siteplan.outputs.xlsx import ZIP_DATE as _ZIP_DATE
    from siteplan.outputs.xlsx import doc_date as _doc_date
    from siteplan.outputs.xlsx_cells import cell_text as _text
    from siteplan.outputs.xlsx_cells import cell_value as _cell_value
    from siteplan.outputs.xlsx_cells import item_format as _item_format
    from siteplan.outputs.xlsx_cells import number_format as _number_format

    wb = Workbook()
    wb.remove(wb.active)
    when = _doc_date()
    wb.properties.created = when
    wb.properties.modified = when
    wb.properties.creator = "siteplan"
    wb.properties.lastModifiedBy = "siteplan"
    for title, df in sheets:
        ws = wb.create_sheet(title[:31])
        ws.sheet_view.rightToLeft = rtl
        bold = Font(bold=True)
        widths = []
        for j, name in enumerate(df.columns, start=1):
            head = _text(str(name))
            c = ws.cell(row=1, column=j)
            c.value = head
            c.data_type = "s"
            c.font = bold
            c.quotePrefix = _defuse(head) != head
            widths.append(len(head))
        items = df["item"].tolist() if "item" in df.columns and "value" in df.columns else None
        for j in range(df.shape[1]):
            col = df.iloc[:, j]
            fmt = _number_format(str(df.columns[j]), col)
            by_item = items is not None and str(df.columns[j]) == "value"
            for i, raw in enumerate(col.tolist(), start=2):
                v = _cell_value(raw)
                if v is None:
                    continue
                c = ws.cell(row=i, column=j + 1)
                if isinstance(v, str):
                    v = _text(v)
                    c.value = v
                    c.data_type = "s"
                    if _defuse(v) != v:
                        c.quotePrefix = True
                    widths[j] = max(widths[j], min(len(v), 60))
                else:
                    c.value = v
                    if by_item and not isinstance(v, bool):
                        c.number_format = _item_format(items[i - 2], v)
                    elif fmt is not None:
                        c.number_format = fmt
                    widths[j] = max(widths[j], min(len(f"{v:,.2f}" if isinstance(v, float) else str(v)), 60))
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = max(8, min(w + 2, 62))
        ws.freeze_panes = "A2"
        if df.shape[1]:
            ws.auto_filter.ref = f"A1:{get_column_letter(df.shape[1])}{max(len(df), 0) + 1}"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename), compresslevel=6)
    return out.getvalue()


def _awkward_tables():
    """Tables that stress the workbook writer: hostile and odd text, every column type, missing values
    (NaN, None, pd.NA, inf), signed zeros, huge integers, lists, empty strings and blank rows and columns,
    a summary whose value column mixes numbers and text, an empty table and a header without rows."""
    import numpy as np

    rng = np.random.default_rng(7)
    n = 300
    text = np.array([HOSTILE, "نانوایی\u200cبربری", "-3", "a\x01b", "", " lead", "trail ", "   ", "x\r\ny\tz",
                     "a&<>\"'b", "＝1+2", "\u200b=SUM(A1)", "@cmd", "plain", "ok ", "x" * 40_000], dtype=object)
    big = pd.DataFrame({
        "=head": rng.choice(text, n),
        "name": [None if i % 7 == 0 else f"biz {i % 50}" for i in range(n)],
        "lon": rng.uniform(50, 53, n),
        "share_used": np.where(rng.random(n) < 0.2, np.nan, rng.random(n)),
        "units": rng.integers(-5, 10**6, n),
        "land_ha": rng.choice([0.0, -0.0, 1.5, np.inf, -np.inf, np.nan, 1e20, -1234567.891], n),
        "flag": rng.random(n) < 0.5,
        "maybe": pd.array([None if i % 5 == 0 else i % 3 == 0 for i in range(n)], dtype="boolean"),
        "count": pd.array([None if i % 4 == 0 else i for i in range(n)], dtype="Int64"),
        "mixed": [[1, 2] if i % 9 == 0 else (3.5 if i % 9 == 1 else (None if i % 9 == 2 else f"t{i}"))
                  for i in range(n)],
        "big": [2**60 + i for i in range(n)],
        "cat": pd.Categorical(rng.choice(["a", "b", "=c"], n)),
        "when": pd.date_range("2020-01-01", periods=n, freq="D"),
        "empty": [None] * n,
        "rank": rng.integers(1, 20, n).astype(float),
    })
    summary = pd.DataFrame([("businesses", "واحدها", 1234), ("land placed (ha)", "زمین", 12.5),
                            ("optimality gap", "شکاف", 6.6916e-05), ("seed", "بذر", 20260101), ("ok", "x", True),
                            ("scenario", "س", "=demo"), ("missing", "م", None), ("zero", "ص", -0.0)],
                           columns=["item", "item_fa", "value"]).astype({"value": object})
    return [("summary", summary), ("big", big), ("empty", pd.DataFrame()), ("head only", pd.DataFrame(columns=["a", "-b"])),
            ("numbers", pd.DataFrame({"value": [1.5, 2.0, np.nan], "item": ["gap", "share", "x"]})),
            # blank last rows: the sheet's dimension stops at the last filled row, its filter does not
            ("blank tail", pd.DataFrame({"a": [1.0, None, np.nan], "b": ["x", None, None]}))]


@pytest.mark.parametrize("rtl", [False, True])
def test_workbook_bytes_equal_the_openpyxl_writer(monkeypatch, rtl):
    """#31: plan.xlsx is written directly (no openpyxl, ~10x faster) with the very bytes openpyxl wrote."""
    from siteplan.outputs.workbook import workbook_bytes

    for epoch in (None, "1700000000"):
        if epoch is None:
            monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        tables = _awkward_tables()
        assert workbook_bytes(tables, rtl=rtl) == _openpyxl_workbook_bytes(tables, rtl=rtl)
        for one in tables:
            assert workbook_bytes([one], rtl=rtl) == _openpyxl_workbook_bytes([one], rtl=rtl), one[0]


def test_workbook_bytes_written_without_openpyxl():
    """#31: writing plan.xlsx does not load openpyxl (0.3 s of imports, 117,000 cell objects on the demo)."""
    code = ("import sys, pandas as pd\n"
            "from siteplan.outputs.workbook import workbook_bytes\n"
            "workbook_bytes([('t', pd.DataFrame({'a': [1, 2], 'b': ['x', '=y']}))])\n"
            "assert 'openpyxl' not in sys.modules, 'openpyxl imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr


def test_workbook_refuses_bad_sheet_names():
    from siteplan.outputs.workbook import workbook_bytes

    df = pd.DataFrame({"a": [1]})
    for bad in ([], [("a/b", df)], [("t", df), ("t", df)], [("", df)]):
        with pytest.raises(ValueError, match="sheet"):
            workbook_bytes(bad)


# ------------------------------------------------------------------------------------------------
# Esri file geodatabase
# ------------------------------------------------------------------------------------------------


def _write_gdb(sc: Path, gdb: Path) -> Path:
    """The scenario's layers written into one file geodatabase (GDAL's OpenFileGDB driver), the
    businesses' names under a Persian field name; returns the new scenario, reading the .gdb."""
    data = yaml.safe_load(sc.read_text(encoding="utf-8"))
    for name, spec in data["layers"].items():
        g = gpd.read_file(sc.parent / spec["path"])
        entry: dict[str, object] = {"path": gdb.name, "layer": name}
        if name == "businesses":
            g = g.rename(columns={"name": "نام_واحد"})
            entry["fields"] = {"name": "نام_واحد"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # Integer64 fields are written as Float64
            g.to_file(gdb, layer=name, driver="OpenFileGDB", engine="pyogrio")
        data["layers"][name] = entry
    out = sc.with_name("from_gdb.yaml")
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def test_file_geodatabase_gives_the_same_plan(shp_run):
    import pyogrio

    assert "w" in pyogrio.list_drivers()["OpenFileGDB"]
    sc, shp_out = shp_run
    gdb = sc.parent / "region.gdb"
    sc_gdb = _write_gdb(sc, gdb)
    out = sc.parent.parent / "run_gdb"
    r = CliRunner().invoke(main, ["run", str(sc_gdb), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    # the same plan: every table (CSVs, plan.xlsx) byte for byte. A file geodatabase stores coordinates on
    # its XY grid (1e-9 degree), so a zone cut from an estate may move in the 7th decimal of a degree (1 cm)
    fa, fb = _compared(shp_out), _compared(out)
    assert sorted(fa) == sorted(fb)
    tables = [k for k in fa if k.endswith((".csv", ".xlsx"))]
    assert "relocation.csv" in tables and "plan.xlsx" in tables
    assert [k for k in tables if fa[k] != fb[k]] == []
    for layer in ("estates", "sites", "zones", "flows", "clusters"):
        a, b = gpd.read_file(shp_out / f"{layer}.geojson"), gpd.read_file(out / f"{layer}.geojson")
        # figures rounded in the output (areas to 1 m², distances to 1 cm) may round the other way
        pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")),
                                      check_exact=False, rtol=1e-5, atol=1.01e-4)
        if len(a):
            assert max(x.hausdorff_distance(y) for x, y in zip(a.geometry, b.geometry)) < 1e-6, layer
    rel = pd.read_csv(out / "relocation.csv", encoding="utf-8-sig")
    assert "'" + HOSTILE in set(rel["name"])  # the Persian-named field was mapped; the CSV neutralised the name
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(man["inputs"]["estates"]) == {"region.gdb"}  # the geodatabase hashed as a whole
    # a layer the geodatabase does not hold: named, with the layers it holds
    data = yaml.safe_load(sc_gdb.read_text(encoding="utf-8"))
    data["layers"]["roads"]["layer"] = "roads_2024"
    sc_gdb.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(sc_gdb)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "region.gdb has no layer 'roads_2024'" in r.output and "'estates'" in r.output


# ------------------------------------------------------------------------------------------------
# PostGIS: a throwaway server
# ------------------------------------------------------------------------------------------------


def _pg_bindir() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres), newest version first."""
    found = shutil.which("pg_ctl")
    cands = [Path(found).resolve().parent] if found else []
    cands += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2])
                                      if p.split("/")[-2].isdigit() else 0, reverse=True)]
    for d in cands:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    return None


def _has_postgis(bindir: Path) -> bool:
    try:
        share = subprocess.run([str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        major = bindir.parent.name
        share = f"/usr/share/postgresql/{major}"
    return bool(glob.glob(f"{share}/extension/postgis.control"))


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL + PostGIS server for the session: ``dict(host=SOCKET_DIR, port, user, password,
    dbname)``; password authentication (scram) on its Unix socket only."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install 'siteplan[postgis]'")
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) are not installed; `make test` as root "
                    "installs Debian's postgresql and postgis")
    if not _has_postgis(bindir):
        pytest.skip("the PostGIS extension is not installed; `make test` as root installs Debian's postgis")
    import psycopg

    t0 = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="sp-pg-", dir="/tmp"))  # short: a socket path is at most 107 bytes
    as_user: dict[str, object] = {}
    if os.geteuid() == 0:  # the server refuses to run as root: run it as nobody
        pw = pwd.getpwnam("nobody")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    pwfile = base / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, as_user["user"], as_user["group"])  # type: ignore[arg-type]
    data = base / "data"
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}

    def run(*cmd: str) -> None:
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=base, **as_user)  # type: ignore[arg-type]

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "siteplan", "--pwfile", str(pwfile), "-E", "UTF8",
            "--locale=C", "--auth=scram-sha-256", "--no-sync")
        pwfile.unlink()
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60", "-o",
            f"-k {base} -c listen_addresses='' -p 5432 -c fsync=off -c full_page_writes=off", "start")
    except subprocess.CalledProcessError as exc:
        log = (base / "log").read_text(errors="replace") if (base / "log").is_file() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start a throwaway PostgreSQL: {exc.stderr!r} {log[-2000:]}")
    info = {"host": str(base), "port": 5432, "user": "siteplan", "password": PASSWORD, "dbname": "gis"}
    try:
        with psycopg.connect(host=str(base), port=5432, user="siteplan", password=PASSWORD, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE gis")
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        print(f"\nthrowaway PostgreSQL + PostGIS ready in {time.perf_counter() - t0:.1f} s")
        yield info
    finally:
        t1 = time.perf_counter()
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, env=env, cwd=base, **as_user)  # type: ignore[arg-type]
        shutil.rmtree(base, ignore_errors=True)
        print(f"throwaway PostgreSQL stopped and removed in {time.perf_counter() - t1:.1f} s")


def _url(info: dict, *, password: bool = False) -> str:
    secret = f":{info['password']}" if password else ""
    return f"postgresql://{info['user']}{secret}@/{info['dbname']}?host={info['host']}&port={info['port']}"


def _connect(info: dict):
    import psycopg

    return psycopg.connect(**info, autocommit=True)


def _tables(info: dict, schema: str) -> dict[str, int]:
    """The tables of a schema and their row counts."""
    from psycopg import sql

    with _connect(info) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1",
                                            [schema]).fetchall()]
        return {n: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, n))).fetchone()[0]
                for n in names}


def _no_password_in(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            assert PASSWORD.encode() not in p.read_bytes(), p


def test_postgis_layers_give_the_same_plan(shp_run, pg_server, monkeypatch):
    from siteplan.outputs.postgis import create_table

    sc, shp_out = shp_run
    data = yaml.safe_load(sc.read_text(encoding="utf-8"))
    with _connect(pg_server) as conn:
        conn.execute("DROP SCHEMA IF EXISTS src CASCADE")
        conn.execute("CREATE SCHEMA src")
        for name, spec in data["layers"].items():
            create_table(conn, "src", name, gpd.read_file(sc.parent / spec["path"]))
    url = _url(pg_server)
    for name in data["layers"]:
        data["layers"][name] = {"path": url, "table": f"src.{name}"}
    # one layer as a query, its name under a Persian column name
    data["layers"]["businesses"] = {"path": url, "fields": {"name": "نام"},
                                    "sql": 'SELECT fid, biz_id, name AS "نام", isic, area_m2, employees, town, source, '
                                           "geom FROM src.businesses ORDER BY fid;"}
    sc_pg = sc.with_name("from_postgis.yaml")
    sc_pg.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    out = sc.parent.parent / "run_pg"
    r = CliRunner().invoke(main, ["run", str(sc_pg), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    _assert_same_plan(shp_out, out)
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert list(man["inputs"]["estates"]) == [f"{url} src.estates"]
    assert list(man["inputs"]["businesses"]) == [f"{url} sql"]
    _no_password_in(out)
    # the password comes only from the environment: without it, one clear error per layer, no traceback
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", str(sc.parent / "no-such-pgpass"))
    r = CliRunner().invoke(main, ["validate", str(sc_pg)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "cannot connect to postgresql://siteplan@/gis" in r.output and "PGPASSWORD" in r.output
    # a table that is not there, a query without geometry: each named, all in one validate
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    data["layers"]["rail"]["table"] = "src.no_such_rail"
    data["layers"]["roads"] = {"path": url, "sql": "SELECT fid, road_class FROM src.roads"}
    sc_pg.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(sc_pg)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "layer 'rail'" in r.output and 'relation "src.no_such_rail" does not exist' in r.output
    assert "layer 'roads'" in r.output and "the query has no geometry column" in r.output


def test_postgis_scenario_refuses_a_password_and_bad_keys(shp_run, tmp_path):
    sc, _ = shp_run
    data = yaml.safe_load(sc.read_text(encoding="utf-8"))
    data["layers"]["roads"] = {"path": f"postgresql://planner:{PASSWORD}@db.example/gis", "table": "public.roads"}
    data["layers"]["rail"] = {"path": "postgresql://planner@db.example/gis"}
    data["layers"]["urban"] = {"path": "towns.shp", "table": "public.towns"}
    bad = sc.with_name("bad_pg.yaml")
    bad.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(bad)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert PASSWORD not in r.output
    assert "layers.roads" in r.output and "holds a password" in r.output and "PGPASSWORD" in r.output
    assert "layers.rail" in r.output and "table: (schema.table) or sql:" in r.output
    assert "layers.urban" in r.output and "path must then be its connection URL" in r.output


def test_redact_removes_every_password_form():
    from siteplan.scenario import redact_url, url_problem

    assert redact_url(f"postgresql://u:{PASSWORD}@h:5432/db?sslmode=require") == "postgresql://u@h:5432/db?sslmode=require"
    assert PASSWORD not in redact_url(f"postgres://u@h/db?password={PASSWORD}&host=/tmp/s")
    assert redact_url("postgresql:///?service=gisunit") == "postgresql:///?service=gisunit"
    assert url_problem("postgresql://u@h/db") is None and PASSWORD not in url_problem(f"postgresql://u:{PASSWORD}@h/db")


def test_export_postgis_one_transaction_and_ownership(shp_run, pg_server):
    from siteplan.errors import InputError
    from siteplan.outputs.postgis import MARKER_TABLE, export_postgis
    from siteplan.outputs.writer import gpkg_layers

    _, run = shp_run
    url = _url(pg_server, password=True)  # a password on the command line: used, never shown or stored
    r = CliRunner().invoke(main, ["export", str(run), "--postgis", url, "--schema", "plan"])
    assert r.exit_code == 0, r.output
    assert PASSWORD not in r.output
    first = _tables(pg_server, "plan")
    csvs = sorted(p.stem for p in run.glob("*.csv") if p.stem != "relocation")
    layers = [n for n, _ in gpkg_layers(run)]  # the GeoPackage's layers (relocation points among them)
    assert {"estates", "zones", "relocation"} <= set(layers)
    assert set(first) == {*layers, *(f"{c}_csv" if c in layers else c for c in csvs), MARKER_TABLE}
    assert first["relocation"] == len(pd.read_csv(run / "relocation.csv", encoding="utf-8-sig"))
    assert first["estates"] == len(gpd.read_file(run / "estates.geojson"))
    with _connect(pg_server) as conn:
        marker = dict(conn.execute(f"SELECT key, value FROM plan.{MARKER_TABLE}").fetchall())
        srid, gtype = conn.execute("SELECT Find_SRID('plan', 'estates', 'geom'), GeometryType(geom) "
                                   "FROM plan.estates LIMIT 1").fetchone()
        name = conn.execute("SELECT name FROM plan.relocation WHERE name LIKE '=HYPERLINK%'").fetchone()[0]
    assert srid == 4326 and gtype in ("POLYGON", "MULTIPOLYGON")
    assert name == HOSTILE  # the value the run held, not the CSV's neutralised text
    assert PASSWORD not in json.dumps(marker) and json.loads(marker["tables"])
    # an earlier export is replaced only with --overwrite
    r = CliRunner().invoke(main, ["export", str(run), "--postgis", url, "--schema", "plan"])
    assert r.exit_code == 1 and "--overwrite" in r.output and PASSWORD not in r.output
    # a failure half-way (after 3 tables) leaves the schema as it was: the transaction is rolled back
    with pytest.raises(RuntimeError, match="test fault"):
        export_postgis(run, url, "plan", overwrite=True, _fail_after=3)
    assert _tables(pg_server, "plan") == first
    r = CliRunner().invoke(main, ["export", str(run), "--postgis", url, "--schema", "plan", "--overwrite"])
    assert r.exit_code == 0, r.output
    assert _tables(pg_server, "plan") == first
    # a schema siteplan did not write, or one where the office added a view, is refused and untouched
    with _connect(pg_server) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS office")
        conn.execute("CREATE TABLE IF NOT EXISTS office.budget (y int)")
        conn.execute("CREATE VIEW plan.my_view AS SELECT estate_id FROM plan.estates")
    for schema, why in (("office", "siteplan did not write it"), ("plan", "objects siteplan did not write: view my_view")):
        before = _tables(pg_server, schema)
        with pytest.raises(InputError, match=why) as err:
            export_postgis(run, url, schema, overwrite=True)
        assert PASSWORD not in str(err.value)
        assert _tables(pg_server, schema) == before
    # a wrong password: a clear error, the password not echoed
    r = CliRunner().invoke(main, ["export", str(run), "--postgis", url.replace(PASSWORD, PASSWORD + "x"),
                                  "--schema", "plan2"])
    assert r.exit_code == 1 and "cannot connect" in r.output and PASSWORD not in r.output
    # a database without PostGIS: said, nothing made
    with _connect(pg_server) as conn:
        conn.execute("CREATE DATABASE plain")
    plain = url.replace("/gis?", "/plain?")
    r = CliRunner().invoke(main, ["export", str(run), "--postgis", plain, "--schema", "plan"])
    assert r.exit_code == 1 and "has no PostGIS" in r.output and PASSWORD not in r.output
    assert _tables({**pg_server, "dbname": "plain"}, "plan") == {}
    _no_password_in(run)
