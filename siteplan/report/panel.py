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

from ..common.notice import messages
from ..common.units import M2_PER_HA
from ..locate.ranking import POP_REACH_KM
from ..relocation.reasons import REASON_CODES, reason_codes
from ..zoning.zones import zoning_sheets
from . import lang as _lang
from .bidi import Fmt, bi
from .programme import programme_html
from .summary import group_warnings, headline, proposal_fa, robustness
from .tables import cell, table
from .words import ESTATE_KIND, cat_fa, codes_fa, digits, extend_fa, kind_name, land_basis, sizing_text, text, tr

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["panel_html"]

#: warnings listed in the panel; the rest are in manifest.json
MAX_WARNINGS = 40


def zoom(kind: str, ident: Any, label: Any = None) -> Markup:
    """A button that zooms the map to a site (``kind`` ``site``) or an estate (``estate``) and opens it;
    the id travels in a data attribute (escaped) and the page's script matches it as plain text."""
    return Markup('<button type="button" class="zoom" data-zoom="{}" data-id="{}" title="{}">{}</button>').format(
        kind, text(ident), tr("نمایش روی نقشه", "zoom to it"), cell(label if label is not None else ident))


def _swatch(colour: str) -> Markup:
    return Markup('<span class="sw" data-colour="{}"></span>').format(colour)


def _svg_curve(spec: Any) -> Markup:
    """A small inline SVG of a criterion's transform curve over its own breakpoints (0 → 1 upwards;
    distances start at zero)."""
    from ..scoring.criteria import transform

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
    unit = " " + _lang.unit("m") if str(getattr(spec, "kind", "")).startswith("distance") else ""
    return Markup('<svg class="curve" viewBox="0 0 180 60" width="180" height="60" role="img" '
                  'aria-label="transform curve from {lo} to {hi}"><rect x="20" y="6" width="150" height="34" '
                  'fill="#f4f4f4"/><text x="16" y="12" font-size="10" text-anchor="end">1</text>'
                  '<text x="16" y="42" font-size="10" text-anchor="end">0</text><polyline fill="none" '
                  'stroke="#3366cc" stroke-width="2" points="{path}"/><text x="20" y="56" font-size="11">{lo}</text>'
                  '<text x="170" y="56" font-size="11" text-anchor="end">{hi}</text></svg>').format(
        path=path, lo=Fmt().num(lo_x, "g") + unit, hi=Fmt().num(hi + pad, "g") + unit)


def _num(v: object) -> float:
    """A number from a loosely typed record (solver or site-choice summaries); 0 when absent."""
    return float(v) if isinstance(v, (int, float)) else 0.0


def _aggregation_text(sc: Any, f: Fmt | None = None) -> str:
    f = f or Fmt()
    fa = _lang.current() == "fa"
    if sc.aggregation.method != "owa":
        return "ترکیب خطی وزنی" if fa else "weighted linear combination"
    from ..scoring.suitability import orness, owa_tradeoff

    ow = np.asarray(sc.aggregation.order_weights, dtype=float)
    ow = ow / ow.sum()
    if fa:
        return (f"میانگین وزنی مرتب (وزن‌های ترتیبی {'، '.join(f.num(float(x), '.3g') for x in ow)}، "
                f"ORness {f.num(orness(ow), '.2f')}، بده‌بستان {f.num(owa_tradeoff(ow), '.2f')})")
    return (f"ordered weighted average (order weights {[round(float(x), 3) for x in ow]}, ORness "
            f"{orness(ow):.2f}, trade-off {owa_tradeoff(ow):.2f})")


def _category_rows(res: RunResult, colour: dict[str, str], f: Fmt | None = None) -> list[list[Any]]:
    f = f or Fmt()
    prep = res.prep
    cat = prep.catalogue.table.set_index("code")
    rows = res.plan.rows
    out: list[list[Any]] = []
    for code in prep.codes:
        r = rows[rows.category == code]
        un = r[r.status == "unassigned"]
        en = _lang.current() == "en"
        why = tr("؛ ", "; ").join(f"{REASON_CODES[k][1 - en]} ({f.num(v)})" for k, v in
                                 Counter(c for c in reason_codes(un.reason) if c).most_common(3))
        if _lang.current() == "both":
            name = Markup("{}{}<br><small>{}</small>").format(_swatch(colour[code]), cell(cat.loc[code, "name_fa"]),
                                                              cell(cat.loc[code, "name_en"]))
        else:
            name = Markup("{}{}").format(_swatch(colour[code]), cell(cat.loc[code, "name_en" if en else "name_fa"]))
        out.append([name, digits(cat.loc[code, "env_cat"]), f.num(len(r)), f.num(r.land_m2.sum() / M2_PER_HA, ",.1f"),
                    f.num(int((r.status == "assigned").sum())), f.num(len(un)), why])
    un_cls = rows[rows.category.isna()]
    if len(un_cls):
        out.append([tr("طبقه‌بندی‌نشده", "unclassified"), "", f.num(len(un_cls)), "", f.num(0), f.num(len(un_cls)),
                    tr(REASON_CODES["unclassified"][1], REASON_CODES["unclassified"][0])])
    return out


