"""The report's programme sections: the impact of the plan, the feasibility sheets of the proposed
sites and upgrades (printable), and the provincial cluster map of value chains and missing links.

Self-contained: :func:`programme_html` returns three ``<details>`` elements for the panel; every value
goes in through :func:`~siteplan.report.tables.cell` / ``Markup.format`` (escaped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from . import lang as _lang
from .bidi import Fmt, bi
from .tables import table
from .words import cat_fa

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["programme_html"]


def _n(f: Fmt, v: Any, unit: str = "", spec: str = ",.0f") -> Any:
    """A number for a table cell ('—' when missing)."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or pd.isna(v):
        return "—"
    return f.qty(v, unit, spec)


def _impact(res: RunResult, f: Fmt) -> Markup:
    t = res.programme.impact
    prov = t[t["level"] == "province"]
    if prov.empty:
        return Markup("")
    p = prov.iloc[0]
    head = Markup("<p>{} {} → {} {} ({} {}).</p>").format(
        bi("People living within the nuisance distance of a polluting business: before",
           "ساکنان در فاصلهٔ مزاحمت یک واحد آلاینده: پیش از جابجایی"), _n(f, p["residents_before"]),
        bi("after", "پس از جابجایی"), _n(f, p["residents_after"]), _n(f, p["residents_relieved"]),
        bi("relieved", "رهاشده"))
    facts = table([bi("Figure", "شاخص"), bi("Value", "مقدار")], [
        [bi("Businesses moved", "واحدهای جابجاشده"), _n(f, p["moved"])],
        [bi("Heavy-vehicle trips off urban streets per day", "سفر خودروی سنگین کمتر در شهر (روزانه)"),
         _n(f, p["heavy_trips_off"])],
        [bi("Customer trips off urban streets per day", "سفر مشتری کمتر در شهر (روزانه)"), _n(f, p["customer_trips_off"])],
        [bi("Added travel, km per day (straight line)", "افزایش مسافت، کیلومتر در روز (خط مستقیم)"),
         _n(f, p["added_km_per_day"], "km")],
        [bi("Land used in estates", "زمین در شهرک‌ها"), _n(f, p["estate_land_ha"], "ha", ",.1f")],
        [bi("Urban land freed", "زمین شهری آزادشده"), _n(f, p["urban_land_freed_ha"], "ha", ",.1f")],
        [bi("Jobs moved", "اشتغال جابجاشده"), _n(f, p["jobs_moved"])],
    ])
    hdr: list[str] = [bi("Level", "سطح"), bi("Id", "شناسه"), bi("Name", "نام"), bi("Moved", "جابجا"),
           bi("Residents before", "ساکنان پیش"), bi("after", "پس"), bi("relieved", "رهاشده"),
           bi("per ha", "در هکتار"), bi("Heavy trips off", "سفر سنگین"), bi("km/day added", "کیلومتر/روز")]
    names = cat_fa(res)
    fa_page = _lang.current() == "fa"
    level_fa = {"province": "استان", "category": "صنف", "town": "شهر", "estate": "شهرک", "site": "سایت پیشنهادی",
                "upgrade": "ارتقا"}
    rows = [[bi(str(r.level), level_fa.get(str(r.level), str(r.level))),
             names.get(str(r.id), str(r.id)) if fa_page and r.level == "category" else r.id,
             names.get(str(r.id), r.name) if r.level == "category" else r.name,
             _n(f, r.moved), _n(f, r.residents_before), _n(f, r.residents_after),
             _n(f, r.residents_relieved), _n(f, r.relieved_per_ha), _n(f, r.heavy_trips_off),
             _n(f, r.added_km_per_day)]
            for r in t[t["level"].isin(["category", "estate", "site", "upgrade"])].itertuples()]
    note = Markup('<p class="note">{}</p>').format(bi(
        "Residents within each category's largest distance from homes in its siting rules, urban population "
        "spread evenly over each urban area, counted once; trips from the trip-rate table (assumptions unless a "
        "source is given); travel in straight lines. All rows, towns included: impact.csv.",
        "ساکنان در بیشترین فاصلهٔ لازم از مسکن طبق ضوابط هر صنف؛ جمعیت یکنواخت در هر محدودهٔ شهری؛ نرخ سفر فرضی مگر "
        "منبع داده شود؛ مسافت به خط مستقیم. همهٔ سطرها در impact.csv."))
    return Markup('<details id="sp-impact"><summary>{}</summary>{}{}{}{}</details>').format(
        bi("Impact of the plan", "اثر طرح"), head, facts, table(hdr, rows), note)


