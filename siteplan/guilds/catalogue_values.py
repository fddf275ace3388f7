"""The catalogue's columns and the checks of its values: environmental categories and their VNG
separations, category codes, numbers, flags and profiles.

Every message says what a value must be and what was given; the callers prefix where it was found
(``shipped catalogue: category 'x': ...``, ``catalogue.overrides.x.sep_m: ...``).
"""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "ADDABLE",
    "ADD_SUFFIX",
    "CODE_PATTERN",
    "COLUMNS",
    "ENV_ORDER",
    "KEYWORD_LISTS",
    "LISTING_COLUMNS",
    "LIST_COLS",
    "REQUIRED",
    "SUMMARY_COLUMNS",
    "VNG_DISTANCES",
    "env_key",
    "land_problem",
    "separation_m",
    "split_list",
    "value_problem",
]

#: VNG (2009) guide distances per environmental category: (quiet residential, mixed area), metres.
#: Categories 1–4.1 confirmed; 4.2 and up: step rule confirmed, distances to verify (STANDARDS.md §1).
VNG_DISTANCES: dict[str, tuple[float, float, str]] = {
    "1": (10.0, 0.0, "confirmed"),
    "2": (30.0, 10.0, "confirmed"),
    "3.1": (50.0, 30.0, "confirmed"),
    "3.2": (100.0, 50.0, "confirmed"),
    "4.1": (200.0, 100.0, "confirmed"),
    "4.2": (300.0, 200.0, "assumption"),
    "5.1": (500.0, 300.0, "assumption"),
    "5.2": (700.0, 500.0, "assumption"),
    "5.3": (1000.0, 700.0, "assumption"),
    "6": (1500.0, 1000.0, "assumption"),
}
ENV_ORDER = list(VNG_DISTANCES)

#: The columns ``siteplan catalogue --format csv|json`` lists, with sources and status columns.
LISTING_COLUMNS = (
    "code", "name_en", "name_fa", "isic", "osm_tags", "env_cat", "sep_m", "sep_mixed_m", "sep_status",
    "env_status", "doe_group", "doe_status", "traffic", "land_m2", "land_status", "utilities", "chain",
    "links", "source", "keywords_fa", "keywords_en", "generic_fa", "keywords_status", "keywords_source",
    "profile", "profile_reason",
)
#: The columns added by an override to extend a list instead of replacing it.
ADD_SUFFIX = "_add"
ADDABLE = ("keywords_fa", "keywords_en", "generic_fa", "isic", "osm_tags", "links")
#: Lists a scenario's override adds to (unless the override says ``replace: true``).
KEYWORD_LISTS = ("keywords_fa", "keywords_en", "generic_fa")
#: The columns of the catalogue's short table (``siteplan catalogue``).
SUMMARY_COLUMNS = ("code", "name_en", "env_cat", "sep_m", "sep_status", "doe_group", "land_m2", "land_status",
                   "chain", "profile")

#: Columns holding lists (``;`` between the items in a CSV).
LIST_COLS = ("isic", "osm_tags", "keywords_fa", "keywords_en", "generic_fa", "utilities", "links")
#: Columns every catalogue and every added category must have.
REQUIRED = ("code", "name_en", "name_fa", "env_cat", "land_m2")
#: The columns of a catalogue table (missing ones are added empty).
COLUMNS = (
    "code", "name_en", "name_fa", "isic", "osm_tags", "keywords_fa", "keywords_en", "generic_fa",
    "env_cat", "env_status", "env_source", "doe_group", "doe_status", "traffic", "land_m2",
    "land_status", "land_source", "plot_m2", "utilities", "chain", "links", "retail", "keywords_status",
    "keywords_source", "profile", "profile_reason",
)


def separation_m(env_cat: str, *, mixed: bool = False) -> float:
    """VNG guide distance from homes for an environmental category.

    Parameters
    ----------
    env_cat
        ``"1"``, ``"2"``, ``"3.1"``, ... ``"6"``.
    mixed
        True for a mixed area (one category step less, STANDARDS.md §1).

    Returns
    -------
    float
        Metres from the plot edge to the nearest dwelling façade.

    Examples
    --------
    >>> separation_m("3.2"), separation_m("3.2", mixed=True)
    (100.0, 50.0)
    """
    key = env_key(env_cat)
    quiet, mix, _ = VNG_DISTANCES[key]
    return mix if mixed else quiet


def env_key(env_cat: object) -> str:
    """The key of :data:`VNG_DISTANCES` an environmental category is (``" 3.2"`` -> ``3.2``, ``1.0`` ->
    ``1``); KeyError when it is none of them."""
    s = str(env_cat).strip()
    s = s.removesuffix(".0")
    if s not in VNG_DISTANCES:
        raise KeyError(s)
    return s


