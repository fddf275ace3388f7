"""The headline block of the report's panel: what moves, where, the land it takes, what stays unplaced
and why, the measure of travel, and what the proposed sites and upgrades absorb. Built with
:mod:`markupsafe` as the panel (:mod:`.panel`): every value is escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from .bidi import Fmt, bi
from .summary import headline, proposal_fa
from .tables import cell, zoom
from .words import tr

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["headline_html", "trip_line"]


def headline_html(res: RunResult, f: Fmt) -> Markup:
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
        est=f.qty(h["estates_used"]), k_est=bi("estates receive them", "شهرک پذیرنده"), trip=trip_line(h["travel"], f),
        k_un=bi("Unassigned, by reason", "بدون تخصیص، به تفکیک دلیل"), n_un=f.qty(h["unassigned"]), reasons=reasons,
        k_land=bi("Land needed", "زمین مورد نیاز"), need=f.qty(h["land_needed_ha"], "ha", ",.1f"),
        k_cap=bi("available", "ظرفیت"), cap=f.qty(h["capacity_ha"], "ha", ",.1f"),
        k_used=bi("assigned", "تخصیص"), used=f.qty(h["land_assigned_ha"], "ha", ",.1f"),
        k_left=bi("left", "باقی"), left=f.qty(h["left_ha"], "ha", ",.1f"),
        k_unpl=bi("unplaced", "بی‌جا"), unpl=f.qty(h["land_unplaced_ha"], "ha", ",.1f"), props=props_block)


#: a figure and its unit that never break apart (``.fig`` is ``white-space: nowrap`` in report.css)
_FIG = Markup('<bdi class="fig">{}</bdi>')


def trip_line(t: dict[str, Any], f: Fmt) -> Markup:
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


def _class_by_line(h: dict[str, Any], f: Fmt) -> Markup:
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

