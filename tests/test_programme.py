"""Programme figures (issue 27): impact (residents within the nuisance distance, recomputed
independently), feasibility rows against the run's own tables, value chains and missing links."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from siteplan.programme.chains import chain_links, link_status
from siteplan.guilds.catalogue import load_catalogue
from siteplan.programme.impact import Residents, nuisance_distances, placements, trip_rates
from siteplan.rules.ruleset import Rule, mixed_mask
from siteplan.scenario import ProgrammeSpec

ROOT = Path(__file__).resolve().parents[1]
DEMO_YAML = ROOT / "data" / "demo.yaml"


# ---------------------------------------------------------------- hand-built province, known answers

def _segment(r: float, h: float) -> float:
    """Area of the part of a disc of radius r beyond a chord at distance h from its centre."""
    return r * r * math.acos(h / r) - h * math.sqrt(r * r - h * h)


def _province() -> Residents:
    quiet = shapely.box(0, 0, 1000, 1000)        # 10 000 residents on 1 km²
    mixed = shapely.box(5000, 0, 6000, 1000)     # 4 000 residents, a mixed area
    return Residents(np.array([quiet, mixed], dtype=object), np.array([10_000.0, 4_000.0]),
                     np.array([False, True]))


def test_residents_known_answers_and_no_double_count():
    res = _province()
    # a disc of 100 m wholly inside the quiet area: π·100² m² of 1 km² → 314.16 residents
    one = res.exposed(np.array([shapely.Point(500, 500)]), np.array([100.0]), np.array([50.0]))
    assert one["all"] == pytest.approx(math.pi * 1e4 / 1e6 * 10_000, rel=0.005)
    # two businesses on the same spot: the same residents, counted once
    two = res.exposed(np.array([shapely.Point(500, 500)] * 2), np.array([100.0, 100.0]), np.array([50.0, 50.0]))
    assert two["all"] == pytest.approx(one["all"], rel=1e-9)
    # 50 m outside the quiet area's edge with 100 m: the circular segment beyond the chord
    seg = res.exposed(np.array([shapely.Point(500, -50)]), np.array([100.0]), np.array([0.0]))
    assert seg["all"] == pytest.approx(_segment(100, 50) / 1e6 * 10_000, rel=0.005)
    # in the mixed area the mixed distance applies (30 m), not the quiet one
    mx = res.exposed(np.array([shapely.Point(5500, 500)]), np.array([200.0]), np.array([30.0]))
    assert mx["all"] == pytest.approx(math.pi * 900 / 1e6 * 4_000, rel=0.005)
    # groups are counted separately; a business far from every urban area exposes no one
    g = res.exposed(np.array([shapely.Point(500, 500), shapely.Point(20_000, 0)]), np.array([100.0, 500.0]),
                    np.array([50.0, 50.0]), np.array(["a", "b"], dtype=object))
    assert g["a"] == pytest.approx(one["all"]) and g["b"] == 0


def test_exposed_sets_equal_each_set_alone_to_the_bit():
    """Several sets counted at once (shared buffers, look-ups and unions) give each set's float alone."""
    rng = np.random.default_rng(7)
    urban = np.array([shapely.box(x, y, x + 900, y + 700) for x, y in rng.uniform(0, 4000, (12, 2))]
                     + [shapely.Point(2000, 2000)], dtype=object)
    res = Residents(urban, rng.uniform(100, 5000, 13), np.r_[rng.random(12) < 0.4, False])
    site = shapely.box(1500, 1500, 1800, 1700)
    pts = list(shapely.points(rng.uniform(-300, 4300, (120, 2)))) + [site] * 10  # one object ten times
    pool = np.array(pts + [None, shapely.Point()], dtype=object)
    q = np.r_[rng.choice([0.0, 100.0, 500.0], 130), 100.0, 100.0]
    m = np.r_[rng.choice([0.0, 50.0, 300.0], 130), 50.0, 50.0]
    sets = [np.arange(len(pool)), rng.permutation(130)[:40], np.arange(120, 130)[::-1], np.array([], int),
            np.array([5, 5, 7]), np.arange(0, 130, 3)]
    got = res.exposed_sets(pool, q, m, sets)
    for k, s in enumerate(sets):
        alone = float(res.exposed(pool[s], q[s], m[s]).sum())
        assert got[k] == alone, (k, got[k], alone)
    assert got[0] > 0 and got[3] == 0


