"""The report's language (``report.language`` in the scenario): ``both`` (Persian first with English
beside it), ``fa`` (fully Persian, right to left) or ``en`` (English, left to right), and the Solar
Hijri (Jalali) calendar of the Persian date.

The language is set once for the building of one report (:func:`language`, a context variable, so
concurrent builds do not mix) and read by every piece that writes words: :func:`pick` chooses the
Persian or the English of a phrase, :func:`unit` the unit's name, :func:`persian_digits` whether
numbers are written with Persian digits, :func:`fa_digits` writes them so (the lowest module of the
report: it imports none of the others).

The calendar: :func:`gregorian_to_jalali` follows the arithmetic of Borkowski's algorithm as used by
the maintained ``jalaali-js`` library (the 2820/33-year leap rules with the list of break years), exact
for the years 1 to 3177 of the Solar Hijri calendar.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["LANGUAGES", "language", "current", "pick", "unit", "persian_digits", "fa_digits", "gregorian_to_jalali",
           "report_date", "date_text", "JALALI_MONTHS"]

#: the values of ``report.language``
LANGUAGES = ("both", "fa", "en")
_LANG: ContextVar[str] = ContextVar("siteplan_report_language", default="both")
_DIGITS: ContextVar[bool] = ContextVar("siteplan_report_persian_digits", default=False)

#: Persian names of the units the report writes (``fa`` pages)
UNITS_FA = {"ha": "هکتار", "km": "کیلومتر", "m": "متر", "m²": "مترمربع", "%": "٪"}
#: Solar Hijri month names
JALALI_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن",
                 "اسفند")


@contextmanager
def language(lang: str, *, digits: bool = False) -> Iterator[None]:
    """Build a report in ``lang`` (``both``, ``fa`` or ``en``); ``digits`` is ``outputs.persian_digits``
    (``fa`` pages always use Persian digits, ``en`` pages never)."""
    if lang not in LANGUAGES:
        raise ValueError(f"report language {lang!r}: use one of {', '.join(LANGUAGES)}")
    t1 = _LANG.set(lang)
    t2 = _DIGITS.set(lang == "fa" or (digits and lang != "en"))
    try:
        yield
    finally:
        _LANG.reset(t1)
        _DIGITS.reset(t2)


def current() -> str:
    """The language of the report being built (``both`` outside :func:`language`)."""
    return _LANG.get()


def persian_digits() -> bool:
    """Whether numbers of the report being built are written with Persian digits."""
    return _DIGITS.get()


def pick(fa: str, en: str) -> str:
    """The English of a phrase on an ``en`` page, else its Persian (``both`` pages are Persian first)."""
    return en if _LANG.get() == "en" else fa


def unit(u: str) -> str:
    """A unit's name: Persian on an ``fa`` page (``ha`` -> ``هکتار``), else as written."""
    return UNITS_FA.get(u, u) if _LANG.get() == "fa" else u


_FA = str.maketrans("0123456789.,", "۰۱۲۳۴۵۶۷۸۹٫٬")


def fa_digits(s: str) -> str:
    """``s`` with ASCII digits, decimal point and thousands comma in Persian forms (for numbers only,
    never for data text)."""
    return s.translate(_FA)


# ---- the Solar Hijri calendar ------------------------------------------------------------------------

_BREAKS = (-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394,
           2456, 3178)


def _jal_cal(jy: int) -> tuple[int, int]:
    """The Gregorian year of Farvardin 1st of Jalali year ``jy`` and its day of March."""
    gy = jy + 621
    leap_j = -14
    jp = _BREAKS[0]
    if jy < jp or jy >= _BREAKS[-1]:
        raise ValueError(f"Jalali year {jy} is outside 1..3177")
    jump = 0
    for jm in _BREAKS[1:]:
        jump = jm - jp
        if jy < jm:
            break
        leap_j += jump // 33 * 8 + (jump % 33) // 4
        jp = jm
    n = jy - jp
    leap_j += n // 33 * 8 + ((n % 33) + 3) // 4
    if jump % 33 == 4 and jump - n == 4:
        leap_j += 1
    leap_g = gy // 4 - (gy // 100 + 1) * 3 // 4 - 150
    return gy, 20 + leap_j - leap_g


def _div(a: int, b: int) -> int:
    """Integer division truncated toward zero (as the algorithm is written)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _g2d(gy: int, gm: int, gd: int) -> int:
    """The Julian day number of a Gregorian date."""
    m8 = _div(gm - 8, 6)
    d = _div((gy + m8 + 100100) * 1461, 4) + _div(153 * ((gm + 9) % 12) + 2, 5) + gd - 34840408
    return d - _div(_div(gy + 100100 + m8, 100) * 3, 4) + 752


def gregorian_to_jalali(d: dt.date) -> tuple[int, int, int]:
    """A Gregorian date as a Solar Hijri ``(year, month, day)`` (2026-03-21 is 1405-01-01).

    Parameters
    ----------
    d
        A date between 622 and 3798 of the common era.
    """
    jdn = _g2d(d.year, d.month, d.day)
    jy = d.year - 621
    gy, march = _jal_cal(jy)
    jdn1f = _g2d(gy, 3, march)
    k = jdn - jdn1f
    if k >= 0:
        if k <= 185:
            return jy, 1 + k // 31, k % 31 + 1
        k -= 186
    else:
        jy -= 1
        k += 179
        if _leap_jalali(jy):
            k += 1
    return jy, 7 + k // 30, k % 30 + 1


def _leap_jalali(jy: int) -> bool:
    """Whether Jalali year ``jy`` has 30 days in Esfand."""
    gy, march = _jal_cal(jy)
    gy2, march2 = _jal_cal(jy + 1)
    return (_g2d(gy2, 3, march2) - _g2d(gy, 3, march)) == 366


#: Iran Standard Time (no daylight saving time since 2022): the report's date is the date in Iran
IRST = dt.timezone(dt.timedelta(hours=3, minutes=30))


def report_date() -> dt.date | None:
    """The report's date: ``SOURCE_DATE_EPOCH`` (seconds since 1970) as the calendar date in Iran
    (UTC+03:30); None when it is not set — the page then shows no date, so that the same inputs give the
    same bytes on any day (the run's time is in ``manifest.json``)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch.isdigit():
        return None
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).astimezone(IRST).date()


def date_text(d: dt.date) -> str:
    """The date as the page writes it: ``۱ فروردین ۱۴۰۵`` (``fa``), ``2026-03-21`` (``en``),
    ``۱۴۰۵/۰۱/۰۱ (2026-03-21)`` (``both``; Persian digits only with ``outputs.persian_digits``)."""
    jy, jm, jd = gregorian_to_jalali(d)
    lang = _LANG.get()
    if lang == "en":
        return d.isoformat()
    if lang == "fa":
        return fa_digits(f"{jd}") + " " + JALALI_MONTHS[jm - 1] + " " + fa_digits(f"{jy}")
    j = f"{jy}/{jm:02d}/{jd:02d}"
    return f"{fa_digits(j) if persian_digits() else j} ({d.isoformat()})"
