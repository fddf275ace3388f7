"""CSV injection (OWASP): every CSV siteplan writes shows formula-like text as text."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import edit_yaml, small_scenario

from siteplan.cli import main
from siteplan.outputs.writer import neutralise_formulas, safe_csv, write_csv

HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+1", "-1+2", "\tx", "\rx", "=1+1;2", '-2+3,"a"',
           # spreadsheets that trim or fold may still see a formula behind these
           " =x", "\u00a0=5", "\ufeff=1+1", "\u200b@x", "\n=4+4", "＝1+1", "＋2"]
PLAIN = ["تعمیرگاه خودرو", "صافکاری «نمونه»", "plain name", "a=b", "1-2", " plain", "٢-١"]


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _read_file(path) -> list[list[str]]:
    return _read(path.read_bytes().decode("utf-8-sig"))  # BOM dropped; no newline translation: a CR stays a CR


def test_formula_cells_are_prefixed_and_round_trip(tmp_path):
    df = pd.DataFrame({"name": HOSTILE + PLAIN, "x": np.linspace(-3.5, 3.5, len(HOSTILE + PLAIN))})
    path = tmp_path / "t.csv"
    write_csv(df, path)
    rows = _read_file(path)
    assert rows[0] == ["name", "x"]
    body = rows[1:]
    assert len(body) == len(df)  # a CR inside a cell does not start a new row
    names = [r[0] for r in body]
    assert names[: len(HOSTILE)] == ["'" + s for s in HOSTILE]
    assert names[len(HOSTILE):] == PLAIN  # Persian and harmless text untouched
    # numbers stay numbers: the negative floats are written as they are, unprefixed
    assert [float(r[1]) for r in body] == pytest.approx(df["x"].tolist())
    assert body[0][1] == "-3.5"


def test_numeric_columns_untouched_but_text_minus_is_neutralised():
    df = pd.DataFrame({"f": [-3.5, -1.0], "i": [-3, 4], "s": ["-3", "4"], "o": [None, "@x"],
                       "c": pd.Categorical(["=a", "b"])})
    out = neutralise_formulas(df)
    assert out["f"].tolist() == [-3.5, -1.0] and out["f"].dtype == np.float64
    assert out["i"].tolist() == [-3, 4] and pd.api.types.is_integer_dtype(out["i"].dtype)
    assert out["s"].tolist() == ["'-3", "4"]
    assert pd.isna(out["o"].iloc[0]) and out["o"].iloc[1] == "'@x"
    assert out["c"].tolist() == ["'=a", "b"]
    assert df["s"].tolist() == ["-3", "4"]  # the input frame is not modified
    text = safe_csv(df)
    assert text.splitlines()[1] == "-3.5,-3,'-3,,'=a"


def test_header_names_are_neutralised_too():
    text = safe_csv(pd.DataFrame({"=cmd": ["a"], "ok": [1]}))
    assert _read(text)[0] == ["'=cmd", "ok"]


def test_no_cr_means_lf_line_ends():
    text = safe_csv(pd.DataFrame({"name": ["a", "=b"]}))
    assert "\r" not in text and text == "name\na\n'=b\n"


def test_relocation_csv_of_a_run_is_neutralised(tmp_path):
    sc = small_scenario(tmp_path, n_biz=40)
    biz = gpd.read_file(sc.parent / "businesses.shp")
    names = ['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+1", "-1+2", "\tx", "\rx"]
    for i, n in enumerate(names):
        biz.loc[i, "name"] = n
    biz.loc[len(names), "biz_id"] = "=2+5"
    biz.to_file(sc.parent / "businesses.shp", encoding="UTF-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    rows = _read_file(out / "relocation.csv")
    head, body = rows[0], rows[1:]
    assert len(body) == len(biz)
    got = {r[head.index("name")] for r in body}
    for n in names[:4]:
        assert "'" + n in got and n not in got
    assert not {"\tx", "\rx"} & got and {"'\tx", "'\rx"} <= got  # names kept as written, neutralised
    assert "'=2+5" in {r[head.index("biz_id")] for r in body}
    # numeric columns are plain numbers; no cell of any CSV starts with a formula character
    lon = [float(r[head.index("lon")]) for r in body]
    assert all(40 < v < 60 for v in lon)
    for f in ("relocation.csv", "estate_summary.csv"):
        for row in _read_file(out / f):
            for cell in row:
                if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _is_number(cell)):
                    raise AssertionError(f"{f}: unneutralised cell {cell!r}")


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def test_catalogue_csv_is_neutralised(tmp_path):
    sc = small_scenario(tmp_path)

    def add(d):
        d.setdefault("catalogue", {})["add"] = [{"code": "evil", "name_en": "=1+1", "name_fa": "@x",
                                                 "env_cat": "2", "land_m2": 300}]
    edit_yaml(sc, add)
    r = CliRunner().invoke(main, ["catalogue", "--format", "csv", "--scenario", str(sc)])
    assert r.exit_code == 0, r.output
    rows = _read(r.output)
    head = rows[0]
    evil = next(row for row in rows if row[0] == "evil")
    assert evil[head.index("name_en")] == "'=1+1" and evil[head.index("name_fa")] == "'@x"
    assert evil[head.index("land_m2")] == "300.0"
    assert any(row[head.index("name_fa")] == "تعمیرگاه خودرو" for row in rows)