def test_settlement_points_count_whole():
    pts = Residents(np.array([shapely.Point(0, 0), shapely.Point(1000, 0)], dtype=object), np.array([700.0, 300.0]),
                    np.array([False, False]))
    got = pts.exposed(np.array([shapely.Point(0, 90)]), np.array([100.0]), np.array([0.0]))
    assert got["all"] == 700


def test_nuisance_distance_is_the_rules_largest_distance_from_homes():
    rules = {"x": [Rule("VNG-HOMES", "x", "homes", 100.0, "", ""), Rule("DOE", "x", "homes", 500.0, "", "", group="doe"),
                   Rule("VNG-MIXED", "x", "homes_mixed", 50.0, "", ""), Rule("S", "x", "sensitive", 900.0, "", "")]}
    d = nuisance_distances(rules)  # type: ignore[arg-type]
    assert d.loc["x", "quiet_m"] == 500 and d.loc["x", "mixed_m"] == 50


def test_trip_rates_scenario_override_and_unknown_key():
    from siteplan.errors import InputError

    codes = list(load_catalogue().table["code"])
    t = trip_rates(codes, SimpleNamespace(programme=ProgrammeSpec()))  # type: ignore[arg-type]
    assert set(t.index) == set(codes) and (t["status"] != "missing").all() and t["source"].str.len().gt(0).all()
    sc = SimpleNamespace(programme=ProgrammeSpec.model_validate({"trip_rates": {"scrap": {"heavy": 9, "customer": 1}}}))
    t2 = trip_rates(codes, sc)  # type: ignore[arg-type]
    assert t2.loc["scrap", "heavy"] == 9 and t2.loc["scrap", "status"] == "assumption"
    bad = SimpleNamespace(programme=ProgrammeSpec.model_validate({"trip_rates": {"nope": {"heavy": 1, "customer": 1}}}))
    with pytest.raises(InputError, match="programme.trip_rates: 'nope'"):
        trip_rates(codes, bad)  # type: ignore[arg-type]


def test_unit_costs_refuse_unknown_items():
    with pytest.raises(ValueError, match="unknown unit cost"):
        ProgrammeSpec.model_validate({"unit_costs": {"gold": 1}})


# ---------------------------------------------------------------- value chains, one hand-built cluster

def test_hand_built_cluster_missing_links():
    cat = load_catalogue()
    present = {"car_repair", "car_parts"}
    links = chain_links(present, "auto", cat)
    assert set(links) == {"car_repair", "car_body_paint", "car_showroom", "car_parts", "car_wash_oil"}
    where = shapely.box(0, 0, 300, 300)
    sup = pd.DataFrame({"biz_id": ["W1", "S1", "S2", "R1"],
                        "category": ["car_wash_oil", "car_showroom", "car_showroom", "car_repair"]})
    geoms = np.array([shapely.Point(2300, 0), shapely.Point(50_300, 0), shapely.Point(300, 60_000),
                      shapely.Point(0, 0)], dtype=object)
    st = {s["link"]: s for s in link_status(where, present, links, sup, geoms, reach_km=10.0)}
    assert st["car_repair"]["status"] == "present" and st["car_parts"]["status"] == "present"
    assert st["car_wash_oil"]["status"] == "in reach" and st["car_wash_oil"]["nearest_km"] == 2.0
    assert st["car_showroom"]["status"] == "missing"
    assert st["car_showroom"]["nearest_biz_id"] == "S1" and st["car_showroom"]["nearest_km"] == 50.0
    assert st["car_body_paint"]["status"] == "missing" and st["car_body_paint"]["nearest_biz_id"] == ""



