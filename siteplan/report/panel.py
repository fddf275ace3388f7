"""The report's side panel as HTML: the summary first (headline figures and chart placeholders that
``app.js`` fills from the data block), then the details (per-category and per-estate tables, proposed
sites, method with robustness condensed to what differs, warnings folded with counts, sources).

Built with :mod:`markupsafe`: markup is written as :class:`~markupsafe.Markup` literals and every value
goes in through ``Markup.format`` or :func:`cell`, which escape it, so a data string can never become
markup, a template or script. Data strings sit in ``<bdi>`` elements so Persian and English mix in the
right order. No ``style`` attributes (the page's Content-Security-Policy forbids them): colours travel
in ``data-colour`` and the page's script applies them.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from ..locate import POP_REACH_KM
from ..reasons import REASON_CODES, reason_codes
from ..units import M2_PER_HA
from ..zoning import zoning_sheets
from .bidi import Fmt, bi
from .layers import text
from .summary import group_warnings, headline, robustness

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["panel_html", "cell", "table"]

#: warnings listed in the panel; the rest are in manifest.json
MAX_WARNINGS = 40


def cell(v: Any) -> Markup:
    """A data value as escaped, direction-isolated text (Markup passes through unchanged)."""
    if isinstance(v, Markup):
        return v
    return Markup('<bdi dir="auto">{}</bdi>').format(text(v))


def table(headers: list[str], rows: list[list[Any]]) -> Markup:
    """An HTML table; every header and cell is escaped unless it is already Markup."""
    th = Markup("").join(Markup("<th>{}</th>").format(cell(h)) for h in headers)
    body = Markup("").join(
        Markup("<tr>{}</tr>").format(Markup("").join(Markup("<td>{}</td>").format(cell(c)) for c in r))
        for r in rows)
    return Markup('<table class="sp"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>').format(th, body)


def _swatch(colour: str) -> Markup:
    return Markup('<span class="sw" data-colour="{}"></span>').format(colour)


def _svg_curve(spec: Any) -> Markup:
    """A small inline SVG of a criterion's transform curve over its own breakpoints (0 → 1 upwards;
    distances start at zero)."""
    from ..criteria import transform

    pts = [float(p) for p in spec.transform.points] or [0.0, 1.0]
    lo, hi = (min(pts), max(pts)) if len(pts) > 1 else (pts[0] - 1, pts[0] + 1)
    pad = (hi - lo) * 0.2 or 1.0
    lo_x = max(lo - pad, 0.0) if lo >= 0 else lo - pad  # distances do not go below zero
    x = np.linspace(lo_x, hi + pad, 60)
    try:
        y = transform(x, spec.transform)
    except Exception:  # categorical or invalid: no curve
        return Markup("")
    px = (x - x[0]) / (x[-1] - x[0]) * 150 + 20
    py = 40 - np.nan_to_num(y) * 34
    path = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py))
    unit = " m" if str(getattr(spec, "kind", "")).startswith("distance") else ""
    return Markup('<svg class="curve" viewBox="0 0 180 60" width="180" height="60" role="img" '
                  'aria-label="transform curve from {lo} to {hi}"><rect x="20" y="6" width="150" height="34" '
                  'fill="#f4f4f4"/><text x="16" y="12" font-size="10" text-anchor="end">1</text>'
                  '<text x="16" y="42" font-size="10" text-anchor="end">0</text><polyline fill="none" '
                  'stroke="#3366cc" stroke-width="2" points="{path}"/><text x="20" y="56" font-size="11">{lo}</text>'
                  '<text x="170" y="56" font-size="11" text-anchor="end">{hi}</text></svg>').format(
        path=path, lo=f"{lo_x:g}{unit}", hi=f"{hi + pad:g}{unit}")


def _num(v: object) -> float:
    """A number from a loosely typed record (solver or site-choice summaries); 0 when absent."""
    return float(v) if isinstance(v, (int, float)) else 0.0


def _aggregation_text(sc: Any) -> str:
    if sc.aggregation.method != "owa":
        return "weighted linear combination"
    from ..suitability import orness, owa_tradeoff

    ow = np.asarray(sc.aggregation.order_weights, dtype=float)
    ow = ow / ow.sum()
    return (f"ordered weighted average (order weights {[round(float(x), 3) for x in ow]}, ORness "
            f"{orness(ow):.2f}, trade-off {owa_tradeoff(ow):.2f})")


def _category_rows(res: "RunResult", colour: dict[str, str], f: Fmt | None = None) -> list[list[Any]]:
    f = f or Fmt()
    prep = res.prep
    cat = prep.catalogue.table.set_index("code")
    rows = res.plan.rows
    out: list[list[Any]] = []
    for code in prep.codes:
        r = rows[rows.category == code]
        un = r[r.status == "unassigned"]
        why = "; ".join(f"{REASON_CODES[k][0]} ({v})" for k, v in
                        Counter(c for c in reason_codes(un.reason) if c).most_common(3))
        name = Markup("{}{}<br><small>{}</small>").format(_swatch(colour[code]), cell(cat.loc[code, "name_fa"]),
                                                          cell(cat.loc[code, "name_en"]))
        out.append([name, cat.loc[code, "env_cat"], f.num(len(r)), f.num(r.land_m2.sum() / M2_PER_HA, ",.1f"),
                    f.num(int((r.status == "assigned").sum())), f.num(len(un)), why])
    un_cls = rows[rows.category.isna()]
    if len(un_cls):
        out.append(["unclassified / طبقه‌بندی‌نشده", "", f.num(len(un_cls)), "", f.num(0), f.num(len(un_cls)),
                    "unclassified"])
    return out


def _estate_rows(res: "RunResult", f: Fmt | None = None) -> list[list[Any]]:
    from ..summaries import estate_totals

    f = f or Fmt()
    t = estate_totals(res)
    return [[r.estate_id, r.estate_name, r.kind if r.kind is not None else "", f.num(r.capacity_m2 / M2_PER_HA, ",.1f"),
             f.num(r.used_m2 / M2_PER_HA, ",.1f"), f.num(r.left_m2 / M2_PER_HA, ",.1f"), f.num(int(r.units)),
             r.capacity_from] for r in t.itertuples()]


#: zone fills of the zoning sheets' maps (by position in the estate's list, never from data)
_SHEET_FILLS = ("#8c2d04", "#cc4c02", "#ec7014", "#fe9929", "#fec44f", "#74a9cf", "#3690c0", "#0570b0",
                "#045a8d", "#016c59", "#02818a", "#67a9cf")


def _zoning_sheets(res: "RunResult") -> Markup:
    """Per estate a small map of its zones and their table (issue 17)."""
    out = []
    for sh in zoning_sheets(res.zones):
        paths = Markup("").join(Markup('<path d="{}" fill="{}" stroke="#333" stroke-width="0.3"/>').format(
            d, _SHEET_FILLS[i % len(_SHEET_FILLS)]) for i, d in enumerate(sh.paths))
        svg = Markup('<svg viewBox="-2 -2 104 104" width="160" height="160" role="img" aria-label="zones of {}">'
                     '{}</svg>').format(sh.estate_id, paths)
        rows = [[Markup('<span class="sw" data-colour="{}"></span>').format(_SHEET_FILLS[i % len(_SHEET_FILLS)]),
                 r.zone_id, f"{r.name_fa} / {r.name_en}", r.env_cat, f"{r.sep_m:g}",
                 "" if pd.isna(r.min_home_m) else f"{r.min_home_m:,.0f}", f"{r.area_ha:.2f}", r.units,
                 "" if pd.isna(r.plots) else int(r.plots), f"{r.convexity:.2f}", r.land_basis]
                for i, r in enumerate(sh.rows.itertuples())]
        out.append(Markup("<h4>{}</h4>{}{}").format(cell(sh.estate_id), svg, table(
            ["", "zone", "category / صنف", "env", "sep m", "from homes m", "ha", "units", "plots", "convexity",
             "land"], rows)))
    return Markup("").join(out)


def _method(res: "RunResult") -> Markup:
    prep = res.prep
    sc = prep.scenario
    mrow = []
    for cl in prep.crit:
        sp = cl.spec
        ws = sorted({round(s.weights.get(sp.name, 0), 3) for s in prep.surfaces.values() if sp.name in s.weights})
        mrow.append([sp.name, f"{sp.kind} of {sp.layer}", f"{sp.transform.type} {sp.transform.points}"
                     + ("" if sp.transform.increasing else " (decreasing)"), _svg_curve(sp), ", ".join(map(str, ws))])
    cr = Markup("")
    if prep.ahp is not None:
        r = prep.ahp
        cr = Markup("<p>AHP consistency ratio {} (λmax {}, random index table {}; threshold {}).</p>").format(
            f"{r.cr:.3f}", f"{r.lambda_max:.3f}", r.ri_table, f"{sc.weights.cr_threshold:g}")
    sol = res.plan.solver
    rob = robustness(res)
    n_top = len(rob.uncertain_top)

    def items(lines: list[str]) -> Markup:
        return Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(x) for x in lines))

    rob_txt = Markup("{}{}{}").format(
        rob.lines[0], items(rob.lines[1:1 + n_top]) if n_top else "",
        Markup("<details><summary>{} pairs of lower-ranked estates swap</summary>{}</details>").format(
            len(rob.swaps), items(rob.lines[1 + n_top:])) if rob.swaps else "")
    rules_rows = [[code, r.rule_id, f"{r.max_pct:g} %" if r.group == "slope" else f"{r.min_m:g} m", r.status]
                  for code in prep.codes for r in prep.rules[code] if r.group != "study_area"]
    sch = res.site_choice
    return Markup("""<details><summary><span dir="ltr" lang="en">Method</span> / <span dir="rtl" lang="fa">روش</span></summary>