#: Numeric catalogue columns: (smallest allowed value, whether it is allowed itself, what it is).
_NUMERIC: dict[str, tuple[float, bool, str]] = {
    "sep_m": (0.0, True, "a distance from homes in metres, 0 or more (e.g. 150)"),
    "sep_mixed_m": (0.0, True, "a distance from homes in mixed areas in metres, 0 or more (e.g. 100)"),
    "land_m2": (0.0, False, "land per business in m², above 0 (e.g. 400)"),
    "plot_m2": (0.0, False, "a plot size in m², above 0 (e.g. 500)"),
}

#: the largest plausible land per business (m²): 100 ha
_NUMERIC_MAX = {"land_m2": 1e6, "plot_m2": 1e6}

#: a category code: it names files (suitability/<code>.tif) and columns, so plain letters, digits, _
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")


def value_problem(col: str, val: object) -> str | None:
    """Why a catalogue value cannot be used (None when it can, or when the column is not checked).

    Parameters
    ----------
    col
        The catalogue column.
    val
        Its value, as a scenario or a CSV gave it (hostile data).

    Returns
    -------
    str or None
        What the value must be and what was given.
    """
    if col == "code":
        return _code_problem(val)
    shape = _shape_problem(col, val)
    if shape or val is None or (isinstance(val, str) and not val.strip()):
        return shape
    if col == "env_cat":
        return _env_problem(val)
    if col in ("profile", "retail"):
        return _choice_problem(col, val)
    return _number_problem(col, val) if col in _NUMERIC else None


def _code_problem(val: object) -> str | None:
    """Why a category code cannot name files and columns (None when it can)."""
    if not isinstance(val, str) or not CODE_PATTERN.fullmatch(val):
        return (f"a category code is 1 to 40 lower-case letters, digits or '_' starting with a letter "
                f"(it names output files), got {val!r}")
    return None


def _shape_problem(col: str, val: object) -> str | None:
    """Why a value is not one value (or a flat list, for a list column): None when it is."""
    if isinstance(val, dict) or (isinstance(val, list) and col not in LIST_COLS):
        return f"must be a single value, got {val!r}"
    if isinstance(val, list) and any(isinstance(x, (list, dict)) for x in val):
        return f"must be a list of values or one text with ';' between them, got {val!r}"
    return None


def _env_problem(val: object) -> str | None:
    """Why a value is no VNG environmental category (None when it is one)."""
    try:
        env_key(val)
    except KeyError:
        return f"env_cat {val!r} is not one of {', '.join(VNG_DISTANCES)} (the VNG environmental categories)"
    return None


def _as_float(val: object) -> float | None:
    """The value as a number (None for a flag, a text of no number, or what float() refuses)."""
    if isinstance(val, bool):
        return None
    try:
        return float(val)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _number_problem(col: str, val: object) -> str | None:
    """Why a value of a numeric column of :data:`_NUMERIC` cannot be used (None when it can)."""
    low, inclusive, what = _NUMERIC[col]
    f = _as_float(val)
    if f is None or not np.isfinite(f) or f < low or (f == low and not inclusive):
        return f"must be {what}, got {val!r}"
    if col in _NUMERIC_MAX and f > _NUMERIC_MAX[col]:
        return f"must be {what} and at most {_NUMERIC_MAX[col]:,.0f} (100 ha for one business), got {val!r}"
    return None


def land_problem(val: object) -> str | None:
    """Why a catalogue row's ``land_m2`` cannot be used (None when it can)."""
    try:
        positive = float(val) > 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        positive = False
    if not positive:
        return f"must be a positive number, got {val!r}"
    return value_problem("land_m2", val)


def _choice_problem(col: str, val: object) -> str | None:
    """Why a ``retail`` flag or a ``profile`` cannot be used (None when it can)."""
    if col == "profile":
        from .profiles import PROFILES

        if str(val).strip() in PROFILES:
            return None
        return f"must be one of {', '.join(PROFILES)} (the default criteria's profiles), got {val!r}"
    if isinstance(val, bool) or str(val).strip() in ("0", "1"):
        return None
    return f"must be 0 or 1 (true or false: a shop that sells to the public), got {val!r}"



def split_list(v: object) -> list[str]:
    """A list column's value as a list of texts: a list as given, a text cut at ``;``, nothing for None/NaN."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v if str(x).strip()]
    return [p.strip() for p in str(v).split(";") if p.strip()]