def _estate_rows(res: RunResult, f: Fmt | None = None) -> list[list[Any]]:
    from ..programme.summaries import estate_totals

    f = f or Fmt()
    t = estate_totals(res)
    return [[zoom("estate", r.estate_id), r.estate_name, kind_name(r.kind, ESTATE_KIND) if r.kind is not None else "",
             f.num(r.capacity_m2 / M2_PER_HA, ",.1f"),
             f.num(r.used_m2 / M2_PER_HA, ",.1f"), f.num(r.left_m2 / M2_PER_HA, ",.1f"), f.num(int(r.units)),
             capacity_from(r.capacity_from)] for r in t.itertuples()]


def capacity_from(v: Any) -> str:
    """What an estate's capacity was read from, in the report's language."""
    t = text(v)
    fa = {"vacant_ha": "زمین خالی", "plots": "قطعات", "gross_ha": "مساحت ناخالص", "none": "هیچ", "area": "مساحت"}
    en = {"vacant_ha": "vacant land", "plots": "plots", "gross_ha": "gross area", "none": "none", "area": "area"}
    return tr(fa.get(t, t), en.get(t, t))


#: the value chains of the catalogue (``chain``) in Persian and English
CHAIN = {"auto": ("خودرو", "vehicles"), "metal": ("فلز", "metal"), "stone": ("سنگ", "stone"),
         "tech": ("فناوری", "technology"), "textile": ("نساجی", "textiles"), "trade": ("بازرگانی", "trade"),
         "wood": ("چوب", "wood")}


def chain_name(v: Any) -> str:
    """A value chain in the report's language (one the table does not know, as written)."""
    t = text(v)
    return tr(*CHAIN[t]) if t in CHAIN else t


#: zone fills of the zoning sheets' maps (by position in the estate's list, never from data); beyond
#: these, :func:`sheet_fill` turns the hue by the golden angle, so no two zones of a sheet share a colour
_SHEET_FILLS = ("#8c2d04", "#cc4c02", "#ec7014", "#fe9929", "#fec44f", "#74a9cf", "#3690c0", "#0570b0",
                "#045a8d", "#016c59", "#02818a", "#67a9cf")


