"""Why a business is unassigned, as a small fixed vocabulary (``reason_code``) with English and Persian
text.

The relocation plan writes one English sentence per unassigned business, with distances and estate
ids inside (``no eligible estate within 30 km (nearest: E15 at 38.2 km)``), so a pivot over the
sentence gives hundreds of rows. :func:`reason_codes` maps each sentence to one code of
:data:`REASON_CODES` and :func:`reason_fa` gives the same sentence in Persian, numbers and ids kept.
A sentence this module does not know is coded ``other`` (never guessed) and its Persian text is the
Persian label followed by the English sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

__all__ = ["REASON_CODES", "reason_code", "reason_codes", "reason_fa", "reason_label", "eligibility_fa"]

#: code -> (English label, Persian label); the vocabulary of ``relocation.csv``'s ``reason_code``
REASON_CODES: dict[str, tuple[str, str]] = {
    "capacity_full": ("capacity exhausted in the eligible estates within reach",
                      "ظرفیت شهرک‌های مجاز در دسترس پر شده است"),
    "not_eligible_nearby": ("the estates within reach are not eligible for the category",
                            "شهرک‌های در دسترس برای این صنف مجاز نیستند"),
    "too_far": ("no estate within the distance limit", "هیچ شهرکی در حد فاصله مجاز نیست"),
    "too_large": ("too large for the free land of every eligible estate",
                  "بزرگ‌تر از زمین خالی همه شهرک‌های مجاز"),
    "no_estates": ("no existing estate in the scenario", "هیچ شهرک موجودی در سناریو نیست"),
    "out_of_scope": ("category not in the scenario's scope", "صنف خارج از دامنه سناریو"),
    "unclassified": ("unclassified (category unknown)", "طبقه‌بندی‌نشده (صنف نامعلوم)"),
    "other": ("other reason", "دلیل دیگر"),
}

# the reach: "30 km" (straight), "30 km by road" or "45 min by road" (siteplan.relocation.roads)
_REACH = r"([\d.]+ (?:km|min)(?: by road)?)"
# on roads the nearest estate's distance is straight, and says so ("at 26.9 km in a straight line")
_NEAR_FAR = re.compile(r"^no eligible estate within " + _REACH + r" \(nearest: (.*) at ([\d.]+) km( in a straight line)?\)$",
                       re.DOTALL)
_NEAR_WHY = re.compile(r"^no eligible estate within " + _REACH + r" \(nearest (.*?): (.*)\)$", re.DOTALL)
_TOO_LARGE = re.compile(r"^too large \(([\d.]+) ha\) for the free land of every eligible estate within " + _REACH + "$")


def _reach_fa(reach: str) -> str:
    """A reach phrase (``30 km``, ``30 km by road``, ``45 min by road``) in Persian, as "within" it:
    ``در شعاع ۳۰ کیلومتر`` (a radius) or ``تا ۳۰ کیلومتر مسیر جاده‌ای`` (up to 30 km of road route)."""
    num, unit, *road = reach.split(" ")
    qty = f"{num} {'دقیقه' if unit == 'min' else 'کیلومتر'}"
    return f"تا {qty} مسیر جاده‌ای" if road else f"در شعاع {qty}"


#: Persian names of the utilities an estate may lack
_UTIL_FA = {"power": "برق", "gas": "گاز", "water": "آب", "wastewater": "فاضلاب"}
#: the phrases of :func:`siteplan.rules.ruleset.estate_reasons`, :func:`siteplan.rules.ruleset.eligibility` and
#: :func:`siteplan.rules.reservations.reservation_reasons`, each with its Persian text (groups: ids, numbers
#: and names the user typed, kept as they are)
_ELIG_FA: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^estate kind '(.*)' not accepted$", re.DOTALL), "نوع شهرک «{0}» پذیرفته نیست"),
    (re.compile(r"^env\. category (\S+) above the estate's max_cat (\S+)$"),
     "رده محیطی {0} بالاتر از سقف رده شهرک ({1})"),
    (re.compile(r"^no (power|gas|water|wastewater)$"), "بدون شبکه {0}"),
    (re.compile(r"^no land of the estate satisfies (.*) \((.*)\)$", re.DOTALL),
     "هیچ زمینی از شهرک شرط {0} ({1}) را برآورده نمی‌کند"),
    (re.compile(r"^no usable land$"), "زمین قابل استفاده ندارد"),
    (re.compile(r"^excluded by (.*)$", re.DOTALL), "کنار گذاشته به موجب {0}"),
    (re.compile(r"^reserved for (.*) \((.*)\)$", re.DOTALL), "رزروشده برای {0} ({1})"),
]


#: the phrases of a business's classification note (:func:`siteplan.guilds.catalogue.classify`,
#: :mod:`siteplan.guilds.name_model`) after ``unclassified:``, each with its Persian text
_CLASS_FA: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^category '(.*)' unknown$", re.DOTALL), "صنف «{0}» شناخته نیست"),
    (re.compile(r"^ISIC '(.*)' not in catalogue$", re.DOTALL), "کد ISIC «{0}» در فهرست اصناف نیست"),
    (re.compile(r"^OSM tag '(.*)' not mapped$", re.DOTALL), "برچسب OSM «{0}» به صنفی نگاشته نشده"),
    (re.compile(r"^keywords of several categories in the name \((.*)\)$", re.DOTALL), "کلیدواژه‌های چند صنف در نام ({0})"),
    (re.compile(r"^no keyword in name$"), "کلیدواژه‌ای در نام نیست"),
    (re.compile(r"^no name$"), "بی‌نام"),
    (re.compile(r"^name model: a trade outside the catalogue \(([\d.]+); next (\S+) ([\d.]+)\): listed in "
                r"review\.csv$"),
     "مدل نام: صنفی بیرون از فهرست اصناف ({0}؛ بعدی {1} {2})؛ در فهرست بازبینی (review.csv)"),
    (re.compile(r"^name model not sure \((\S+) ([\d.]+), (\S+) ([\d.]+) < ([\d.]+)\): listed in review\.csv$"),
     "مدل نام مطمئن نیست ({0} {1}، {2} {3}، کمتر از {4})؛ در فهرست بازبینی (review.csv)"),
    (re.compile(r"^a generic word of (\S+) in the name, but the name is of another trade$"),
     "واژه عام صنف {0} در نام هست، ولی نام از صنف دیگری است"),
    (re.compile(r"^category not in scope$"), "صنف خارج از دامنه سناریو"),
    (re.compile(r"^name model: (\S+) ([\d.]+), then (\S+) ([\d.]+) \(calibrated confidence ([\d.]+) < ([\d.]+)\)$"),
     "مدل نام: {0} {1}، سپس {2} {3} (اطمینان واسنجی‌شده {4} کمتر از {5})"),
    (re.compile(r"^name model: (\S+) ([\d.]+), then (\S+) ([\d.]+) \(the officer says which\)$"),
     "مدل نام: {0} {1}، سپس {2} {3} (کارشناس تعیین می‌کند)"),
    (re.compile(r"^name model: a trade outside the catalogue \(([\d.]+)\)$"), "مدل نام: صنفی بیرون از فهرست اصناف ({0})"),
    (re.compile(r"^a trade outside the catalogue \(«(.*)»\)$", re.DOTALL), "صنفی بیرون از فهرست اصناف («{0}»)"),
    (re.compile(r"^the name's keywords \((.*)\) contradict the ISIC code's (\S+)$", re.DOTALL),
     "کلیدواژه‌های نام ({0}) با صنف کد ISIC ({1}) نمی‌خوانند"),
    (re.compile(r"^«(.*)»: registries disagree whether it is (\S+) or a trade outside the catalogue$", re.DOTALL),
     "«{0}»: فهرست‌های اصناف در اینکه {1} است یا صنفی بیرون از فهرست اصناف هم‌نظر نیستند"),
    (re.compile(r"^«(.*)» is (\S+) but «(.*)» says (\S+)$", re.DOTALL), "«{0}» از صنف {1} است ولی «{2}» صنف {3} را می‌گوید"),
    (re.compile(r"^rules only \(classification\.model is off\)$"), "فقط قاعده‌ها (classification.model خاموش است)"),
]
#: the trades outside the catalogue, as the notes write them
_OUTSIDE_FA = {"_other": "بیرون از فهرست اصناف", "a trade outside the catalogue": "صنفی بیرون از فهرست اصناف"}


def _split_top(text: str) -> list[str]:
    """``text`` split at each ``;`` outside parentheses."""
    out: list[str] = []
    depth, cur = 0, []  # type: tuple[int, list[str]]
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == ";" and depth <= 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _phrases(text: str, table: list[tuple[re.Pattern[str], str]], names: dict[str, str] | None) -> str:
    """Each ``;``-separated phrase of ``text`` in Persian by ``table``; groups that are category codes
    named in ``names`` given their Persian names, other groups kept; an unknown phrase kept as written."""
    out = []
    for raw in _split_top(str(text or "")):
        part = raw.strip()
        if not part:
            continue
        for pat, fa in table:
            m = pat.match(part)
            if m:
                out.append(fa.format(*(_name_codes(g, names) for g in m.groups())))
                break
        else:
            out.append(part)
    return "؛ ".join(out)


def _name_codes(g: str, names: dict[str, str] | None) -> str:
    """A group of a phrase: a utility or a category code (or a list of codes) by its Persian name."""
    if g in _UTIL_FA:
        return _UTIL_FA[g]
    known = {**_OUTSIDE_FA, **(names or {})}
    parts = [p.strip() for p in g.split(",")]
    if len(parts) > 1 and all(p in known for p in parts):
        return "، ".join(known[p] for p in parts)
    return known.get(g, g)


def eligibility_fa(reason: object) -> str:
    """The Persian text of an estate's eligibility reason (``"no gas; env. category 4.1 above the
    estate's max_cat 3.2"``): each ``;``-separated phrase translated, ids, numbers and names kept; a
    phrase this module does not know is kept as written (never guessed)."""
    out = []
    for raw in str(reason or "").split(";"):
        part = raw.strip()
        if not part:
            continue
        for pat, fa in _ELIG_FA:
            m = pat.match(part)
            if m:
                groups = [_UTIL_FA.get(g, g) for g in m.groups()]
                out.append(fa.format(*groups))
                break
        else:
            out.append(part)
    return "؛ ".join(out)


#: (test of a reason sentence, its code), the first that holds giving the code
_CODE_TESTS: tuple[tuple[Callable[[str], object], str], ...] = (
    (lambda r: r.startswith("capacity exhausted"), "capacity_full"),
    (lambda r: r.startswith("too large"), "too_large"),
    (_NEAR_FAR.match, "too_far"),
    (lambda r: r.startswith("no eligible estate within"), "not_eligible_nearby"),
    (lambda r: r.startswith("no existing estate"), "no_estates"),
    (lambda r: r.startswith("unclassified: category not in scope"), "out_of_scope"),
    (lambda r: r.startswith("unclassified"), "unclassified"),
)


def reason_code(reason: object) -> str:
    """The code of one reason sentence (empty for an empty reason, i.e. an assigned business)."""
    r = "" if reason is None or (isinstance(reason, float) and np.isnan(reason)) else str(reason).strip()
    if not r:
        return ""
    return next((code for test, code in _CODE_TESTS if test(r)), "other")


def reason_codes(reasons: Iterable[object]) -> np.ndarray:
    """:func:`reason_code` of each reason (distinct sentences are coded once)."""
    s = pd.Series(list(reasons), dtype=object)
    uniq = {r: reason_code(r) for r in pd.unique(s)}
    answer: np.ndarray = s.map(uniq).to_numpy(dtype=object)
    return answer


def reason_label(code: str, lang: str = "en") -> str:
    """The short label of a code (``lang`` ``en`` or ``fa``); empty for the empty code."""
    if not code:
        return ""
    en, fa = REASON_CODES.get(code, REASON_CODES["other"])
    return fa if lang == "fa" else en


def _fa_too_far(reason: str, _names: dict[str, str] | None) -> str | None:
    """``too_far`` in Persian: the reach and the nearest estate, with its distance."""
    m = _NEAR_FAR.match(reason)
    assert m
    line = " به خط مستقیم" if m[4] else ""
    return f"هیچ شهرک مجازی {_reach_fa(m[1])} نیست (نزدیک‌ترین: {m[2]} در {m[3]} کیلومتری{line})"


def _fa_not_eligible(reason: str, _names: dict[str, str] | None) -> str | None:
    """``not_eligible_nearby`` in Persian: the nearest estate and why it is not eligible (None: not that form)."""
    m = _NEAR_WHY.match(reason)
    if not m:
        return None
    return f"هیچ شهرک مجازی {_reach_fa(m[1])} نیست (نزدیک‌ترین، {m[2]}، مجاز نیست: {eligibility_fa(m[3])})"


def _fa_too_large(reason: str, _names: dict[str, str] | None) -> str | None:
    """``too_large`` in Persian: the business's land and the reach (None: not that form)."""
    m = _TOO_LARGE.match(reason)
    if not m:
        return None
    return f"بزرگ‌تر ({m[1]} هکتار) از زمین خالی همه شهرک‌های مجاز {_reach_fa(m[2])}"


