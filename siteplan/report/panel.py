"""The report's side panel (summary tables, method, warnings, sources) as HTML.

Built with :mod:`markupsafe`: markup is written as :class:`~markupsafe.Markup` literals and every value
goes in through ``Markup.format`` or :func:`cell`, which escape it, so a data string can never become
markup, a template or script. Data strings sit in ``<bdi>`` elements so Persian and English mix in the
right order. No ``style`` attributes (the page's Content-Security-Policy forbids them): colours travel
in ``data-colour`` and the page's script applies them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from ..locate import POP_REACH_KM
from ..units import M2_PER_HA
from ..zoning import zoning_sheets
from .layers import reasons_summary, text

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
    """A small inline SVG of a criterion's transform curve over its own breakpoints."""
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
    px = (x - x[0]) / (x[-1] - x[0]) * 110 + 5
    py = 35 - np.nan_to_num(y) * 30
    path = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py))
    return Markup('<svg width="120" height="44" role="img" aria-label="transform curve"><rect x="5" y="5" '
                  'width="110" height="30" fill="#f4f4f4"/><polyline fill="none" stroke="#3366cc" stroke-width="2" '
                  'points="{}"/><text x="5" y="44" font-size="9">{}</text><text x="80" y="44" font-size="9">{}</text>'
                  '</svg>').format(path, f"{lo_x:g}", f"{hi + pad:g}")


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


def _category_rows(res: "RunResult", colour: dict[str, str]) -> list[list[Any]]:
    prep = res.prep
    cat = prep.catalogue.table.set_index("code")
    rows = res.plan.rows
    out: list[list[Any]] = []
    for code in prep.codes:
        r = rows[rows.category == code]
        un = r[r.status == "unassigned"]
        why = "; ".join(f"{k} ({v})" for k, v in reasons_summary(un.reason))
        name = Markup("{}{}<br><small>{}</small>").format(_swatch(colour[code]), cell(cat.loc[code, "name_fa"]),
                                                          cell(cat.loc[code, "name_en"]))
        out.append([name, cat.loc[code, "env_cat"], len(r), f"{r.land_m2.sum() / M2_PER_HA:.1f}",
                    int((r.status == "assigned").sum()), len(un), why])
    un_cls = rows[rows.category.isna()]
    if len(un_cls):
        out.append(["unclassified / طبقه‌بندی‌نشده", "", len(un_cls), "", 0, len(un_cls), "unclassified"])
    return out


def _estate_rows(res: "RunResult") -> list[list[Any]]:
    summ = res.plan.estate_summary.groupby("estate_id").agg(cap=("capacity_m2", "first"), used=("used_m2", "sum"),
                                                            units=("units", "sum"), src=("capacity_from", "first"))
    est = res.prep.region.layers["estates"].set_index("estate_id")
    return [[e, est.loc[e, "name"], est.loc[e, "kind"] if "kind" in est else "", f"{s.cap / M2_PER_HA:.1f}",
             f"{s.used / M2_PER_HA:.1f}", f"{max(s.cap - s.used, 0) / M2_PER_HA:.1f}", int(s.units), s.src]
            for e, s in summ.iterrows()]


#: zone fills of the zoning sheets' maps (by position in the estate's list, never from data)
_SHEET_FILLS = ("#8c2d04", "#cc4c02", "#ec7014", "#fe9929", "#fec44f", "#74a9cf", "#3690c0", "#0570b0",
                "#045a8d", "#016c59", "#02818a", "#67a9cf")