def sheet_fill(i: int) -> str:
    """The fill of the ``i``-th zone of a zoning sheet: distinct for every ``i`` (a hex colour)."""
    import colorsys

    if i < len(_SHEET_FILLS):
        return _SHEET_FILLS[i]
    k = i - len(_SHEET_FILLS)
    hue = (k * 137.50776405 + 20.0) % 360.0 / 360.0
    light = (0.42, 0.58, 0.50)[k % 3]
    sat = (0.65, 0.50, 0.80)[(k // 3) % 3]
    r, g, b = colorsys.hls_to_rgb(hue, light, sat)
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def _zoning_sheets(res: RunResult, f: Fmt) -> Markup:
    """Per estate a small map of its zones inside the estate's outline, and their table (issue 17)."""
    out = []
    mode = _lang.current()
    for sh in zoning_sheets(res.zones, estates=res.prep.region.layers.get("estates")):
        outline = (Markup('<path class="zs-outline" d="{}" fill="#f4f4f0" stroke="#000" stroke-width="1.2" '
                          'stroke-dasharray="3 1.5"/>').format(sh.outline) if sh.outline else Markup(""))
        paths = Markup("").join(Markup('<path d="{}" fill="{}" stroke="#333" stroke-width="0.3"/>').format(
            d, sheet_fill(i)) for i, d in enumerate(sh.paths))
        svg = Markup('<svg viewBox="-2 -2 104 104" width="160" height="160" role="img" aria-label="{} {}">'
                     '{}{}</svg>').format(tr("زون‌های", "zones of"), sh.estate_id, outline, paths)
        # plain tuples, in the order of zoning.zones.SHEET_COLUMNS (a namedtuple class per sheet costs more than its rows)
        rows = [[Markup('<span class="sw" data-colour="{}"></span>').format(sheet_fill(i)),
                 zone_id,
                 (Markup("{}<br><small>{}</small>").format(cell(name_fa), cell(name_en)) if mode == "both"
                  else name_en if mode == "en" else name_fa),
                 digits(env_cat), f.num(float(sep_m), "g"),
                 "" if pd.isna(min_home_m) else f.num(float(min_home_m), ",.0f"), f.num(float(area_ha), ".2f"),
                 f.num(int(units)), "" if pd.isna(plots) else f.num(int(plots)), f.num(float(convexity), ".2f"),
                 land_basis(basis)]
                for i, (zone_id, name_fa, name_en, env_cat, sep_m, min_home_m, area_ha, units, plots, convexity,
                        basis) in enumerate(sh.rows.itertuples(index=False, name=None))]
        out.append(Markup('<div class="zs"><h4>{}</h4>{}<div class="zs-table">{}</div></div>').format(
            cell(sh.estate_id), svg, table(
            ["", bi("zone", "زون"), bi("category", "صنف"), bi("env", "رده"), bi("sep m", "حریم (متر)"),
             bi("from homes m", "تا مسکونی (متر)"), bi("ha", "هکتار"), bi("units", "واحد"), bi("plots", "قطعه"),
             bi("convexity", "فشردگی"), bi("land", "زمین")], rows)))
    return Markup("").join(out)


_KIND_FA = {"distance": "فاصله", "inside": "درون", "attribute": "ویژگی", "catchment": "جمعیت در دسترس",
            "raster": "رستر", "slope": "شیب"}
_TRANSFORM_FA = {"linear": "خطی", "sigmoid": "سیگموئید", "step": "پله‌ای", "piecewise": "چندتکه‌ای",
                 "gaussian": "گاوسی", "categorical": "رده‌ای", "threshold": "آستانه"}
_STATUS_FA = {"optimal": "بهینه", "feasible": "شدنی", "infeasible": "نشدنی", "n/a": "ندارد", "none": "ندارد",
              "greedy": "حریصانه", "verified": "تأییدشده", "default": "پیش‌فرض", "provisional": "موقت",
              "sourced": "مستند", "assumed": "فرضی", "confirmed": "تأییدشده", "assumption": "فرض",
              "override": "جایگزین کاربر", "scenario": "سناریو"}
_METHOD_FA = {"ahp": "تحلیل سلسله‌مراتبی (AHP)", "equal": "وزن برابر", "direct": "وزن مستقیم",
              "rank_sum": "مجموع رتبه", "entropy": "آنتروپی"}


def _fa_word(v: Any, table: dict[str, str]) -> str:
    t = text(v)
    return t if _lang.current() != "fa" else table.get(t, t)


def _robust_lines(rob: Any, f: Fmt, res: RunResult) -> list[str]:
    """The robustness findings in the report's language (English as :mod:`siteplan.locate.sensitivity` says
    them; Persian from the same records)."""
    if _lang.current() != "fa":
        return list(rob.lines)
    lines = [f"{f.num(len(rob.certain))} از {f.num(len(rob.ranked))} صنف رتبه‌بندی‌شده پایدارند: شهرک نخست در همه "
             f"{f.num(rob.draws)} قرعه وزن‌ها و هر تغییر تک‌به‌تک نخست می‌ماند"]
    names = cat_fa(res)
    for t in rob.uncertain_top:
        lines.append(f"{names.get(t['category'], t['category'])}: شهرک نخست {t['estate_id']} در "
                     f"{f.plain(t['p_first'] * 100, '%', '.0f')} قرعه‌ها نخست است و {t['challenger']} در "
                     f"{f.plain(t['p_challenger'] * 100, '%', '.0f')}")
    for x in rob.swaps:
        lines.append(f"{names.get(x['category'], x['category'])}: {x['estates'][0]} و {x['estates'][1]} (رتبه‌های "
                     f"{f.num(x['ranks'][0])} و {f.num(x['ranks'][1])}) در {f.plain(x['p'] * 100, '%', '.0f')} "
                     "قرعه‌ها جابجا می‌شوند")
    return lines


def _method(res: RunResult, f: Fmt) -> Markup:
    prep = res.prep
    sc = prep.scenario
    fa = _lang.current() == "fa"
    mrow = []
    for cl in prep.crit:
        sp = cl.spec
        ws = sorted({round(s.weights.get(sp.name, 0), 3) for s in prep.surfaces.values() if sp.name in s.weights})
        pts = "، ".join(f.num(float(x), "g") for x in sp.transform.points) if fa else str(sp.transform.points)
        layer = LAYER_NAME[sp.layer][0] if sp.layer in LAYER_NAME else sp.layer
        measure = (f"{_fa_word(sp.kind, _KIND_FA)} از لایه {layer}" if fa else f"{sp.kind} of {sp.layer}")
        trans = (f"{_fa_word(sp.transform.type, _TRANSFORM_FA)} [{pts}]" + ("" if sp.transform.increasing else " (نزولی)")
                 if fa else f"{sp.transform.type} {sp.transform.points}"
                 + ("" if sp.transform.increasing else " (decreasing)"))
        mrow.append([sp.name, measure, trans, _svg_curve(sp), tr("، ", ", ").join(f.num(w, "g") for w in ws)])
    cr = Markup("")
    if prep.ahp is not None:
        r = prep.ahp
        cr = Markup("<p>{}</p>").format(
            f"نسبت سازگاری AHP {f.num(r.cr, '.3f')} (λmax {f.num(r.lambda_max, '.3f')}، جدول شاخص تصادفی "
            f"{r.ri_table}؛ آستانه {f.num(sc.weights.cr_threshold, 'g')})." if fa else
            f"AHP consistency ratio {r.cr:.3f} (λmax {r.lambda_max:.3f}, random index table {r.ri_table}; "
            f"threshold {sc.weights.cr_threshold:g}).")
    sol = res.plan.solver
    rob = robustness(res)
    n_top = len(rob.uncertain_top)
    lines = _robust_lines(rob, f, res)

    def items(ls: list[str]) -> Markup:
        return Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(x) for x in ls))

    rob_txt = Markup("{}{}{}").format(
        lines[0], items(lines[1:1 + n_top]) if n_top else "",
        Markup("<details><summary>{}</summary>{}</details>").format(
            tr(f"{f.num(len(rob.swaps))} جفت شهرک با رتبه پایین‌تر جابجا می‌شوند",
               f"{len(rob.swaps)} pairs of lower-ranked estates swap"), items(lines[1 + n_top:])) if rob.swaps else "")
    names = cat_fa(res)
    rules_rows = [[names.get(code, code) if fa else code, r.rule_id,
                   f.qty(r.max_pct, "%", "g") if r.group == "slope" else f.qty(r.min_m, "m", "g"),
                   _fa_word(r.status, _STATUS_FA)]
                  for code in prep.codes for r in prep.rules[code] if r.group != "study_area"]
    sch = res.site_choice
    agg = _aggregation_text(sc, f)
    gap = f.num(_num(sol.get("gap")) * 100, ".4f")
    sgap = f.num(_num(sch.get("gap")) * 100, ".3f")
    solver, status = text(sol.get("solver")), _fa_word(sol.get("status"), _STATUS_FA)
    units, arcs = f.num(int(_num(sol.get("units")))), f.num(int(_num(sol.get("arcs"))))
    cand = f.num(int(_num(sch.get("candidates", 0))))
    meth = text(sch.get("method", "none"))
    if fa:
        meth = ("پوشش بیشینه حریصانه تقاضای بدون تخصیص در دسترس" if meth.startswith("greedy") else
                "مکان‌یابی تسهیلات ظرفیت‌دار (میانه p با ظرفیت و جریمه تقاضای بی‌جا) با HiGHS، از جواب آغازین "
                "پوشش بیشینه حریصانه" if meth.startswith("capacitated") else meth)
        paras = Markup("""<p>تناسب: {agg} معیارهای تبدیل‌شده (روش وزن‌دهی: {wm})؛ سلول‌هایی که ضوابط مکان‌یابی یک صنف
ممنوع کرده‌اند بی‌مقدارند.</p>
{crit}{cr}
<p>راهنمای تناسب: ۰ <span class="ramp"></span> ۱ (کم ← زیاد)</p>
<p>حل‌کننده جابجایی: {solver}؛ وضعیت <b>{status}</b>، فاصله تا کران LP {gap}٪، {units} واحد، {arcs} یال.</p>
<p>سایت‌های جدید: {cand} ناحیه نامزد برای هر زنجیره ارزش؛ انتخاب با {meth} (وضعیت {sst}، فاصله {sgap}٪).</p>
<div>پایداری (مونت‌کارلو، {draws} قرعه وزن‌ها): {rob}</div>
<details class="screen-only"><summary>ضوابط مکان‌یابی</summary>{rules}</details>
<p class="print-only">ضوابط مکان‌یابی: در نسخه صفحه‌نمایش.</p>""")
    else:
        paras = Markup("""<p>Suitability: {agg} of transformed criteria (weights method: {wm}); cells excluded by a
category's siting rules are nodata.</p>
{crit}{cr}
<p>Suitability legend: 0 <span class="ramp"></span> 1 (low → high)</p>
<p>Relocation solver: {solver}; status <b>{status}</b>, gap to LP bound {gap} %, {units} units, {arcs} arcs.</p>
<p>New sites: {cand} candidate regions grown per value chain; chosen by {meth} (status {sst}, gap {sgap} %).</p>
<div>Robustness (Monte Carlo, {draws} weight draws): {rob}</div>
<details class="screen-only"><summary>Siting rules</summary>{rules}</details>
<p class="print-only">Siting rules: in the report on screen.""" + (" / ضوابط مکان‌یابی: در نسخه صفحه‌نمایش." if
                                                                  _lang.current() == "both" else "") + "</p>")
    body = paras.format(
        agg=agg, wm=_fa_word(sc.weights.method, _METHOD_FA),
        crit=table([bi("criterion", "معیار"), bi("measure", "سنجه"), bi("transform", "تبدیل"), bi("curve", "منحنی"),
                    bi("weight(s)", "وزن")], mrow), cr=cr,
        solver=solver, status=status, gap=gap, units=units, arcs=arcs, cand=cand, meth=meth,
        sst=_fa_word(sch.get("status", "n/a"), _STATUS_FA), sgap=sgap, draws=f.num(sc.sensitivity.draws),
        rob=rob_txt or tr("ندارد", "n/a"),
        rules=table([bi("category", "صنف"), bi("rule", "ضابطه"), bi("distance", "فاصله"), bi("status", "وضعیت")],
                    rules_rows))
    return Markup("<details><summary>{}</summary>\n{}\n</details>").format(bi("Method", "روش"), body)


