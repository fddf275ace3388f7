"""Persian text normalization for matching.

Names keep their original spelling for display; matching uses :func:`normalize`, which folds the
variants people type for the same word: Arabic yeh/kaf (ي ك ى) to Persian (ی ک), teh marbuta and
hamza forms, Persian and Arabic-Indic digits to ASCII, zero-width non-joiner and other joiners or
odd spaces to a single space, diacritics (harakat) and tatweel removed, Latin letters lower-cased.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "to_ascii_digits", "parse_number", "has_persian", "normalize_compact"]

_DIGITS = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")})

_LETTERS = {
    ord("ي"): "ی",
    ord("ى"): "ی",
    ord("ئ"): "ی",
    ord("ك"): "ک",
    ord("ة"): "ه",
    ord("ۀ"): "ه",
    ord("أ"): "ا",
    ord("إ"): "ا",
    ord("ٱ"): "ا",
    ord("آ"): "ا",
    ord("ؤ"): "و",
    ord("ـ"): None,  # tatweel
    ord("٫"): ".",  # Arabic decimal separator
    ord("٬"): None,  # Arabic thousands separator
}
# zero-width non-joiner / joiner, no-break spaces, thin spaces etc. become a plain space
_SPACES = re.compile(r"[\u200c\u200d\u200e\u200f\u00a0\u2000-\u200b\u202f\u2060\ufeff\s]+")
_HARAKAT = re.compile(r"[\u064b-\u065f\u0670\u06d6-\u06ed]")
_PUNCT = re.compile(r"[\-_.,،؛;:!?()\[\]{}\"'«»/\\|*+]+")


def to_ascii_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII digits.

    Parameters
    ----------
    text
        Any string.

    Returns
    -------
    str
        The same string with every Eastern digit replaced.

    Examples
    --------
    >>> to_ascii_digits("۱۲۳۴ و ٥٦")
    '1234 و 56'
    """
    return text.translate(_DIGITS)


def normalize(text: object) -> str:
    """Normalize a name for matching (not for display).

    Parameters
    ----------
    text
        A name; ``None`` and NaN give ``""``.

    Returns
    -------
    str
        NFKC-folded, Persian letter variants unified, digits ASCII, diacritics and tatweel removed,
        ZWNJ and space variants folded to single spaces, punctuation to spaces, lower case, stripped.

    Examples
    --------
    >>> normalize("تعميرگاه  مكانيكي") == normalize("تعمیرگاه مکانیکی")
    True
    >>> normalize("صافکاری\u200cو\u200cنقاشی")
    'صافکاری و نقاشی'
    """
    if text is None:
        return ""
    if isinstance(text, float) and text != text:  # NaN
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = s.translate(_LETTERS).translate(_DIGITS)
    s = _HARAKAT.sub("", s)
    s = _PUNCT.sub(" ", s)
    s = _SPACES.sub(" ", s)
    return s.strip().lower()


def normalize_compact(text: object) -> str:
    """:func:`normalize`, then every space removed (so ``می شود``, ``می‌شود`` and ``میشود`` match)."""
    return normalize(text).replace(" ", "")


def parse_number(value: object) -> float | None:
    """Parse a number written with ASCII, Persian or Arabic-Indic digits and separators.

    Parameters
    ----------
    value
        A number or a string such as ``"۱۲٫۵"`` or ``"1,200"``.

    Returns
    -------
    float or None
        ``None`` for empty or unparseable input.

    Examples
    --------
    >>> parse_number("۱۲٫۵")
    12.5
    >>> parse_number("۱٬۲۰۰")
    1200.0
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return None if value != value else float(value)
    s = to_ascii_digits(str(value)).replace("٫", ".").replace("٬", "").replace(",", "").strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def has_persian(text: object) -> bool:
    """Return True when the string holds at least one Arabic-script letter."""
    return any("\u0600" <= ch <= "\u06ff" or "\ufb50" <= ch <= "\ufdff" for ch in str(text or ""))
