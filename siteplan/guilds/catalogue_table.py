"""The guild catalogue as a checked table: :class:`Catalogue`, and a raw table's columns, values and
separations completed (:func:`finish_table`) after the shipped or a scenario's CSV was read and its
overrides applied (:mod:`~siteplan.guilds.catalogue`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from .catalogue_values import (
    COLUMNS,
    ENV_ORDER,
    LIST_COLS,
    LISTING_COLUMNS,
    REQUIRED,
    SUMMARY_COLUMNS,
    VNG_DISTANCES,
    env_key,
    land_problem,
    split_list,
    value_problem,
)

__all__ = ["Catalogue", "finish_table"]


@dataclass(frozen=True)
class Catalogue:
    """The guild catalogue.

    Parameters
    ----------
    table
        One row per category; list columns hold Python lists; ``sep_m`` and ``sep_mixed_m`` are the
        separation distances from homes in metres (from ``env_cat`` unless overridden).
    changes
        What a scenario's overrides did to the keyword lists (logged by a run), e.g.
        ``car_repair.keywords_fa: 2 added to the 54 built-in``; empty for the built-in catalogue.
    """

    table: pd.DataFrame
    #: what a scenario's overrides did to the keyword lists (logged by a run), e.g.
    #: ``car_repair.keywords_fa: 2 added to the 54 built-in``
    changes: tuple[str, ...] = ()

    @property
    def codes(self) -> list[str]:
        """Category codes in catalogue order."""
        return list(self.table["code"])

    @functools.cached_property
    def _rows(self) -> dict[str, pd.Series]:
        """Each category's row by its code."""
        return {r["code"]: r for _, r in self.table.iterrows()}

    def row(self, code: str) -> pd.Series:
        """One category's row."""
        return self._rows[code]

    def __contains__(self, code: object) -> bool:
        """True when ``code`` is a category of the catalogue."""
        return code in set(self.table["code"])

    def env_rank(self, code: str) -> int:
        """Position of the category's environmental class (higher is heavier)."""
        return ENV_ORDER.index(env_key(self._rows[code]["env_cat"]))

    def listing(self, columns: tuple[str, ...] = LISTING_COLUMNS) -> pd.DataFrame:
        """The catalogue as a flat table for people and spreadsheets.

        Parameters
        ----------
        columns
            Columns to keep, in order (default :data:`LISTING_COLUMNS`).

        Returns
        -------
        pandas.DataFrame
            One row per category; list columns (ISIC codes, OSM tags, utilities, links) joined with
            ``;``.
        """
        t = self.table[list(columns)].copy()
        for c in LIST_COLS:
            if c in t:
                t[c] = t[c].map(";".join)
        return t

    def summary(self) -> str:
        """The short table of ``siteplan catalogue``: :data:`SUMMARY_COLUMNS`, one line per category."""
        return str(self.listing(SUMMARY_COLUMNS).to_string(index=False))

    def keywords_text(self) -> str:
        """Every category's keyword lists, one block per category (``siteplan catalogue --keywords``).

        ``keywords_fa``/``keywords_en`` are specific names (a match classifies the business);
        ``generic_fa`` are weaker words used only when no specific keyword matches.
        """
        blocks = ["\n".join([
            f"{r.code} — {r.name_en} / {r.name_fa}",
            f"  keywords_fa ({len(r.keywords_fa)}): {'، '.join(r.keywords_fa) or '-'}",
            f"  keywords_en ({len(r.keywords_en)}): {', '.join(r.keywords_en) or '-'}",
            f"  generic_fa  ({len(r.generic_fa)}): {'، '.join(r.generic_fa) or '-'}",
        ]) for r in self.table.itertuples()]
        return "\n\n".join(blocks)