#: the scenario's layers in Persian and English (the data sources list)
LAYER_NAME = {"estates": ("شهرک‌ها و نواحی", "estates"), "urban": ("شهرها و روستاها", "towns and villages"),
              "receptors": ("کاربری‌های حساس", "sensitive receptors"), "roads": ("راه‌ها", "roads"),
              "rail": ("راه‌آهن", "railways"), "utilities": ("تأسیسات", "utilities"),
              "constraints": ("محدودیت‌ها", "constraints"), "businesses": ("کسب‌وکارها", "businesses"),
              "dem": ("مدل رقومی ارتفاع", "elevation"), "landuse": ("کاربری زمین", "land use"),
              "study_area": ("محدوده مطالعه", "study area"), "zoning": ("طرح‌های مصوب", "zoning plans")}


def _sources(res: RunResult, f: Fmt) -> list[Markup]:
    out = []
    for name, gdf in sorted(res.prep.region.layers.items()):
        if "source" in gdf:
            label = tr(*LAYER_NAME[name]) if name in LAYER_NAME else name
            for s, n in sorted(gdf["source"].dropna().astype(str).value_counts().items()):
                out.append(Markup("<b>{}</b> ({}): {}").format(label, f.num(n), cell(s)))
    return out


def _headline(res: RunResult, f: Fmt) -> Markup:
    """The headline block: what moves, where, the land it takes, what stays unplaced and why, and what
    the proposed sites absorb."""
    h = headline(res)
    pct = h["assigned"] / h["businesses"] * 100 if h["businesses"] else 0.0
    reasons = Markup("").join(
        Markup('<li><span class="sw" data-colour="{}"></span>{} {}</li>').format(col, f.qty(n), bi(en, fa))
        for _, en, fa, n, col in h["reasons"])
    kinds = {"site": bi("new site", "سایت جدید"), "upgrade": bi("upgrade", "ارتقای شهرک")}

    def prop(p: dict[str, Any]) -> Markup:
        label, detail = proposal_fa(p, res)
        land = p["land_ha"]
        return Markup("<li>{} {}{}: {}{}{}</li>").format(
            kinds.get(p["kind"], cell(p["kind"])), zoom("site" if p["kind"] == "site" else "estate", p["id"]),
            Markup(" ({})").format(cell(label)) if label else "",
            Markup("{} {}").format(f.qty(p["units"]), bi("businesses", "کسب‌وکار")) if p["units"] is not None else "",
            # an upgrade can free a little land (its businesses re-packed): shown as none needed
            Markup(" · {}").format(f.qty(max(land, 0.0), "ha", ",.1f")) if land is not None else "",
            Markup('<div class="sub">{}</div>').format(cell(detail)) if detail else "")

    props = Markup("").join(prop(p) for p in h["proposals"])
    props_block = Markup("")
    if h["proposals"]:
        n_site = sum(p["kind"] == "site" for p in h["proposals"])
        n_up = len(h["proposals"]) - n_site
        props_block = Markup('<div class="hl hl-wide"><div class="hl-k">{}</div><div class="hl-v">{} {} + {} {}</div>'
                             '<div class="hl-s">{} {}</div><ul class="props">{}</ul></div>').format(
            bi("Proposed sites and upgrades: what they absorb", "سایت‌ها و ارتقاهای پیشنهادی: چه جذب می‌کنند"),
            f.qty(n_site), bi("new sites", "سایت جدید"), f.qty(n_up), bi("upgrades", "ارتقا"),
            f.qty(h["proposals_units"]),
            bi("unassigned businesses the new sites take (upgrades are alternatives, each counted alone)",
               "کسب‌وکار بدون تخصیص که سایت‌های جدید می‌پذیرند (ارتقاها گزینه‌های جداگانه‌اند)"), props)
    return Markup("""<div class="headline" role="group" aria-label="{aria}">
<div class="hl"><div class="hl-k">{k_move}</div><div class="hl-v">{move}</div><div class="hl-s">{cls} {k_cls}{cls_by}</div></div>
<div class="hl ok"><div class="hl-k">{k_as}</div><div class="hl-v">{n_as}</div><div class="hl-s">{pct} · {est} {k_est}</div>
<div class="hl-s">{trip}</div></div>
<div class="hl bad"><div class="hl-k">{k_un}</div><div class="hl-v">{n_un}</div><ul class="reasons">{reasons}</ul></div>
<div class="hl"><div class="hl-k">{k_land}</div><div class="hl-v">{need}</div>
<div class="hl-s">{k_cap} {cap} · {k_used} {used} · {k_left} {left} · {k_unpl} {unpl}</div></div>
{props}
</div>""").format(
        aria=tr("ارقام اصلی", "headline figures"),
        k_move=bi("Businesses to move", "کسب‌وکارهای جابجاشونده"), move=f.qty(h["businesses"]),
        cls=f.qty(h["classified"]), k_cls=bi("classified", "طبقه‌بندی‌شده"), cls_by=_class_by_line(h, f),
        k_as=bi("Assigned to an estate", "تخصیص‌یافته"), n_as=f.qty(h["assigned"]), pct=f.qty(pct, "%", ".0f"),
        est=f.qty(h["estates_used"]), k_est=bi("estates receive them", "شهرک پذیرنده"), trip=_trip_line(h["travel"], f),
        k_un=bi("Unassigned, by reason", "بدون تخصیص، به تفکیک دلیل"), n_un=f.qty(h["unassigned"]), reasons=reasons,
        k_land=bi("Land needed", "زمین مورد نیاز"), need=f.qty(h["land_needed_ha"], "ha", ",.1f"),
        k_cap=bi("available", "ظرفیت"), cap=f.qty(h["capacity_ha"], "ha", ",.1f"),
        k_used=bi("assigned", "تخصیص"), used=f.qty(h["land_assigned_ha"], "ha", ",.1f"),
        k_left=bi("left", "باقی"), left=f.qty(h["left_ha"], "ha", ",.1f"),
        k_unpl=bi("unplaced", "بی‌جا"), unpl=f.qty(h["land_unplaced_ha"], "ha", ",.1f"), props=props_block)


