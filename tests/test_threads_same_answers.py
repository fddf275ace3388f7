"""The upgrades' estimates and verifications solved on threads give the answers of solving them one after
another (issue #31: siteplan.common.parallel; the relocation solves release the GIL)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DEMO_YAML

from siteplan.locate.upgrades import propose_upgrades
from siteplan.pipeline import plan_inputs, prepare, relocate
from siteplan.scenario import load_scenario


@pytest.fixture(scope="module")
def demo_plan():
    prep = prepare(load_scenario(DEMO_YAML))
    inputs = plan_inputs(prep)
    return prep, relocate(prep, inputs), inputs


def test_upgrades_on_threads_equal_upgrades_in_order(demo_plan, monkeypatch):
    prep, plan, inputs = demo_plan
    monkeypatch.setenv("SITEPLAN_SOLVE_CACHE", "off")  # every solve done, none read back
    got = {}
    for n in ("1", "3"):
        monkeypatch.setenv("SITEPLAN_THREADS", n)
        got[n] = propose_upgrades(prep, plan, inputs)
    (t1, notes1), (t3, notes3) = got["1"], got["3"]
    assert len(t1) >= 3 and (t1["figure"] == "rerun").sum() >= 3  # the demo verifies its three best
    pd.testing.assert_frame_equal(t1, t3, check_exact=True)
    assert notes1 == notes3
