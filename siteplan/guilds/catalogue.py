"""Guild catalogue and classification of a business registry.

The catalogue ships as ``siteplan/data/catalogue.csv`` (one row per guild category) and can be
replaced, overridden per category or extended in a scenario. Every number carries a source and a
status (``confirmed`` or ``assumption``) following ``STANDARDS.md``.

Classification takes, in order: an explicit ``category``; the ISIC Rev.4 code (4 digits, or a 2/3
digit prefix), disambiguated by the name when one code covers several categories; OSM tags; Persian or
English keywords of the name after normalization. Each business gets ``category``, ``class_by`` and
``class_conf``; businesses that cannot be classified keep ``category`` empty and are reported.

This module reads the catalogue and applies a scenario's overrides; it is also the face of the
catalogue and the rules, whose parts live in:

- :mod:`~siteplan.guilds.catalogue_values`: the columns and the checks of their values;
- :mod:`~siteplan.guilds.catalogue_table`: :class:`Catalogue` and the checked table;
- :mod:`~siteplan.guilds.trade_words`: the words of the rules (trades outside the catalogue, disputed
  and shared words);
- :mod:`~siteplan.guilds.keyword_match`: the keyword matcher;
- :mod:`~siteplan.guilds.review_reasons`: why a rule's category is not to be trusted;
- :mod:`~siteplan.guilds.rule_cascade`: :func:`classify`, the rules in order.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InputError
from .catalogue_table import Catalogue, finish_table
from .catalogue_values import (
    ADD_SUFFIX,
    ADDABLE,
    COLUMNS,
    KEYWORD_LISTS,
    LISTING_COLUMNS,
    REQUIRED,
    SUMMARY_COLUMNS,
    VNG_DISTANCES,
    separation_m,
    split_list,
    value_problem,
)
from .rule_cascade import RULE_KINDS, classify
from .trade_words import (
    DISPUTED_WORDS,
    OUTSIDE,
    OUTSIDE_GOODS,
    OUTSIDE_MORE,
    OUTSIDE_OVERRIDES,
    OUTSIDE_TRADES,
    SHARED_KEYWORDS,
)

if TYPE_CHECKING:
    from pathlib import Path

    from ..scenario import Scenario

__all__ = [
    "VNG_DISTANCES",
    "Catalogue",
    "load_catalogue",
    "scenario_catalogue",
    "LISTING_COLUMNS",
    "SUMMARY_COLUMNS",
    "classify",
    "separation_m",
    "OUTSIDE",
    "OUTSIDE_TRADES",
    "OUTSIDE_MORE",
    "OUTSIDE_GOODS",
    "OUTSIDE_OVERRIDES",
    "SHARED_KEYWORDS",
    "DISPUTED_WORDS",
    "RULE_KINDS",
]

#: The columns an override may set (the catalogue's, and the separations with their status).
_ALLOWED = frozenset(COLUMNS) | {"sep_m", "sep_mixed_m", "sep_status"}
#: An override's ``<list>_add`` column -> the list it adds to.
_ADD_COLUMNS = {c + ADD_SUFFIX: c for c in ADDABLE}


def scenario_catalogue(scenario: Scenario) -> Catalogue:
    """The catalogue a scenario uses: its ``catalogue.path`` (else the shipped one) with its
    ``overrides`` and ``add``.

    Parameters
    ----------
    scenario
        A parsed scenario.

    Returns
    -------
    Catalogue
        The scenario's catalogue, its changes to the keyword lists in ``changes``.

    Raises
    ------
    InputError
        As :func:`load_catalogue`.
    """
    c = scenario.catalogue
    return load_catalogue(scenario.resolve(c.path) if c.path else None, overrides=c.overrides, add=c.add)



def load_catalogue(path: str | Path | None = None, *, overrides: dict[str, dict[str, Any]] | None = None,
                   add: list[dict[str, Any]] | None = None) -> Catalogue:
    """Load the shipped (or a given) catalogue and apply a scenario's overrides and additions.

    Parameters
    ----------
    path
        A CSV with the shipped catalogue's columns; None for the shipped one.
    overrides
        ``{code: {column: value}}``, e.g. ``{"car_body_paint": {"sep_m": 150}}``.
    add
        New categories as mappings with at least ``code``, ``name_en``, ``name_fa``, ``env_cat``,
        ``land_m2``.

    Returns
    -------
    Catalogue
        The catalogue with the overrides applied and the additions appended (separation distances
        derived from ``env_cat`` where not given).

    Raises
    ------
    InputError
        Unknown category or column in an override, missing columns, bad values.
    """
    if path is None:
        with resources.files("siteplan").joinpath("data/catalogue.csv").open("r", encoding="utf-8") as fh:
            df = pd.read_csv(fh, dtype=str, keep_default_na=False).replace({"": None})
        where = "shipped catalogue"
    else:
        df = pd.read_csv(path, dtype=str, keep_default_na=False).replace({"": None})
        where = f"catalogue {path}"
    df = df.astype(object)  # overrides put numbers into text columns
    df["_overridden"] = [set() for _ in range(len(df))]
    problems: list[str] = []
    notes = _apply_overrides(df, overrides or {}, problems)
    df = _add_categories(df, add or [], problems)
    if problems:
        raise InputError(problems)
    return Catalogue(finish_table(df, where), tuple(notes))


def _add_categories(df: pd.DataFrame, add: list[dict[str, Any]], problems: list[str]) -> pd.DataFrame:
    """The raw table with a scenario's new categories (``catalogue.add``) appended; the problems of the
    ones that cannot be added are appended to ``problems``."""
    for i, new in enumerate(add):
        missing = [c for c in REQUIRED if c not in new]
        unknown = [c for c in new if c not in _ALLOWED]
        if missing or unknown:
            problems.append(f"catalogue.add[{i}]: " + "; ".join(
                ([f"missing {', '.join(missing)}"] if missing else []) +
                ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])))
            continue
        bad = [f"catalogue.add[{i}].{c}: {why}" for c, v in new.items() if (why := value_problem(c, v))]
        if bad:
            problems.extend(bad)
            continue
        row = {k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in new.items()}
        row["_overridden"] = set(row) & {"sep_m"}
        df = pd.concat([df, pd.DataFrame([row])], ignore_index=True)
    return df


def _apply_overrides(df: pd.DataFrame, overrides: dict[str, dict[str, Any]], problems: list[str]) -> list[str]:
    """Apply a scenario's ``catalogue.overrides`` to the raw table in place; problems are appended to
    ``problems``. Returns what the overrides did to the keyword lists (:attr:`Catalogue.changes`)."""
    notes: list[str] = []
    for code, changes in overrides.items():
        why = _override_problem(df, code, changes)
        if why:
            problems.append(f"catalogue.overrides.{code}{why}")
            continue
        replace = changes.get("replace", False)
        for col, val in changes.items():
            if col != "replace":
                _override_column(df, code, col, val, replace=replace, problems=problems, notes=notes)
    return notes


def _override_problem(df: pd.DataFrame, code: str, changes: object) -> str | None:
    """Why a category's override cannot be applied at all (after its name: ``: ...`` or ``.replace: ...``);
    None when it can."""
    if code not in set(df["code"]):
        return f": no such category (known: {', '.join(df['code'])})"
    if not isinstance(changes, dict):
        return f": must be a mapping of column: value, got {changes!r}"
    replace = changes.get("replace", False)
    if not isinstance(replace, bool):
        return (f".replace: must be true or false (true: the keyword lists given replace the built-in ones "
                f"instead of adding to them), got {replace!r}")
    return None


def _override_column(df: pd.DataFrame, code: str, col: str, val: object, *, replace: bool, problems: list[str],
                     notes: list[str]) -> None:
    """Apply one column of a category's override (a keyword list adds to the built-in one unless
    ``replace``); its problem is appended to ``problems``, a keyword list's change to ``notes``."""
    if col in KEYWORD_LISTS and not replace:
        col += ADD_SUFFIX  # scenario keywords add to the built-in lists unless replace: true
    why = _column_problem(col, val)
    if why:
        problems.append(f"catalogue.overrides.{code}.{col}: {why}")
    elif col in _ADD_COLUMNS:
        _add_to_list(df, code, _ADD_COLUMNS[col], val, notes)
    else:
        _set_value(df, code, col, val, notes)