#: a figure and its unit that never break apart (``.fig`` is ``white-space: nowrap`` in report.css)
_FIG = Markup('<bdi class="fig">{}</bdi>')


def _trip_line(t: dict[str, Any], f: Any) -> Markup:
    """The measure of travel: the reach and the mean trip, by road (km and minutes) or in a straight line."""
    if t["road"]:
        # each figure with its unit one unbreakable isolate (``fig``): a phone-width line wraps between
        # figures, never between a number and its unit
        reach = (_FIG.format(Markup("{}\u00a0{}").format(f.num(t["reach"], "g"), bi("min", "دقیقه")))
                 if t["unit"] == "min" else f.qty(t["reach"], "km", "g"))
        head = Markup("{} {} {}").format(bi("reach", "حد دسترسی"), reach, bi("by road", "مسیر جاده‌ای"))
        if t["mean_km"] is None:
            return head
        mins = _FIG.format(Markup("({}\u00a0{})").format(f.num(t["mean_min"] or 0.0, ",.0f"), bi("min", "دقیقه")))
        return Markup("{} · {} {} {}").format(head, bi("mean trip", "میانگین سفر"), f.qty(t["mean_km"], "km", ",.1f"),
                                              mins)
    head = Markup("{} {}").format(bi("straight line (no roads layer or distance: straight): reach",
                                     "خط مستقیم (بدون لایه راه یا distance: straight): حد دسترسی"),
                                  f.qty(t["reach"], "km", "g"))
    if t["mean_km"] is None:
        return head
    return Markup("{} · {} {}").format(head, bi("mean trip", "میانگین سفر"), f.qty(t["mean_km"], "km", ",.1f"))


