"""Reservations (siteplan.rules.reservations): an estate, or a share of it, kept for some trades; trades an
estate excludes — in eligibility, the allocation, explain and validate."""

from __future__ import annotations

import geopandas as gpd
import pytest
from click.testing import CliRunner
from conftest import edit_yaml, small_scenario

from siteplan.common.atomic import write_shapefile
from siteplan.common.notice import messages
from siteplan.cli import main
from siteplan.outputs.explain import explain
from siteplan.pipeline import prepare, run
from siteplan.rules.reservations import RESERVED_SUFFIX
from siteplan.scenario import load_scenario


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    sc = small_scenario(tmp_path_factory.mktemp("res"), n_biz=300)
    res = run(load_scenario(sc))
    rows = res.plan.rows
    busiest = rows[rows.status == "assigned"].estate_id.value_counts().index[0]
    return sc, res, busiest


def _chain(res, code):
    return res.prep.catalogue.row(code)["chain"]


def test_whole_estate_reserved_for_a_chain(base, tmp_path):
    sc, res0, est = base
    a0 = res0.plan.rows[(res0.plan.rows.estate_id == est)]
    chain = _chain(res0, a0.category.value_counts().index[0])
    sc2 = tmp_path / "s.yaml"
    sc2.write_text(sc.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(sc2, lambda d: d.update(reservations=[{"estate": est, "chains": [chain]}]))
    for f in sc.parent.glob("*.*"):
        if f.suffix != ".yaml":
            (tmp_path / f.name).write_bytes(f.read_bytes())
    res = run(load_scenario(sc2))
    got = res.plan.rows[res.plan.rows.estate_id == est]
    assert len(got) and {_chain(res, c) for c in got.category} == {chain}
    el = res.elig[(res.elig.estate_id == est)]
    other = el[el.category.map(lambda c: _chain(res, c)) != chain]
    assert (~other.eligible).all() and other.reason.str.contains(f"reserved for {chain}").all()
    assert any(w.startswith(f"reservations: estate {est} reserved for {chain}") for w in messages(res.warnings))


def test_share_reserved_and_exclusion_by_estate_field(base, tmp_path):
    sc, res0, est = base
    rows0 = res0.plan.rows
    a0 = rows0[rows0.estate_id == est]
    code = a0.category.value_counts().index[0]
    chain = _chain(res0, code)
    excluded = a0.category.value_counts().index[-1]
    for f in sc.parent.glob("*.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    shp = tmp_path / "estates.shp"
    g = gpd.read_file(shp)
    g["excluded"] = [excluded if e == est else None for e in g.estate_id]
    write_shapefile(g, shp)
    sc2 = tmp_path / sc.name
    edit_yaml(sc2, lambda d: d.update(reservations=[{"estate": est, "chains": [chain], "share": 0.5}]))
    res = run(load_scenario(sc2))
    rows = res.plan.rows
    assert not rows.estate_id.dropna().astype(str).str.endswith(RESERVED_SUFFIX).any()
    mine = rows[rows.estate_id == est]
    assert excluded not in set(mine.category)
    cap = float(res.capacity.set_index("estate_id").at[est, "capacity_m2"])
    others = mine[mine.category.map(lambda c: _chain(res, c)) != chain]
    assert others.land_m2.sum() <= 0.5 * cap + 1
    assert mine.land_m2.sum() <= cap + 1
    summ = res.plan.estate_summary
    assert not summ.estate_id.astype(str).str.endswith(RESERVED_SUFFIX).any()
    why = res.elig[(res.elig.estate_id == est) & (res.elig.category == excluded)].reason.iloc[0]
    assert "excluded by reservations[0] and the estate's fields" in why
    # explain gives the same answer as the run
    ex = explain(prepare(load_scenario(sc2)), excluded, estate=est)
    assert not ex.allowed and any("excluded by" in r for r in ex.estate_reasons)


def test_unknown_names_in_reservations_are_errors(base, tmp_path):
    sc, _, est = base
    for f in sc.parent.glob("*.*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    sc2 = tmp_path / sc.name
    edit_yaml(sc2, lambda d: d.update(reservations=[{"estate": "E999", "categories": ["car_repiar"]},
                                                    {"estate": est, "exclude": ["scrapp"]}]))
    r = CliRunner().invoke(main, ["validate", str(sc2)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "reservations[0].estate: no estate 'E999'" in r.output
    assert "'car_repiar' is neither a catalogue category nor a value chain; did you mean 'car_repair'?" in r.output
    assert "reservations[1].exclude: 'scrapp'" in r.output


def test_share_needs_categories():
    from siteplan.errors import ScenarioError
    from siteplan.scenario import parse_scenario

    with pytest.raises(ScenarioError, match="a share is reserved for categories or chains"):
        parse_scenario({"layers": {}, "reservations": [{"estate": "E1", "exclude": ["scrap"], "share": 0.5}]})
