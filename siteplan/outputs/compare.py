"""Comparing two runs: what changes between scenario A and scenario B.

``siteplan compare RUN_A RUN_B --out DIR`` answers "what if we add wastewater at estate X" or "what if
the AHP weights change" from two run folders that ``siteplan run`` wrote. It reads their
``relocation.csv``, ``estates.geojson``, ``sites.geojson``, ``zones.geojson`` and ``manifest.json``
defensively (only the columns it compares must be there: ``biz_id`` and ``status``; ``estate_id``,
``reason``, ``land_m2``, ``distance_km``, ``zone_id``, ``site_id`` when present; other columns are
ignored) and writes:

===============  ===========================================================================
``moved.csv``    every business whose outcome differs: moved to another estate, newly assigned,
                 newly unassigned, unassigned but taken by another proposed site (or none),
                 unassigned for another reason, or in one run only; ``because`` says whether a place
                 change serves the change of an estate (``change``), follows a change that reaches every
                 business (``scenario``: a setting, the seed, another layer) or neither (``nothing``,
                 :func:`moved_because`); with both sides' estate,
                 site, zone, distance and reason
``estates.csv``  land used and units per estate in A and B and the change
``sites.csv``    proposed sites: kept (matched by overlap, ``overlap`` = area of intersection over
                 union), moved (matched within its own size, see :func:`compare_sites`), added or
                 removed
``zones.csv``    zones (one per estate and category) added, removed, resized or redrawn
``totals.csv``   businesses, assigned, unassigned, land, the objective, total and mean trip length,
                 sites, zones, and the counts of each kind of change
``compare.html`` the same as one self-contained, Persian-first page with a map (arrows for the
                 businesses that change estate, estates coloured by the change of their intake, sites
                 added, removed or moved) and the tables (:mod:`siteplan.outputs.compare_page`)
===============  ===========================================================================

Runs of different regions: when the two runs share no business and no estate there is nothing to
compare and the command refuses; when they share some, the comparison is made on what they share
and the businesses and estates of one run only are listed as such, with a note. Inputs that differ
(layer files, scenario settings) are named in the notes: that is usually the point of the
comparison.

Unassigned businesses are compared by ``reason_code`` (the fixed vocabulary of
:mod:`siteplan.relocation.reasons`), not by the sentence, whose numbers (distances, model probabilities) change
from run to run without the reason changing. The CSVs have a UTF-8 byte-order mark (Excel needs it for
Persian) unless both runs were written with ``outputs.csv_bom: false``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..common.units import M2_PER_HA
from ..errors import InputError
from .compare_places import SITE_CHANGES, SITE_MATCH_OVERLAP, ZONE_SAME_OVERLAP, compare_sites, compare_zones, site_map
from .compare_read import TEXT_COLUMNS, RunFolder, destination, is_placed, read_run

log = logging.getLogger(__name__)

__all__ = ["RunFolder", "Comparison", "read_run", "compare_runs", "compare_businesses", "compare_estates",
           "compare_sites", "compare_zones", "CHANGES", "SITE_MATCH_OVERLAP", "SITE_CHANGES", "ZONE_SAME_OVERLAP",
           "site_map", "changed_estates", "moved_because", "wide_change", "ESTATE_FIELDS"]

#: The kinds of change of a business, in the order tables list them.
CHANGES = ("moved", "newly_assigned", "newly_unassigned", "site_changed", "reason_changed", "only_in_a",
           "only_in_b")


@dataclass
class Comparison:
    """Two runs and the tables of what differs (see the module's docstring); ``notes`` in English (the
    command's log) and ``notes_fa``, the same in Persian (the page).

    Parameters
    ----------
    a
        Run A as read (:func:`siteplan.outputs.compare_read.read_run`).
    b
        Run B as read.
    moved
        Every business whose outcome differs (``moved.csv``): its kind of ``change`` (:data:`CHANGES`),
        ``because`` and both sides' estate, site, zone, distance (km) and reason.
    estates
        Land used (ha) and units per estate in A and B and the change (``estates.csv``).
    sites
        Proposed sites kept, moved, added or removed (``sites.csv``).
    zones
        Zones added, removed, resized or redrawn (``zones.csv``).
    totals
        The runs' totals side by side and the counts of each kind of change (``totals.csv``).
    notes
        What else differs (inputs, settings, layers one run lacks), one English sentence each.
    notes_fa
        The same notes in Persian, in the same order.
    """

    a: RunFolder
    b: RunFolder
    moved: pd.DataFrame
    estates: pd.DataFrame
    sites: pd.DataFrame
    zones: pd.DataFrame
    totals: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    notes_fa: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Businesses per kind of change, and those whose place changed because of the change
        (``because_change``) or for nothing (``for_nothing``; :func:`moved_because`)."""
        vc = self.moved["change"].value_counts()
        out = {c: int(vc.get(c, 0)) for c in CHANGES}
        why = self.moved["because"] if "because" in self.moved else pd.Series(dtype=object)
        out["because_change"] = int((why == "change").sum())
        out["because_scenario"] = int((why == "scenario").sum())
        out["for_nothing"] = int((why == "nothing").sum())
        return out


# ------------------------------------------------------------------------------------------------
# comparing
# ------------------------------------------------------------------------------------------------


def compare_businesses(a: pd.DataFrame, b: pd.DataFrame, site_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Every business whose outcome differs between two relocation tables.

    Parameters
    ----------
    a, b
        Relocation tables as :func:`read_run` reads them.
    site_map
        A's proposed-site ids -> B's, for the sites that :func:`compare_sites` matched (kept or moved):
        site ids are each run's labels, so a business that A's S02 and B's S03 would take, the same
        site, has not changed site. Without it ids are compared as written.

    Returns
    -------
    pandas.DataFrame
        ``biz_id``, ``name``, ``category``, ``category_fa``, ``lon``, ``lat`` (where the business is),
        ``change`` (one of :data:`CHANGES`: ``site_changed`` is an unassigned business that another
        proposed site, or none, would take; ``reason_changed`` one unassigned for a reason of
        another ``reason_code``), and per side ``status``, ``estate_id``, ``site_id``, ``zone_id``,
        ``distance_km``, ``land_m2``, ``reason_code``, ``reason``, ``reason_fa`` (suffixes ``_a``, ``_b``); sorted by
        change, category and ``biz_id``.
    """
    m = a.merge(b, on="biz_id", how="outer", suffixes=("_a", "_b"), indicator=True, sort=True)
    for s in ("_a", "_b"):
        for c in TEXT_COLUMNS:
            if c != "biz_id":
                m[c + s] = m[c + s].fillna("")
    in_a, in_b = m["_merge"] != "right_only", m["_merge"] != "left_only"
    pa, pb = is_placed(m["status_a"]) & in_a, is_placed(m["status_b"]) & in_b
    smap = site_map or {}
    site_a = m["site_id_a"].map(lambda v: smap.get(v, v))  # A's site under B's label when matched
    wa = m["estate_id_a"].where(m["estate_id_a"] != "", site_a)
    wb = m["estate_id_b"].where(m["estate_id_b"] != "", m["site_id_b"])
    both_out = ~pa & ~pb
    change = np.select(
        [~in_b, ~in_a, pa & pb & (wa != wb), ~pa & pb, pa & ~pb, both_out & (site_a != m["site_id_b"]),
         both_out & (m["reason_code_a"] != m["reason_code_b"])],
        ["only_in_a", "only_in_b", "moved", "newly_assigned", "newly_unassigned", "site_changed", "reason_changed"],
        default="")
    m["change"] = change
    for c in ("name", "category", "category_fa"):
        m[c] = m[c + "_b"].where(m[c + "_b"] != "", m[c + "_a"])
    for c in ("lon", "lat"):
        m[c] = m[c + "_b"].where(m[c + "_b"].notna(), m[c + "_a"])
    out = m[m["change"] != ""]
    cols = ["biz_id", "name", "category", "category_fa", "lon", "lat", "change"]
    for c in ("status", "estate_id", "site_id", "zone_id", "distance_km", "land_m2", "reason_code", "reason",
              "reason_fa"):
        cols += [c + "_a", c + "_b"]
    out = out[cols].copy()
    order = {c: i for i, c in enumerate(CHANGES)}
    out = out.assign(_o=out["change"].map(order)).sort_values(["_o", "category", "biz_id"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


#: the estates.geojson fields that describe an estate (not the plan's figures): an estate whose fields
#: differ between the runs, or that only one run has, is "changed"
ESTATE_FIELDS = ("kind", "gross_ha", "vacant_ha", "max_cat", "cap_ha")


def changed_estates(a: gpd.GeoDataFrame | None, b: gpd.GeoDataFrame | None) -> set[str]:
    """Estates whose description differs between two runs: in one run only, another polygon, or another
    value of :data:`ESTATE_FIELDS` or of an ``elig_<category>`` (whether it takes the category, which
    says when a utility, ``max_cat`` or ``kind`` changed)."""
    if a is None or b is None or "estate_id" not in a or "estate_id" not in b:
        return set()
    ta, tb = (g.assign(estate_id=g["estate_id"].astype(str)).drop_duplicates("estate_id").set_index("estate_id")
              for g in (a, b))
    out = set(ta.index) ^ set(tb.index)
    cols = [c for c in ta.columns if c in tb.columns and (c in ESTATE_FIELDS or c.startswith("elig_"))]
    both = sorted(set(ta.index) & set(tb.index))
    for c in cols:
        va, vb = ta.loc[both, c].astype(str), tb.loc[both, c].astype(str)
        out |= set(va.index[va.to_numpy() != vb.to_numpy()])
    ga, gb = ta.loc[both].geometry.to_numpy(), tb.loc[both].geometry.to_numpy()
    same = shapely.equals_exact(ga, gb, tolerance=1e-9)
    out |= {e for e, k in zip(both, same) if not k}
    return out


#: the scenario's settings that decide where businesses are placed (the others — outputs, report, zoning,
#: sites, upgrades, programme, sensitivity — change what is written about the plan, not the plan)
PLACING_SETTINGS = ("crs", "grid", "categories", "criteria", "weights", "aggregation", "rules", "catalogue",
                    "classification", "allocation", "clusters", "reservations", "national")


def wide_change(ma: dict[str, Any], mb: dict[str, Any]) -> bool:
    """Whether the two runs' manifests say something differs that reaches every business, not one estate: a
    setting that decides placement (:data:`PLACING_SETTINGS`), the seed, or an input layer other than the
    estates."""
    sa, sb = ma.get("scenario"), mb.get("scenario")
    if isinstance(sa, dict) and isinstance(sb, dict) and any(sa.get(k) != sb.get(k) for k in PLACING_SETTINGS):
        return True
    if ma.get("seed") != mb.get("seed"):
        return True
    ia, ib = ma.get("inputs"), mb.get("inputs")
    return isinstance(ia, dict) and isinstance(ib, dict) and any(
        ia.get(k) != ib.get(k) for k in set(ia) | set(ib) if k != "estates")


def moved_because(moved: pd.DataFrame, changed: set[str], *, wide: bool = False) -> pd.Series:
    """For each business that changes place (``moved``, ``newly_assigned``, ``newly_unassigned``): ``change``
    when the change of an estate serves it; else ``scenario`` when the runs differ in something that reaches
    every business (``wide``: :func:`wide_change`, e.g. a weight, the reach, the registry), which no single
    move can be traced to; else ``nothing``; "" for the other rows.

    A place change from estate A to estate B (either may be "unassigned") serves the change when
    (1) A or B is a changed estate (:func:`changed_estates`), or, chain-wise, (2) B is an estate that a
    business served by the change left (it took the room freed), or (3) A is an estate that a business
    served by the change entered (it was displaced by it); (2) and (3) are applied until nothing is added.
    """
    kinds = ("moved", "newly_assigned", "newly_unassigned")
    sel = moved["change"].isin(kinds)
    src = moved["estate_id_a"].where(is_placed(moved["status_a"]), "").astype(str)
    dst = moved["estate_id_b"].where(is_placed(moved["status_b"]), "").astype(str)
    ok = sel & (src.isin(changed) | dst.isin(changed))
    while True:
        freed = set(src[ok]) - {""}
        filled = set(dst[ok]) - {""}
        more = sel & ~ok & (dst.isin(freed) | src.isin(filled))
        if not more.any():
            break
        ok |= more
    return pd.Series(np.select([ok, sel & wide, sel], ["change", "scenario", "nothing"], ""), index=moved.index)


def _estate_use(rel: pd.DataFrame) -> pd.DataFrame:
    p = rel[is_placed(rel["status"])]
    g = p.assign(where=destination(p)).groupby("where")
    return pd.DataFrame({"land_ha": g["land_m2"].sum(min_count=1) / M2_PER_HA, "units": g.size()})


def compare_estates(a: RunFolder, b: RunFolder) -> pd.DataFrame:
    """Land used (ha) and units per estate (or proposed site) in A and B, from the relocation tables,
    with the estate's name and capacity from ``estates.geojson`` where present."""
    ua, ub = _estate_use(a.relocation), _estate_use(b.relocation)
    ids = sorted(set(ua.index) | set(ub.index)
                 | {str(e) for g in (a.estates, b.estates) if g is not None and "estate_id" in g for e in g["estate_id"]})
    t = pd.DataFrame({"estate_id": ids})
    info: dict[str, dict[str, Any]] = {}
    for g in (a.estates, b.estates):  # B's description wins where both have it
        if g is not None and "estate_id" in g:
            for r in g.drop(columns=g.geometry.name).to_dict(orient="records"):
                info[str(r["estate_id"])] = r
    t["name"] = [str(info.get(e, {}).get("name", "") or "") for e in ids]
    t["cap_ha"] = [info.get(e, {}).get("cap_ha", np.nan) for e in ids]
    t["cap_ha"] = pd.to_numeric(t["cap_ha"], errors="coerce")
    for s, u in (("a", ua), ("b", ub)):
        t[f"used_ha_{s}"] = t["estate_id"].map(u["land_ha"]).fillna(0.0).round(4)
        t[f"units_{s}"] = t["estate_id"].map(u["units"]).fillna(0).astype(int)
    t["change_ha"] = (t["used_ha_b"] - t["used_ha_a"]).round(4)
    t["change_units"] = t["units_b"] - t["units_a"]
    for s, g in (("a", a.estates), ("b", b.estates)):
        known = set(map(str, g["estate_id"])) if g is not None and "estate_id" in g else set()
        t[f"in_{s}"] = t["estate_id"].isin(known) | t["estate_id"].isin((ua if s == "a" else ub).index)
    return t


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")


def _totals(a: RunFolder, b: RunFolder, moved: pd.DataFrame, sites: pd.DataFrame, zones: pd.DataFrame
            ) -> pd.DataFrame:
    rows: list[tuple[str, float, float]] = []
    for key, label in (("businesses", "businesses"), ("assigned", "assigned"), ("unassigned", "unassigned"),
                       ("unclassified", "unclassified")):
        vals = []
        for r in (a.relocation, b.relocation):
            placed = is_placed(r["status"])
            vals.append(float({"businesses": len(r), "assigned": placed.sum(), "unassigned": (~placed).sum(),
                               "unclassified": (r["category"] == "").sum()}[key]))
        rows.append((label, vals[0], vals[1]))
    by_site = [float((~is_placed(r["status"]) & (r["site_id"] != "")).sum()) for r in (a.relocation, b.relocation)]
    rows.append(("unassigned a proposed site would take", by_site[0], by_site[1]))
    land, trip, mean = [], [], []
    for r in (a.relocation, b.relocation):
        p = r[is_placed(r["status"])]
        land.append(round(float(p["land_m2"].sum()) / M2_PER_HA, 4))
        trip.append(round(float(p["distance_km"].sum()), 3))
        mean.append(round(float(p["distance_km"].mean()), 4) if p["distance_km"].notna().any() else float("nan"))
    rows += [("land assigned (ha)", land[0], land[1]), ("total trip length (km)", trip[0], trip[1]),
             ("mean trip length (km)", mean[0], mean[1])]
    placed = [r[is_placed(r["status"])] for r in (a.relocation, b.relocation)]
    if all(p["road_km"].notna().any() for p in placed):  # both runs measured travel on roads
        km = [round(float(p["road_km"].mean()), 4) for p in placed]
        mins = [round(float(p["minutes"].mean()), 3) for p in placed]
        rows += [("mean trip by road (km)", km[0], km[1]), ("mean trip time (min)", mins[0], mins[1])]
    for key, label in (("objective", "objective"), ("lp_bound", "lower bound"), ("gap", "gap")):
        va, vb = (_num((r.manifest.get("solver") or {}).get(key)) for r in (a, b))
        rows.append((label, va, vb))
    rows.append(("proposed sites", float(len(a.sites)) if a.sites is not None else float("nan"),
                 float(len(b.sites)) if b.sites is not None else float("nan")))
    rows.append(("zones", float(len(a.zones)) if a.zones is not None else float("nan"),
                 float(len(b.zones)) if b.zones is not None else float("nan")))
    t = pd.DataFrame(rows, columns=["metric", "a", "b"])
    t["change"] = (t["b"] - t["a"]).round(6)
    counts = moved["change"].value_counts()
    extra = [(f"businesses {c.replace('_', ' ')}", np.nan, np.nan, float(counts.get(c, 0))) for c in CHANGES]
    if "because" in moved:
        extra += [("moved because of the change", np.nan, np.nan, float((moved["because"] == "change").sum())),
                  ("moved with a scenario-wide change", np.nan, np.nan, float((moved["because"] == "scenario").sum())),
                  ("moved for nothing", np.nan, np.nan, float((moved["because"] == "nothing").sum()))]
    extra += [(f"sites {c}", np.nan, np.nan, float((sites["change"] == c).sum())) for c in SITE_CHANGES]
    extra += [(f"zones {c}", np.nan, np.nan, float((zones["change"] == c).sum()))
              for c in ("added", "removed", "resized", "redrawn")]
    return pd.concat([t, pd.DataFrame(extra, columns=t.columns)], ignore_index=True)


_LAYER_FA = {"estates": "شهرک‌ها", "sites": "سایت‌ها", "zones": "پهنه‌ها"}


def _notes(a: RunFolder, b: RunFolder, moved: pd.DataFrame) -> list[tuple[str, str]]:
    """The comparison's notes, each in English and Persian (names, ids and numbers as written)."""
    notes: list[tuple[str, str]] = []
    only_a, only_b = int((moved["change"] == "only_in_a").sum()), int((moved["change"] == "only_in_b").sum())
    if only_a or only_b:
        notes.append(((f"the runs' business registries differ: {only_a} business(es) only in A and {only_b} only in B "
                      "(listed in moved.csv as only_in_a / only_in_b); the rest are compared"),
                      (f"فهرست کسب‌وکارهای دو اجرا یکی نیست: {only_a} کسب‌وکار فقط در A و {only_b} فقط در B "
                      "(در moved.csv با only_in_a و only_in_b)؛ بقیه مقایسه شده‌اند")))
    notes += _manifest_notes(a.manifest, b.manifest)
    for r, lab in ((a, "A"), (b, "B")):
        notes += _missing_notes(r, lab)
    return notes


def _manifest_notes(ma: dict[str, Any], mb: dict[str, Any]) -> list[tuple[str, str]]:
    """What the two runs' manifests say differs: inputs, scenario settings, seeds, siteplan versions."""
    notes: list[tuple[str, str]] = []
    ia, ib = ma.get("inputs"), mb.get("inputs")
    if isinstance(ia, dict) and isinstance(ib, dict):
        diff = sorted(k for k in set(ia) | set(ib) if ia.get(k) != ib.get(k))
        if diff:
            notes.append((f"input layers that differ between the runs: {', '.join(diff)}",
                          f"لایه‌های ورودی متفاوت دو اجرا: {'، '.join(diff)}"))
    sa, sb = ma.get("scenario"), mb.get("scenario")
    if isinstance(sa, dict) and isinstance(sb, dict):
        diff = sorted(k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k) and k != "layers")
        if diff:
            notes.append((f"scenario settings that differ: {', '.join(diff)}",
                          f"تنظیمات متفاوت سناریو: {'، '.join(diff)}"))
    if ma.get("seed") != mb.get("seed"):
        sd = (ma.get("seed"), mb.get("seed"))
        notes.append((f"the runs used different seeds ({sd[0]} and {sd[1]})",
                      f"بذر تصادفی دو اجرا متفاوت است ({sd[0]} و {sd[1]})"))
    va, vb = ma.get("siteplan"), mb.get("siteplan")
    if va != vb:
        notes.append(((f"written by different siteplan versions ({va} and {vb}); differences may come from the "
                      "program as well as the scenario"),
                      (f"دو اجرا با نسخه‌های متفاوت siteplan نوشته شده‌اند ({va} و {vb})؛ بخشی از تفاوت‌ها ممکن است "
                      "از برنامه باشد نه از سناریو")))
    return notes


def _missing_notes(r: RunFolder, lab: str) -> list[tuple[str, str]]:
    """What run ``lab`` lacks: its manifest, its estates, sites or zones."""
    notes: list[tuple[str, str]] = []
    if not r.manifest:
        notes.append((f"run {lab} has no siteplan manifest.json: objective and inputs are not compared",
                      f"اجرای {lab} فایل manifest.json ندارد: تابع هدف و ورودی‌ها مقایسه نشده‌اند"))
    for layer in ("estates", "sites", "zones"):
        if getattr(r, layer) is not None:
            continue
        if layer == "estates":
            notes.append((f"run {lab} has no {layer}.geojson: {layer} compared from relocation.csv only",
                          (f"اجرای {lab} فایل {layer}.geojson ندارد: شهرک‌ها فقط از روی relocation.csv "
                          "مقایسه شده‌اند و روی نقشه نیستند")))
        else:
            notes.append((f"run {lab} has no {layer}.geojson",
                          f"اجرای {lab} فایل {layer}.geojson ({_LAYER_FA[layer]}) ندارد"))
    return notes


def compare_runs(a: str | Path | RunFolder, b: str | Path | RunFolder) -> Comparison:
    """Compare two run folders.

    Parameters
    ----------
    a, b
        Run folders (or what :func:`read_run` returned), read as RUN_A and RUN_B.

    Returns
    -------
    Comparison
        The two runs and the tables of what differs, with the notes in English and Persian.

    Raises
    ------
    InputError
        A folder is not a run (:func:`read_run`), or the two runs share no business and no estate (runs
        of different regions: nothing to compare).
    """
    ra = a if isinstance(a, RunFolder) else read_run(a, "RUN_A")
    rb = b if isinstance(b, RunFolder) else read_run(b, "RUN_B")
    common_biz = set(ra.relocation["biz_id"]) & set(rb.relocation["biz_id"])
    est_a = set(destination(ra.relocation)) | (set(map(str, ra.estates["estate_id"])) if ra.estates is not None
                                         and "estate_id" in ra.estates else set())
    est_b = set(destination(rb.relocation)) | (set(map(str, rb.estates["estate_id"])) if rb.estates is not None
                                         and "estate_id" in rb.estates else set())
    if not common_biz and not (est_a & est_b) - {""}:
        raise InputError(f"RUN_A {ra.path} and RUN_B {rb.path} share no business (biz_id) and no estate "
                         f"(estate_id): they are runs of different regions ({ra.name!r} and {rb.name!r}), so there "
                         "is nothing to compare; compare two runs of the same region")
    sites = compare_sites(ra.sites, rb.sites)
    moved = compare_businesses(ra.relocation, rb.relocation, site_map(sites))
    moved["because"] = moved_because(moved, changed_estates(ra.estates, rb.estates),
                                     wide=wide_change(ra.manifest, rb.manifest))
    estates = compare_estates(ra, rb)
    zones = compare_zones(ra.zones, rb.zones)
    totals = _totals(ra, rb, moved, sites, zones)
    notes = _notes(ra, rb, moved)
    return Comparison(ra, rb, moved, estates, sites, zones, totals, [en for en, _ in notes], [fa for _, fa in notes])