#: ``class_by`` in Persian (relocation.csv keeps the codes)
_CLASS_BY_FA = {"category": "صنف ثبت‌شده", "isic": "کد فعالیت", "osm_tag": "برچسب نقشه", "keyword": "کلیدواژه",
                "model": "مدل نام", "label": "برچسب کارشناس"}


def _class_by_line(h: dict, f: Any) -> Markup:
    """How the businesses were classified (class_by counts), the trades outside the catalogue and the
    link to review.csv."""
    parts = [Markup("{} {}").format(bi(str(k), _CLASS_BY_FA.get(str(k), str(k))), f.qty(n))
             for k, n in h.get("class_by", [])]
    out = Markup(" · {}: {}").format(bi("by", "بر پایه"), Markup(", ").join(parts)) if parts else Markup("")
    if h.get("outside"):
        out += Markup(" · {} {}").format(f.qty(h["outside"]), bi("outside the catalogue", "خارج از فهرست"))
    if h.get("to_review"):
        out += Markup(' · <a href="review.csv">{} {}</a>').format(f.qty(h["to_review"]),
                                                                 bi("to review", "برای بازبینی"))
    return out


def _chart_box(cid: str, en: str, fa: str, note: str) -> Markup:
    return Markup('<figure class="chart"><figcaption>{}</figcaption><div class="chart-svg" id="{}" role="img" '
                  'aria-label="{}"></div><p class="note">{}</p></figure>').format(bi(en, fa), cid, tr(fa, en), note)