def _feasibility(res: RunResult, f: Fmt) -> Markup:
    t = res.programme.feasibility
    if t.empty:
        return Markup("")
    sheets = []
    for r in t.itertuples():
        rows = [
            [bi("Categories", "اصناف"), r.categories],
            [bi("Land gross / net / roads and buffers", "زمین ناخالص / خالص / معابر و حریم"),
             Markup("{} / {} / {}").format(_n(f, r.gross_ha, "ha", ",.2f"), _n(f, r.net_ha, "ha", ",.2f"),
                                          _n(f, r.roads_buffers_ha, "ha", ",.2f"))],
            [bi("Plots by size", "قطعات به اندازه"), r.plots or "—"],
            [bi("Utilities needed", "تأسیسات لازم"), r.utilities or "—"],
            [bi("To extend", "توسعهٔ شبکه"), r.extend],
            [bi("Access road", "راه دسترسی"), _n(f, r.access_road_km, "km", ",.2f")],
            [bi("Businesses served / land", "واحدها / زمین"),
             Markup("{} / {}").format(_n(f, r.businesses), _n(f, r.land_ha, "ha", ",.2f"))],
            [bi("Residents relieved", "ساکنان رهاشده"), _n(f, r.residents_relieved)],
            [bi("Cost (costed items)", "هزینه (اقلام برآوردشده)"), _n(f, r.cost_total)],
            [bi("Not costed", "برآورد نشده"), r.not_costed or "—"],
            [bi("Cost per business / per resident relieved", "هزینه به ازای واحد / ساکن"),
             Markup("{} / {}").format(_n(f, r.cost_per_business), _n(f, r.cost_per_resident, "", ",.2f"))],
        ]
        sheets.append(Markup('<section class="sheet"><h3>{} {} — {}</h3>{}</section>').format(
            r.option, r.id, r.name, table([bi("Item", "قلم"), bi("Value", "مقدار")], rows)))
    uc = res.programme.unit_costs
    costs = table([bi("Item", "قلم"), bi("Unit", "واحد"), bi("Cost", "هزینه"), bi("Status", "وضعیت"),
                   bi("Source", "منبع")],
                  [[k, r.unit, _n(f, r.cost), r.status, r.source] for k, r in uc.iterrows()])
    note = Markup('<p class="note">{}</p>').format(bi(
        "Costs in million rials from the unit-cost table below (assumptions unless the scenario gives them); "
        "a utility with no network in the inputs is listed but not costed. All figures: feasibility.csv.",
        "هزینه‌ها به میلیون ریال از جدول هزینهٔ واحد (فرضی مگر سناریو تعیین کند)؛ شبکهٔ بدون داده برآورد نشده است."))
    return Markup('<details id="sp-feasibility" class="printable"><summary>{}</summary>{}{}{}</details>').format(
        bi("Feasibility sheets", "مطالعات امکان‌سنجی"), Markup("").join(sheets), note, costs)


