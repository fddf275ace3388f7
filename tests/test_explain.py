"""`siteplan explain`: rules with distances and criterion contributions at a place."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import small_scenario

from siteplan.cli import main


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return small_scenario(tmp_path_factory.mktemp("ex"), n_biz=40)


def test_explain_point_in_town_fails_homes_rule(small):
    # the centre of Isfahan (inside its urban area)
    r = CliRunner().invoke(main, ["explain", str(small), "--category", "metalwork", "--at", "51.6776,32.6572",
                                  "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["allowed"] is False
    homes = [x for x in d["rules"] if x["rule_id"] == "VNG-3.2-HOMES"][0]
    assert homes["passed"] is False and homes["actual_m"] == 0 and homes["required_m"] == 100
    assert abs(sum(c["contribution"] for c in d["criteria"]) - d["score"]) < 1e-6  # score rounded to 6 places
    assert all(abs(c["weight"] * c["value"] - c["contribution"]) < 1e-9 for c in d["criteria"])


def test_explain_estate_text(small):
    r = CliRunner().invoke(main, ["explain", str(small), "--category", "scrap", "--estate", "E01"])
    assert r.exit_code == 0, r.output
    assert "usable land:" in r.output and "VNG-4.1-HOMES" in r.output and "needs 200 m" in r.output
    assert "criteria (raw value" in r.output and "total" in r.output


def test_explain_bad_input(small):
    r = CliRunner().invoke(main, ["explain", str(small), "--category", "scrap", "--estate", "NOPE"])
    assert r.exit_code == 1 and "no estate with estate_id 'NOPE'" in r.output
    r = CliRunner().invoke(main, ["explain", str(small), "--category", "scrap", "--at", "abc"])
    assert r.exit_code == 2 and "is not LON,LAT" in r.output  # a usage error
    r = CliRunner().invoke(main, ["explain", str(small), "--category", "scrap"])
    assert r.exit_code == 2 and "exactly one of --at" in r.output  # a usage error, as the README says
    r = CliRunner().invoke(main, ["explain", str(small), "--category", "nope", "--at", "51.6,32.6"])
    assert r.exit_code == 1 and "'nope' is not in scope" in r.output
