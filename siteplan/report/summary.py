"""What a reviewer should conclude, as plain data: the headline figures and the chart data of the report.

Everything here is numbers and raw strings (never HTML): :mod:`.panel` escapes the headline into the
panel, and the chart data travels in the page's JSON data block to ``app.js``, which draws SVG charts
with DOM calls and ``textContent``.

Proposed sites and upgrades: the figures come from the run's options table (upgrades and new sites
side by side, with the businesses and land each places), else from its upgrade / absorption tables and
``res.sites``; read defensively (:func:`proposals`), any of them may be absent.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..common.units import M2_PER_HA
from ..relocation.reasons import REASON_CODES, reason_codes
from .styles import REASON_COLOURS as REASON_COLOURS  # the report and the GIS styles share it
from .words import cat_fa, codes_fa, extend_fa, qty

if TYPE_CHECKING:
    from ..locate.findings import RobustnessSummary
    from ..results import RunResult

__all__ = ["headline", "charts", "group_warnings", "site_room", "proposals", "proposal_fa"]

#: charts show this many estates / towns; the rest are summed into one "others" bar or node
TOP_ESTATES = 20
TOP_TOWNS = 12
TOP_FLOW_ESTATES = 10


def _r(x: float, nd: int = 1) -> float:
    return round(float(x), nd)


def site_room(units: object) -> list[tuple[str, int]]:
    """A site's room from its feasibility sheet's ``units`` (``car_repair:322, car_parts:136``)."""
    out = []
    for part in str(units or "").split(","):
        code, _, n = part.strip().rpartition(":")
        if code and n.strip().isdigit():
            out.append((code.strip(), int(n)))
    return out


def _records(t: object) -> pd.DataFrame | None:
    if t is None:
        return None
    try:
        df = t if isinstance(t, pd.DataFrame) else pd.DataFrame(list(t))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # an unexpected shape (not a table, not rows): leave it to the tables
        return None
    return df if len(df) else None


def _pick(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((c for c in names if c in df), None)


def proposals(res: RunResult) -> list[dict[str, Any]]:
    """Proposed sites and upgrades with what they absorb, as rows ``{"kind", "id", "label", "units",
    "land_ha", "detail"}``, best first.

    Read defensively, in this order: the run's side-by-side table of options (``res.options``:
    ``option``, ``id``, ``what``, ``businesses``, ``land_ha``, ``cost_proxy``); else its upgrade and
    absorption tables (``upgrades``, ``absorption``, ``site_absorption``, ``proposals``) plus the
    proposed sites; each proposed site with the businesses it takes (``units``/``takes``) or, from an
    older feasibility sheet, its room per category capped by the demand left unplaced."""
    opts = _records(getattr(res, "options", None))
    if opts is not None and {"id", "businesses"} <= set(opts.columns):
        return [{"kind": "upgrade" if "upgrade" in str(r.get("option", "")) else "site", "id": str(r["id"]),
                 "label": str(r.get("what", "") or ""),
                 "units": int(r["businesses"]) if pd.notna(r["businesses"]) else None,
                 "land_ha": _r(r["land_ha"], 2) if "land_ha" in opts and pd.notna(r.get("land_ha")) else None,
                 "detail": str(r.get("cost_proxy", "") or "")} for r in opts.to_dict("records")]
    rows: list[dict[str, Any]] = []
    for attr in ("upgrades", "absorption", "site_absorption", "proposals"):
        df = _records(getattr(res, attr, None))
        if df is None:
            continue
        idc = _pick(df, ("site_id", "estate_id", "proposal_id", "id"))
        uc = _pick(df, ("businesses", "units", "absorbed_units", "absorbed"))
        lc = _pick(df, ("land_ha", "absorbed_ha", "area_ha", "added_ha", "ha"))
        lab = _pick(df, ("upgrade", "what", "name"))
        dc = _pick(df, ("categories", "category", "detail", "action"))
        kind = "upgrade" if attr == "upgrades" else "site"
        rows.extend({"kind": kind, "id": str(rec.get(idc, "")) if idc else "",
                     "label": str(rec.get(lab, "") or "") if lab else "",
                     "units": int(rec[uc]) if uc and pd.notna(rec.get(uc)) else None,
                     "land_ha": _r(rec[lc], 2) if lc and pd.notna(rec.get(lc)) else None,
                     "detail": str(rec.get(dc, "")) if dc else ""} for rec in df.to_dict("records"))
    unmet = res.plan.unmet.set_index("category")["units"] if len(res.plan.unmet) else pd.Series(dtype=float)
    for s in res.sites.itertuples():
        takes = getattr(s, "takes", None)
        if takes is not None and isinstance(getattr(s, "units", None), (int, float, np.integer, np.floating)):
            units, land, detail = int(s.units), getattr(s, "land_ha", None), str(takes or "")
        else:
            absorb = [(c, int(min(n, unmet.get(c, 0)))) for c, n in site_room(getattr(s, "units", ""))]
            units, land = int(sum(n for _, n in absorb)), getattr(s, "area_ha", None)
            detail = ", ".join(f"{c} {n}" for c, n in absorb if n)
        chain = str(getattr(s, "chain", "") or "")
        area = getattr(s, "area_ha", None)
        rows.append({"kind": "site", "id": str(s.site_id),
                     "label": f"new {chain} estate of {float(area):g} ha" if area is not None else chain,
                     "units": units, "land_ha": _r(land, 2) if land is not None and pd.notna(land) else None,
                     "detail": detail})
    return rows


_UTIL_FA = {"power": "برق", "gas": "گاز", "water": "آب", "wastewater": "فاضلاب"}
_UPGRADE_FA = [(re.compile(r"^add (power|gas|water|wastewater)$"), "افزودن شبکه {0}"),
               (re.compile(r"^raise max_cat (.*) → (.*)$"), "افزایش سقف رده محیطی از {0} به {1}"),
               (re.compile(r"^add (power|gas|water|wastewater) \(estimate: not verified by re-solving the plan\)$"),
                "افزودن شبکه {0} (برآورد؛ با حل دوباره طرح وارسی نشده)"),
               (re.compile(r"^admit kind '(.*)'$", re.DOTALL), "پذیرش نوع «{0}»")]
_COST_FA = [(re.compile(r"^(power|gas|water|wastewater): no \w+ network in the utilities layer$"),
             "{0}: شبکه‌ای در لایه تأسیسات نیست"),
            (re.compile(r"^(power|gas|water|wastewater) network ([\d.]+) km away$"), "شبکه {0} در {1} km"),
            (re.compile(r"^(power|gas|water|wastewater): no network in the inputs$"), "{0}: شبکه‌ای در داده‌های ورودی نیست"),
            (re.compile(r"^category (.*) needs (.*) m from homes \(a buffer zone\)$"),
             "رده {0} به {1} m فاصله از مسکونی نیاز دارد (حریم)"),
            (re.compile(r"^a change of the estate's designation$"), "تغییر کاربری شهرک"),
            (re.compile(r"^a new estate of ([\d.]+) ha$"), "شهرک جدید {0} ha"),
            (re.compile(r"^extend: none$"), "بدون نیاز به توسعه تأسیسات"),
            (re.compile(r"^extend: (.*)$"), "توسعه تأسیسات: {0}")]


def _phrases_fa(t: str, table: list[tuple[re.Pattern[str], str]], sep: str) -> str:
    out = []
    for raw in str(t or "").split(sep):
        part = raw.strip()
        if not part:
            continue
        for pat, fa in table:
            m = pat.match(part)
            if m and fa.startswith("توسعه تأسیسات"):
                out.append(fa.format(extend_fa(m[1])))
                break
            if m:
                out.append(fa.format(*(_UTIL_FA.get(g, g) for g in m.groups())))
                break
        else:
            out.append(part)
    return "؛ ".join(out) if sep == ";" else "، ".join(out)


def proposal_fa(p: dict[str, Any], res: RunResult) -> tuple[str, str]:
    """The Persian label and detail of one row of :func:`proposals`: a new site by its area and the
    Persian names of the categories it takes, an upgrade by what it adds; ids, numbers, units and
    phrases this module does not know kept as written."""
    from . import lang as _lang
    from .bidi import fa_numbers

    if _lang.current() == "en":
        return p["label"], p["detail"]
    names = cat_fa(res)
    if p["kind"] == "site":
        s = res.sites[res.sites["site_id"].astype(str) == p["id"]] if "site_id" in res.sites else res.sites.iloc[:0]
        if len(s):
            r = s.iloc[0]
            area = r.get("area_ha")
            label = (f"شهرک جدید {qty(float(area), 'ha', 'g')}" if area is not None and pd.notna(area) else "شهرک جدید")
            label += f" برای {codes_fa(r.get('categories', ''), names)}" if r.get("categories") else ""
            takes = r.get("takes")
            detail = (f"جذب: {codes_fa(takes, names)}" if takes is not None and pd.notna(takes) else "")
            ext = r.get("extend")
            if ext is not None and pd.notna(ext):
                detail += ("؛ " if detail else "") + "تأسیسات لازم: " + extend_fa(ext)
            return label, detail
        return codes_fa(p["label"], names), fa_numbers(_phrases_fa(p["detail"], _COST_FA, ";"))
    return fa_numbers(_phrases_fa(p["label"], _UPGRADE_FA, ",")), fa_numbers(_phrases_fa(p["detail"], _COST_FA, ";"))


def headline(res: RunResult) -> dict[str, Any]:
    """The headline figures: businesses to move, assigned, unassigned by reason, land needed against
    land available, and the proposed sites and what they absorb."""
    rows = res.plan.rows
    cls = rows["category"].notna()
    assigned = rows["status"] == "assigned"
    codes = reason_codes(rows.loc[~assigned, "reason"])
    by_reason = Counter(c for c in codes if c)
    summ = res.plan.estate_summary
    cap = summ.groupby("estate_id")["capacity_m2"].first().sum() if len(summ) else 0.0
    used = float(rows.loc[assigned, "land_m2"].sum())
    need = float(rows.loc[cls, "land_m2"].sum())
    props = proposals(res)
    return {
        "businesses": len(rows), "classified": int(cls.sum()), "assigned": int(assigned.sum()),
        **_class_counts(res),
        "unassigned": int((~assigned).sum()), "unclassified": int((~cls).sum()),
        "reasons": [[c, REASON_CODES[c][0], REASON_CODES[c][1], int(n), REASON_COLOURS[c]]
                    for c, n in sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))],
        "land_needed_ha": _r(need / M2_PER_HA), "land_assigned_ha": _r(used / M2_PER_HA),
        "land_unplaced_ha": _r((need - used) / M2_PER_HA), "capacity_ha": _r(cap / M2_PER_HA),
        "left_ha": _r(max(cap - used, 0.0) / M2_PER_HA),
        "estates_used": int(rows.loc[assigned, "estate_id"].nunique()),
        "estates": len(res.prep.region.layers["estates"]),
        "travel": travel(res),
        "proposals": props,
        # new sites take disjoint sets of businesses; upgrades are alternatives evaluated one by one
        "proposals_units": int(sum(p["units"] or 0 for p in props if p["kind"] == "site")),
    }


def travel(res: RunResult) -> dict[str, Any]:
    """How travel is measured and the assigned businesses' mean trip: ``road`` (True on the road
    network), ``reach`` (value), ``unit`` (``km`` or ``min``), ``mean_km`` (road km on roads, else
    straight km) and ``mean_min`` (minutes on roads, else None)."""
    rows = res.plan.rows
    a = rows[rows["status"] == "assigned"]
    spec = res.prep.scenario.allocation
    road = "road_km" in rows

    def mean(c: str) -> float | None:
        return _r(float(a[c].mean()), 1) if len(a) and a[c].notna().any() else None

    return {"road": road, "reach": spec.reach if road else spec.max_distance_km,
            "unit": "min" if road and spec.reach_min is not None else "km",
            "mean_km": mean("road_km" if road else "distance_km"), "mean_min": mean("minutes") if road else None}


def _estates_chart(res: RunResult) -> dict[str, Any]:
    summ = res.plan.estate_summary
    est = res.prep.region.layers["estates"]
    names = dict(zip(est["estate_id"], est["name"] if "name" in est else est["estate_id"]))
    if not len(summ):
        return {"rows": []}
    g = summ.groupby("estate_id", sort=False).agg(cap=("capacity_m2", "first"), used=("used_m2", "sum"))
    g = g.sort_values(["cap", "used"], ascending=False, kind="mergesort")
    top, rest = g.iloc[:TOP_ESTATES], g.iloc[TOP_ESTATES:]
    out = [[str(e), str(names.get(e, "")), _r(r.cap / M2_PER_HA), _r(r.used / M2_PER_HA)]
           for e, r in top.iterrows()]
    if len(rest):
        from .lang import pick
        out.append([f"+{len(rest)}", pick("سایر", "others"), _r(rest.cap.sum() / M2_PER_HA),
                    _r(rest.used.sum() / M2_PER_HA)])
    return {"rows": out}


def _flows_chart(res: RunResult) -> dict[str, Any]:
    fl = res.flows
    if fl is None or not len(fl):
        return {"towns": [], "estates": [], "links": []}
    t_units = fl.groupby("origin_name")["units"].sum().sort_values(ascending=False, kind="mergesort")
    e_units = fl.groupby("estate_id")["units"].sum().sort_values(ascending=False, kind="mergesort")
    towns = list(t_units.index[:TOP_TOWNS])
    ests = list(e_units.index[:TOP_FLOW_ESTATES])
    from .bidi import fa_numbers
    from .lang import pick

    tpos = {t: i for i, t in enumerate(towns)}
    epos = {e: i for i, e in enumerate(ests)}
    ti = fl["origin_name"].map(tpos).fillna(len(towns)).astype(int)
    ei = fl["estate_id"].map(epos).fillna(len(ests)).astype(int)
    links = fl.assign(ti=ti, ei=ei).groupby(["ti", "ei"], sort=True)["units"].sum()
    t_lab = [[str(t), int(t_units[t])] for t in towns]
    if len(t_units) > len(towns):
        t_lab.append([pick(f"سایر شهرها ({fa_numbers(str(len(t_units) - len(towns)))})",
                           f"other towns ({len(t_units) - len(towns)})"), int(t_units.iloc[len(towns):].sum())])
    e_lab = [[str(e), int(e_units[e])] for e in ests]
    if len(e_units) > len(ests):
        e_lab.append([pick(f"سایر شهرک‌ها ({fa_numbers(str(len(e_units) - len(ests)))})",
                           f"other estates ({len(e_units) - len(ests)})"), int(e_units.iloc[len(ests):].sum())])
    return {"towns": t_lab, "estates": e_lab,
            "links": [[int(a), int(b), int(n)] for (a, b), n in links.items() if n > 0]}


def _unassigned_chart(res: RunResult) -> dict[str, Any]:
    rows = res.plan.rows
    un = rows[rows["status"] == "unassigned"]
    if not len(un):
        return {"reasons": [], "cats": []}
    codes = reason_codes(un["reason"])
    df = pd.DataFrame({"cat": un["category"].fillna("").to_numpy(), "code": codes})
    order = [c for c in REASON_CODES if c in set(codes)]
    tab = pd.crosstab(df["cat"], df["code"]).reindex(columns=order, fill_value=0)
    tab = tab.loc[tab.sum(axis=1).sort_values(ascending=False, kind="mergesort").index]
    cat = res.prep.catalogue.table.set_index("code")
    out = []
    for code, r in tab.iterrows():
        en = str(cat.loc[code, "name_en"]) if code in cat.index else "unclassified"
        fa = str(cat.loc[code, "name_fa"]) if code in cat.index else "طبقه‌بندی‌نشده"
        out.append([str(code), en, fa, [int(x) for x in r.to_numpy()]])
    return {"reasons": [[c, REASON_CODES[c][0], REASON_CODES[c][1], REASON_COLOURS[c]] for c in order],
            "cats": out}


def charts(res: RunResult) -> dict[str, Any]:
    """Chart data: demand against capacity per estate, flows from towns to estates, unassigned by
    reason and category."""
    return {"estates": _estates_chart(res), "flows": _flows_chart(res), "unassigned": _unassigned_chart(res)}


_VARIES = re.compile(r"'[^']*'|\"[^\"]*\"|\b[A-Z]{0,3}\d[\w.,]*\b")


def group_warnings(warnings: list[str]) -> list[tuple[str, int]]:
    """Warnings with repeats folded: messages that differ only in quoted names, ids and numbers are
    one entry (the first one seen, as an example) with their count, in order of first appearance."""
    first: dict[str, str] = {}
    count: Counter[str] = Counter()
    for w in warnings:
        k = _VARIES.sub("…", str(w))
        first.setdefault(k, str(w))
        count[k] += 1
    return [(first[k], count[k]) for k in first]


def robustness(res: RunResult) -> RobustnessSummary:
    """The Monte Carlo robustness as the report shows it: :func:`siteplan.locate.findings.robustness_summary`
    of the run's ranks (one home for what "robust" means; the report only draws its lines)."""
    from ..locate.findings import robustness_summary

    return robustness_summary(res.ranks, res.prep.scenario.sensitivity.draws)


def _class_counts(res: RunResult) -> dict[str, object]:
    """How the businesses were classified (``class_by`` counts, in the order of the README) and how many
    are left for review (review.csv)."""
    biz = res.prep.businesses
    by = biz["class_by"].fillna("") if "class_by" in biz else pd.Series([], dtype=object)
    order = ("category", "isic", "osm_tag", "keyword", "model", "label")
    st = biz["class_status"] if "class_status" in biz else pd.Series([], dtype=object)
    return {"class_by": [[k, int((by == k).sum())] for k in order if (by == k).any()],
            "to_review": int((st == "review").sum()), "outside": int((st == "outside").sum())}
