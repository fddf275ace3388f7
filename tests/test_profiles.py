"""Default criteria by category (siteplan.guilds.profiles), catchments that count features, and the compact
robustness summary (siteplan.locate.findings.robustness_summary)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from click.testing import CliRunner
from conftest import DEMO_YAML, edit_yaml, small_scenario
from pyproj import CRS

from siteplan.cli import main
from siteplan.grid import Grid, catchment_field
from siteplan.guilds.profiles import default_criteria
from siteplan.errors import InputError
from siteplan.guilds.catalogue import load_catalogue
from siteplan.guilds.profiles import PROFILES, SHIPPED_PROFILES, derive_profile
from siteplan.locate.findings import robustness_summary


def _names(specs, code):
    return {s.name for s in specs if s.categories is None or code in s.categories}


def test_every_shipped_category_has_a_profile_with_its_reason():
    cat = load_catalogue()
    assert set(SHIPPED_PROFILES) == set(cat.codes)
    assert set(cat.table["profile"]) <= set(PROFILES)
    assert cat.table["profile_reason"].map(lambda s: isinstance(s, str) and len(s) > 20).all()


def test_default_criteria_differ_by_what_matters_to_the_category():
    cat = load_catalogue()
    specs = default_criteria(cat)
    showroom, store = _names(specs, "car_showroom"), _names(specs, "large_store")
    assert {"customers", "frontage"} <= showroom and {"customers", "frontage"} <= store
    assert not {"homes_distance", "heavy_road", "workforce"} & showroom
    for heavy in ("car_body_paint", "metalwork", "stone_cutting", "scrap", "textile_dyeing"):
        assert {"homes_distance", "heavy_road"} <= _names(specs, heavy), heavy
        assert "customers" not in _names(specs, heavy)
    assert "workforce" in _names(specs, "car_repair") and "homes_distance" not in _names(specs, "car_repair")
    assert {"heavy_road", "rail_access"} <= _names(specs, "wholesale_food")
    # linked trades: one criterion per category with links, counting exactly those categories
    by_name = {s.name: s for s in specs}
    for code in cat.codes:
        links = [c for c in cat.row(code)["links"] if c in cat and c != code]
        crit = by_name.get(f"linked_{code}")
        if links:
            assert crit is not None and crit.categories == [code] and crit.layer == "businesses"
            assert set(crit.filter["category"]) == set(links) and crit.field is None
        else:
            assert crit is None
    # twelve of sixteen categories used to share one criterion set; now no two profiles share one
    sets = {code: frozenset(_names(specs, code) - {f"linked_{code}"}) for code in cat.codes}
    prof = dict(zip(cat.table.code, cat.table.profile))
    for a, b in itertools.combinations(cat.codes, 2):
        assert (sets[a] == sets[b]) == (prof[a] == prof[b]), (a, b)


def test_derived_profile_for_added_categories_and_overrides():
    cat = load_catalogue(add=[
        {"code": "foundry", "name_en": "Foundry", "name_fa": "ریخته‌گری", "env_cat": "4.1", "land_m2": 2000},
        {"code": "bakery_shop", "name_en": "Bakery shop", "name_fa": "نانوایی", "env_cat": "1", "land_m2": 80,
         "retail": 1},
        {"code": "depot", "name_en": "Depot", "name_fa": "انبار", "env_cat": "2", "land_m2": 3000,
         "traffic": "high"},
        {"code": "studio", "name_en": "Studio", "name_fa": "استودیو", "env_cat": "1", "land_m2": 100},
        {"code": "yard", "name_en": "Yard", "name_fa": "حیاط", "env_cat": "2", "land_m2": 100, "doe_group": "ج"},
    ], overrides={"car_repair": {"profile": "nuisance"}})
    prof = dict(zip(cat.table.code, cat.table.profile))
    why = dict(zip(cat.table.code, cat.table.profile_reason))
    assert (prof["foundry"], prof["bakery_shop"], prof["depot"], prof["studio"], prof["yard"]) == \
        ("nuisance", "customers", "logistics", "workshop", "nuisance")
    assert why["foundry"].startswith("derived: VNG category 4.1") and "DOE group ج" in why["yard"]
    assert prof["car_repair"] == "nuisance" and why["car_repair"] == "set by the scenario"
    assert "homes_distance" in _names(default_criteria(cat), "car_repair")
    assert derive_profile(retail=0, env_cat="3.1", doe_group="", traffic="high")[0] == "nuisance"
    with pytest.raises(InputError, match="overrides.car_repair.profile: must be one of customers, workshop.*got 'shop'"):
        load_catalogue(overrides={"car_repair": {"profile": "shop"}})


def test_catchment_without_field_counts_features_hand_computed():
    g = Grid(Affine(100.0, 0, 0, 0, -100.0, 1000.0), 10, 10, 100.0, CRS.from_epsg(32639))
    # three points at cell centres: (row 2, col 2), (2, 5), (7, 7); radius 310 m
    xy = np.array([[250.0, 750.0], [550.0, 750.0], [750.0, 250.0]])
    out = catchment_field(xy, np.ones(3), g, 310.0)
    # cell (2, 3): 100 m from the first point, 200 m from the second, far from the third: 2
    assert out[2, 3] == pytest.approx(2.0)
    # cell (5, 5): 300 m from the second (within 310 m), 283 m from the third, 424 m from the first: 2
    assert out[5, 5] == pytest.approx(2.0)
    # cell (0, 9): nothing within 310 m
    assert out[0, 9] == 0.0
    # brute force over every cell: points within the radius of the cell centre
    rr, cc = np.mgrid[0:10, 0:10]
    x, y = g.xy(rr, cc)
    d = np.hypot(x[..., None] - xy[:, 0], y[..., None] - xy[:, 1])
    np.testing.assert_allclose(out, (d <= 310.0).sum(axis=-1), atol=1e-4)


@pytest.fixture(scope="module")
def demo_prep():
    from siteplan.pipeline import prepare
    from siteplan.scenario import load_scenario

    return prepare(load_scenario(DEMO_YAML))


def test_demo_surfaces_differ_by_category(demo_prep):
    surf = demo_prep.surfaces
    same = [(a, b) for a, b in itertools.combinations(sorted(surf), 2)
            if np.array_equal(surf[a].score, surf[b].score)]
    # before: twelve categories shared one surface; now only chain and large stores (same profile,
    # same linked trade) do
    assert same == [("chain_store", "large_store")]
    assert demo_prep.scenario.criteria is None


def test_linked_trades_criterion_counts_classified_businesses(demo_prep):
    """linked_car_wash_oil at a few cells equals a brute-force count of car repairers (its linked
    trade) whose cell centre is within 10 km of the cell centre."""
    crit = {c.spec.name: c for c in demo_prep.crit}["linked_car_wash_oil"]
    grid = demo_prep.grid
    biz = demo_prep.businesses
    rep = biz[biz["category"] == "car_repair"]
    r, c = grid.rowcol(rep.geometry.x.to_numpy(), rep.geometry.y.to_numpy())
    bx, by = grid.xy(r, c)
    peak = np.unravel_index(np.argmax(crit.raw), crit.raw.shape)
    cells = [peak, (peak[0] + 15, peak[1] - 9), (peak[0] - 30, peak[1] + 12), (0, 0)]
    for cell in cells:
        x, y = grid.xy(np.array([cell[0]]), np.array([cell[1]]))
        want = int((np.hypot(bx - x[0], by - y[0]) <= 10000.0).sum())
        assert crit.raw[cell] == pytest.approx(want, abs=1e-3), cell
    assert crit.raw[peak] > 50


def test_explicit_criteria_still_win(tmp_path):
    from siteplan.pipeline import prepare
    from siteplan.scenario import load_scenario

    sc = small_scenario(tmp_path, n_biz=30)
    edit_yaml(sc, lambda d: d.update(categories=["car_showroom", "scrap"]))
    prep = prepare(load_scenario(sc))
    assert {c.spec.name for c in prep.crit} == {"road_access", "workforce", "customers", "estate_synergy",
                                                "power_access"}


def test_catalogue_prints_profiles_and_default_criteria():
    r = CliRunner().invoke(main, ["catalogue", "--criteria"])
    assert r.exit_code == 0, r.output
    assert "car_showroom — Car showrooms: profile customers" in r.output
    assert "homes_distance" in r.output and "why: " in r.output and "STANDARDS.md §5" in r.output
    r = CliRunner().invoke(main, ["catalogue", "--criteria", "--format", "csv"])
    t = pd.read_csv(__import__("io").StringIO(r.output))
    assert set(t.columns) >= {"code", "profile", "criterion", "weight", "reason", "source", "status"}
    np.testing.assert_allclose(t.groupby("code")["weight"].sum(), 1.0, atol=0.003)
    r = CliRunner().invoke(main, ["catalogue"])
    assert "profile" in r.output.splitlines()[0]


def _ranks(rows):
    return pd.DataFrame(rows, columns=["category", "estate_id", "rank", "p_first", "oat_ranks", "swap_p", "swap_by"])


def test_robustness_summary_reports_only_what_differs():
    ranks = _ranks([
        # certain: E1 always first, no swaps among ranks 2..4
        ("a", "E1", 1, 1.0, "1-1", 0.0, ""), ("a", "E2", 2, 0.0, "2-2", 0.02, ""), ("a", "E3", 3, 0.0, "3-3", 0.0, ""),
        # uncertain top: E5 first in 60 %, E6 in 40 %, overtakes under a sweep
        ("b", "E5", 1, 0.6, "1-2", 0.4, "w1 -50 %"), ("b", "E6", 2, 0.4, "1-2", 0.0, ""),
        ("b", "E7", 3, 0.0, "3-3", 0.0, ""),
        # a swap of ranks 2 and 3 in 30 % of draws; one of ranks 4 and 5 is beyond the reported ranks
        ("c", "E8", 1, 0.95, "1-1", 0.0, ""), ("c", "E9", 2, 0.05, "2-3", 0.3, ""),
        ("c", "E10", 3, 0.0, "2-3", 0.0, ""), ("c", "E11", 4, 0.0, "4-5", 0.5, "w2 +25 %"),
        ("c", "E12", 5, 0.0, "4-5", 0.0, ""),
        # one ranked estate: nothing to say; not eligible (rank NA): ignored
        ("d", "E1", 1, 1.0, "1-1", np.nan, ""), ("d", "E2", None, np.nan, None, np.nan, ""),
    ])
    s = robustness_summary(ranks, 200)
    assert s.ranked == ["a", "b", "c"] and s.certain == ["a"]
    assert [t["category"] for t in s.uncertain_top] == ["b"]
    t = s.uncertain_top[0]
    assert (t["estate_id"], t["challenger"], t["p_first"], t["p_challenger"], t["by"]) == ("E5", "E6", 0.6, 0.4, "w1 -50 %")
    assert s.swaps == [{"category": "c", "estates": ["E9", "E10"], "ranks": [2, 3], "p": 0.3, "by": ""}]
    assert s.lines[0].startswith("1 of 3 ranked categories hold")
    assert "b: top estate E5 first in 60% of draws, E6 in 40%; E6 overtakes it when w1 -50 %" in s.lines
    assert "c: E9 and E10 (ranks 2 and 3) swap in 30% of draws" in s.lines and len(s.lines) == 3
    assert robustness_summary(ranks, 200, max_rank=5).swaps[-1]["estates"] == ["E11", "E12"]
    assert robustness_summary(ranks, 0).lines == ["robustness not computed (sensitivity.draws: 0)"]
    assert s.to_dict()["swaps"][0]["p"] == 0.3


def test_demo_robustness_is_no_longer_one_estate_everywhere(demo_prep):
    """The issue: one estate ranked first for every category with probability 1.00. With criteria by
    category the top estate differs between categories and some tops are uncertain."""
    from siteplan.guild_relocation import estate_capacity
    from siteplan.locate.ranking import rank_estates
    from siteplan.rules.ruleset import eligibility, usable_land
    from siteplan.locate.sensitivity import robustness
    from siteplan.scoring.suitability import zonal_mean

    prep = demo_prep
    est = prep.region.layers["estates"]
    scores = pd.concat([pd.DataFrame({"estate_id": est["estate_id"].to_numpy(), "category": code,
                                      "score": np.round(zonal_mean(s.score, est.geometry.values, prep.grid), 6)})
                        for code, s in prep.surfaces.items()], ignore_index=True)
    usable = usable_land(est, prep.rules)
    elig = eligibility(est, prep.rules, usable, prep.scenario.allocation.accepted_kinds)
    cap = estate_capacity(est, prep.region.layers.get("plots"), 0.65, None)
    ranks = robustness(rank_estates(elig, scores, cap), prep, 42)
    top = ranks[ranks["rank"] == 1]
    assert top["estate_id"].nunique() >= 2
    assert (top["p_first"] == top["p_rank"]).all() and (top["p_first"] < 1).any()
    ok = ranks["swap_p"].dropna()
    assert ((ok >= 0) & (ok <= 1)).all()
    s = robustness_summary(ranks, prep.scenario.sensitivity.draws)
    assert s.uncertain_top and len(s.lines) < 40
    assert len(s.ranked) == 16 and len(s.certain) + len({t["category"] for t in s.uncertain_top}) <= 16


def test_default_criteria_blockwise_equal_whole_grid(tmp_path):
    """The linked-trades catchment counts the classified businesses on the blockwise path too."""
    import rasterio

    from siteplan.scoring.blockwise import write_category_surface
    from siteplan.pipeline import prepare
    from siteplan.scenario import load_scenario

    sc = small_scenario(tmp_path, n_biz=300)
    edit_yaml(sc, lambda d: (d.pop("criteria"), d.update(categories=["car_wash_oil", "stone_cutting"])))
    scen = load_scenario(sc)
    whole = prepare(scen)
    assert "linked_car_wash_oil" in whole.surfaces["car_wash_oil"].weights
    assert whole.surfaces["car_wash_oil"].weights.keys() >= {"customers", "frontage"}
    part = prepare(scen, with_surfaces=False)
    for code in ("car_wash_oil", "stone_cutting"):
        out = tmp_path / f"{code}.tif"
        write_category_surface(part, code, out, block=9)
        with rasterio.open(out) as ds:
            a = ds.read(1)
            a = np.where(a == ds.nodata, np.nan, a)
        s = whole.surfaces[code].masked
        assert (np.isnan(a) == np.isnan(s)).all()
        assert np.nanmax(np.abs(a - s)) < 1e-5, code


def test_explicit_criterion_on_classified_businesses(tmp_path):
    """A scenario may write its own linked-trades criterion: a catchment of the businesses filtered by
    their classified category (the registry has no category column); a code typo is refused."""
    from siteplan.checks import validate_scenario
    from siteplan.errors import ScenarioError
    from siteplan.pipeline import prepare
    from siteplan.scenario import load_scenario

    sc = small_scenario(tmp_path, n_biz=200)
    crit = {"name": "repairers", "kind": "catchment", "layer": "businesses", "radius_m": 5000,
            "filter": {"category": ["car_repair"]}, "transform": {"type": "linear", "points": [0, 20]}}
    edit_yaml(sc, lambda d: (d["criteria"].append(crit), d.update(categories=["car_parts"])))
    validate_scenario(sc)
    prep = prepare(load_scenario(sc))
    layer = {c.spec.name: c for c in prep.crit}["repairers"]
    n_rep = int((prep.businesses["category_classified"] == "car_repair").sum())  # out of scope, counted
    assert n_rep > 0 and 0 < layer.raw.max() <= n_rep
    edit_yaml(sc, lambda d: d["criteria"][-1]["filter"].update(category=["car_repiar"]))
    with pytest.raises(ScenarioError, match="filter category: 'car_repiar' is not a catalogue category; did you "
                                           "mean 'car_repair'"):
        validate_scenario(sc)
