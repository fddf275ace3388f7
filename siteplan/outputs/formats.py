"""The file formats every writer of the outputs package shares: CSV cells a spreadsheet cannot read as
formulas (OWASP's CSV-injection advice) and their reading back, JSON and ``.npz`` written atomically with
fixed bytes. Low in the package: the run writer, the workbook, explain's data and the stage cache import it,
and it imports none of them."""

from __future__ import annotations

import io
import json
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..common.atomic import atomic_path

__all__ = ["FORMULA_PREFIXES", "neutralise_formulas", "undo_defuse", "safe_csv", "write_csv", "write_json",
           "write_npz"]


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


#: Unicode categories a spreadsheet may skip (or the eye miss) before a formula: format characters (zero-width
#: spaces and joiners, byte-order mark, word joiner, LRM/RLM/ALM, soft hyphen, bidi controls), spaces of every
#: width (no-break, ideographic U+3000), line and paragraph separators, control characters (CR, LF, tab)
_SKIPPED_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})


def _defuse(v: Any) -> Any:
    """``v`` with a leading quote when a spreadsheet could read it as a formula: it starts with a formula
    prefix, or its first character that is not invisible (Unicode categories Cf, Zs, Zl, Zp, Cc: any number
    of zero-width or odd spaces, bidi marks, soft hyphens) is one after Unicode compatibility folding (so the
    fullwidth ``＝`` and ``＋`` count). Other text, Persian included, is returned as it is."""
    if not isinstance(v, str) or not v:
        return v
    if v.startswith(FORMULA_PREFIXES):
        return "'" + v
    i = 0
    while i < len(v) and unicodedata.category(v[i]) in _SKIPPED_CATEGORIES:
        i += 1
    if i == len(v):
        return v
    head = unicodedata.normalize("NFKC", v[i:i + 4]).lstrip()
    if head.startswith(FORMULA_PREFIXES):
        return "'" + v
    return v


def undo_defuse(v: Any) -> Any:
    """A cell read back from a siteplan CSV without the quote :func:`_defuse` added.

    So that layers built from a CSV (the GeoPackage's ``relocation`` layer, a comparison) hold the values the run held and
    join with the other layers. (A value the user wrote as a quote followed by a formula character comes
    back without its quote: the one case the CSV cannot tell apart.)"""
    if isinstance(v, str) and v.startswith("'"):
        rest = v[1:]
        if rest.startswith(FORMULA_PREFIXES) or _defuse(rest) != rest:
            return rest
    return v


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` that a spreadsheet cannot read as formulas (OWASP's CSV-injection advice).

    Every *string* cell (and column name) that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage
    return gets a leading single quote, so ``=HYPERLINK(...)`` is shown as text, not evaluated. Numeric
    columns are left alone (``-3.5`` in a float column stays a number), but the text ``"-3"`` in a
    string column is prefixed. Quotes and separators inside cells are handled by the CSV quoting.
    Every CSV siteplan writes goes through this.
    """
    return _neutralised(df)[0]


def _neutralised(df: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """:func:`neutralise_formulas` of ``df`` and whether a text cell or column name of the copy holds a
    carriage return (each distinct text looked at once)."""
    out = df.copy()
    cr = False
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            texts = _distinct_texts(s)
            if texts is not None and all(_defuse(v) == v for v in texts):
                cr = cr or any("\r" in v for v in texts)  # no cell changes: the column stays as it is
                continue
            defused = _Defused()
            out.isetitem(i, s.map(defused))
            cr = cr or defused.cr
    out.columns = [_defuse(c) for c in out.columns]
    return out, cr or any(isinstance(c, str) and "\r" in c for c in out.columns)


def _distinct_texts(s: pd.Series) -> list[str] | None:
    """The distinct text cells of ``s`` (hashed in C, each once), or None when a cell cannot be hashed (a list)."""
    try:
        distinct = pd.unique(s)
    except TypeError:
        return None
    return [v for v in distinct if isinstance(v, str)]


class _Defused:
    """:func:`_defuse` with each distinct value worked out once (a column repeats its categories, ids and
    reasons thousands of times); a function to ``Series.map``, not a mapping. ``cr``: whether a text it
    returned holds a carriage return."""

    def __init__(self) -> None:
        self.seen: dict[Any, Any] = {}
        self.cr = False

    def __call__(self, v: Any) -> Any:
        if type(v) is not str:  # only text is remembered (1, 1.0 and True are one key; lists have none)
            out = _defuse(v)
            self.cr = self.cr or (isinstance(out, str) and "\r" in out)
            return out
        out = self.seen.get(v)
        if out is None:
            out = self.seen[v] = _defuse(v)
            self.cr = self.cr or "\r" in out
        return out


def safe_csv(df: pd.DataFrame, path: str | Path | None = None, *, bom: bool = False) -> str | None:
    """``df.to_csv`` without the index, formulas neutralised (:func:`neutralise_formulas`).

    Lines end with LF; when a cell holds a carriage return, the file uses CRLF (RFC 4180) so that
    the CSV writer quotes that cell and the CR cannot start a new row (a row of the attacker's
    making would escape the formula check). Returns the text when ``path`` is None.
    """
    safe, cr = _neutralised(df)
    text: str | None = safe.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8",
                                   lineterminator="\r\n" if cr else "\n")
    return text


def write_csv(df: pd.DataFrame, path: str | Path, *, bom: bool = False) -> None:
    """Write a UTF-8 CSV (with a byte-order mark when ``bom``, which Excel needs for Persian); string
    cells that a spreadsheet would read as formulas are neutralised (:func:`safe_csv`).

    The file is written atomically: a failure leaves neither a half-written file nor a temporary one.

    Parameters
    ----------
    df
        The table, written without its index, columns in their order.
    path
        The CSV file (its parent folder is created; an existing file is replaced).
    bom
        Start the file with a UTF-8 byte-order mark.
    """
    with atomic_path(path) as tmp:
        safe_csv(df, tmp, bom=bom)


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON (UTF-8, indented, keys in insertion order) atomically.

    Parameters
    ----------
    obj
        JSON-ready data; anything else JSON cannot hold (paths, dates, ...) is written as its ``str``.
        Non-ASCII text (Persian) is written as is, not escaped.
    path
        The JSON file (its parent folder is created; an existing file is replaced); it ends with a newline.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


#: a fixed time stamp for the zip members (byte-identical outputs)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def write_npz(arrays: dict[str, np.ndarray], path: Path) -> None:
    """An ``.npz`` (zip of ``.npy``, DEFLATE) with fixed time stamps, written atomically; read back with
    ``numpy.load(allow_pickle=False)``."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            # level 1: fast (the rasters are written on every run), little larger than the default
            zf.writestr(info, buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