def _warnings(res: RunResult, f: Fmt) -> tuple[Markup, int]:
    """The run's warnings, repeats folded. They are the run's log (``manifest.json``), in English: on a
    Persian page each sits in a left-to-right English isolate."""
    groups = group_warnings(messages(res.warnings))
    items = [Markup('<li><bdi dir="ltr" lang="en">{}</bdi>{}</li>').format(
        text(w), Markup(' <span class="count">{} {}</span>').format(Markup("×"), f.qty(n)) if n > 1 else "")
        for w, n in groups[:MAX_WARNINGS]]
    if len(groups) > MAX_WARNINGS:
        items.append(Markup("<li>{}</li>").format(tr(
            f"… {f.num(len(groups) - MAX_WARNINGS)} نوع دیگر در manifest.json",
            f"… {len(groups) - MAX_WARNINGS} more kinds in manifest.json")))
    return Markup("").join(items), len(groups)


def _site_rows(res: RunResult, f: Fmt) -> list[list[Any]]:
    out = []
    for s in res.sites.itertuples():
        def km(v: object) -> Markup | str:
            return f.qty(float(v), "km", ",.1f") if isinstance(v, (int, float)) and pd.notna(v) else ""
        takes = getattr(s, "takes", None)
        room = getattr(s, "capacity_units", None) if takes is not None else getattr(s, "units", "")
        names = cat_fa(res)
        took = (Markup("{} ({})").format(f.qty(int(s.units)), cell(codes_fa(takes, names)))
                if takes is not None else "")
        area = f.qty(float(s.area_ha), "ha", ",.1f")
        if getattr(s, "sized_by", "demand") not in ("demand", "", None):
            area = Markup('{}<div class="sub">{}</div>').format(area, cell(sizing_text(s, res)))
        out.append([zoom("site", s.site_id), chain_name(getattr(s, "chain", "")), codes_fa(s.categories, names), area,
                    f.num(float(s.score), ".2f"), took, codes_fa(room, names), km(getattr(s, "trunk_km", None)),
                    km(getattr(s, "rail_km", None)), km(getattr(s, "power_km", None)),
                    km(getattr(s, "gas_km", None)), km(getattr(s, "water_km", None)),
                    km(getattr(s, "wastewater_km", None)), extend_fa(getattr(s, "extend", "")),
                    f.qty(int(getattr(s, "pop_reach", 0) or 0))])
    return out


def _date_span() -> Markup:
    """The page's date (Solar Hijri in Persian), only when ``SOURCE_DATE_EPOCH`` fixes it: a date of
    the day the report was written would make the same inputs give other bytes tomorrow."""
    d = _lang.report_date()
    return Markup(' · <span class="date">{}</span>').format(_lang.date_text(d)) if d is not None else Markup("")


