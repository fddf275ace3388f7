"""Criteria by category on the demo (issue 16, item 4): the old single criteria set against the
default criteria by profile.

Prints, for each: how many categories share an identical suitability surface, the top estate of
each category with its Monte Carlo probability of ranking first, and the robustness summary lines
(only what differs).

    .venv/bin/python benchmarks/bench_criteria.py
"""

from __future__ import annotations

import itertools
import logging
import time

import numpy as np

from siteplan.pipeline import demo_scenario_path, run
from siteplan.scenario import CriterionSpec, load_scenario
from siteplan.locate.findings import robustness_summary

#: the criteria the demo scenario listed before issue 16 (the same for every category but retail)
OLD = [
    {"name": "road_access", "kind": "distance", "layer": "roads",
     "filter": {"road_class": ["motorway", "trunk", "primary"]},
     "transform": {"type": "linear", "points": [500, 20000], "increasing": False}, "weight": 0.35},
    {"name": "workforce", "kind": "distance", "layer": "urban", "filter": {"kind": ["city", "town"]},
     "transform": {"type": "linear", "points": [2000, 5000, 15000, 40000]}, "weight": 0.25,
     "categories": ["car_repair", "car_body_paint", "car_parts", "car_wash_oil", "metalwork", "carpentry",
                    "stone_cutting", "scrap", "textile_dyeing", "wholesale_food", "wholesale_building", "tech_firm"]},
    {"name": "customers", "kind": "catchment", "layer": "urban", "field": "population", "radius_m": 15000,
     "transform": {"type": "linear", "points": [0, 400000]}, "weight": 0.35,
     "categories": ["car_showroom", "furniture_sales", "chain_store", "large_store"]},
    {"name": "estate_synergy", "kind": "distance", "layer": "estates",
     "transform": {"type": "linear", "points": [0, 25000], "increasing": False}, "weight": 0.20},
    {"name": "power_access", "kind": "distance", "layer": "utilities", "filter": {"kind": ["power_line"]},
     "transform": {"type": "linear", "points": [0, 15000], "increasing": False}, "weight": 0.20},
]


def _groups(surfaces: dict) -> list[list[str]]:
    """Categories grouped by identical score surfaces (groups of two or more)."""
    codes = sorted(surfaces)
    parent = {c: c for c in codes}
    for a, b in itertools.combinations(codes, 2):
        if np.array_equal(surfaces[a].score, surfaces[b].score):
            parent[b] = parent[a] if parent[a] == a else parent[parent[a]]
    groups: dict[str, list[str]] = {}
    for c in codes:
        groups.setdefault(parent[c], []).append(c)
    return [g for g in groups.values() if len(g) > 1]


def main() -> None:
    logging.getLogger("siteplan").setLevel(logging.WARNING)
    base = load_scenario(demo_scenario_path())
    for label, crit in (("before: one criteria set", [CriterionSpec(**c) for c in OLD]),
                        ("after: default criteria by profile", None)):
        sc = base.model_copy(update={"criteria": crit})
        t0 = time.perf_counter()
        res = run(sc)
        took = time.perf_counter() - t0
        groups = _groups(res.prep.surfaces)
        shared = sum(len(g) for g in groups)
        print(f"== {label} ({len(res.prep.crit)} criterion layers; run {took:.1f} s)")
        print(f"categories sharing an identical suitability surface: {shared} of {len(res.prep.surfaces)} "
              f"in {len(groups)} group(s): {groups}")
        top = res.ranks[res.ranks["rank"] == 1].sort_values("category")
        print("top estate per category (probability of ranking first in "
              f"{sc.sensitivity.draws} weight draws):")
        for r in top.itertuples():
            print(f"  {r.category:20s} {r.estate_id}  p_first {r.p_first:.2f}  one-at-a-time ranks {r.oat_ranks}")
        print(f"distinct top estates: {top['estate_id'].nunique()}; tops with p_first 1.00: "
              f"{int((top['p_first'] >= 0.995).sum())} of {len(top)}")
        rows = res.plan.rows
        print(f"relocation: {int((rows.status == 'assigned').sum())} assigned, "
              f"{int((rows.status == 'unassigned').sum())} unassigned; objective {res.plan.solver.get('objective')}")
        s = robustness_summary(res.ranks, sc.sensitivity.draws)
        print(f"robustness summary ({len(s.lines)} lines):")
        for line in s.lines:
            print("  " + line)
        print()


if __name__ == "__main__":
    main()
