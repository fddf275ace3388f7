"""Mixed Persian / English text in the right order: every fragment isolated, numbers with their units.

The Unicode bidirectional algorithm reorders neutral characters (``/``, ``·``, parentheses, digits)
by their neighbours, so ``6000 businesses / کسب‌وکار`` or ``capacity / 41.9 ظرفیت ha`` come out
scrambled when an English label, a number and a Persian label share one run. Here every fragment
has its own isolate: English labels ``<span dir="ltr">``, Persian labels ``<span dir="rtl">``, a
number with its unit ``<bdi dir="ltr">`` (so ``41.9 ha`` stays one left-to-right unit), data values
``<bdi dir="auto">``. All values are escaped by :mod:`markupsafe`.

Persian digits (``۴۱٫۹``) are optional: ``outputs.persian_digits`` in the scenario.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

__all__ = ["bi", "qty", "fa_digits", "fa_percent", "Fmt"]

_FA = str.maketrans("0123456789.,", "۰۱۲۳۴۵۶۷۸۹٫٬")


def fa_digits(s: str) -> str:
    """``s`` with ASCII digits, decimal point and thousands comma in Persian forms (for numbers only,
    never for data text)."""
    return s.translate(_FA)


def fa_percent(v: float, persian_digits: bool = True) -> str:
    """A share in Persian form, ``۵۰٪`` (CLDR's Persian pattern: the digits, then U+066A ARABIC
    PERCENT SIGN, no space). In a right-to-left isolate the sign sits on the number's right; with Latin
    digits (``persian_digits`` false) the sign is still U+066A."""
    s = format(round(float(v)), ",")
    return (fa_digits(s) if persian_digits else s) + "\u066a"


def bi(en: str, fa: str) -> Markup:
    """A bilingual label, Persian first: the Persian and the English words each in their own direction
    isolate (the English one marked ``class="en"``, secondary)."""
    return Markup('<span dir="rtl" lang="fa">{}</span><span class="en"> / <span dir="ltr" lang="en">{}</span></span>'
                  ).format(fa, en)


class Fmt:
    """Number formatting for one report (ASCII or Persian digits)."""

    def __init__(self, persian_digits: bool = False) -> None:
        self.persian = bool(persian_digits)

    def num(self, v: Any, spec: str = ",") -> str:
        """A number as text (``spec`` a format spec such as ``,`` or ``,.1f``)."""
        s = format(v, spec)
        return fa_digits(s) if self.persian else s

    def qty(self, v: Any, unit: str = "", spec: str = ",") -> Markup:
        """A number and its unit as one left-to-right isolate: ``<bdi dir="ltr">41.9 ha</bdi>``."""
        text = self.num(v, spec) + (f"\u00a0{unit}" if unit else "")
        return Markup('<bdi dir="ltr" class="num">{}</bdi>').format(text)


def qty(v: Any, unit: str = "", spec: str = ",") -> Markup:
    """:meth:`Fmt.qty` with ASCII digits."""
    return Fmt().qty(v, unit, spec)