def _zoning_sheets(res: "RunResult") -> Markup:
    """Per estate a small map of its zones and their table (issue 17)."""
    out = []
    for sh in zoning_sheets(res.zones):
        paths = Markup("").join(Markup('<path d="{}" fill="{}" stroke="#333" stroke-width="0.3"/>').format(
            d, _SHEET_FILLS[i % len(_SHEET_FILLS)]) for i, d in enumerate(sh.paths))
        svg = Markup('<svg viewBox="-2 -2 104 104" width="160" height="160" role="img">{}</svg>').format(paths)
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
    rob = res.ranks[res.ranks["rank"] == 1]
    from ..sensitivity import OAT_DELTAS

    swing = f"±{max(abs(d) for d in OAT_DELTAS) * 100:g} %"
    rob_txt = ", ".join(f"{r.category}: {r.estate_id} p={r.p_rank:.2f}"
                        + (f" (ranks {r.oat_ranks} when one weight moves {swing})" if r.oat_ranks else "")
                        for r in rob.itertuples() if pd.notna(r.p_rank))
    rules_rows = [[code, r.rule_id, f"{r.max_pct:g} %" if r.group == "slope" else f"{r.min_m:g} m", r.status]
                  for code in prep.codes for r in prep.rules[code] if r.group != "study_area"]
    sch = res.site_choice
    return Markup("""<details><summary>Method / روش</summary>
<p>Suitability: {agg} of transformed criteria (weights method: {wm}); cells excluded by a category's siting
rules are nodata.</p>
{crit}{cr}
<p>Suitability legend: <span class="ramp"></span> 0 → 1</p>
<p>Relocation solver: {solver}; status <b>{status}</b>, gap to LP bound {gap} %, {units} units, {arcs} arcs.</p>
<p>New sites: {cand} candidate regions grown per value chain; chosen by {meth} (status {sst}, gap {sgap} %).</p>
<p>Robustness (Monte Carlo, {draws} weight draws): probability that the top estate keeps rank 1 — {rob}.</p>
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


def panel_html(res: "RunResult", colour: dict[str, str]) -> Markup:
    """The side panel of the report."""
    prep = res.prep
    rows = res.plan.rows
    tot, n_as = len(rows), int((rows.status == "assigned").sum())
    srow = [[s.site_id, s.categories, f"{s.area_ha:.1f}", f"{s.score:.2f}", s.units, s.trunk_km, s.extend,
             s.pop_reach] for s in res.sites.itertuples()]
    warn = Markup("").join(Markup("<li>{}</li>").format(cell(w)) for w in res.warnings[:MAX_WARNINGS])
    if len(res.warnings) > MAX_WARNINGS:
        warn += Markup("<li>… {} more in manifest.json</li>").format(len(res.warnings) - MAX_WARNINGS)
    src = Markup("").join(Markup("<li>{}</li>").format(s) for s in _sources(res))
    return Markup("""<div id="sp-panel" lang="fa-IR">
<h2>siteplan — {name}</h2>
<div dir="rtl">گزارش جابجایی اصناف مزاحم و پهنه‌بندی شهرک‌ها</div>
<p><bdi dir="ltr">{tot} businesses / کسب‌وکار</bdi> · <bdi dir="ltr">{n_as} assigned / تخصیص‌یافته</bdi> ·
<bdi dir="ltr">{n_un} unassigned / بدون تخصیص</bdi> · {nz} zones · {ns} proposed sites · {nc} clusters</p>
<details open><summary>Categories / اصناف</summary>{cats}</details>
<details><summary>Estates / شهرک‌ها و نواحی</summary>{ests}</details>
<details><summary>Proposed sites / سایت‌های پیشنهادی</summary>{sites}</details>
<details><summary>Zoning sheets / پهنه‌بندی شهرک‌ها</summary>{zsheets}</details>
{method}
<details><summary>Warnings / هشدارها ({nw})</summary><ul>{warn}</ul></details>
<details><summary>Data sources / منابع داده</summary><ul>{src}</ul>
<p>Base map when online: © OpenStreetMap contributors (ODbL).</p></details>
</div>""").format(
        name=cell(prep.scenario.name), tot=tot, n_as=n_as, n_un=tot - n_as, nz=len(res.zones), ns=len(res.sites),
        nc=len(res.clusters),
        cats=table(["category / صنف", "env", "units", "land ha", "assigned", "unassigned", "why unassigned"],
                   _category_rows(res, colour)),
        ests=table(["id", "name / نام", "kind", "capacity ha", "used ha", "left ha", "units", "capacity from"],
                   _estate_rows(res)),
        sites=table(["site", "categories", "ha", "score", "units", "trunk km", "extend",
                     f"pop. within {POP_REACH_KM:g} km"], srow),
        method=_method(res), nw=len(res.warnings), warn=warn, src=src, zsheets=_zoning_sheets(res))