def _chains(res: RunResult) -> Markup:
    t = res.programme.chains
    if t.empty:
        return Markup("")
    # the links of each (level, id, chain) in the order met, in one pass (groupby's groups: missing keys left out)
    cols = ["level", "id", "chain", "headed_to", "members", "link", "status", "nearest_biz_id", "nearest_km"]
    groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    keyed = t[cols[:3]].notna().all(axis=1).tolist()
    for ok, rec in zip(keyed, zip(*(t[c].tolist() for c in cols))):
        if ok:
            groups.setdefault(rec[:3], []).append(rec)
    rows = []
    for (level, gid, chain), g in groups.items():
        present = [r[5] for r in g if r[6] == "present"]
        near = [r[5] for r in g if r[6] == "in reach"]
        missing = "; ".join(f"{r[5]} ({r[7]} {r[8]:g} km)" if r[7] else f"{r[5]} (none in the province)"
                            for r in g if r[6] == "missing")
        done = (len(present) + len(near)) / len(g)
        rows.append([level, gid, chain, g[0][3] or "—", int(g[0][4]),
                     ", ".join(present), ", ".join(near) or "—", missing or "—", f"{done:.0%}"])
    hdr: list[str] = [bi("Level", "سطح"), bi("Id", "شناسه"), bi("Chain", "زنجیره"), bi("Headed to", "مقصد"),
           bi("Members", "اعضا"), bi("Links present", "حلقه‌های موجود"), bi("In reach", "در دسترس"),
           bi("Missing (nearest supplier)", "حلقهٔ مفقود (نزدیک‌ترین)"), bi("Complete", "کامل")]
    note = Markup('<p class="note">{}</p>').format(bi(
        f"A chain's links: the catalogue's categories of the chain and the linked trades of those present; "
        f"'in reach' within {res.prep.scenario.programme.chain_reach_km:g} km (straight line). All rows: chains.csv.",
        "حلقه‌های زنجیره: اصناف همان زنجیره در فهرست و اصناف مرتبط؛ «در دسترس» تا فاصلهٔ تعیین‌شده."))
    return Markup('<details id="sp-chains"><summary>{}</summary>{}{}</details>').format(
        bi("Provincial cluster map: value chains and missing links", "نقشهٔ خوشه‌های استان: زنجیره‌های ارزش و حلقه‌های مفقود"),
        table(hdr, rows), note)


def _timeline_svg(t: pd.DataFrame, f: Fmt) -> Markup:
    """The phases on a time axis (by start date, Gregorian): per phase a bar of the businesses it
    places and a bar of the residents it relieves, each against its own largest, with the cumulative
    businesses placed as a line; no script, no style attribute."""
    w, h, left, right, top, base = 640, 230, 40, 40, 24, 170
    days = pd.to_datetime(t["start_gregorian"]).map(lambda d: d.toordinal()).to_numpy(float)
    span = float(days.max() - days.min())
    n = len(t)
    slot = (w - left - right) / max(n, 1)
    # by date when the phases start on different days, in equal steps when they all start together
    xs = (left + slot / 2 + (days - days.min()) / span * (w - left - right - slot) if span > 0
          else left + slot / 2 + np.arange(n) * slot)
    bw = min(28.0, slot / 3)
    top_b = max(float(t["businesses"].max()), 1.0)
    top_r = max(float(t["residents_relieved"].clip(lower=0).max()), 1.0)
    top_c = max(float(t["cum_businesses"].max()), 1.0)
    parts = [Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#444" stroke-width="1"/>').format(
        left - 10, base, w - right + 10, base)]
    line = []
    for x, r in zip(xs, t.itertuples()):
        hb = (base - top) * float(r.businesses) / top_b
        hr = (base - top) * max(float(r.residents_relieved), 0.0) / top_r
        line.append(f"{x:.1f},{base - (base - top) * float(r.cum_businesses) / top_c:.1f}")
        parts.append(Markup(
            '<g class="phase"><title>{title}</title>'
            '<rect x="{xb:.1f}" y="{yb:.1f}" width="{bw:.1f}" height="{hb:.1f}" fill="#3366cc"/>'
            '<rect x="{xr:.1f}" y="{yr:.1f}" width="{bw:.1f}" height="{hr:.1f}" fill="#dd8833"/>'
            '<text x="{xb2:.1f}" y="{tb:.1f}" font-size="10" text-anchor="middle">{nb}</text>'
            '<text x="{xr2:.1f}" y="{tr:.1f}" font-size="10" text-anchor="middle">{nr}</text>'
            '<text x="{x:.1f}" y="{y1}" font-size="11" text-anchor="middle" font-weight="bold">{name}</text>'
            '<text x="{x:.1f}" y="{y2}" font-size="10" text-anchor="middle">{start} ({greg})</text></g>').format(
            title=f"{r.name}: {r.businesses} businesses, {r.residents_relieved} residents relieved",
            xb=x - bw - 1, yb=base - hb, bw=bw, hb=hb, xr=x + 1, yr=base - hr, hr=hr,
            xb2=x - bw / 2 - 1, tb=base - hb - 3, nb=f.num(int(r.businesses)), xr2=x + bw / 2 + 1,
            tr=base - hr - 3, nr=f.num(int(r.residents_relieved)), x=x, y1=base + 16, y2=base + 30,
            name=str(r.name)[:40], start=_digits(f, str(r.start)),
            greg=_digits(f, str(r.start_gregorian))))
    parts.append(Markup('<polyline fill="none" stroke="#228833" stroke-width="2" stroke-dasharray="4 3" '
                        'points="{}"/>').format(" ".join(line)))
    legend = Markup(
        '<g font-size="10"><rect x="{a}" y="6" width="10" height="10" fill="#3366cc"/>'
        '<text x="{a2}" y="15">businesses placed</text><rect x="{b}" y="6" width="10" height="10" fill="#dd8833"/>'
        '<text x="{b2}" y="15">residents relieved</text><line x1="{c}" y1="11" x2="{c1}" y2="11" stroke="#228833" '
        'stroke-width="2" stroke-dasharray="4 3"/><text x="{c2}" y="15">businesses placed, cumulative</text></g>'
    ).format(a=left, a2=left + 14, b=left + 130, b2=left + 144, c=left + 260, c1=left + 280, c2=left + 284)
    return Markup('<svg class="timeline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
                  'aria-label="phasing timeline: businesses placed and residents relieved per phase">{legend}{body}'
                  '</svg>').format(w=w, h=h, legend=legend, body=Markup("").join(parts))


