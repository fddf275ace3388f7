"""Vocabularies: the user's values mapped to canonical ones (built-in Persian synonyms and the
scenario's ``values:``), unknown values, filter typos and unknown category codes refused by
`validate` and `run` — all in one call."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import edit_yaml, small_scenario

from siteplan.common.atomic import write_shapefile
from siteplan.common.notice import messages
from siteplan.checks import validate_scenario
from siteplan.cli import main
from siteplan.errors import ScenarioError
from siteplan.pipeline import run
from siteplan.inputs.region import load_region
from siteplan.scenario import load_scenario
from siteplan.common.vocab import VOCABULARIES, map_values, nearest, value_table

# the Qazvin officer's words (cp1256 data carries the Arabic ي and ك)
ESTATE_FA = {"estate": "شهرك صنعتي", "zone": "ناحيه صنعتی", "guild_est": "شهرک\u200cصنفی", "workshop": "کارگاه"}
TOWN_FA = {"city": "شهر", "town": "شهرک", "village": "روستا"}


def _rewrite(sc: Path, layer: str, field: str, fn) -> gpd.GeoDataFrame:
    path = sc.parent / f"{layer}.shp"
    g = gpd.read_file(path)
    g[field] = [fn(v) for v in g[field]]
    write_shapefile(g, path)
    return g


def _problems(sc: Path) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        validate_scenario(sc)
    return err.value.problems


def test_persian_kinds_work_without_a_mapping(tmp_path):
    sc = small_scenario(tmp_path, n_biz=30)
    _rewrite(sc, "estates", "kind", ESTATE_FA.get)
    _rewrite(sc, "urban", "kind", TOWN_FA.get)
    validate_scenario(sc)
    region = load_region(load_scenario(sc))
    assert set(region.layers["estates"]["kind"]) <= set(VOCABULARIES["estates", "kind"])
    assert set(region.layers["urban"]["kind"]) == {"city", "town", "village"}
    res = run(load_scenario(sc))
    assert (res.plan.rows.status == "assigned").sum() > 0


def test_scenario_mapping_overrides_and_extends(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    # the officer's own words, and a built-in word (شهرک) given another meaning
    own = {"estate": "پارک فناوری", "zone": "ناحیه صنعتی", "guild_est": "مجتمع تولیدی", "workshop": "کارگاه"}
    _rewrite(sc, "estates", "kind", own.get)
    _rewrite(sc, "urban", "kind", {"city": "شهر", "town": "شهرک", "village": "ده"}.get)
    edit_yaml(sc, lambda d: d["layers"]["estates"].update(
        values={"kind": {"پارك فناوري": "estate", "مجتمع‌تولیدی": "guild_est"}}))
    edit_yaml(sc, lambda d: d["layers"]["urban"].update(values={"kind": {"شهرک": "city"}}))
    region = validate_scenario(sc).region
    est = region.layers["estates"]
    assert set(est["kind"]) == set(VOCABULARIES["estates", "kind"])
    assert set(region.layers["urban"]["kind"]) == {"city", "village"}


def test_unknown_values_reported_with_counts_and_suggestion(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    g = _rewrite(sc, "urban", "kind", lambda v: "twn" if v == "town" else v)
    n_town = int((g["kind"] == "twn").sum())
    _rewrite(sc, "estates", "kind", lambda v: "شهرک صنعتیی" if v == "estate" else v)
    probs = _problems(sc)
    urban = next(p for p in probs if p.startswith("layers.urban"))
    assert "'twn' (%d rows; nearest known value: 'town')" % n_town in urban
    assert "layers.urban.values.kind" in urban
    est = next(p for p in probs if p.startswith("layers.estates"))
    assert "'شهرک صنعتیی'" in est and "= estate" in est


def test_roads_are_open_unknown_class_is_other_with_a_warning(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    _rewrite(sc, "roads", "road_class", lambda v: "جاده خاکی" if v == "other" else v)
    rep = validate_scenario(sc)
    assert "other" in set(rep.region.layers["roads"]["road_class"])
    assert any("'جاده خاکی'" in w and "taken as 'other'" in w for w in messages(rep.warnings))


@pytest.mark.parametrize("criterion, field, typo, fix", [(0, "road_class", "primery", "primary"),
                                                          (1, "kind", "twon", "town")])
def test_filter_typo_refused_with_suggestion(tmp_path, criterion, field, typo, fix):
    sc = small_scenario(tmp_path, n_biz=10)

    def typo_in(d):
        flt = d["criteria"][criterion]["filter"]
        flt[field] = [typo if v == fix else v for v in flt[field]]
    edit_yaml(sc, typo_in)
    r = CliRunner().invoke(main, ["validate", str(sc)])
    assert r.exit_code != 0
    assert f"'{typo}' matches no feature" in r.output and f"did you mean '{fix}'?" in r.output


def test_filter_in_persian_is_read_as_the_canonical_value(tmp_path, caplog):
    sc = small_scenario(tmp_path, n_biz=10)
    edit_yaml(sc, lambda d: d["criteria"][1].update(filter={"kind": ["شهر", "town"]}))
    edit_yaml(sc, lambda d: d["layers"]["roads"].update(values={"road_class": {"بزرگراه": "motorway"}}))
    edit_yaml(sc, lambda d: d["criteria"][0].update(filter={"road_class": ["بزرگراه", "trunk", "primary"]}))
    with caplog.at_level("INFO", logger="siteplan.scenario"):
        rep = validate_scenario(sc)
    assert rep.region is not None
    sc_obj = load_scenario(sc)
    assert sc_obj.criteria[1].filter == {"kind": ["city", "town"]}
    assert sc_obj.criteria[0].filter == {"road_class": ["motorway", "trunk", "primary"]}
    assert "filter kind: 'شهر' read as 'city'" in caplog.text


def test_colliding_mapping_keys_refused(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    edit_yaml(sc, lambda d: d["layers"]["urban"].update(values={"kind": {"شهرك": "town", "شهرک": "city"}}))
    probs = _problems(sc)
    assert any("layers.urban.values.kind" in p and "are the same word" in p for p in probs)


def test_filter_selecting_nothing_refused(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    edit_yaml(sc, lambda d: d["criteria"][0].update(filter={"road_class": ["motorway"], "name": ["nowhere"]}))
    probs = _problems(sc)
    assert any("selects no feature" in p for p in probs)


def test_unknown_category_code_in_criteria_refused(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    edit_yaml(sc, lambda d: d["criteria"][1].update(categories=["carpentri", "metalwork"]))
    probs = _problems(sc)
    assert any("categories[0]: 'carpentri' is not a catalogue category; did you mean 'carpentry'?" in p
               for p in probs)


def test_bad_mapping_target_and_field(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    edit_yaml(sc, lambda d: d["layers"]["estates"].update(values={"kind": {"شهرک صنعتی": "estat"},
                                                                  "knd": {"x": "estate"}}))
    edit_yaml(sc, lambda d: d["layers"]["businesses"].update(values={"category": {"نجاری": "carpentri"}}))
    probs = _problems(sc)
    assert any("'نجاری' maps to 'carpentri', which is not a catalogue category; did you mean 'carpentry'?" in p
               for p in probs)
    assert any("'شهرک صنعتی' maps to 'estat'" in p and "did you mean 'estate'?" in p for p in probs)
    assert any("layers.estates.values.knd" in p and "did you mean 'kind'?" in p for p in probs)


def test_several_problems_in_one_validate_call(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    _rewrite(sc, "urban", "kind", lambda v: "twn" if v == "town" else v)
    _rewrite(sc, "plots", "status", lambda v: "vacnt" if v == "vacant" else v)

    def many(d):
        d["criteria"][0]["filter"] = {"road_class": ["primery", "trunk"]}
        d["criteria"][1]["categories"] = ["carpentri"]
        d["categories"] = ["metalwork", "scarp"]
        d["allocation"] = {"accepted_kinds": ["estate", "zon"]}
    edit_yaml(sc, many)
    text = "\n".join(_problems(sc))
    for want in ("layers.urban: field 'kind'", "'twn'", "layers.plots: field 'status'", "'vacnt'",
                 "'primery' matches no feature", "'carpentri' is not a catalogue category",
                 "categories[1]: 'scarp' is not a catalogue category (known: ", "; did you mean 'scrap'?",
                 "accepted_kinds[1]: 'zon'"):
        assert want in text, want
    r = CliRunner().invoke(main, ["run", str(sc), "--out", str(tmp_path / "out")])
    assert r.exit_code != 0 and "'twn'" in r.output and "'primery'" in r.output


def test_matching_folds_persian_variants():
    table = value_table("estates", "kind")
    for v in ("شهرك صنعتي", "شهرک‌صنعتی", "شهرک_صنعتی", " شهرک  صنعتی "):
        assert table.get(__import__("siteplan.common.vocab", fromlist=["value_key"]).value_key(v)) == "estate"
    import pandas as pd

    raw = pd.Series(["۱", "فسخ شده", None, "xyz"])
    out, _ = map_values(raw, raw, "plots", "status", {"1": "vacant"})
    assert list(out) == ["vacant", "terminated", None, "xyz"]
    assert nearest("primery", VOCABULARIES["roads", "road_class"]) == "primary"


def test_mapping_of_an_open_text_field(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)
    path = sc.parent / "businesses.shp"
    g = gpd.read_file(path)
    g["category"] = ["نجاري"] * 5 + [None] * (len(g) - 5)
    write_shapefile(g, path)
    edit_yaml(sc, lambda d: d["layers"]["businesses"].update(values={"category": {"نجاری": "carpentry"}}))
    biz = validate_scenario(sc).region.layers["businesses"]
    assert list(biz["category"].head(5)) == ["carpentry"] * 5 and biz["category"].iloc[5:].isna().all()


def test_layer_catalogue_and_code_problems_in_one_call(tmp_path):
    sc = small_scenario(tmp_path, n_biz=10)

    def broken(d):
        d["layers"]["estates"]["fields"] = {"vacant_ha": "no_such_field"}
        d["catalogue"] = {"overrides": {"carpentri": {"sep_m": 100}}}
        d["criteria"][1]["categories"] = ["metalwrk"]
        d["allocation"] = {"accepted_kinds": ["estat"]}
    edit_yaml(sc, broken)
    r = CliRunner().invoke(main, ["validate", str(sc)])
    assert r.exit_code != 0
    for want in ("no field 'no_such_field'", "catalogue.overrides.carpentri", "'metalwrk' is not a catalogue "
                 "category; did you mean 'metalwork'?", "accepted_kinds[0]: 'estat'"):
        assert want in r.output, want
