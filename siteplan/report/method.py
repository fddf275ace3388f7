"""The method section of the report's panel: how suitability was built (criteria, their transforms and
curves, the weights and the AHP consistency), how the relocation and the new sites were solved, how
robust the ranking is, and the siting rules. Built with :mod:`markupsafe` as the panel (:mod:`.panel`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from markupsafe import Markup

from ..errors import InputError
from . import lang as _lang
from .bidi import Fmt, bi
from .summary import robustness
from .tables import table
from .words import LAYER_NAME, cat_fa, text, tr

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["method_html"]


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
    except (ArithmeticError, IndexError, KeyError, TypeError, ValueError, InputError):  # categorical or invalid: no curve
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
    lines = [(f"{f.num(len(rob.certain))} از {f.num(len(rob.ranked))} صنف رتبه‌بندی‌شده پایدارند: شهرک نخست در همه "
             f"{f.num(rob.draws)} قرعه وزن‌ها و هر تغییر تک‌به‌تک نخست می‌ماند")]
    names = cat_fa(res)
    lines.extend(f"{names.get(t['category'], t['category'])}: شهرک نخست {t['estate_id']} در "
                 f"{f.plain(t['p_first'] * 100, '%', '.0f')} قرعه‌ها نخست است و {t['challenger']} در "
                 f"{f.plain(t['p_challenger'] * 100, '%', '.0f')}" for t in rob.uncertain_top)
    lines.extend(f"{names.get(x['category'], x['category'])}: {x['estates'][0]} و {x['estates'][1]} (رتبه‌های "
                 f"{f.num(x['ranks'][0])} و {f.num(x['ranks'][1])}) در {f.plain(x['p'] * 100, '%', '.0f')} "
                 "قرعه‌ها جابجا می‌شوند" for x in rob.swaps)
    return lines


def _criteria_table(res: RunResult, f: Fmt, *, fa: bool) -> Markup:
    """The criteria: what each measures, its transform and curve, and its weight(s) across categories."""
    prep = res.prep
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
    return table([bi("criterion", "معیار"), bi("measure", "سنجه"), bi("transform", "تبدیل"), bi("curve", "منحنی"),
                  bi("weight(s)", "وزن")], mrow)


def _ahp_note(res: RunResult, f: Fmt, *, fa: bool) -> Markup:
    """The AHP consistency ratio against its threshold (nothing when the weights are not AHP's)."""
    prep = res.prep
    if prep.ahp is None:
        return Markup("")
    r, sc = prep.ahp, prep.scenario
    return Markup("<p>{}</p>").format(
        f"نسبت سازگاری AHP {f.num(r.cr, '.3f')} (λmax {f.num(r.lambda_max, '.3f')}، جدول شاخص تصادفی "
        f"{r.ri_table}؛ آستانه {f.num(sc.weights.cr_threshold, 'g')})." if fa else
        f"AHP consistency ratio {r.cr:.3f} (λmax {r.lambda_max:.3f}, random index table {r.ri_table}; "
        f"threshold {sc.weights.cr_threshold:g}).")


def _items(ls: list[str]) -> Markup:
    return Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(x) for x in ls))


def _robust_html(res: RunResult, f: Fmt) -> Markup:
    """The robustness findings: the headline, the uncertain first estates, the swaps folded."""
    rob = robustness(res)
    n_top = len(rob.uncertain_top)
    lines = _robust_lines(rob, f, res)
    return Markup("{}{}{}").format(
        lines[0], _items(lines[1:1 + n_top]) if n_top else "",
        Markup("<details><summary>{}</summary>{}</details>").format(
            tr(f"{f.num(len(rob.swaps))} جفت شهرک با رتبه پایین‌تر جابجا می‌شوند",
               f"{len(rob.swaps)} pairs of lower-ranked estates swap"), _items(lines[1 + n_top:])) if rob.swaps else "")


def _rules_table(res: RunResult, f: Fmt, *, fa: bool) -> Markup:
    """The siting rules of every category (the study area's boundary left out)."""
    prep = res.prep
    names = cat_fa(res)
    rules_rows = [[names.get(code, code) if fa else code, r.rule_id,
                   f.qty(r.max_pct, "%", "g") if r.group == "slope" else f.qty(r.min_m, "m", "g"),
                   _fa_word(r.status, _STATUS_FA)]
                  for code in prep.codes for r in prep.rules[code] if r.group != "study_area"]
    return table([bi("category", "صنف"), bi("rule", "ضابطه"), bi("distance", "فاصله"), bi("status", "وضعیت")],
                 rules_rows)


