"""The words and numbers of the comparison page (:mod:`siteplan.outputs.compare_page`) and its map
(:mod:`siteplan.outputs.compare_map`): the kinds of change in Persian and English, the metrics of
``totals.csv``, numbers with ASCII or Persian digits, category names and reasons in Persian.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..report.bidi import fa_digits

if TYPE_CHECKING:
    from .compare import Comparison

__all__ = ["CHANGE_FA", "SITE_FA", "ZONE_FA", "METRIC_FA", "Fmt", "category_names", "business_reason_fa", "persian_digits"]

#: kinds of change of a business: (Persian, English)
CHANGE_FA = {
    "moved": ("به شهرک دیگر", "moved to another estate"),
    "newly_assigned": ("تازه جای‌گرفته", "newly assigned"),
    "newly_unassigned": ("تازه بی‌جا مانده", "newly unassigned"),
    "site_changed": ("سایت پیشنهادی دیگر", "another proposed site"),
    "reason_changed": ("دلیل دیگر برای بی‌جا ماندن", "unassigned for another reason"),
    "only_in_a": ("فقط در A", "only in A"),
    "only_in_b": ("فقط در B", "only in B"),
}
#: kinds of change of a proposed site
SITE_FA = {"kept": ("همان‌جا", "kept"), "moved": ("جابه‌جا شده", "moved"), "added": ("افزوده", "added"),
           "removed": ("حذف‌شده", "removed")}
#: kinds of change of a zone
ZONE_FA = {"added": ("افزوده", "added"), "removed": ("حذف‌شده", "removed"), "resized": ("تغییر اندازه", "resized"),
           "redrawn": ("بازترسیم", "redrawn")}
#: the metrics of totals.csv
METRIC_FA = {
    "businesses": "کسب‌وکارها", "assigned": "جای‌گرفته", "unassigned": "بی‌جا مانده", "unclassified": "طبقه‌بندی‌نشده",
    "unassigned a proposed site would take": "بی‌جا مانده‌هایی که سایت پیشنهادی می‌پذیرد",
    "land assigned (ha)": "زمین واگذارشده (هکتار)", "total trip length (km)": "جمع طول سفر (کیلومتر)",
    "mean trip length (km)": "میانگین طول سفر (کیلومتر)", "mean trip by road (km)": "میانگین سفر از راه (کیلومتر)",
    "mean trip time (min)": "میانگین زمان سفر (دقیقه)", "objective": "تابع هدف", "lower bound": "کران پایین",
    "gap": "شکاف بهینگی", "proposed sites": "سایت‌های پیشنهادی", "zones": "پهنه‌ها",
    "moved because of the change": "جابه‌جایی به سبب تغییر", "moved for nothing": "جابه‌جایی بی‌دلیل",
    "moved with a scenario-wide change": "جابه‌جایی با تغییر سراسری سناریو",
    **{f"businesses {c.replace('_', ' ')}": f"کسب‌وکارها: {fa}" for c, (fa, _) in CHANGE_FA.items()},
    **{f"sites {c}": f"سایت‌ها: {fa}" for c, (fa, _) in SITE_FA.items()},
    **{f"zones {c}": f"پهنه‌ها: {fa}" for c, (fa, _) in ZONE_FA.items()},
}


class Fmt:
    """Numbers as text, with ASCII or Persian digits (``outputs.persian_digits`` of run B)."""

    def __init__(self, *, persian: bool) -> None:
        self.persian = persian

    def num(self, v: Any, *, signed: bool = False) -> str:
        """``v`` with thousands separators and at most four decimals (``+`` first when ``signed``); "" for a
        missing value."""
        if v is None or (isinstance(v, (float, np.floating)) and math.isnan(float(v))):
            return ""
        f = float(v)
        s = f"{f:+,.4f}" if signed else f"{f:,.4f}"
        s = s.rstrip("0").rstrip(".") if "." in s else s
        if signed and f == 0:
            s = "0"
        return fa_digits(s) if self.persian else s

    def ltr(self, v: Any, unit: str = "", *, signed: bool = False) -> str:
        """A number (and unit) as a left-to-right isolate inside plain text (U+2066 … U+2069), so
        that a sign or a unit stays on its side in a right-to-left sentence."""
        return "\u2066" + self.num(v, signed=signed) + (f"\u00a0{unit}" if unit else "") + "\u2069"


def category_names(cmp: Comparison) -> dict[str, str]:
    """Category code -> Persian name: the runs' own ``category_fa`` (B's wins), else the shipped
    catalogue's; a code neither knows is shown as written."""
    from ..guilds.catalogue import load_catalogue

    t = load_catalogue().table
    names = {str(c): str(f) for c, f in zip(t["code"], t["name_fa"]) if f is not None and str(f)}
    for r in (cmp.a.relocation, cmp.b.relocation):
        k = r[(r["category"] != "") & (r["category_fa"] != "")]
        names.update(zip(k["category"], k["category_fa"]))
    return names


def business_reason_fa(text: Any, fa: Any, code: Any) -> str:
    """Why a business is unassigned, in Persian: the run's own ``reason_fa``, else the sentence put in
    Persian, else the label of its ``reason_code``."""
    from ..relocation.reasons import reason_fa, reason_label

    if isinstance(fa, str) and fa:
        return fa
    if isinstance(text, str) and text:
        return str(reason_fa([text])[0])
    return reason_label(str(code or ""), "fa")


def persian_digits(cmp: Comparison) -> bool:
    """Whether run B was written with ``outputs.persian_digits``: the page then writes Persian digits."""
    sc = cmp.b.manifest.get("scenario")
    out = sc.get("outputs") if isinstance(sc, dict) else None
    return bool(out.get("persian_digits")) if isinstance(out, dict) else False