<p>Suitability: {agg} of transformed criteria (weights method: {wm}); cells excluded by a category's siting
rules are nodata.</p>
{crit}{cr}
<p>Suitability legend: 0 <span class="ramp"></span> 1 (low → high)</p>
<p>Relocation solver: {solver}; status <b>{status}</b>, gap to LP bound {gap} %, {units} units, {arcs} arcs.</p>
<p>New sites: {cand} candidate regions grown per value chain; chosen by {meth} (status {sst}, gap {sgap} %).</p>
<div>Robustness (Monte Carlo, {draws} weight draws): {rob}</div>
<details><summary>Siting rules</summary>{rules}</details>
</details>""").format(
        agg=_aggregation_text(sc), wm=sc.weights.method,
        crit=table(["criterion", "measure", "transform", "curve", "weight(s)"], mrow), cr=cr,
        solver=text(sol.get("solver")), status=text(sol.get("status")), gap=f"{_num(sol.get('gap')) * 100:.4f}",
        units=text(sol.get("units")), arcs=text(sol.get("arcs")), cand=text(sch.get("candidates", 0)),
        meth=text(sch.get("method", "none")), sst=text(sch.get("status", "n/a")),
        sgap=f"{_num(sch.get('gap')) * 100:.3f}", draws=sc.sensitivity.draws, rob=rob_txt or "n/a",
        rules=table(["category", "rule", "distance", "status"], rules_rows))


def _sources(res: "RunResult") -> list[Markup]:
    out = []
    for name, gdf in sorted(res.prep.region.layers.items()):
        if "source" in gdf:
            for s, n in sorted(gdf["source"].dropna().astype(str).value_counts().items()):
                out.append(Markup("<b>{}</b> ({}): {}").format(name, n, cell(s)))
    return out


def _headline(res: "RunResult", f: Fmt) -> Markup:
    """The headline block: what moves, where, the land it takes, what stays unplaced and why, and what
    the proposed sites absorb."""
    h = headline(res)
    pct = h["assigned"] / h["businesses"] * 100 if h["businesses"] else 0.0
    reasons = Markup("").join(
        Markup('<li><span class="sw" data-colour="{}"></span>{} <span dir="ltr" lang="en">{}</span> / '
               '<span dir="rtl" lang="fa">{}</span></li>').format(col, f.qty(n), en, fa)
        for _, en, fa, n, col in h["reasons"])
    kinds = {"site": bi("new site", "سایت جدید"), "upgrade": bi("upgrade", "ارتقا")}
    props = Markup("").join(
        Markup("<li>{} <b>{}</b>{}: {}{}{}</li>").format(
            kinds.get(p["kind"], cell(p["kind"])), cell(p["id"]),
            Markup(" ({})").format(cell(p["label"])) if p["label"] else "",
            Markup("{} {}").format(f.qty(p["units"]), bi("units", "واحد")) if p["units"] is not None else "",
            Markup(" · {}").format(f.qty(p["land_ha"], "ha", ",.1f")) if p["land_ha"] is not None else "",
            Markup('<div class="sub">{}</div>').format(cell(p["detail"])) if p["detail"] else "")
        for p in h["proposals"])
    props_block = Markup("")
    if h["proposals"]:
        props_block = Markup('<div class="hl hl-wide"><div class="hl-k">{}</div><div class="hl-v">{}</div>'
                             '<div class="hl-s">{} {}</div><ul class="props">{}</ul></div>').format(
            bi("Proposed sites and upgrades: what they absorb", "سایت‌ها و ارتقاهای پیشنهادی: چه جذب می‌کنند"),
            f.qty(len(h["proposals"])), f.qty(h["proposals_units"]),
            bi("unassigned businesses the new sites take (upgrades are alternatives, each counted alone)",
               "کسب‌وکار بدون تخصیص که سایت‌های جدید می‌پذیرند (ارتقاها گزینه‌های جداگانه‌اند)"), props)
    return Markup("""<div class="headline" role="group" aria-label="headline figures">