def _chains_reference(res, p) -> pd.DataFrame:
    """chains.csv the straightforward way: group by group, link by link, every supplier's distance."""
    from siteplan.programme.chains import CHAIN_COLUMNS, _positions
    from siteplan.relocation.clusters import find_clusters

    cat = res.prep.catalogue
    names = dict(zip(cat.table["code"], cat.table["name_en"]))
    chain_of = dict(zip(cat.table["code"], cat.table["chain"].fillna("")))
    reach, t, rows = res.prep.scenario.programme.chain_reach_km, p.table, []
    ok = res.prep.businesses[res.prep.businesses["category"].notna()]
    cid, _ = find_clusters(ok, cat, eps_m=res.prep.scenario.clusters.eps_m,
                           min_samples=res.prep.scenario.clusters.min_samples)
    dest = t.set_index("biz_id")["estate_id"]
    for c in res.clusters.itertuples():
        here = (cid == c.cluster_id).to_numpy()
        present = set(ok["category"][here])
        go = dest.reindex(ok["biz_id"][here]).dropna().astype(str)
        headed = str(go.value_counts().sort_index().sort_values(ascending=False, kind="mergesort").index[0]) \
            if len(go) else ""
        for s in link_status(c.geometry, present, chain_links(present, c.chain, cat), t, p.before, reach):
            rows.append({"level": "cluster", "id": c.cluster_id, "chain": c.chain, "headed_to": headed,
                         "members": int(here.sum()), **s, "link_name": names.get(s["link"], "")})
    est = res.prep.region.layers["estates"]
    eids = t["estate_id"].dropna().astype(str)
    for eid, pos in sorted(_positions(eids.to_numpy()).items()):
        present = set(t["category"][eids.index[pos]])
        where = est.geometry[est["estate_id"] == eid].iloc[0]
        for chain in sorted({chain_of.get(c, "") for c in present} - {""}):
            for s in link_status(where, present, chain_links(present, chain, cat), t, p.after, reach):
                rows.append({"level": "estate", "id": eid, "chain": chain, "headed_to": "", "members": len(pos),
                             **s, "link_name": names.get(s["link"], "")})
    return pd.DataFrame(rows, columns=list(CHAIN_COLUMNS))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chains_table_equals_a_group_by_group_reference(seed):
    """The vectorized chains table (one nearest search per category) equals the plain loop to the bit,
    ties included: suppliers on a lattice (equal distances) and inside hulls and estates (distance 0),
    ids shuffled so that the smallest id, not the first row, wins a tie."""
    from siteplan.programme.chains import chains_table
    from siteplan.relocation.clusters import find_clusters

    rng = np.random.default_rng(seed)
    cat = load_catalogue()
    codes = [c for c, ch in zip(cat.table["code"], cat.table["chain"].fillna("")) if ch][:80]
    n = 400
    town = rng.integers(3, size=n)
    xy = np.c_[town * 3000 + rng.integers(0, 12, n) * 50.0, rng.integers(0, 12, n) * 50.0]
    ids = np.array([f"B{i:04d}" for i in rng.permutation(n)], dtype=object)
    biz = gpd.GeoDataFrame({"biz_id": ids, "category": rng.choice(codes, n)},
                           geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:32639")
    biz.loc[rng.random(n) < 0.05, "category"] = None
    estates = gpd.GeoDataFrame({"estate_id": ["E2", "E1", "E3"]},
                               geometry=[shapely.box(k * 4000, 5000, k * 4000 + 500, 5500) for k in range(3)],
                               crs="EPSG:32639")
    sc = SimpleNamespace(clusters=SimpleNamespace(eps_m=120.0, min_samples=4),
                         programme=SimpleNamespace(chain_reach_km=1.0))
    ok = biz[biz["category"].notna()]
    _, clusters = find_clusters(ok, cat, eps_m=120.0, min_samples=4)
    assert len(clusters) > 3
    t = ok[["biz_id", "category"]].reset_index(drop=True)
    moved = rng.random(len(t)) < 0.1
    t["estate_id"] = np.where(moved, rng.choice(["E1", "E2", "E3"], len(t)), None)
    before = ok.geometry.to_numpy()
    corner = {e: (k * 4000.0, 5000.0) for k, e in enumerate(["E2", "E1", "E3"])}
    after = np.array([shapely.Point(corner[e][0] + 100 * rng.integers(0, 6), corner[e][1] + 100 * rng.integers(0, 6))
                      if isinstance(e, str) else g for e, g in zip(t["estate_id"], before)], dtype=object)
    prep = SimpleNamespace(catalogue=cat, scenario=sc, businesses=biz,
                           region=SimpleNamespace(layers={"estates": estates}))
    res = SimpleNamespace(prep=prep, clusters=clusters)
    p = SimpleNamespace(table=t, before=before, after=after)
    got, want = chains_table(res, p), _chains_reference(res, p)
    assert len(want) > 50 and {"present", "in reach", "missing"} <= set(want["status"])
    assert (want["nearest_km"] == 0).any()  # a tie at distance 0 was decided by the id
    pd.testing.assert_frame_equal(got, want)
    assert got.to_csv(index=False) == want.to_csv(index=False)


# ---------------------------------------------------------------- the demo

@pytest.fixture(scope="module")
def demo(demo_result, demo_run_dir):
    """The shared demo run (conftest): its result and its output folder, both read only."""
    return demo_result, demo_run_dir


def _independent(urban: gpd.GeoDataFrame, mixed: np.ndarray, geoms: np.ndarray, quiet_m: np.ndarray,
                 mixed_m: np.ndarray) -> float:
    """Residents within the distances, the plain way: one union of finer buffers per kind, then each
    urban polygon's population by the share of its area inside."""
    total = 0.0
    pop = urban["population"].fillna(0).to_numpy(float)
    for is_mixed, d in ((False, quiet_m), (True, mixed_m)):
        keep = d > 0
        if not keep.any():
            continue
        u = shapely.union_all(shapely.buffer(geoms[keep], d[keep], quad_segs=64))
        for g, p, m in zip(urban.geometry.values, pop, mixed):
            if m == is_mixed and p > 0:
                total += p * g.intersection(u).area / g.area
    return total


def test_demo_residents_recomputed_independently(demo):
    res, out = demo
    imp = pd.read_csv(out / "impact.csv", encoding="utf-8-sig")
    prov = imp[imp["level"] == "province"].iloc[0]
    p = placements(res)
    urban = res.prep.region.layers["urban"]
    mixed = mixed_mask(urban, res.prep.scenario)
    t = p.table
    q, m = t["quiet_m"].to_numpy(float), t["mixed_m"].to_numpy(float)
    before = _independent(urban, mixed, p.before, q, m)
    assert prov["residents_before"] > 10_000
    assert prov["residents_before"] == pytest.approx(before, rel=0.005)
    after = _independent(urban, mixed, p.after, q, m)
    assert prov["residents_after"] == pytest.approx(after, rel=0.005)
    # one category on its own
    sel = (t["category"] == "scrap").to_numpy()
    row = imp[(imp["level"] == "category") & (imp["id"] == "scrap")].iloc[0]
    assert row["residents_before"] == pytest.approx(_independent(urban, mixed, p.before[sel], q[sel], m[sel]),
                                                    rel=0.005)


def test_demo_impact_buffers_and_unites_each_thing_once(demo, monkeypatch):
    """impact.csv's 211 sets share their buffers and unions (issue 31): no geometry is buffered twice
    at one distance and no union is computed twice from the same buffers."""
    from siteplan.programme import exposure
    from siteplan.programme.impact import impact_table

    res, out = demo
    p = placements(res)
    buffered: list[bytes] = []
    united: list[bytes] = []
    buffer, union_all = shapely.buffer, exposure._UNION

    def ours() -> bool:  # called by the impact figures (the rules' own land is not counted)
        return sys._getframe(2).f_globals.get("__name__") == "siteplan.programme.exposure"

    def count_buffer(geoms, dist, **kw):
        if ours():
            g, d = np.broadcast_arrays(np.atleast_1d(np.asarray(geoms, dtype=object)), np.atleast_1d(dist))
            buffered.extend(shapely.to_wkb(g[i]) + np.float64(d[i]).tobytes() for i in range(len(g)))
        return buffer(geoms, dist, **kw)

    def count_union(geoms, **kw):
        united.append(b"|".join(shapely.to_wkb(np.atleast_1d(np.asarray(geoms, dtype=object)))))
        return union_all(geoms, **kw)

    monkeypatch.setattr(shapely, "buffer", count_buffer)
    monkeypatch.setattr(exposure, "_UNION", count_union)  # the impact figures' unions
    imp = impact_table(res, p)
    monkeypatch.undo()
    written = pd.read_csv(out / "impact.csv", encoding="utf-8-sig")
    assert len(imp) == len(written) and imp["residents_before"].tolist() == written["residents_before"].tolist()
    assert len(united) > 100 and len(set(united)) == len(united)
    # at most one buffer per business before and after the move and per set moved somewhere given
    assert len(buffered) <= 2 * len(p.table) + imp.loc[imp["level"].isin(["site", "upgrade"]), "businesses"].sum()


def test_demo_no_assigned_business_has_residents_within_its_separation(demo):
    res, out = demo
    p = placements(res)
    moved = np.flatnonzero(p.table["moved"].to_numpy())
    assert len(moved) > 1000
    per = p.residents.exposed(p.after[moved], p.table["quiet_m"].to_numpy()[moved],
                              p.table["mixed_m"].to_numpy()[moved], p.table["biz_id"].to_numpy()[moved])
    assert per.max() < 0.5, per.sort_values().tail()
    imp = pd.read_csv(out / "impact.csv", encoding="utf-8-sig")
    est = imp[imp["level"] == "estate"]
    assert len(est) and (est["residents_after"] == 0).all() and (est["residents_relieved"] > 0).any()


def test_demo_feasibility_agrees_with_sites_upgrades_relocation(demo):
    res, out = demo
    f = pd.read_csv(out / "feasibility.csv", encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    sites = gpd.read_file(out / "sites.geojson")
    rel = pd.read_csv(out / "relocation.csv", encoding="utf-8-sig", dtype={"site_id": str})
    up = pd.read_csv(out / "upgrades.csv", encoding="utf-8-sig")
    fs = f[f["option"] == "new site"].set_index("id")
    assert set(fs.index) == set(sites["site_id"]) and len(fs) == len(sites)
    cat = load_catalogue().table.set_index("code")
    for s in sites.itertuples():
        r = fs.loc[s.site_id]
        assert r["gross_ha"] == pytest.approx(s.gross_ha, abs=0.01) and r["net_ha"] == pytest.approx(s.net_ha, abs=0.01)
        take = rel[rel["site_id"] == s.site_id]
        assert r["businesses"] == len(take) == s.units
        assert r["land_ha"] == pytest.approx(take["land_m2"].sum() / 1e4, abs=0.01)
        need = {u for c in s.categories.split(", ") for u in cat.loc[c, "utilities"]}
        for u in need:
            assert u in r["extend"], (s.site_id, u, r["extend"])
        if "wastewater" in need:
            assert "wastewater" in r["utilities"]
    assert any("wastewater" in str(x) for x in fs["extend"])  # the demo has a site that needs it
    fu = f[f["option"] == "upgrade"]
    assert len(fu) == len(up)
    for (_, a), (_, b) in zip(fu.iterrows(), up.iterrows()):
        assert a["id"] == f"{b['estate_id']}#{int(b['rank'])}"
        n = next((b[k] for k in ("placed", "businesses", "businesses_est") if k in up and pd.notna(b[k])), 0)
        assert a["businesses"] == n
        if "wastewater" in str(b["upgrade"]):
            assert "wastewater" in a["extend"]


def test_demo_chains_list_every_cluster(demo):
    res, out = demo
    ch = pd.read_csv(out / "chains.csv", encoding="utf-8-sig", keep_default_na=False)
    clusters = gpd.read_file(out / "clusters.geojson")
    got = ch[ch["level"] == "cluster"]
    assert set(got["id"]) == set(clusters["cluster_id"])
    assert set(got["status"]) <= {"present", "in reach", "missing"}
    assert (got.groupby("id")["status"].apply(lambda s: (s == "present").any())).all()
    html = (out / "report.html").read_text(encoding="utf-8")
    for key in ('id="sp-impact"', 'id="sp-feasibility"', 'id="sp-chains"'):
        assert key in html


def test_find_clusters_equals_a_label_by_label_reference():
    """find_clusters (members by one sort per chain, hulls at once) equals DBSCAN's labels taken one by
    one: ids numbered per chain by their lowest member, categories counted, the same hull bytes."""
    from collections import Counter

    from sklearn.cluster import DBSCAN

    from siteplan.relocation.clusters import find_clusters

    rng = np.random.default_rng(5)
    cat = load_catalogue()
    codes = [c for c, ch in zip(cat.table["code"], cat.table["chain"].fillna("")) if ch][:30]
    n = 600
    xy = np.c_[rng.integers(0, 6, n) * 2000 + rng.normal(0, 80, n), rng.normal(0, 80, n)]
    biz = gpd.GeoDataFrame({"category": rng.choice(codes, n)}, index=rng.permutation(n) + 100,
                           geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:32639")
    cid, got = find_clusters(biz, cat, eps_m=150.0, min_samples=3)
    chain_of = dict(zip(cat.table["code"], cat.table["chain"].fillna("")))
    chains = biz["category"].map(chain_of).to_numpy()
    want, ids = [], [None] * n
    for chain in sorted(set(chains)):
        pos = np.flatnonzero(chains == chain)
        labels = DBSCAN(eps=150.0, min_samples=3, algorithm="ball_tree").fit_predict(xy[pos])
        for k, lab in enumerate(sorted({x for x in labels if x >= 0}, key=lambda x: pos[labels == x].min()), 1):
            m = pos[labels == lab]
            for i in m:
                ids[i] = f"{chain}-{k:03d}"
            cats = Counter(biz["category"].to_numpy()[m])
            hull = shapely.convex_hull(shapely.multipoints(xy[m])).buffer(50.0, quad_segs=4)
            want.append((f"{chain}-{k:03d}", chain, len(m), ", ".join(f"{c}:{cats[c]}" for c in sorted(cats)),
                         shapely.to_wkb(hull)))
    assert len(want) > 10 and cid.tolist() == ids and list(cid.index) == list(biz.index)
    assert [(r.cluster_id, r.chain, r.members, r.categories, shapely.to_wkb(r.geometry))
            for r in got.itertuples()] == want
