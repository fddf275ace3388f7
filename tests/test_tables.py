"""Point layers from tables (CSV, XLSX, ODS), field names matched after Persian normalisation, and
``source`` from a user field or the scenario."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.cli import main
from siteplan.errors import InputError, ScenarioError
from siteplan.inputs.region import load_region, read_layer
from siteplan.scenario import load_scenario

FA = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")
# Persian headers for the registry's columns
HEAD = {"biz_id": "شناسه", "name": "نام واحد", "isic": "کد آیسیک", "area_m2": "مساحت",
        "employees": "تعداد کارکنان", "source": "منبع"}


def _registry(small: Path) -> pd.DataFrame:
    """The small scenario's businesses as a table with Persian headers and lon/lat columns."""
    g = gpd.read_file(small.parent / "businesses.shp")
    df = pd.DataFrame({HEAD[c]: g[c] for c in HEAD if c in g.columns})
    df["طول جغرافیایی"] = g.geometry.x.round(6)
    df["عرض جغرافیایی"] = g.geometry.y.round(6)
    return df


def _use_table(small: Path, name: str, cols=("biz_id", "name", "isic", "area_m2", "employees"), **spec) -> None:
    data = yaml.safe_load(small.read_text(encoding="utf-8"))
    fields = {c: HEAD[c] for c in cols}
    data["layers"]["businesses"] = {"path": name, "fields": fields, **spec}
    small.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _check_cli(small: Path, tmp_path: Path, n: int) -> None:
    r = CliRunner().invoke(main, ["validate", str(small)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(small), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["counts"]["businesses"] == n and m["counts"]["assigned"] > 0


def test_csv_registry_with_persian_headers_runs_end_to_end(tmp_path):
    small = small_scenario(tmp_path, n_biz=40)
    df = _registry(small)
    df.to_csv(small.parent / "registry.csv", index=False, encoding="utf-8-sig")
    _use_table(small, "registry.csv", lon="طول جغرافیایی", lat="عرض جغرافیایی")
    _check_cli(small, tmp_path, len(df))


def test_xlsx_registry_with_sheet_and_persian_digits_runs_end_to_end(tmp_path):
    small = small_scenario(tmp_path, n_biz=40)
    df = _registry(small)
    # coordinates as text in Persian digits with the Arabic decimal separator
    for c in ("طول جغرافیایی", "عرض جغرافیایی"):
        df[c] = df[c].map(lambda v: f"{v:.6f}".translate(FA))
    with pd.ExcelWriter(small.parent / "registry.xlsx", engine="openpyxl") as xw:
        pd.DataFrame({"توضیح": ["برگه اول خالی است"]}).to_excel(xw, sheet_name="راهنما", index=False)
        df.to_excel(xw, sheet_name="واحدها", index=False)
    # the sheet named with Arabic ي/ك variants still matches; columns named with underscores for spaces
    _use_table(small, "registry.xlsx", sheet="واحدها", lon="طول_جغرافيايي", lat="عرض_جغرافيايي")
    _check_cli(small, tmp_path, len(df))
    sc = load_scenario(small)
    gdf, _, _ = read_layer("businesses", sc.layers["businesses"], sc)
    g0 = gpd.read_file(small.parent / "businesses.shp")
    assert abs(gdf.geometry.x.iloc[0] - g0.geometry.x.iloc[0]) < 1e-5


@pytest.mark.skipif(importlib.util.find_spec("odf") is None, reason="odfpy is not installed")
def test_ods_registry(tmp_path):
    small = small_scenario(tmp_path, n_biz=20)
    df = _registry(small)
    df.to_excel(small.parent / "registry.ods", index=False, engine="odf")
    _use_table(small, "registry.ods", lon="طول جغرافیایی", lat="عرض جغرافیایی")
    sc = load_scenario(small)
    gdf, _, ex = read_layer("businesses", sc.layers["businesses"], sc)
    assert len(gdf) == len(df) and len(ex) == 0 and gdf.crs.to_epsg() == 4326


def test_wkt_column_and_xy_in_utm(tmp_path):
    small = small_scenario(tmp_path, n_biz=20)
    g = gpd.read_file(small.parent / "businesses.shp").to_crs(32639)
    df = pd.DataFrame({"شناسه": g["biz_id"], "نام واحد": g["name"], "هندسه": g.geometry.to_wkt()})
    df.to_csv(small.parent / "wkt.csv", index=False)
    _use_table(small, "wkt.csv", ("biz_id", "name"), wkt="هندسه", crs="EPSG:32639")
    sc = load_scenario(small)
    gdf, _, ex = read_layer("businesses", sc.layers["businesses"], sc)
    assert len(gdf) == len(g) and gdf.crs.to_epsg() == 32639
    df = pd.DataFrame({"شناسه": g["biz_id"], "نام واحد": g["name"], "X": g.geometry.x, "Y": g.geometry.y})
    df.to_csv(small.parent / "xy.csv", index=False)
    _use_table(small, "xy.csv", ("biz_id", "name"), x="x", y="y", crs="EPSG:32639")
    sc = load_scenario(small)
    region = load_region(sc)
    assert len(region.layers["businesses"]) == len(g)
    _use_table(small, "xy.csv", ("biz_id", "name"), x="x", y="y")
    with pytest.raises(InputError, match="x/y columns carry no coordinate reference system.*layers.businesses.crs"):
        load_region(load_scenario(small))


def test_rows_without_usable_coordinates_are_listed_with_row_numbers(tmp_path):
    small = small_scenario(tmp_path, n_biz=20)
    df = _registry(small).astype({"طول جغرافیایی": object, "عرض جغرافیایی": object})
    df.loc[2, "طول جغرافیایی"] = None                 # empty
    df.loc[5, "عرض جغرافیایی"] = "نامعلوم"            # text
    df.loc[7, "طول جغرافیایی"] = "51٫6x"              # broken number
    ids = [str(df.loc[i, "شناسه"]) for i in (2, 5, 7)]
    (small.parent / "registry.csv").write_text(df.to_csv(index=False), encoding="utf-8")
    _use_table(small, "registry.csv", lon="طول جغرافیایی", lat="عرض جغرافیایی")
    with pytest.warns(Warning):
        region = load_region(load_scenario(small))
    ex = region.excluded
    assert list(ex["row"]) == [4, 7, 9]  # as the spreadsheet numbers them: the header is row 1
    assert list(ex["id"]) == ids
    assert "is empty" in ex["reason"].iloc[0] and "'نامعلوم'" in ex["reason"].iloc[1]
    assert len(region.layers["businesses"]) == len(df) - 3
    assert any("row 4" in w.message for w in region.warnings)
    r = CliRunner().invoke(main, ["validate", str(small)])
    assert r.exit_code == 0 and "row 4" in r.output, r.output


def test_cp1256_csv_falls_back_with_a_warning(tmp_path):
    small = small_scenario(tmp_path, n_biz=10)
    df = _registry(small)
    (small.parent / "registry.csv").write_bytes(df.to_csv(index=False).replace("ی", "ي").encode("cp1256"))
    _use_table(small, "registry.csv", lon="طول جغرافیایی", lat="عرض جغرافیایی")
    sc = load_scenario(small)
    gdf, warns, _ = read_layer("businesses", sc.layers["businesses"], sc)
    assert len(gdf) == len(df) and any("cp1256" in w.message for w in warns)


def test_table_problems_are_named(tmp_path):
    small = small_scenario(tmp_path, n_biz=10)
    _registry(small).to_csv(small.parent / "registry.csv", index=False)
    _use_table(small, "registry.csv", lon="طول", lat="عرض جغرافیایی")
    with pytest.raises(InputError, match="lon: the table has no column 'طول'.*طول جغرافیایی") as err:
        read_layer("businesses", *(lambda s: (s.layers["businesses"], s))(load_scenario(small)))
    assert "_table_row" not in str(err.value)
    for bad, msg in (({"x": "a"}, "x: and y: go together"), ({"lon": "a", "lat": "b", "wkt": "c"}, "not both"),
                     ({"x": "a", "y": "b", "lat": "c", "lon": "d"}, "not a mix"), ({"lonn": "a"}, "did you mean 'lon'")):
        _use_table(small, "registry.csv", **bad)
        with pytest.raises(ScenarioError, match=msg):
            load_scenario(small)
    _use_table(small, "registry.csv", zzz="a")
    with pytest.raises(ScenarioError, match="known keys here: path, layer, fields, .*lon, lat, wkt, sheet, source"):
        load_scenario(small)
    df = _registry(small)
    df["geometry"] = "نقطه"  # a text column that happens to be called geometry
    df.to_csv(small.parent / "geom.csv", index=False)
    _use_table(small, "geom.csv", lon="طول جغرافیایی", lat="عرض جغرافیایی")
    sc = load_scenario(small)
    gdf, _, ex = read_layer("businesses", sc.layers["businesses"], sc)
    assert len(ex) == 0 and gdf.geometry.geom_type.eq("Point").all() and (gdf["geometry_text"] == "نقطه").all()
    _use_table(small, "registry.csv", fields={"lon": "طول جغرافیایی"})
    with pytest.raises(InputError, match="named on the layer itself"):
        load_region(load_scenario(small))


def test_cp1256_dbf_field_names_match_persian_scenario(tmp_path):
    """A DBF written in cp1256 with Arabic ي/ك in its field names, mapped from a scenario in Persian ی/ک."""
    small = small_scenario(tmp_path, n_biz=10)
    est = gpd.read_file(small.parent / "estates.shp")
    arabic = {"estate_id": "شناسه", "name": "نام_شهرك", "vacant_ha": "زمين_خالي", "gross_ha": "مساحت كل"}
    est = est.rename(columns=arabic)
    for c in est.columns:  # text as a cp1256 file holds it: Arabic ي/ك, nothing cp1256 cannot encode
        if est[c].dtype != "geometry" and (est[c].dtype == object or str(est[c].dtype).startswith("str")):
            est[c] = est[c].map(lambda v: v if not isinstance(v, str) else
                                v.translate(str.maketrans("یک", "يك")).encode("cp1256", "ignore").decode("cp1256"))
    (small.parent / "estates.shp").unlink()
    est.to_file(small.parent / "estates.shp", engine="pyogrio", encoding="cp1256")
    (small.parent / "estates.cpg").write_text("1256")
    assert "زمين_خالي" in gpd.read_file(small.parent / "estates.shp", engine="pyogrio").columns
    data = yaml.safe_load(small.read_text(encoding="utf-8"))
    data["layers"]["estates"]["fields"] = {"estate_id": "شناسه", "name": "نام شهرک", "vacant_ha": "زمین_خالی",
                                           "gross_ha": "مساحت\u200cکل"}
    small.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    sc = load_scenario(small)
    gdf, _, _ = read_layer("estates", sc.layers["estates"], sc)
    assert {"estate_id", "name", "vacant_ha", "gross_ha"} <= set(gdf.columns)
    assert gdf["vacant_ha"].notna().all()
    r = CliRunner().invoke(main, ["validate", str(small)])
    assert r.exit_code == 0, r.output


def test_source_from_a_field_or_the_scenario(tmp_path):
    small = small_scenario(tmp_path, n_biz=20)
    df = _registry(small)
    df["منبع"] = ["اتاق اصناف قزوین"] * (len(df) - 1) + [None]
    df.to_csv(small.parent / "registry.csv", index=False)
    data = yaml.safe_load(small.read_text(encoding="utf-8"))
    data["layers"]["estates"]["source"] = "شرکت شهرک‌های صنعتی استان"
    small.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _use_table(small, "registry.csv", lon="طول جغرافیایی", lat="عرض جغرافیایی", source="registry 1404")
    edit = yaml.safe_load(small.read_text(encoding="utf-8"))
    edit["layers"]["businesses"]["fields"]["source"] = "منبع"
    small.write_text(yaml.safe_dump(edit, allow_unicode=True, sort_keys=False), encoding="utf-8")
    sc = load_scenario(small)
    region = load_region(sc)
    b = region.layers["businesses"]["source"]
    assert (b == "اتاق اصناف قزوین").sum() == len(df) - 1 and b.iloc[-1] == "registry 1404"
    assert set(region.layers["estates"]["source"]) == {"شرکت شهرک‌های صنعتی استان"}
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(small), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "اتاق اصناف قزوین" in html and "شرکت شهرک‌های صنعتی استان" in html


def test_old_excel_and_sheet_on_csv(tmp_path):
    small = small_scenario(tmp_path, n_biz=10)
    _registry(small).to_csv(small.parent / "registry.csv", index=False)
    (small.parent / "registry.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    _use_table(small, "registry.xls")
    with pytest.raises(InputError, match=r"old Excel \(.xls\).*save it as .xlsx"):
        load_region(load_scenario(small))
    _use_table(small, "registry.csv", lon="طول جغرافیایی", lat="عرض جغرافیایی", sheet="x")
    sc = load_scenario(small)
    _, warns, _ = read_layer("businesses", sc.layers["businesses"], sc)
    assert any("sheet: ignored" in w.message for w in warns)