def _fa_out_of_scope(reason: str, names: dict[str, str] | None) -> str | None:
    """``out_of_scope`` in Persian, with the category's Persian name."""
    c = reason.rsplit(":", 1)[-1].strip()
    return f"{reason_label('out_of_scope', 'fa')}: {(names or {}).get(c, c)}"


def _fa_unclassified(reason: str, names: dict[str, str] | None) -> str | None:
    """``unclassified`` in Persian, with its detail translated (None: no detail)."""
    if reason == "unclassified":
        return None
    detail = _phrases(reason.split(":", 1)[1], _CLASS_FA, names) if ":" in reason else ""
    return f"{reason_label('unclassified', 'fa')}: {detail}" if detail else None


def _fa_other(reason: str, _names: dict[str, str] | None) -> str | None:
    """An unknown reason: the label and the sentence as written."""
    return f"{reason_label('other', 'fa')}: {reason}"


#: code -> its Persian sentence from the reason (None: the code's label alone)
_FA_DETAIL: dict[str, Callable[[str, dict[str, str] | None], str | None]] = {
    "too_far": _fa_too_far, "not_eligible_nearby": _fa_not_eligible, "too_large": _fa_too_large,
    "out_of_scope": _fa_out_of_scope, "unclassified": _fa_unclassified, "other": _fa_other,
}


def _fa_one(reason: str, names: dict[str, str] | None = None) -> str:
    """One reason sentence in Persian (empty for an empty reason)."""
    code = reason_code(reason)
    if not code:
        return ""
    detail = _FA_DETAIL.get(code)
    text = detail(reason, names) if detail is not None else None
    return text if text is not None else reason_label(code, "fa")


def reason_fa(reasons: Iterable[object], names: dict[str, str] | None = None) -> np.ndarray:
    """The Persian text of each reason sentence, numbers and estate ids kept (empty where empty).

    Parameters
    ----------
    reasons
        Reason sentences (``relocation.csv``'s ``reason``).
    names
        Category code -> Persian name: codes quoted in a reason are given their names.
    """
    s = pd.Series(list(reasons), dtype=object)
    uniq = {r: ("" if r is None or (isinstance(r, float) and np.isnan(r)) else _fa_one(str(r).strip(), names))
            for r in pd.unique(s)}
    answer: np.ndarray = s.map(uniq).to_numpy(dtype=object)
    return answer