def _digits(f: Fmt, s: str) -> str:
    """A date as text, with Persian digits when the report uses them."""
    from .bidi import fa_digits

    return fa_digits(s) if f.persian else s


def _phasing(res: RunResult, f: Fmt) -> Markup:
    ph = getattr(res.programme, "phasing", None)
    if ph is None or ph.table.empty:
        return Markup("")
    t = ph.table
    hdr: list[str] = [bi("Phase", "مرحله"), bi("Start", "آغاز"), bi("Online", "در مدار"),
                      bi("Capacity available", "ظرفیت در دسترس"), bi("Businesses placed", "واحدهای جابجاشده"),
                      bi("Land", "زمین"), bi("Residents relieved", "ساکنان رهاشده"),
                      bi("Cumulative businesses", "واحدها (تجمعی)"),
                      bi("Cumulative residents relieved", "ساکنان رهاشده (تجمعی)"), bi("Still unplaced", "جانمانده")]
    rows = []
    for r in t.itertuples():
        online = [f"{r.estates_online} estates"] + ([f"sites {r.sites_online}"] if r.sites_online else []) \
            + ([f"upgrades {r.upgrades}"] if r.upgrades else [])
        rows.append([Markup("{} {}").format(r.name, Markup("({})").format(r.label) if r.label else ""),
                     f"{_digits(f, str(r.start))} ({_digits(f, str(r.start_gregorian))})", "; ".join(online),
                     _n(f, r.available_ha, "ha", ",.1f"), _n(f, r.businesses), _n(f, r.land_ha, "ha", ",.1f"),
                     _n(f, r.residents_relieved), _n(f, r.cum_businesses), _n(f, r.cum_residents_relieved),
                     _n(f, r.unplaced)])
    note = Markup('<p class="note">{}</p>').format(bi(
        f"Each phase allocates only the businesses still unplaced, to the estates, upgrades and sites online by "
        f"then, on the capacity the earlier phases left; a business placed is never moved. Priority when capacity "
        f"is short: {res.prep.scenario.programme.priority}. Residents relieved: the province's, counted once. "
        "Where each business goes: relocation.csv (phase, phase_estate); all figures: phases.csv.",
        "هر مرحله فقط واحدهای جانمانده را در شهرک‌ها، ارتقاها و سایت‌های آمادهٔ آن مرحله و با ظرفیت باقی‌مانده جای "
        "می‌دهد؛ واحد جابجاشده دوباره جابجا نمی‌شود. جزئیات: phases.csv و ستون‌های phase در relocation.csv."))
    return Markup('<details id="sp-phasing"><summary>{}</summary>{}{}{}</details>').format(
        bi("Phasing timeline", "زمان‌بندی مراحل"), _timeline_svg(t, f), table(hdr, rows), note)


def programme_html(res: RunResult, f: Fmt | None = None) -> Markup:
    """The programme sections for the report's panel (empty when the run has no programme figures)."""
    if getattr(res, "programme", None) is None:
        return Markup("")
    f = f or Fmt(persian_digits=bool(getattr(res.prep.scenario.outputs, "persian_digits", False)))
    parts = [_impact(res, f), _phasing(res, f), _feasibility(res, f), _chains(res)]
    return Markup("\n").join([parts[0], *(p for p in parts[1:2] if p), *parts[2:]])
