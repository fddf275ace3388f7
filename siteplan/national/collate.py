"""Persian alphabetical order for province names and categories (the national tables and page).

Python's ``sorted`` orders strings by code point, which puts Persian letters borrowed from Arabic
first and the four Persian additions (پ چ ژ گ) and the Persian ک/ی last: ``چهارمحال`` after ``همدان``.
:func:`persian_key` orders by the Persian alphabet instead::

    آ ا ب پ ت ث ج چ ح خ د ذ ر ز ژ س ش ص ض ط ظ ع غ ف ق ک گ ل م ن و ه ی

Arabic kaf and yeh (ك ي ى) are folded into Persian ک and ی, hamza forms into their carrier (أ إ ٱ → ا,
ؤ → و, ئ → ی), teh marbuta and heh with yeh (ة ۀ) into ه; tatweel and diacritics are ignored and a
zero-width non-joiner counts as a space. A space sorts before any letter (``آذربایجان شرقی`` before
``آذربایجانی``), digits (Persian, Arabic-Indic or ASCII, by value) before letters, Persian letters
before Latin ones (case-insensitive), anything else after them by code point. Names equal under the
key are ordered by their text, so the order is total and the same on every machine (no locale).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ALPHABET", "persian_key", "persian_sorted"]

#: the Persian alphabet, in order (آ before ا)
ALPHABET = "آ ا ب پ ت ث ج چ ح خ د ذ ر ز ژ س ش ص ض ط ظ ع غ ف ق ک گ ل م ن و ه ی".split()

_RANK = {c: i for i, c in enumerate(ALPHABET)}
_FOLD = {"ك": "ک", "ي": "ی", "ى": "ی", "ئ": "ی", "ې": "ی", "أ": "ا", "إ": "ا", "ٱ": "ا", "ؤ": "و",
         "ة": "ه", "ۀ": "ه", "ھ": "ه"}
_RANK.update({a: _RANK[b] for a, b in _FOLD.items()})
_DIGIT = {**{c: i for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")}, **{c: i for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")},
          **{c: i for i, c in enumerate("0123456789")}}
_IGNORED = re.compile(r"[\u0640\u064b-\u065f\u0670\u06d6-\u06ed\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACE = re.compile(r"[\s\u200c\u00a0\u2000-\u200b\u202f]+")

# classes, in order: space, digit, Persian letter, Latin letter, anything else
_SP, _DG, _FA, _LA, _OT = range(5)


def persian_key(text: object) -> tuple[tuple[tuple[int, int], ...], str]:
    """A sort key that orders text by the Persian alphabet (see the module's docstring).

    Parameters
    ----------
    text
        Any value (``str()`` of it is ordered; ``None`` as empty).

    Returns
    -------
    tuple
        ``(letters, text)``: the letters' (class, rank) pairs, and the text itself as a tie-break.

    Examples
    --------
    >>> sorted(["همدان", "چهارمحال و بختیاری", "گیلان", "اصفهان", "آذربایجان شرقی"], key=persian_key)
    ['آذربایجان شرقی', 'اصفهان', 'چهارمحال و بختیاری', 'گیلان', 'همدان']
    """
    s = "" if text is None else str(text)
    t = _SPACE.sub(" ", _IGNORED.sub("", unicodedata.normalize("NFC", s))).strip()
    out: list[tuple[int, int]] = []
    for c in t:
        if c == " ":
            out.append((_SP, 0))
        elif c in _DIGIT:
            out.append((_DG, _DIGIT[c]))
        elif c in _RANK:
            out.append((_FA, _RANK[c]))
        elif c.isascii() and c.isalpha():
            out.append((_LA, ord(c.lower())))
        else:
            out.append((_OT, ord(c)))
    return tuple(out), s


def persian_sorted(items: list[str]) -> list[str]:
    """``items`` in Persian alphabetical order (:func:`persian_key`)."""
    return sorted(items, key=persian_key)