<div class="hl"><div class="hl-k">{k_move}</div><div class="hl-v">{move}</div><div class="hl-s">{cls} {k_cls}</div></div>
<div class="hl ok"><div class="hl-k">{k_as}</div><div class="hl-v">{n_as}</div><div class="hl-s">{pct} · {est} {k_est}</div></div>
<div class="hl bad"><div class="hl-k">{k_un}</div><div class="hl-v">{n_un}</div><ul class="reasons">{reasons}</ul></div>
<div class="hl"><div class="hl-k">{k_land}</div><div class="hl-v">{need}</div>
<div class="hl-s">{k_cap} {cap} · {k_used} {used} · {k_left} {left} · {k_unpl} {unpl}</div></div>
{props}
</div>""").format(
        k_move=bi("Businesses to move", "کسب‌وکارهای جابجاشونده"), move=f.qty(h["businesses"]),
        cls=f.qty(h["classified"]), k_cls=bi("classified", "طبقه‌بندی‌شده"),
        k_as=bi("Assigned to an estate", "تخصیص‌یافته"), n_as=f.qty(h["assigned"]), pct=f.qty(pct, "%", ".0f"),
        est=f.qty(h["estates_used"]), k_est=bi("estates receive them", "شهرک پذیرنده"),
        k_un=bi("Unassigned, by reason", "بدون تخصیص، به تفکیک دلیل"), n_un=f.qty(h["unassigned"]), reasons=reasons,
        k_land=bi("Land needed", "زمین مورد نیاز"), need=f.qty(h["land_needed_ha"], "ha", ",.1f"),
        k_cap=bi("available", "ظرفیت"), cap=f.qty(h["capacity_ha"], "ha", ",.1f"),
        k_used=bi("assigned", "تخصیص"), used=f.qty(h["land_assigned_ha"], "ha", ",.1f"),
        k_left=bi("left", "باقی"), left=f.qty(h["left_ha"], "ha", ",.1f"),
        k_unpl=bi("unplaced", "بی‌جا"), unpl=f.qty(h["land_unplaced_ha"], "ha", ",.1f"), props=props_block)


def _chart_box(cid: str, en: str, fa: str, note: str) -> Markup:
    return Markup('<figure class="chart"><figcaption>{}</figcaption><div class="chart-svg" id="{}" role="img" '
                  'aria-label="{}"></div><p class="note">{}</p></figure>').format(bi(en, fa), cid, en, note)


def _warnings(res: "RunResult", f: Fmt) -> tuple[Markup, int]:
    groups = group_warnings(res.warnings)
    items = [Markup("<li>{}{}</li>").format(
        cell(w), Markup(' <span class="count">{} {}</span>').format(Markup("×"), f.qty(n)) if n > 1 else "")
        for w, n in groups[:MAX_WARNINGS]]
    if len(groups) > MAX_WARNINGS:
        items.append(Markup("<li>… {} more kinds in manifest.json</li>").format(len(groups) - MAX_WARNINGS))
    return Markup("").join(items), len(groups)


def _site_rows(res: "RunResult", f: Fmt) -> list[list[Any]]:
    out = []
    for s in res.sites.itertuples():
        def km(v: object) -> Markup | str:
            return f.qty(float(v), "km", ",.1f") if isinstance(v, (int, float)) and pd.notna(v) else ""
        takes = getattr(s, "takes", None)
        room = getattr(s, "capacity_units", None) if takes is not None else getattr(s, "units", "")
        took = Markup("{} ({})").format(f.qty(int(s.units)), cell(takes)) if takes is not None else ""
        area = f.qty(float(s.area_ha), "ha", ",.1f")
        if getattr(s, "sized_by", "demand") not in ("demand", "", None):
            area = Markup('{}<div class="sub">{}</div>').format(area, cell(getattr(s, "sizing", "")))
        out.append([s.site_id, text(getattr(s, "chain", "")), s.categories, area,
                    f.num(float(s.score), ".2f"), took, text(room), km(getattr(s, "trunk_km", None)),
                    km(getattr(s, "rail_km", None)), km(getattr(s, "power_km", None)),
                    km(getattr(s, "gas_km", None)), km(getattr(s, "water_km", None)),
                    km(getattr(s, "wastewater_km", None)), text(getattr(s, "extend", "")),
                    f.qty(int(getattr(s, "pop_reach", 0) or 0))])
    return out


def panel_html(res: "RunResult", colour: dict[str, str]) -> Markup:
    """The side panel of the report: summary first, then details."""
    prep = res.prep
    f = Fmt(bool(getattr(prep.scenario.outputs, "persian_digits", False)))
    warn, nw = _warnings(res, f)
    src = Markup("").join(Markup("<li>{}</li>").format(s) for s in _sources(res))
    return Markup("""<aside id="sp-panel" lang="fa-IR" aria-label="report summary and details">