def panel_html(res: RunResult, colour: dict[str, str]) -> Markup:
    """The side panel of the report: summary first, then details."""
    prep = res.prep
    f = Fmt(bool(getattr(prep.scenario.outputs, "persian_digits", False)))
    warn, nw = _warnings(res, f)
    src = Markup("").join(Markup("<li>{}</li>").format(s) for s in _sources(res, f))
    mode = _lang.current()
    page_lang = {"fa": "fa", "en": "en"}.get(mode, "fa-IR")
    sub = (Markup('<p class="sub" dir="ltr" lang="en">Relocation of nuisance guilds and zoning of the estates{}</p>')
           if mode == "en" else
           Markup('<p class="sub" dir="rtl" lang="fa">گزارش جابجایی اصناف مزاحم و پهنه‌بندی شهرک‌ها{}</p>')).format(
        _date_span())
    title = (Markup("{}") if mode == "fa" else Markup('<span dir="ltr" lang="en">siteplan</span> — {}')).format(
        cell(prep.scenario.name))
    return Markup("""<aside id="sp-panel" lang="{page_lang}" aria-label="{k_aside}">
<button type="button" id="sp-handle" aria-expanded="true" aria-controls="sp-body">{k_sheet}</button>
<div id="sp-body">
<section id="sp-summary" aria-labelledby="sp-title">
<h1 id="sp-title">{title}</h1>
{sub}
{headline}
<details open class="charts"><summary>{k_charts}</summary>
{c_est}{c_flow}{c_un}
</details>
</section>
<section id="sp-details" aria-label="{k_det_aria}">
<h2>{k_details}</h2>
<details><summary>{k_cats}</summary>{cats}</details>
<details><summary>{k_ests}</summary>{ests}</details>
<details><summary>{k_sites}</summary>{sites}</details>
<details class="zsheets"><summary>{k_zs}</summary>
<p class="print-only">{k_zs_print}</p>{zsheets}</details>
{programme}
{method}
<details><summary>{k_warn} <span class="count">({nw})</span></summary><ul>{warn}</ul></details>
<details><summary>{k_src}</summary><ul>{src}</ul>
<p>{k_osm}</p></details>
</section>
</div>
</aside>""").format(
        page_lang=page_lang, k_aside=tr("خلاصه و جزئیات گزارش", "report summary and details"), title=title, sub=sub,
        k_det_aria=tr("جزئیات", "details"),
        k_osm=tr("نقشه پایه در حالت آنلاین: © مشارکت‌کنندگان OpenStreetMap (ODbL).",
                 "Base map when online: © OpenStreetMap contributors (ODbL)."),
        k_sheet=bi("Summary", "خلاصه"), headline=_headline(res, f),
        k_charts=bi("Charts", "نمودارها"),
        c_est=_chart_box("chart-estates", "Demand against capacity per estate", "تقاضا در برابر ظرفیت هر شهرک",
                         tr("میله: زمین تخصیص‌یافته (هکتار)؛ قاب: ظرفیت (هکتار)",
                            "bar: land assigned (ha); frame: capacity (ha)")),
        c_flow=_chart_box("chart-flows", "Where they come from and go: towns to estates",
                          "از کجا به کجا: شهرها به شهرک‌ها", tr("پهنای نوار: شمار کسب‌وکارها", "band width: businesses")),
        c_un=_chart_box("chart-unassigned", "Unassigned by reason and category", "بدون تخصیص به تفکیک دلیل و صنف",
                        tr("کسب‌وکارهای هر صنف، رنگ به تفکیک دلیل", "businesses per category, coloured by reason")),
        programme=programme_html(res, f),
        k_details=bi("Details", "جزئیات"), k_cats=bi("Categories", "اصناف"),
        cats=table([bi("category", "صنف"), bi("env", "رده محیطی"), bi("businesses", "کسب‌وکار"),
                    bi("land ha", "زمین (هکتار)"), bi("assigned", "تخصیص‌یافته"), bi("unassigned", "بدون تخصیص"),
                    bi("why unassigned", "دلیل عدم تخصیص")],
                   _category_rows(res, colour, f)),
        k_ests=bi("Estates", "شهرک‌ها و نواحی"),
        ests=table([bi("id", "شناسه"), bi("name", "نام"), bi("kind", "نوع"), bi("capacity ha", "ظرفیت (هکتار)"),
                    bi("used ha", "استفاده‌شده (هکتار)"), bi("left ha", "باقی (هکتار)"), bi("businesses", "کسب‌وکار"),
                    bi("capacity from", "مبنای ظرفیت")],
                   _estate_rows(res, f)),
        k_sites=bi("Proposed sites", "سایت‌های پیشنهادی"),
        sites=table([bi("site", "سایت"), bi("chain", "زنجیره"), bi("categories", "اصناف"), bi("area", "مساحت"),
                     bi("score", "امتیاز"), bi("takes (unassigned businesses)", "جذب (کسب‌وکار بدون تخصیص)"),
                     bi("room (units per category)", "ظرفیت (واحد برای هر صنف)"), bi("to trunk road", "تا راه اصلی"),
                     bi("to rail", "تا راه‌آهن"), bi("to power", "تا برق"), bi("to gas", "تا گاز"),
                     bi("to water", "تا آب"), bi("to wastewater", "تا فاضلاب"),
                     bi("utilities to extend", "تأسیسات لازم"),
                     bi(f"population within {POP_REACH_KM:g} km", f"جمعیت در شعاع {f.plain(POP_REACH_KM, 'km', 'g')}")],
                    _site_rows(res, f)),
        k_zs=bi("Zoning sheets", "پهنه‌بندی شهرک‌ها"), zsheets=_zoning_sheets(res, f),
        k_zs_print=bi("printed as maps; each zone's table is in the report on screen and in zones.geojson",
                      "در چاپ فقط نقشه‌ها؛ جدول هر زون در نسخه صفحه‌نمایش و zones.geojson"),
        method=_method(res, f), k_warn=bi("Warnings", "هشدارها"), nw=f.num(nw), warn=warn,
        k_src=bi("Data sources", "منابع داده"), src=src)
