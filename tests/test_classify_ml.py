"""Keyword lists you can read and extend, and the learned fallback for names the keywords miss."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from siteplan.classify_ml import DEFAULT_MIN_CONFIDENCE, OTHER, REVIEW_COLUMNS, apply_fallback, review_table, train
from siteplan.errors import InputError
from siteplan.guilds import classify, load_catalogue

HELDOUT = ROOT / "tests" / "data" / "registry_heldout.csv"
HELDOUT2 = ROOT / "tests" / "data" / "registry_heldout2.csv"
HELDOUT3 = ROOT / "tests" / "data" / "registry_heldout3.csv"


def _rules_then_model(reg: pd.DataFrame, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> pd.DataFrame:
    cat = load_catalogue()
    seen = reg[[c for c in ("biz_id", "name", "isic") if c in reg]].replace({"": None})
    return apply_fallback(classify(seen, cat), cat, min_confidence)


def test_guild_union_names_are_classified():
    cat = load_catalogue()
    names = {"صنایع فلزی حسینی": "metalwork", "صنايع چوب البرز": "carpentry", "سنگ ساختمانی نمونه": "stone_cutting",
             "درب و پنجره سازی رضا": "metalwork", "بنکداری برادران": "wholesale_food",
             "لاستیک فروشی مهران": "car_parts", "آهن آلات نوین": "wholesale_building"}
    out = classify(pd.DataFrame({"name": list(names)}), cat)
    assert list(out.category) == list(names.values())


def test_short_keywords_match_whole_words_only():
    cat = load_catalogue()
    out = classify(pd.DataFrame({"name": ["نانوایی سنگکی", "گالری نگین", "سنگ فروشی علی"]}), cat)
    assert out.category.iat[0] is None  # «سنگ» is not in «سنگک»
    assert out.category.iat[1] is None  # «رینگ» is not in «گالری نگین»
    assert out.category.iat[2] == "stone_cutting"


def test_keywords_of_two_categories_are_not_decided_by_length():
    out = classify(pd.DataFrame({"name": ["ضایعات مس و آلومینیوم", "سنگتراشی اکبر"]}), load_catalogue())
    assert out.category.iat[0] is None
    assert "keywords of several categories in the name (metalwork, scrap)" in out.class_note.iat[0]
    assert out.category.iat[1] == "stone_cutting"  # «تراش» inside «سنگتراشی» does not count


def test_overrides_add_or_replace_keywords():
    base = load_catalogue().row("carpentry")["keywords_fa"]
    added = load_catalogue(overrides={"carpentry": {"keywords_fa_add": ["تخته سازی", "نجاری"]}})
    kw = added.row("carpentry")["keywords_fa"]
    assert kw[: len(base)] == base and kw[-1] == "تخته سازی" and kw.count("نجاری") == 1
    assert classify(pd.DataFrame({"name": ["تخته سازی ساری"]}), added).category.iat[0] == "carpentry"
    replaced = load_catalogue(overrides={"carpentry": {"keywords_fa": ["تخته سازی"]}})
    assert replaced.row("carpentry")["keywords_fa"] == ["تخته سازی"]
    with pytest.raises(InputError, match="keywords_fa_add / keywords_en_add add"):
        load_catalogue(overrides={"carpentry": {"keywords": ["x"]}})


def test_catalogue_command_shows_keywords(tmp_path):
    from click.testing import CliRunner

    from siteplan.cli import main

    r = CliRunner().invoke(main, ["catalogue", "--keywords"])
    assert r.exit_code == 0, r.output
    assert "صنایع فلزی" in r.output and "keywords_fa" in r.output and "generic_fa" in r.output
    r = CliRunner().invoke(main, ["catalogue", "--format", "json"])
    rows = {x["code"]: x for x in json.loads(r.output)}
    assert "صنایع چوب" in rows["carpentry"]["keywords_fa"].split(";")
    assert rows["carpentry"]["keywords_status"] == "assumption"


def test_model_is_deterministic_and_gives_probabilities():
    cat = load_catalogue()
    names = ["جوشکری رضا", "کاروش مهتاب", "نجارى يوسف", "نانوایی سنگک", ""]
    a = train(cat).predict(names)
    b = train(cat).predict(names)
    pd.testing.assert_frame_equal(a, b)
    assert ((a.p1 >= a.p2) & (a.p1 <= 1) & (a.p2 >= 0)).all()
    assert a.best1.iat[0] == "metalwork" and a.best1.iat[2] == "carpentry"
    assert a.best1.iat[3] == OTHER  # a bakery is not stone cutting
    assert pd.isna(a.best1.iat[4]) and a.p1.iat[4] == 0


def test_registry_rows_classified_by_rules_teach_the_model():
    cat = load_catalogue()
    reg = pd.DataFrame({"name": ["زرگری الف", "زرگری ب", "زرگری ج", "کارگاه زرگری د"],
                        "isic": ["2599", "2599", "2599", None]})
    out = apply_fallback(classify(reg, cat), cat, 0.3)
    assert out.class_by.iat[3] == "model" and out.category.iat[3] == "metalwork"


def test_review_table_lists_what_is_not_guessed():
    cat = load_catalogue()
    reg = pd.DataFrame({"biz_id": [1, 2, 3], "name": ["مکانیکی علی", "شرکت آریا", None]})
    out = apply_fallback(classify(reg, cat), cat, 0.99)
    rv = review_table(out)
    assert tuple(rv.columns) == REVIEW_COLUMNS
    assert set(rv.biz_id) == {2, 3}
    row = rv[rv.biz_id == 2].iloc[0]
    assert row.best1 and row.best2 and 0 <= row.p2 <= row.p1 < 0.99 and "review.csv" in row.reason


@pytest.mark.parametrize("path, least_right, most_wrong", [
    # written by us, then used to improve the keyword lists: a development set now
    (HELDOUT, 0.97, 0.01),
    # written by another hand without seeing the keyword lists, then used to find the classifier's
    # systematic gaps (generic words, wholesale words, trades outside the catalogue): development too.
    # Six of its 13 wrong rows are hypermarkets it labels chain_store where the catalogue says large_store.
    (HELDOUT2, 0.93, 0.035),
    # written by a third hand, never used for tuning: the honest figure (measured 88.2 % right, 4.0 % wrong,
    # 14.5 % to review incl. the 7 % of trades outside the catalogue). Short of the goal (≥ 97 %, ≤ 1 %).
    (HELDOUT3, 0.87, 0.045),
])
def test_registry_accuracy(path, least_right, most_wrong):
    """Registries with a true_category the classifier never sees (benchmarks/bench_classify.py prints the
    figures; the figure on a registry never used for tuning is in the issue note)."""
    reg = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert len(reg) >= 300
    out = _rules_then_model(reg)
    got = out.category.fillna("").to_numpy()
    right = got == reg.true_category.to_numpy()
    wrong = (got != "") & ~right
    print(f"{path.name}: right {right.mean():.1%}, wrong {wrong.mean():.1%}, review {np.mean(got == ''):.1%}")
    assert right.mean() >= least_right
    assert wrong.mean() <= most_wrong
    assert (out.class_by == "model").sum() >= 20


def test_hundred_thousand_names_in_seconds():
    reg = pd.read_csv(HELDOUT, dtype=str, keep_default_na=False)
    names = np.resize(reg.name.to_numpy(), 100_000)
    df = pd.DataFrame({"name": [f"{n} {i % 50}" for i, n in enumerate(names)]})
    cat = load_catalogue()
    t0 = time.perf_counter()
    out = apply_fallback(classify(df, cat), cat)
    dt = time.perf_counter() - t0
    print(f"100k names: {dt:.1f} s", file=sys.stderr)
    assert out.category.notna().mean() > 0.9
    assert dt < 60


def test_run_writes_review_csv_and_labels_feed_back(tmp_path):
    import geopandas as gpd
    from click.testing import CliRunner
    from conftest import small_scenario

    from siteplan.cli import main

    sc = small_scenario(tmp_path, n_biz=40)
    shp = sc.parent / "businesses.shp"
    g = gpd.read_file(shp)
    from siteplan._io import write_shapefile

    g["name"] = g["name"].astype(object)
    g.loc[g.index[:2], "name"] = ["کارگاه برادران صادقی", "جوشکری رضا"]
    for c in ("category", "isic", "osm_tag"):
        if c in g:
            g.loc[g.index[:2], c] = None
    write_shapefile(g, shp)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    rv = pd.read_csv(out / "review.csv", dtype=str, keep_default_na=False)
    assert tuple(rv.columns) == REVIEW_COLUMNS
    first = str(g["biz_id"].iat[0])
    assert first in set(rv.biz_id)  # «کارگاه برادران صادقی» says no trade: not guessed
    # the officer labels it and runs again
    g["category"] = None
    g.loc[g.index[0], "category"] = "metalwork"
    write_shapefile(g, shp)
    out2 = tmp_path / "out2"
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(out2), "--quiet"])
    assert r.exit_code == 0, r.output
    rv2 = pd.read_csv(out2 / "review.csv", dtype=str, keep_default_na=False)
    assert first not in set(rv2.biz_id)
    rel = pd.read_csv(out2 / "relocation.csv", dtype=str, keep_default_na=False)
    assert rel.loc[rel.biz_id == first, "category"].iat[0] == "metalwork"
