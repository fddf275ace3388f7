"""`siteplan demo` end to end on the embedded region."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd



def test_demo_runs_and_writes_everything(demo_run_dir):
    out = demo_run_dir  # `siteplan demo --out DIR`, run once for the session (conftest)
    for f in ("report.html", "relocation.csv", "estates.geojson", "zones.geojson", "sites.geojson",
              "clusters.geojson", "manifest.json"):
        assert (out / f).stat().st_size > 0, f
    tifs = sorted((out / "suitability").glob("*.tif"))
    sd = [t for t in tifs if t.stem.endswith("_sd")]
    assert len(tifs) - len(sd) == 16 and len(sd) == 16
    rel = pd.read_csv(out / "relocation.csv", keep_default_na=False)
    assert len(rel) == 6000 and rel.biz_id.is_unique
    assert set(rel.status) == {"assigned", "unassigned"}
    un = rel[rel.status == "unassigned"]
    assert (un.reason != "").all()
    assert (rel.category == "").sum() > 0 and rel[rel.category == ""].reason.str.startswith("unclassified").all()
    a = rel[rel.status == "assigned"]
    # every assigned business has a zone, or (on an estate with a plot map) the reason it has no plot
    assert ((a.zone_id != "") | (a.plot_reason != "")).all() and (a.distance_km.astype(float) <= 30).all()
    assert (a.zone_id != "").mean() > 0.95
    # every terminated plot of the demo is in reletting.csv, with its new tenant or the reason it stays empty
    import geopandas as gpd

    plots = gpd.read_file(Path(__file__).parents[1] / "data" / "shapefiles" / "isfahan_demo" / "plots.shp")
    rl = pd.read_csv(out / "reletting.csv", keep_default_na=False)
    assert sorted(rl.plot_id) == sorted(plots.plot_id[plots.status == "terminated"])
    assert ((rl.status == "re-let") & (rl.biz_id != "") | (rl.status == "empty") & (rl.reason != "")).all()
    let = rel[rel.plot_id != ""]
    assert let.plot_id.is_unique and set(rl.loc[rl.biz_id != "", "biz_id"]) <= set(let.biz_id)
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["counts"]["unclassified"] > 0 and any("could not be classified" in w for w in m["warnings"])
    assert m["solver"]["gap"] <= 0.02
    size = (out / "report.html").stat().st_size
    print(f"\ndemo report: {size / 1e6:.2f} MB; solver {m['solver']['status']} gap {m['solver']['gap']:.4%}")
    assert size <= 5e6
    # proposed sites take unassigned businesses within reach, and say how many
    sites = json.loads((out / "sites.geojson").read_text(encoding="utf-8"))["features"]
    assert sites
    taken = rel[rel.site_id != ""]
    assert set(taken.status) == {"unassigned"}
    for f in sites:
        p = f["properties"]
        mine = taken[taken.site_id == p["site_id"]]
        assert p["units"] == len(mine) > 0
        assert p["area_ha"] >= 20 * 0.999  # sites.min_area_ha of the demo; never one 25 ha grid cell by default
        assert p["grid_m"] < 500
        assert set(mine.category) <= set(p["categories"].split(", "))
    assert m["site_choice"]["taken_by_sites"] == len(taken)
    assert any(f"would take {len(taken)} of the" in w for w in m["warnings"])


def test_outputs_match_committed_expectations(demo_run_dir):
    """Every output byte of the demo equals tests/data/demo_outputs.json (refactors and speed-ups must not
    change a result; a deliberate output change rewrites the file with scripts/demo_expectations.py)."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("demo_expectations", root / "scripts" / "demo_expectations.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    exp = json.loads(mod.EXPECTED.read_text(encoding="utf-8"))
    if exp["versions"] != mod.versions():
        import pytest

        pytest.skip(f"library versions differ from the expectations' (install with constraints.txt): "
                    f"{mod.versions()} vs {exp['versions']}")
    assert mod.compare(demo_run_dir, exp) == []