<button type="button" id="sp-handle" aria-expanded="true" aria-controls="sp-body">{k_sheet}</button>
<div id="sp-body">
<section id="sp-summary" aria-labelledby="sp-title">
<h1 id="sp-title"><span dir="ltr" lang="en">siteplan</span> — {name}</h1>
<p class="sub" dir="rtl" lang="fa">گزارش جابجایی اصناف مزاحم و پهنه‌بندی شهرک‌ها</p>
{headline}
<details open class="charts"><summary>{k_charts}</summary>
{c_est}{c_flow}{c_un}
</details>
</section>
<section id="sp-details" aria-label="details">
<h2>{k_details}</h2>
<details><summary>{k_cats}</summary>{cats}</details>
<details><summary>{k_ests}</summary>{ests}</details>
<details><summary>{k_sites}</summary>{sites}</details>
<details><summary>{k_zs}</summary>{zsheets}</details>
{method}
<details><summary>{k_warn} <span class="count">({nw})</span></summary><ul>{warn}</ul></details>
<details><summary>{k_src}</summary><ul>{src}</ul>
<p>Base map when online: © OpenStreetMap contributors (ODbL).</p></details>
</section>
</div>
</aside>""").format(
        k_sheet=bi("Summary", "خلاصه"), name=cell(prep.scenario.name), headline=_headline(res, f),
        k_charts=bi("Charts", "نمودارها"),
        c_est=_chart_box("chart-estates", "Demand against capacity per estate", "تقاضا در برابر ظرفیت هر شهرک",
                         "bar: land assigned (ha); frame: capacity (ha)"),
        c_flow=_chart_box("chart-flows", "Where they come from and go: towns to estates",
                          "از کجا به کجا: شهرها به شهرک‌ها", "band width: businesses"),
        c_un=_chart_box("chart-unassigned", "Unassigned by reason and category", "بدون تخصیص به تفکیک دلیل و صنف",
                        "businesses per category, coloured by reason"),
        k_details=bi("Details", "جزئیات"), k_cats=bi("Categories", "اصناف"),
        cats=table(["category / صنف", "env", "businesses", "land ha", "assigned", "unassigned", "why unassigned"],
                   _category_rows(res, colour, f)),
        k_ests=bi("Estates", "شهرک‌ها و نواحی"),
        ests=table(["id", "name / نام", "kind", "capacity ha", "used ha", "left ha", "businesses", "capacity from"],
                   _estate_rows(res, f)),
        k_sites=bi("Proposed sites", "سایت‌های پیشنهادی"),
        sites=table(["site", "chain", "categories", "area", "score", "takes (unassigned businesses)",
                     "room (units per category)", "to trunk road",
                     "to rail", "to power", "to gas", "to water", "to wastewater",
                     "utilities to extend", f"population within {POP_REACH_KM:g} km"],
                    _site_rows(res, f)),
        k_zs=bi("Zoning sheets", "پهنه‌بندی شهرک‌ها"), zsheets=_zoning_sheets(res),
        method=_method(res), k_warn=bi("Warnings", "هشدارها"), nw=nw, warn=warn,
        k_src=bi("Data sources", "منابع داده"), src=src)
