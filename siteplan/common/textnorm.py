"""Persian text normalization for matching.

Names keep their original spelling for display; matching uses :func:`normalize`, which folds the
variants people type for the same word: Arabic yeh/kaf (ي ك ى) to Persian (ی ک), teh marbuta and
hamza forms, Persian and Arabic-Indic digits to ASCII, zero-width non-joiner and other joiners or
odd spaces to a single space, diacritics (harakat) and tatweel removed, Latin letters lower-cased.

Text from the data shown on a terminal goes through :func:`printable` (:func:`printable_json` for
JSON), so a name cannot carry terminal control sequences.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["normalize", "to_ascii_digits", "number_text", "parse_number", "comma_hint", "has_persian",
           "normalize_compact", "printable", "printable_json"]

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
    if isinstance(text, str):
        return _normalized(text) if len(text) <= _MEMO_CHARS else _normalize_str(text)
    if text is None:
        return ""
    if isinstance(text, float) and text != text:  # NaN
        return ""
    return _normalize_str(str(text))


#: names up to this long are remembered by :func:`normalize` (a run normalizes each name several times);
#: longer, hostile strings are normalized each time, so the memory stays bounded
_MEMO_CHARS = 256


def _normalize_str(text: str) -> str:
    """:func:`normalize` of a string."""
    s = unicodedata.normalize("NFKC", text)
    s = s.translate(_LETTERS).translate(_DIGITS)
    s = _HARAKAT.sub("", s)
    s = _PUNCT.sub(" ", s)
    s = _SPACES.sub(" ", s)
    return s.strip().lower()


_normalized = functools.lru_cache(maxsize=1 << 16)(_normalize_str)


def normalize_compact(text: object) -> str:
    """:func:`normalize`, then every space removed (so ``می شود``, ``می‌شود`` and ``میشود`` match)."""
    return normalize(text).replace(" ", "")


def number_text(text: str) -> str:
    """``text`` with Persian and Arabic-Indic digits in ASCII, the Persian decimal separator ``٫`` as ``.`` and the
    Arabic thousands separator ``٬`` as ``,``, trimmed: a number as the ASCII parsers read it.

    Examples
    --------
    >>> number_text(" ۱٬۲۰۰٫۵ ")
    '1,200.5'
    """
    return to_ascii_digits(text).replace("٫", ".").replace("٬", ",").strip()


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
    >>> parse_number("12,5") is None  # a comma only between groups of three digits (comma_hint says why)
    True
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return None if value != value else float(value)
    s = number_text(str(value))
    if "," in s:
        if not _GROUPED.fullmatch(s):  # "12,5": a decimal comma, or a typo; never read as 125
            return None
        s = s.replace(",", "")
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


#: a number with thousands separators: groups of three digits after the first group of one to three
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def comma_hint(value: object) -> str:
    """A hint for a value :func:`parse_number` refused because of a comma ("" for any other value): a comma
    is read only as a thousands separator, so ``12,5`` is not 125 nor 12.5."""
    t = number_text(str(value))
    if "," in t and parse_number(t) is None and parse_number(t.replace(",", "")) is not None:
        return (" (a comma is read only between groups of three digits, as in 1,250: for a decimal write a point, "
                "12.5, or the Persian ٫)")
    return ""


def has_persian(text: object) -> bool:
    """Return True when the string holds at least one Arabic-script letter."""
    return any("\u0600" <= ch <= "\u06ff" or "\ufb50" <= ch <= "\ufdff" for ch in str(text or ""))


# C0 controls but newline and tab, DEL, C1 controls (8-bit CSI, OSC, NEL, ...), the line and paragraph
# separators U+2028/U+2029 (a terminal breaks the line there, so a name could forge a line of output),
# and the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069, "Trojan Source"); the
# bidi marks LRM/RLM/ALM are kept: Persian text uses them, and they reorder only neutral characters
_INVISIBLE = "\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")
# what json.dumps(ensure_ascii=False) leaves raw of the above (it escapes C0 itself)
_UNPRINTABLE_JSON = re.compile(f"[\x7f-\x9f{_INVISIBLE}]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(text: object) -> str:
    r"""Text safe to print on a terminal: control characters shown as visible escapes.

    Names come from registries, OpenStreetMap and scenario files written by others; printed raw, an
    escape sequence in one could retitle the terminal (OSC), recolour or clear it (CSI), ring its
    bell, or reorder what is shown (bidi overrides).

    Parameters
    ----------
    text
        Any object; it is converted with ``str``.

    Returns
    -------
    str
        The text with every C0 control character except newline and tab (ESC, BEL, NUL, CR, ...),
        DEL, every C1 control character (8-bit CSI, OSC, NEL, ...), the line and paragraph separators
        U+2028/U+2029 and the bidi embeddings, overrides and
        isolates U+202A–U+202E and U+2066–U+2069 replaced by ``\xNN`` or ``\uNNNN``. Everything else,
        Persian letters and the zero-width non-joiner included, is kept.

    Examples
    --------
    >>> printable("a\x1b[31mred\x07")
    'a\\x1b[31mred\\x07'
    >>> printable("تعمیرگاه\u200cها\n") == "تعمیرگاه\u200cها\n"
    True
    """
    return _UNPRINTABLE.sub(_escape, str(text))


def printable_json(text: str) -> str:
    r"""JSON text (from ``json.dumps(..., ensure_ascii=False)``) safe to print on a terminal.

    ``json.dumps`` already escapes C0 control characters; this escapes DEL, the C1 controls and the
    bidi overrides as ``\uNNNN`` too. Such characters only occur inside JSON strings, so the text
    stays valid JSON and decodes to the same data.

    Parameters
    ----------
    text
        JSON text.

    Returns
    -------
    str
        The same JSON document, terminal-safe.

    Examples
    --------
    >>> printable_json('{"name": "a\u202eb"}')
    '{"name": "a\\u202eb"}'
    """
    return _UNPRINTABLE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
