"""The report's Persian font: Vazirmatn (SIL Open Font License 1.1, shipped in ``fonts/``), subset at
report time to the characters the page uses and embedded as WOFF in ``data:`` URIs, so the page renders
the same offline on any machine (the CSP allows ``font-src data:``).

The subset keeps the font's layout tables for the characters kept (Persian joining forms, ligatures,
marks) and its name table (copyright and licence); the file's timestamp is not touched, so the same
characters give the same bytes.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from importlib import resources

__all__ = ["FAMILY", "FONT_FILES", "font_css", "subset_woff"]

#: the CSS family name of the embedded font (its own name, so an installed Vazirmatn of another version
#: is never mixed in)
FAMILY = "siteplan Vazirmatn"
#: weight -> font file in ``siteplan/report/fonts``
FONT_FILES = {400: "Vazirmatn-Regular.ttf", 700: "Vazirmatn-Bold.ttf"}
#: always kept: the printable ASCII range, Persian digits and signs, and the typographic marks the page
#: writes (direction marks, no-break space, ZWNJ, dashes, quotes, arrows)
_BASE = ("".join(chr(c) for c in range(0x20, 0x7F)) + "۰۱۲۳۴۵۶۷۸۹٫٬٪،؛؟«»\u061c\u200c\u200d\u200e\u200f\u00a0"
         "–—…·×→←★°²")


def _distinct_non_ascii(text: str) -> str:
    """The distinct characters of ``text`` but printable ASCII (which :data:`_BASE` holds), in code point order:
    one pass over the code points as numbers (a page's text runs to megabytes; a lone surrogate counts too)."""
    import numpy as np

    seen = np.zeros(0x110000, dtype=bool)
    seen[np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)] = True
    seen[0x20:0x7F] = False
    return "".join(map(chr, np.flatnonzero(seen).tolist()))


def subset_woff(weight: int, chars: str) -> bytes:
    """The font of ``weight`` (400 or 700) cut to ``chars`` (plus :data:`_BASE`), as WOFF bytes.

    Parameters
    ----------
    weight
        A key of :data:`FONT_FILES`.
    chars
        The characters to keep (order and repeats do not matter).
    """
    return _subset(weight, "".join(sorted(set(chars) | set(_BASE))))


@lru_cache(maxsize=8)
def _subset(weight: int, chars: str) -> bytes:
    """The subset, from the user's cache folder when an earlier report cut the same font to the same
    characters with the same fontTools (:func:`siteplan.common.usercache.cached_bytes`; the subset is
    deterministic, so the bytes are those :func:`_cut` gives)."""
    from importlib import metadata

    from ..common.usercache import cached_bytes

    data = resources.files("siteplan.report").joinpath("fonts", FONT_FILES[weight]).read_bytes()
    try:
        ft = metadata.version("fonttools")
    except metadata.PackageNotFoundError:
        ft = "?"
    return cached_bytes("font-subset", [f"fonttools {ft}", str(weight), chars], data, lambda: _cut(data, chars))


def _cut(data: bytes, chars: str) -> bytes:
    """Cut the font file ``data`` to ``chars``, as WOFF bytes."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), recalcTimestamp=False, recalcBBoxes=True)
    opts = subset.Options()
    opts.layout_features = ["*"]  # Persian joining forms, ligatures, marks and kerning
    opts.name_IDs = ["*"]  # copyright, licence and its URL stay in the file
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.flavor = "woff"
    opts.with_zopfli = False
    sub = subset.Subsetter(opts)
    sub.populate(unicodes={ord(c) for c in chars})
    sub.subset(font)
    font.flavor = "woff"
    out = io.BytesIO()
    font.save(out, reorderTables=True)
    return out.getvalue()


def font_css(chars: str) -> str:
    """``@font-face`` rules of :data:`FAMILY` (regular and bold) cut to ``chars``, as a stylesheet."""
    # the characters beyond printable ASCII (which the subset always keeps), once for both weights: a page's
    # text runs to megabytes
    chars = _distinct_non_ascii(chars)
    rules = [("/* Vazirmatn © 2015 The Vazirmatn Project Authors (github.com/rastikerdar/vazirmatn), SIL Open Font "
             "License 1.1; subset to the characters of this page */")]
    for weight in sorted(FONT_FILES):
        b64 = base64.b64encode(subset_woff(weight, chars)).decode("ascii")
        rules.append(f"@font-face{{font-family:'{FAMILY}';font-style:normal;font-weight:{weight};font-display:block;"
                     f"src:url(data:font/woff;base64,{b64}) format('woff')}}")
    return "\n".join(rules)
