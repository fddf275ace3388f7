"""Names and numbers in the report's languages, as plain text (never HTML): display text of any value,
labels and phrases in the report's language (:mod:`.lang`), numbers with their units, closed-vocabulary
kinds, category codes as the catalogue's names, the utilities a site needs and why a site has its size.

The lowest module the report's sections share: :mod:`.layers`, :mod:`.summary`, :mod:`.programme` and
:mod:`.panel` import these helpers from here, and this module imports none of them.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import lang as _lang
from .bidi import Fmt
from .lang import fa_digits

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["text", "fe", "tr", "num", "qty", "digits", "ESTATE_KIND", "CONSTRAINT_KIND", "kind_name", "cat_fa",
           "codes_fa", "extend_fa", "land_basis", "sizing_text", "LAYER_NAME"]


def text(v: Any) -> str:
    """Any value as display text (None, NaN and NA give an empty string)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if math.isnan(float(v)) else f"{float(v):g}"
    return str(v)


def fe(fa: str, en: str) -> dict[str, str]:
    """A label in the report's language (:mod:`.lang`): ``{"fa": ..., "en": ...}`` on a ``both`` page
    (Persian first; the page isolates each part and shows the English one as secondary), only the
    ``fa`` or the ``en`` part on a one-language page."""
    mode = _lang.current()
    return {"fa": fa} if mode == "fa" else {"en": en} if mode == "en" else {"fa": fa, "en": en}


def tr(fa: str, en: str) -> str:
    """A phrase in the report's language: English on an ``en`` page, else Persian."""
    return _lang.pick(fa, en)


def num(v: Any, spec: str = ",") -> str:
    """A number as the report writes it (Persian digits on a ``fa`` page)."""
    return Fmt().num(v, spec)


def qty(v: Any, unit: str = "", spec: str = ",") -> str:
    """A number and its unit as plain text (``12.5 ha``; ``۱۲٫۵ هکتار`` on a ``fa`` page)."""
    return Fmt().plain(v, unit, spec)


def digits(s: Any) -> str:
    """A code made of digits (an environmental category ``4.1``) in Persian digits on a ``fa`` page."""
    t = text(s)
    return fa_digits(t) if _lang.persian_digits() and t.replace(".", "").isdigit() else t


#: the estate kinds of the closed vocabulary (:mod:`siteplan.common.vocab`) in Persian and English
ESTATE_KIND = {"estate": ("شهرک صنعتی", "industrial estate"), "zone": ("ناحیه صنعتی", "industrial zone"),
               "guild_est": ("شهرک صنفی", "guild estate"), "workshop": ("مجتمع کارگاهی", "workshop complex")}


#: the constraint kinds of the closed vocabulary in Persian and English
CONSTRAINT_KIND = {"protected": ("منطقه حفاظت‌شده", "protected area"), "river": ("رودخانه", "river"),
                   "fault": ("گسل", "fault"), "wetland": ("تالاب", "wetland"), "airport": ("فرودگاه", "airport"),
                   "qanat": ("قنات", "qanat"), "well": ("چاه", "well"), "lake": ("دریاچه", "lake"),
                   "water": ("آب", "water")}


def kind_name(v: Any, table: dict[str, tuple[str, str]]) -> str:
    """A closed-vocabulary kind in the report's language (a value the table does not know, as written)."""
    t = text(v)
    return tr(*table[t]) if t in table else t


def cat_fa(res: RunResult) -> dict[str, str]:
    """Category code -> its name in the report's language: Persian (``both``, ``fa``) or English
    (``en``); the code itself when the catalogue has no such name."""
    cat = res.prep.catalogue.table
    col = "name_en" if _lang.current() == "en" else "name_fa"
    return {str(c): (text(n) or str(c)) for c, n in zip(cat["code"], cat[col])}


