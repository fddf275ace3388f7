"""Mixed Persian / English text in the right order: every fragment isolated, numbers with their units.

The Unicode bidirectional algorithm reorders neutral characters (``/``, ``·``, parentheses, digits)
by their neighbours, so ``6000 businesses / کسب‌وکار`` or ``capacity / 41.9 ظرفیت ha`` come out
scrambled when an English label, a number and a Persian label share one run. Here every fragment
has its own isolate: English labels ``<span dir="ltr">``, Persian labels ``<span dir="rtl">``, a
number with its unit ``<bdi dir="ltr">`` (so ``41.9 ha`` stays one left-to-right unit), data values
``<bdi dir="auto">``. All values are escaped by :mod:`markupsafe`.

Persian digits (``۴۱٫۹``) are optional: ``outputs.persian_digits`` in the scenario; a ``fa`` page
(``report.language``, :mod:`.lang`) always has them, with Persian units (``۴۱٫۹ هکتار``) in a
right-to-left isolate (the number on the right, read first) and the percent sign after its number in
reading order (``۵۰٪``, on its left); an ``en`` page has only the English words.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from . import lang as _lang
from .lang import fa_digits

__all__ = ["bi", "qty", "fa_digits", "fa_percent", "fa_numbers", "Fmt", "ALM"]


def fa_percent(v: float, *, persian_digits: bool = True) -> str:
    """A share in Persian form, ``۵۰٪`` (CLDR's Persian pattern: the digits, then U+066A ARABIC
    PERCENT SIGN, no space). In a right-to-left isolate the sign sits on the number's right; with Latin
    digits (``persian_digits`` false) the sign is still U+066A."""
    s = format(round(float(v)), ",")
    return (fa_digits(s) if persian_digits else s) + "\u066a"


def bi(en: str, fa: str) -> Markup:
    """A label in the report's language (:mod:`.lang`): on a ``both`` page Persian first, the Persian and
    the English words each in their own direction isolate (the English one marked ``class="en"``,
    secondary); on a ``fa`` or ``en`` page only that language's words."""
    mode = _lang.current()
    if mode == "fa":
        return Markup('<span dir="rtl" lang="fa">{}</span>').format(fa)
    if mode == "en":
        return Markup('<span dir="ltr" lang="en">{}</span>').format(en)
    return Markup('<span dir="rtl" lang="fa">{}</span><span class="en"> / <span dir="ltr" lang="en">{}</span></span>'
                  ).format(fa, en)


#: U+061C ARABIC LETTER MARK: before a number in Persian text it makes the digits Arabic numbers for the
#: bidirectional algorithm, so a following percent sign sits after the number in reading order (on its
#: left) whatever precedes it
ALM = "\u061c"


class Fmt:
    """Number formatting for one report (ASCII or Persian digits; Persian units on a ``fa`` page)."""

    def __init__(self, *, persian_digits: bool = False) -> None:
        self.persian = (bool(persian_digits) or _lang.persian_digits()) and _lang.current() != "en"
        self.fa = _lang.current() == "fa"

    def num(self, v: Any, spec: str = ",") -> str:
        """A number as text (``spec`` a format spec such as ``,`` or ``,.1f``)."""
        s = format(v, spec)
        return fa_digits(s) if self.persian else s

    def qty(self, v: Any, unit: str = "", spec: str = ",") -> Markup:
        """A number and its unit as one isolate: ``<bdi dir="ltr">41.9 ha</bdi>``; on a ``fa`` page
        right to left with the unit's Persian name, ``<bdi dir="rtl">۴۱٫۹ هکتار</bdi>`` (a share:
        ``۵۰٪``)."""
        if self.fa and unit == "%":
            return Markup('<bdi dir="rtl" class="num">{}</bdi>').format(ALM + self.num(v, spec) + "\u066a")
        if self.fa:
            text = self.num(v, spec) + (f"\u00a0{_lang.unit(unit)}" if unit else "")
            return Markup('<bdi dir="rtl" class="num">{}</bdi>').format(text)
        text = self.num(v, spec) + (f"\u00a0{unit}" if unit else "")
        return Markup('<bdi dir="ltr" class="num">{}</bdi>').format(text)

    def plain(self, v: Any, unit: str = "", spec: str = ",") -> str:
        """:meth:`qty` as plain text (for the map's cards and legends, which the page isolates)."""
        if self.fa and unit == "%":
            return ALM + self.num(v, spec) + "\u066a"
        u = _lang.unit(unit) if self.fa else unit
        return self.num(v, spec) + (f" {u}" if u else "")


def qty(v: Any, unit: str = "", spec: str = ",") -> Markup:
    """:meth:`Fmt.qty` with ASCII digits."""
    return Fmt().qty(v, unit, spec)


_NUM_UNIT = re.compile(r"(?<![A-Za-z0-9_.\-])(\d+(?:,\d{3})*(?:\.\d+)?)(?:\s?(ha|km|m)\b)?(?![A-Za-z0-9_])")


def fa_numbers(s: str) -> str:
    """The numbers of a sentence the report wrote (never data text) in Persian form on a ``fa`` page:
    Persian digits and separators, ``ha``/``km``/``m`` after a number as Persian units; digits inside a
    code or id (``E15``, ``car_2``) kept. Unchanged on other pages."""
    if _lang.current() != "fa":
        return s

    def one(m: re.Match[str]) -> str:
        n = fa_digits(m[1])
        return n + (" " + _lang.unit(m[2]) if m[2] else "")

    return _NUM_UNIT.sub(one, s)