def finish_table(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """A raw catalogue table checked and completed: every column of :data:`COLUMNS`, lists split, the
    separations from ``env_cat`` (unless given), statuses and sources filled, profiles assigned.

    Parameters
    ----------
    df
        The table as read (texts), with a scenario's overrides and additions; ``_overridden`` (optional)
        holds each row's overridden columns.
    where
        What the table is, for messages (``shipped catalogue``, ``catalogue <path>``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        Every problem found: missing columns, bad or duplicate codes, bad values.
    """
    missing = [f"{where}: missing column '{col}'" for col in REQUIRED if col not in df.columns]
    if missing:
        raise InputError(missing)
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = None
    for col in LIST_COLS:
        df[col] = df[col].map(split_list)
    problems = [f"{where}: category code: {why}" for c in df["code"] if (why := value_problem("code", c))]
    dup = df["code"][df["code"].duplicated()].tolist()
    if dup:
        problems.append(f"{where}: duplicate category code(s): {', '.join(dup)}")
    sep, sep_mixed = _separations(df, where, problems)
    if problems:
        raise InputError(problems)
    df["sep_m"] = sep
    df["sep_mixed_m"] = sep_mixed
    return _with_profiles(_filled(df), where)


def _separations(df: pd.DataFrame, where: str, problems: list[str]) -> tuple[list[float], list[float]]:
    """Each row's separations (quiet, mixed; NaN for a row with a problem), its ``env_cat`` written as
    its key in place; the problems of the rows are appended to ``problems``."""
    has = set(df.columns)
    sep: list[float] = []
    sep_mixed: list[float] = []
    for i, r in df.iterrows():
        got = _row_separation(r, has, f"{where}: category '{r['code']}'")
        if isinstance(got, list):
            problems.extend(got)
            sep.append(np.nan)
            sep_mixed.append(np.nan)
            continue
        df.at[i, "env_cat"], quiet, mixed = got
        sep.append(quiet)
        sep_mixed.append(mixed)
        if (why := land_problem(r["land_m2"])):
            problems.append(f"{where}: category '{r['code']}': land_m2 {why}")
    return sep, sep_mixed


def _row_separation(r: pd.Series, has: set[str], where: str) -> tuple[str, float, float] | list[str]:
    """A category's (environmental key, separation, mixed-area separation): the VNG distances of its
    ``env_cat`` unless ``sep_m``/``sep_mixed_m`` are given; else its problems (``where``: the row)."""
    try:
        key = env_key(r["env_cat"])
    except KeyError:
        return [f"{where}: env_cat '{r['env_cat']}' is not one of {', '.join(VNG_DISTANCES)}"]
    q, m, _ = VNG_DISTANCES[key]
    bad = [f"{where}: {c} {why}" for c in ("sep_m", "sep_mixed_m", "plot_m2", "retail")
           if c in has and pd.notna(r.get(c)) and (why := value_problem(c, r.get(c)))]
    if bad:
        return bad
    sep = float(r["sep_m"]) if "sep_m" in has and pd.notna(r.get("sep_m")) else q
    mixed = float(r["sep_mixed_m"]) if "sep_mixed_m" in has and pd.notna(r.get("sep_mixed_m")) else m
    return key, sep, mixed


def _filled(df: pd.DataFrame) -> pd.DataFrame:
    """The checked table with numbers typed and statuses, sources and the DOE group filled."""
    df["land_m2"] = df["land_m2"].astype(float)
    df["plot_m2"] = pd.to_numeric(df["plot_m2"], errors="coerce").fillna(df["land_m2"])
    df["retail"] = pd.to_numeric(df["retail"], errors="coerce").fillna(0).astype(int)
    df["sep_status"] = df.get("sep_status", pd.Series(index=df.index, dtype=object))
    df["sep_status"] = [
        s if isinstance(s, str) and s else ("override" if "sep_m" in o else VNG_DISTANCES[str(e)][2])
        for s, o, e in zip(df["sep_status"], df.get("_overridden", [set()] * len(df)), df["env_cat"])
    ]
    df = df.drop(columns=[c for c in ("_overridden",) if c in df.columns])
    df["keywords_source"] = df["keywords_source"].fillna("scenario")
    for col in ("env_status", "land_status", "doe_status", "keywords_status"):
        df[col] = df[col].fillna("assumption")
    df["doe_group"] = df["doe_group"].fillna("")
    df["source"] = [f"env: {a}; land: {b}" for a, b in zip(df["env_source"].fillna("scenario"),
                                                            df["land_source"].fillna("scenario"))]
    return df


def _with_profiles(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """The table with ``profile`` and ``profile_reason`` filled (:func:`siteplan.guilds.profiles.assign_profiles`)."""
    from .profiles import assign_profiles

    df = df.reset_index(drop=True)
    problems = [f"{where}: {p}" for p in assign_profiles(df)]
    if problems:
        raise InputError(problems)
    return df