def codes_fa(codes: Any, names: dict[str, str]) -> str:
    """A comma-separated list of category codes (``car_repair, car_parts`` or, with counts,
    ``car_repair:322, car_parts:136``) in Persian names, joined by the Persian comma; a part that is
    not a known code is kept as written."""
    out = []
    for raw in str(codes or "").split(","):
        part = raw.strip()
        if not part:
            continue
        code, sep, n = part.rpartition(":")
        if sep and code.strip() in names and n.strip().isdigit():
            out.append(f"{names[code.strip()]}: {num(int(n.strip()))}")
        else:
            out.append(names.get(part, part))
    return tr("، ", ", ").join(out)


def extend_fa(v: Any) -> str:
    """``power 1.5 km, gas 6.2 km`` / ``none`` in Persian (distances kept)."""
    t = text(v).strip()
    if _lang.current() == "en":
        return t or "none"
    if not t or t == "none":
        return "هیچ"
    words = {"power": "برق", "gas": "گاز", "water": "آب", "wastewater": "فاضلاب", "rail": "راه‌آهن",
             "road": "راه", "trunk": "راه اصلی"}
    out = []
    for part in t.split(","):
        nw = re.fullmatch(r"\s*(\w+): no network in the inputs\s*", part)
        if nw:
            out.append(f"{words.get(nw[1], nw[1])}: شبکه‌ای در داده‌های ورودی نیست")
            continue
        w, _, rest = part.strip().partition(" ")
        m = re.fullmatch(r"([\d.]+) (km|m)", rest.strip())
        rest = qty(float(m[1]), m[2], "g") if m else rest
        out.append(f"{words.get(w, w)} {rest}".strip())
    return "، ".join(out)


def land_basis(v: Any) -> str:
    """A zone's land basis (``net`` / ``gross`` ...) in the report's language."""
    t = text(v)
    fa = {"net": "خالص", "gross": "ناخالص", "vacant": "زمین خالی", "vacant_ha": "زمین خالی", "gross_ha": "ناخالص",
          "area": "مساحت", "usable": "قابل استفاده", "indicative": "تقریبی", "plots": "قطعات"}
    return t if _lang.current() == "en" else fa.get(t, t)


def sizing_text(s: Any, res: RunResult) -> str:
    """Why a proposed site has its size, in the report's language (``sizing`` of ``sites.geojson`` in
    English; in Persian from the same fields)."""
    if _lang.current() != "fa":
        return text(getattr(s, "sizing", ""))
    f = Fmt()
    sized_by = text(getattr(s, "sized_by", ""))
    demand = getattr(s, "demand_ha", None)
    n = getattr(s, "sized_for", None)
    if demand is None or n is None or pd.isna(demand) or pd.isna(n):
        return text(getattr(s, "sizing", ""))
    ntg = float(res.prep.scenario.allocation.net_to_gross)
    need = (f"{f.num(int(n))} کسب‌وکاری که سایت برایشان اندازه شد {f.plain(float(demand) * ntg, 'ha', ',.2f')} زمین "
            f"می‌خواهند ({f.plain(float(demand), 'ha', ',.2f')} ناخالص)")
    area = f.plain(float(s.area_ha), "ha", "g")
    lead = {"min_area_ha": f"{area}: کمینه مساحت سایت در سناریو",
            "max_area_ha": f"{area}: بیشینه مساحت سایت در سناریو",
            "area_ha": f"{area}: مساحت ثابت سایت در سناریو"}.get(sized_by, "به اندازه تقاضای خود")
    return f"{lead}؛ {need}"


#: the scenario's layers in Persian and English (the data sources list)
LAYER_NAME = {"estates": ("شهرک‌ها و نواحی", "estates"), "urban": ("شهرها و روستاها", "towns and villages"),
              "receptors": ("کاربری‌های حساس", "sensitive receptors"), "roads": ("راه‌ها", "roads"),
              "rail": ("راه‌آهن", "railways"), "utilities": ("تأسیسات", "utilities"),
              "constraints": ("محدودیت‌ها", "constraints"), "businesses": ("کسب‌وکارها", "businesses"),
              "dem": ("مدل رقومی ارتفاع", "elevation"), "landuse": ("کاربری زمین", "land use"),
              "study_area": ("محدوده مطالعه", "study area"), "zoning": ("طرح‌های مصوب", "zoning plans")}

