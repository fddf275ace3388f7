"""Phase start dates, Gregorian or Solar Hijri (the Iranian calendar).

A start is a year (``1405``, ``2026``) or a day (``1405-01-01``, ``1405/01/01``, ``2026-03-21``),
Persian or Arabic digits allowed. A year below :data:`SOLAR_HIJRI_BEFORE` is a Solar Hijri year, any
other a Gregorian one; a year alone means the first day of that year (1 Farvardin or 1 January). The
Solar Hijri calendar is converted with the arithmetic of the jalaali-js library (Borkowski's breaks of
the 2820-year cycle, exact for 1–3177 AP): 1 Farvardin 1405 is 21 March 2026.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["SOLAR_HIJRI_BEFORE", "PhaseStart", "parse_start", "jalali_to_gregorian", "jalali_month_days"]

#: a year below this is a Solar Hijri year (1700 AP is in 2321; 1700 AD is long past any programme)
SOLAR_HIJRI_BEFORE = 1700
# the years (AP) where the 33-year leap rule jumps (jalaali-js, after Borkowski)
_BREAKS = (-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456,
           3178)
_PATTERN = re.compile(r"^\s*(\d{1,4})(?:\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2}))?\s*$")


def _div(a: int, b: int) -> int:
    """Integer division truncated toward zero (as JavaScript's ``~~(a / b)``)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _mod(a: int, b: int) -> int:
    """The remainder of :func:`_div` (sign of ``a``)."""
    return a - _div(a, b) * b


def _jal_cal(jy: int) -> tuple[int, int, int]:
    """``(leap, gy, march)``: leap is 0 in a leap year; 1 Farvardin ``jy`` is ``march`` March of ``gy``."""
    if jy < 1 or jy >= _BREAKS[-1]:
        raise ValueError(f"Solar Hijri year {jy} is outside 1–{_BREAKS[-1] - 1}")
    gy = jy + 621
    leap_j = -14
    jp = _BREAKS[0]
    jump = 0
    for jm in _BREAKS[1:]:
        jump = jm - jp
        if jy < jm:
            break
        leap_j += _div(jump, 33) * 8 + _div(_mod(jump, 33), 4)
        jp = jm
    n = jy - jp
    leap_j += _div(n, 33) * 8 + _div(_mod(n, 33) + 3, 4)
    if _mod(jump, 33) == 4 and jump - n == 4:
        leap_j += 1
    leap_g = _div(gy, 4) - _div((_div(gy, 100) + 1) * 3, 4) - 150
    march = 20 + leap_j - leap_g
    if jump - n < 6:
        n = n - jump + _div(jump + 4, 33) * 33
    leap = _mod(_mod(n + 1, 33) - 1, 4)
    if leap == -1:
        leap = 4
    return leap, gy, march


def jalali_month_days(jy: int, jm: int) -> int:
    """Days in month ``jm`` of Solar Hijri year ``jy`` (31 in months 1–6, 30 in 7–11, Esfand 29 or 30)."""
    if jm <= 6:
        return 31
    if jm <= 11:
        return 30
    return 30 if _jal_cal(jy)[0] == 0 else 29


def jalali_to_gregorian(jy: int, jm: int, jd: int) -> dt.date:
    """The Gregorian date of Solar Hijri day ``jy-jm-jd``.

    Raises
    ------
    ValueError
        The month or day does not exist.
    """
    if not 1 <= jm <= 12:
        raise ValueError(f"month {jm} does not exist (1–12)")
    if not 1 <= jd <= jalali_month_days(jy, jm):
        raise ValueError(f"day {jd} does not exist in month {jm} of {jy} ({jalali_month_days(jy, jm)} days)")
    _, gy, march = _jal_cal(jy)
    return dt.date(gy, 3, march) + dt.timedelta(days=(jm - 1) * 31 - _div(jm, 7) * (jm - 7) + jd - 1)


@dataclass(frozen=True)
class PhaseStart:
    """A phase's start as written and as a Gregorian date.

    Attributes
    ----------
    text
        As the scenario wrote it, normalised (``1405``, ``1405-01-01``).
    calendar
        ``solar_hijri`` or ``gregorian``.
    date
        The first day, Gregorian.
    """

    text: str
    calendar: str
    date: dt.date


def parse_start(value: object) -> PhaseStart:
    """A phase's ``start`` (module docstring).

    Parameters
    ----------
    value
        An integer year, a string ``YYYY`` / ``YYYY-MM-DD`` / ``YYYY/MM/DD`` (Persian digits allowed), or a
        date (YAML reads an unquoted ``1405-01-01`` as one: a year below :data:`SOLAR_HIJRI_BEFORE` is Solar
        Hijri there too).

    Raises
    ------
    ValueError
        Not a year or a day, or a day that does not exist; says what to write.
    """
    from .textnorm import to_ascii_digits

    if isinstance(value, bool):  # a ValueError: the scenario's validator says it under the key
        raise ValueError(f"must be a year or a date (e.g. 1405 or 1405-01-01), got {value!r}")  # noqa: TRY004 - pydantic reports ValueError
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        y, m, d = value.year, value.month, value.day
    elif isinstance(value, int):
        y, m, d = value, 0, 0
    elif isinstance(value, str):
        got = _PATTERN.match(to_ascii_digits(value))
        if got is None:
            raise ValueError(f"must be a year or a date such as 1405, 1405-01-01 (Solar Hijri) or 2026-03-21 "
                             f"(Gregorian), got {value[:40]!r}")
        y = int(got.group(1))
        m, d = (int(got.group(2)), int(got.group(3))) if got.group(2) else (0, 0)
    else:
        raise ValueError(f"must be a year or a date (e.g. 1405 or 1405-01-01), got {str(value)[:40]!r}")  # noqa: TRY004 - pydantic reports ValueError
    if y < 1:
        raise ValueError(f"year {y} is not a calendar year; write e.g. 1405 (Solar Hijri) or 2026 (Gregorian)")
    hijri = y < SOLAR_HIJRI_BEFORE
    text = f"{y:04d}" if not m else f"{y:04d}-{m:02d}-{d:02d}"
    try:
        day = jalali_to_gregorian(y, m or 1, d or 1) if hijri else dt.date(y, m or 1, d or 1)
    except ValueError as e:
        cal = "Solar Hijri" if hijri else "Gregorian"
        raise ValueError(f"{text} is not a {cal} date: {e}") from None
    return PhaseStart(text, "solar_hijri" if hijri else "gregorian", day)
