"""The pipeline builds results, it does not change them after they are made (#25): the plan the allocation
returns keeps its columns when zoning and new sites add theirs to a new plan, and the run's result is made
whole (its programme figures and CPU timings) instead of being filled in afterwards."""

from __future__ import annotations

import siteplan.pipeline as pipeline
from conftest import small_scenario
from siteplan.scenario import load_scenario


def test_the_allocations_plan_is_not_changed_by_later_stages(tmp_path, monkeypatch):
    made = []
    real = pipeline.relocate

    def keep(*a, **k):  # type: ignore[no-untyped-def]
        made.append(real(*a, **k))
        return made[-1]

    monkeypatch.setattr(pipeline, "relocate", keep)
    res = pipeline.run(load_scenario(small_scenario(tmp_path, n_biz=40)))
    first = made[0]
    before = list(first.rows.columns)
    assert not {"zone_id", "plot_id", "plot_reason", "site_id"} & set(before), before
    assert res.plan is not first
    assert list(res.plan.rows.columns) == [*before, "zone_id", "plot_id", "plot_reason", "site_id"]
    assert res.programme is not None and "programme" in res.timings_cpu