def _site_method(meth: str, *, fa: bool) -> str:
    """How the new sites were chosen, in the page's language."""
    if not fa:
        return meth
    return ("پوشش بیشینه حریصانه تقاضای بدون تخصیص در دسترس" if meth.startswith("greedy") else
            "مکان‌یابی تسهیلات ظرفیت‌دار (میانه p با ظرفیت و جریمه تقاضای بی‌جا) با HiGHS، از جواب آغازین "
            "پوشش بیشینه حریصانه" if meth.startswith("capacitated") else meth)


_METHOD_TEXT_FA = Markup("""<p>تناسب: {agg} معیارهای تبدیل‌شده (روش وزن‌دهی: {wm})؛ سلول‌هایی که ضوابط مکان‌یابی یک صنف
ممنوع کرده‌اند بی‌مقدارند.</p>
{crit}{cr}
<p>راهنمای تناسب: ۰ <span class="ramp"></span> ۱ (کم ← زیاد)</p>
<p>حل‌کننده جابجایی: {solver}؛ وضعیت <b>{status}</b>، فاصله تا کران LP {gap}٪، {units} واحد، {arcs} یال.</p>
<p>سایت‌های جدید: {cand} ناحیه نامزد برای هر زنجیره ارزش؛ انتخاب با {meth} (وضعیت {sst}، فاصله {sgap}٪).</p>
<div>پایداری (مونت‌کارلو، {draws} قرعه وزن‌ها): {rob}</div>
<details class="screen-only"><summary>ضوابط مکان‌یابی</summary>{rules}</details>
<p class="print-only">ضوابط مکان‌یابی: در نسخه صفحه‌نمایش.</p>""")
_METHOD_TEXT_EN = """<p>Suitability: {agg} of transformed criteria (weights method: {wm}); cells excluded by a
category's siting rules are nodata.</p>
{crit}{cr}
<p>Suitability legend: 0 <span class="ramp"></span> 1 (low → high)</p>
<p>Relocation solver: {solver}; status <b>{status}</b>, gap to LP bound {gap} %, {units} units, {arcs} arcs.</p>
<p>New sites: {cand} candidate regions grown per value chain; chosen by {meth} (status {sst}, gap {sgap} %).</p>
<div>Robustness (Monte Carlo, {draws} weight draws): {rob}</div>
<details class="screen-only"><summary>Siting rules</summary>{rules}</details>
<p class="print-only">Siting rules: in the report on screen."""


def method_html(res: RunResult, f: Fmt) -> Markup:
    """The panel's method section (folded): suitability, criteria, weights, solvers, robustness, rules."""
    sc = res.prep.scenario
    fa = _lang.current() == "fa"
    paras = _METHOD_TEXT_FA if fa else Markup(_METHOD_TEXT_EN + (" / ضوابط مکان‌یابی: در نسخه صفحه‌نمایش." if
                                                                  _lang.current() == "both" else "") + "</p>")
    sol, sch = res.plan.solver, res.site_choice
    body = paras.format(
        agg=_aggregation_text(sc, f), wm=_fa_word(sc.weights.method, _METHOD_FA),
        crit=_criteria_table(res, f, fa=fa), cr=_ahp_note(res, f, fa=fa),
        solver=text(sol.get("solver")), status=_fa_word(sol.get("status"), _STATUS_FA),
        gap=f.num(_num(sol.get("gap")) * 100, ".4f"), units=f.num(int(_num(sol.get("units")))),
        arcs=f.num(int(_num(sol.get("arcs")))), cand=f.num(int(_num(sch.get("candidates", 0)))),
        meth=_site_method(text(sch.get("method", "none")), fa=fa),
        sst=_fa_word(sch.get("status", "n/a"), _STATUS_FA), sgap=f.num(_num(sch.get("gap")) * 100, ".3f"),
        draws=f.num(sc.sensitivity.draws), rob=_robust_html(res, f) or tr("ندارد", "n/a"),
        rules=_rules_table(res, f, fa=fa))
    return Markup("<details><summary>{}</summary>\n{}\n</details>").format(bi("Method", "روش"), body)