def _column_problem(col: str, val: object) -> str | None:
    """Why an override's column and value cannot be used (None when they can)."""
    if col in _ADD_COLUMNS:
        return value_problem(_ADD_COLUMNS[col], val)
    if col == "keywords":
        return ("say which list: keywords_fa / keywords_en add to the built-in Persian / English keywords "
                "(with replace: true they replace them)")
    if col not in _ALLOWED or col == "code":
        known = ", ".join(sorted((_ALLOWED - {"code"}) | set(_ADD_COLUMNS)))
        return f"unknown column (allowed: {known})"
    return value_problem(col, val)


def _add_to_list(df: pd.DataFrame, code: str, col: str, val: object, notes: list[str]) -> None:
    """Add ``val``'s items (not there yet) to a category's list column; a keyword list's change is noted."""
    idx = df.index[df["code"] == code][0]
    cur = split_list(df.at[idx, col])
    new = [x for x in split_list(val) if x not in cur]
    df.at[idx, col] = ";".join([*cur, *new])
    if col in KEYWORD_LISTS:
        notes.append(f"{code}.{col}: {len(new)} added to the {len(cur)} built-in ({len(cur) + len(new)})")


def _set_value(df: pd.DataFrame, code: str, col: str, val: object, notes: list[str]) -> None:
    """Set a category's column to an override's value (a list joined with ``;``), noted as overridden; a
    keyword list replaced is noted in ``notes``."""
    if col not in df.columns:
        df[col] = None
    idx = df.index[df["code"] == code][0]
    if col in KEYWORD_LISTS:
        notes.append(f"{code}.{col}: the {len(split_list(df.at[idx, col]))} built-in replaced by "
                     f"{len(split_list(val))} (replace: true)")
    df.at[idx, col] = ";".join(map(str, val)) if isinstance(val, list) else val
    df.at[idx, "_overridden"] = df.at[idx, "_overridden"] | {col}
