"""Guild catalogue and classification of a business registry.

The catalogue ships as ``siteplan/data/catalogue.csv`` (one row per guild category) and can be
replaced, overridden per category or extended in a scenario. Every number carries a source and a
status (``confirmed`` or ``assumption``) following ``STANDARDS.md``.

Classification takes, in order: an explicit ``category``; the ISIC Rev.4 code (4 digits, or a 2/3
digit prefix), disambiguated by the name when one code covers several categories; OSM tags; Persian or
English keywords of the name after normalization. Each business gets ``category``, ``class_by`` and
``class_conf``; businesses that cannot be classified keep ``category`` empty and are reported.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..common.textnorm import normalize, normalize_compact
from ..errors import InputError

if TYPE_CHECKING:
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
_ADDABLE = ("keywords_fa", "keywords_en", "generic_fa", "isic", "osm_tags", "links")
#: Lists a scenario's override adds to (unless the override says ``replace: true``).
KEYWORD_LISTS = ("keywords_fa", "keywords_en", "generic_fa")
#: The columns of the catalogue's short table (``siteplan catalogue``).
SUMMARY_COLUMNS = ("code", "name_en", "env_cat", "sep_m", "sep_status", "doe_group", "land_m2", "land_status",
                   "chain", "profile")

_LIST_COLS = ("isic", "osm_tags", "keywords_fa", "keywords_en", "generic_fa", "utilities", "links")
_REQUIRED = ("code", "name_en", "name_fa", "env_cat", "land_m2")
_COLUMNS = (
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
    key = _env_key(env_cat)
    quiet, mix, _ = VNG_DISTANCES[key]
    return mix if mixed else quiet


def _env_key(env_cat: object) -> str:
    s = str(env_cat).strip()
    s = s.removesuffix(".0")
    if s not in VNG_DISTANCES:
        raise KeyError(s)
    return s


@dataclass(frozen=True)
class Catalogue:
    """The guild catalogue.

    Attributes
    ----------
    table
        One row per category; list columns hold Python lists; ``sep_m`` and ``sep_mixed_m`` are the
        separation distances from homes (from ``env_cat`` unless overridden).
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
        return {r["code"]: r for _, r in self.table.iterrows()}

    def row(self, code: str) -> pd.Series:
        """One category's row."""
        return self._rows[code]

    def __contains__(self, code: object) -> bool:
        return code in set(self.table["code"])

    def env_rank(self, code: str) -> int:
        """Position of the category's environmental class (higher is heavier)."""
        return ENV_ORDER.index(_env_key(self._rows[code]["env_cat"]))

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
        for c in _LIST_COLS:
            if c in t:
                t[c] = t[c].map(lambda v: ";".join(v))
        return t

    def summary(self) -> str:
        """The short table of ``siteplan catalogue``: :data:`SUMMARY_COLUMNS`, one line per category."""
        return self.listing(SUMMARY_COLUMNS).to_string(index=False)

    def keywords_text(self) -> str:
        """Every category's keyword lists, one block per category (``siteplan catalogue --keywords``).

        ``keywords_fa``/``keywords_en`` are specific names (a match classifies the business);
        ``generic_fa`` are weaker words used only when no specific keyword matches.
        """
        blocks = []
        for r in self.table.itertuples():
            blocks.append("\n".join([
                f"{r.code} — {r.name_en} / {r.name_fa}",
                f"  keywords_fa ({len(r.keywords_fa)}): {'، '.join(r.keywords_fa) or '-'}",
                f"  keywords_en ({len(r.keywords_en)}): {', '.join(r.keywords_en) or '-'}",
                f"  generic_fa  ({len(r.generic_fa)}): {'، '.join(r.generic_fa) or '-'}",
            ]))
        return "\n\n".join(blocks)


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


def _value_problem(col: str, val: object) -> str | None:
    """Why a catalogue value cannot be used (None when it can, or when the column is not checked)."""
    if col == "code":
        if not isinstance(val, str) or not CODE_PATTERN.fullmatch(val):
            return (f"a category code is 1 to 40 lower-case letters, digits or '_' starting with a letter "
                    f"(it names output files), got {val!r}")
        return None
    if isinstance(val, dict) or (isinstance(val, list) and col not in _LIST_COLS):
        return f"must be a single value, got {val!r}"
    if isinstance(val, list) and any(isinstance(x, (list, dict)) for x in val):
        return f"must be a list of values or one text with ';' between them, got {val!r}"
    if val is None or (isinstance(val, str) and not val.strip()):
        return None
    if col == "env_cat":
        try:
            _env_key(val)
        except KeyError:
            return f"env_cat {val!r} is not one of {', '.join(VNG_DISTANCES)} (the VNG environmental categories)"
        return None
    if col in ("profile", "retail"):
        return _choice_problem(col, val)
    if col not in _NUMERIC:
        return None
    low, inclusive, what = _NUMERIC[col]
    try:
        if isinstance(val, bool):
            raise ValueError
        f = float(val)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"must be {what}, got {val!r}"
    if not np.isfinite(f) or f < low or (f == low and not inclusive):
        return f"must be {what}, got {val!r}"
    if col in _NUMERIC_MAX and f > _NUMERIC_MAX[col]:
        return (f"must be {what} and at most {_NUMERIC_MAX[col]:,.0f} (100 ha for one business), got {val!r}")
    return None


def _land_problem(val: object) -> str | None:
    """Why a catalogue row's ``land_m2`` cannot be used (None when it can)."""
    try:
        if not float(val) > 0:  # type: ignore[arg-type]
            raise ValueError
    except (TypeError, ValueError):
        return f"must be a positive number, got {val!r}"
    return _value_problem("land_m2", val)


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


def _with_profiles(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """The table with ``profile`` and ``profile_reason`` filled (:func:`siteplan.guilds.profiles.assign_profiles`)."""
    from .profiles import assign_profiles

    df = df.reset_index(drop=True)
    problems = [f"{where}: {p}" for p in assign_profiles(df)]
    if problems:
        raise InputError(problems)
    return df


def _split(v: object) -> list[str]:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v if str(x).strip()]
    return [p.strip() for p in str(v).split(";") if p.strip()]


def _finish(df: pd.DataFrame, where: str) -> pd.DataFrame:
    problems = []
    for col in _REQUIRED:
        if col not in df.columns:
            problems.append(f"{where}: missing column '{col}'")
    if problems:
        raise InputError(problems)
    for col in _COLUMNS:
        if col not in df.columns:
            df[col] = None
    for col in _LIST_COLS:
        df[col] = df[col].map(_split)
    problems.extend(f"{where}: category code: {why}" for c in df["code"] if (why := _value_problem("code", c)))
    dup = df["code"][df["code"].duplicated()].tolist()
    if dup:
        problems.append(f"{where}: duplicate category code(s): {', '.join(dup)}")
    sep, sep_mixed = [], []
    for i, r in df.iterrows():
        try:
            key = _env_key(r["env_cat"])
        except KeyError:
            problems.append(f"{where}: category '{r['code']}': env_cat '{r['env_cat']}' is not one of "
                            f"{', '.join(VNG_DISTANCES)}")
            sep.append(np.nan)
            sep_mixed.append(np.nan)
            continue
        df.at[i, "env_cat"] = key
        q, m, _ = VNG_DISTANCES[key]
        bad = [f"{where}: category '{r['code']}': {c} {why}" for c in ("sep_m", "sep_mixed_m", "plot_m2", "retail")
               if c in df.columns and pd.notna(r.get(c)) and (why := _value_problem(c, r.get(c)))]
        if bad:
            problems.extend(bad)
            sep.append(np.nan)
            sep_mixed.append(np.nan)
            continue
        sep.append(float(r["sep_m"]) if "sep_m" in df.columns and pd.notna(r.get("sep_m")) else q)
        sep_mixed.append(float(r["sep_mixed_m"]) if "sep_mixed_m" in df.columns and pd.notna(r.get("sep_mixed_m")) else m)
        if (why := _land_problem(r["land_m2"])):
            problems.append(f"{where}: category '{r['code']}': land_m2 {why}")
    if problems:
        raise InputError(problems)
    df["sep_m"] = sep
    df["sep_mixed_m"] = sep_mixed
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
    return _with_profiles(df, where)


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

    Raises
    ------
    InputError
        As :func:`load_catalogue`.
    """
    c = scenario.catalogue
    return load_catalogue(scenario.resolve(c.path) if c.path else None, overrides=c.overrides, add=c.add)


def _add_to_list(df: pd.DataFrame, code: str, col: str, val: object, notes: list[str]) -> None:
    """Add ``val``'s items (not there yet) to a category's list column; a keyword list's change is noted."""
    idx = df.index[df["code"] == code][0]
    cur = _split(df.at[idx, col])
    new = [x for x in _split(val) if x not in cur]
    df.at[idx, col] = ";".join(cur + new)
    if col in KEYWORD_LISTS:
        notes.append(f"{code}.{col}: {len(new)} added to the {len(cur)} built-in ({len(cur) + len(new)})")


def _apply_overrides(df: pd.DataFrame, overrides: dict[str, dict[str, Any]], allowed: set[str],
                     addable: dict[str, str], problems: list[str]) -> list[str]:
    """Apply a scenario's ``catalogue.overrides`` to the raw table in place; problems are appended to
    ``problems``. Returns what the overrides did to the keyword lists (:attr:`Catalogue.changes`)."""
    notes: list[str] = []
    for code, changes in overrides.items():
        if code not in set(df["code"]):
            problems.append(f"catalogue.overrides.{code}: no such category (known: {', '.join(df['code'])})")
            continue
        if not isinstance(changes, dict):
            problems.append(f"catalogue.overrides.{code}: must be a mapping of column: value, got {changes!r}")
            continue
        replace = changes.get("replace", False)
        if not isinstance(replace, bool):
            problems.append(f"catalogue.overrides.{code}.replace: must be true or false (true: the keyword lists "
                            f"given replace the built-in ones instead of adding to them), got {replace!r}")
            continue
        for col, val in changes.items():
            if col == "replace":
                continue
            if col in KEYWORD_LISTS and not replace:
                col = col + ADD_SUFFIX  # scenario keywords add to the built-in lists unless replace: true
            if col in addable:
                base = addable[col]
                why = _value_problem(base, val)
                if why:
                    problems.append(f"catalogue.overrides.{code}.{col}: {why}")
                    continue
                _add_to_list(df, code, base, val, notes)
                continue
            if col == "keywords":
                problems.append(f"catalogue.overrides.{code}.keywords: say which list: keywords_fa / "
                                "keywords_en add to the built-in Persian / English keywords (with replace: true "
                                "they replace them)")
                continue
            if col not in allowed or col == "code":
                known = ", ".join(sorted((allowed - {"code"}) | set(addable)))
                problems.append(f"catalogue.overrides.{code}.{col}: unknown column (allowed: {known})")
                continue
            why = _value_problem(col, val)
            if why:
                problems.append(f"catalogue.overrides.{code}.{col}: {why}")
                continue
            if col not in df.columns:
                df[col] = None
            idx = df.index[df["code"] == code][0]
            if col in KEYWORD_LISTS:
                notes.append(f"{code}.{col}: the {len(_split(df.at[idx, col]))} built-in replaced by "
                             f"{len(_split(val))} (replace: true)")
            df.at[idx, col] = ";".join(map(str, val)) if isinstance(val, list) else val
            df.at[idx, "_overridden"] = df.at[idx, "_overridden"] | {col}
    return notes


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
    allowed = set(_COLUMNS) | {"sep_m", "sep_mixed_m", "sep_status"}
    addable = {c + ADD_SUFFIX: c for c in _ADDABLE}
    notes = _apply_overrides(df, overrides or {}, allowed, addable, problems)
    for i, new in enumerate(add or []):
        missing = [c for c in _REQUIRED if c not in new]
        unknown = [c for c in new if c not in allowed]
        if missing or unknown:
            problems.append(f"catalogue.add[{i}]: " + "; ".join(
                ([f"missing {', '.join(missing)}"] if missing else []) +
                ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])))
            continue
        bad = [f"catalogue.add[{i}].{c}: {why}" for c, v in new.items() if (why := _value_problem(c, v))]
        if bad:
            problems.extend(bad)
            continue
        row = {k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in new.items()}
        row["_overridden"] = set(row) & {"sep_m"}
        df = pd.concat([df, pd.DataFrame([row])], ignore_index=True)
    if problems:
        raise InputError(problems)
    return Catalogue(_finish(df, where), tuple(notes))


# ------------------------------------------------------------------------------------------------
# classification
# ------------------------------------------------------------------------------------------------


#: The pseudo-category of trades outside the catalogue: a business given it is never placed.
OUTSIDE = "_other"
#: Trades a provincial registry holds that are none of the catalogue's categories (bakeries, barbers,
#: pharmacies, ...). A name whose longest specific word is one of these is a trade outside the catalogue
#: («نانوایی سنگک» is no stone cutting); the name model also learns them as :data:`OUTSIDE`. A category
#: added to the catalogue wins over these words where its own (longer) keywords match.
OUTSIDE_TRADES = (
    "نانوایی", "نانوایی سنگکی", "نانوایی لواش", "نان بربری", "آرایشگاه", "آرایشگاه زنانه", "پیرایش مردانه",
    "داروخانه", "بیمه", "نمایندگی بیمه", "کافی شاپ", "قهوه خانه", "رستوران", "چلوکبابی", "اغذیه فروشی",
    "ساندویچی", "فست فود", "پیتزا", "لبنیات", "قصابی", "مرغ فروشی", "میوه فروشی", "سبزی فروشی",
    "خواربار فروشی", "بقالی", "شیرینی فروشی", "قنادی", "آجیل فروشی", "پوشاک", "بوتیک", "کفش فروشی",
    "طلا فروشی", "جواهری", "عینک سازی", "خیاطی", "تعمیر موبایل", "موبایل فروشی", "کتاب فروشی",
    "گل فروشی", "دفتر پیشخوان", "دفتر خدمات", "مشاور املاک", "املاک", "آژانس مسافرتی", "آژانس تاکسی",
    "خشکشویی", "عکاسی", "مطب", "دندانپزشکی", "آموزشگاه", "باشگاه ورزشی", "تالار پذیرایی", "صرافی",
    "ساعت فروشی", "اسباب بازی", "لوازم آرایشی", "عطاری", "دامپزشکی", "آبمیوه بستنی", "بستنی فروشی",
    "کفاشی", "تعمیر کفش", "تعمیر لوازم خانگی", "لوازم خانگی", "تعمیر کولر گازی", "چاپ و تبلیغات", "چاپخانه",
    "افست", "قالیشویی", "فرش فروشی", "آموزشگاه رانندگی", "خشکشویی و اتوشویی", "کلینیک",
    "آزمایشگاه طبی", "لوازم التحریر", "نوشت افزار", "پرده فروشی", "لباس عروس", "مزون", "شیرینی سرا",
    "کبابی", "حلیم پزی", "کله پزی", "دفتر اسناد رسمی", "دفتر ازدواج", "باربری", "تاکسی تلفنی",
    # general knowledge of guild registries (the unions outside the nuisance list), not from a test registry
    "کلید سازی", "درمانگاه", "پزشک", "دکتر", "خیاط", "کافه", "فتوکپی", "تکثیر", "کافی نت", "بنگاه معاملات ملکی",
    "مسافرخانه", "هتل", "مهمانپذیر", "مهد کودک", "عینک فروشی", "میوه و تره بار",
    "نانوایی بربری", "نانوایی تافتون", "پیرایشگاه", "آرایش", "تعمیرات موبایل", "ساعت سازی", "کتابفروشی",
    "گالری طلا", "طلا و جواهر", "عکاسی و فیلمبرداری", "آتلیه", "دفتر بیمه", "پارچه فروشی", "کیف و کفش",
    "لوازم ورزشی", "دفتر وکالت", "آزمایشگاه تشخیص طبی", "فیزیوتراپی", "رادیولوژی", "سمعک", "تعمیر دوچرخه",
    "ساندویچ", "جگرکی", "آش", "کله پاچه", "بستنی", "آبمیوه", "خوار و بار",
    # near misses: trades outside the catalogue whose names hold a catalogue word («تعمیر», «نقاشی»,
    # «ماشین», «کامپیوتر», «الکترونیک», «لاستیک», «نمایشگاه», «گالری», «پخش», «روغن», «تراش», «شیشه»). The
    # longer phrase wins over the catalogue word inside it (general knowledge of guild names, no test registry)
    "نقاشی ساختمان", "نقاش ساختمان", "نقاشی ساختمانی", "رنگ آمیزی ساختمان", "کاغذ دیواری", "آموزشگاه نقاشی",
    "گالری نقاشی", "تابلو نقاشی", "تعمیرات موبایل", "تعمیر تلفن همراه", "تعمیر گوشی", "لوازم جانبی موبایل", "فروشگاه موبایل",
    "باتری موبایل", "گوشی موبایل",
    "تعمیر یخچال", "یخچال", "تعمیر لباسشویی", "لباسشویی", "ظرفشویی", "تعمیر ماشین لباسشویی",
    "تعمیر ماشین ظرفشویی", "ماشین های اداری", "ماشین اداری", "چرخ خیاطی", "تعمیر تلویزیون", "تلویزیون",
    "تعمیر لوازم برقی", "تعمیر لوازم صوتی", "صوتی و تصویری", "تعمیر پکیج", "آبگرمکن", "جاروبرقی",
    "تعمیر کامپیوتر", "تعمیرات کامپیوتر", "تعمیر لپ تاپ", "لپ تاپ", "فروشگاه کامپیوتر", "کامپیوتر فروشی",
    "لوازم کامپیوتر", "قطعات کامپیوتر", "فروش کامپیوتر", "فروشگاه رایانه", "قطعات رایانه", "لوازم الکترونیک",
    "فروشگاه الکترونیک", "قطعات الکترونیک", "لوازم برقی", "لوازم الکتریکی", "الکتریکی", "برق ساختمان",
    "برقکار ساختمان", "سیم کشی ساختمان", "لوله کشی", "لوله کش", "تعمیر ساعت", "ساعت فروشی", "تعمیر عینک",
    "قطعات لاستیکی", "صنایع لاستیک", "نمایشگاه فرش", "گالری فرش", "فرش ماشینی", "فرش دستباف", "تابلو فرش",
    "فرش شویی", "مبل شویی", "گالری لباس", "گالری پوشاک", "گالری کیف", "گالری هنری",
    "گالری عکس", "لوستر", "پخش دارو", "توزیع دارو", "دارویی", "تجهیزات پزشکی", "لوازم پزشکی", "شیشه بری",
    "شیشه و آینه", "شیشه سکوریت", "روغن نباتی", "روغن خوراکی", "روغن زیتون", "روغن حیوانی", "روغن کنجد",
    "روغن گیری", "روغن محلی", "اوراق بهادار", "کارگزاری", "آجرپزی", "آجر پزی", "کوره آجر", "دراگ استور",
    "تراشکاری کلید", "تراش کلید", "ریموت", "کلید و ریموت", "خرده فروشی", "دوچرخه",
    # services, offices, food and household trades of guild registries (general knowledge; calibration rows)
    "تالار", "پارکینگ", "موسسه حقوقی", "مهندسین مشاور", "مهندسی مشاور", "پیمانکاری", "حمل و نقل", "کرایه اتومبیل",
    "اجاره خودرو", "پمپ بنزین", "جایگاه سوخت", "معاینه فنی", "مرغ و ماهی", "ماهی فروشی", "آسانسور", "کناف",
    "دکوراسیون داخلی", "طلاسازی", "طلا سازی", "پرده سرا", "لباس کار", "تولیدی لباس", "تولیدی پوشاک", "یراق",
    "همراه اول", "ایرانسل", "مرمت", "بانک", "قرض الحسنه", "مدرسه", "دبستان", "دبیرستان", "مسجد", "استخر",
    "سالن زیبایی", "ماهواره", "گیم نت", "مرغداری", "گاوداری", "دامداری", "گلخانه", "سم و کود", "کود شیمیایی",
    "خدمات الکترونیک قضایی", "دفتر خدمات الکترونیک", "سبزی و میوه", "کفش دوزی", "pharmacy", "barber",
    "restaurant", "bakery", "beauty salon", "hair salon", "cafe", "clinic", "hotel",
    # the other unions of a guild registry (general knowledge of Iranian guild-union lists: installations,
    # cleaning, food, crafts, farming machinery, fuel, printing, security, transport)
    "تاسیسات حرارتی", "تاسیسات حرارتی و برودتی", "خدمات نظافت", "نظافت ساختمان", "سفره خانه", "پت شاپ",
    "غذای حیوانات", "لیتوگرافی", "صحافی", "کارخانه آرد", "تولید مواد شوینده", "دفتر معماری", "معماری",
    "طراحی داخلی", "بریانی", "زغال فروشی", "هیزم", "لوله بازکنی", "تخلیه چاه", "مهمانسرا", "صیفی جات",
    "کرایه خودرو", "گل و گیاه", "قالی بافی", "فرش بافی", "رنگ و ابزار", "ابزار فروشی", "ابزار آلات",
    "باشگاه بدنسازی", "بدنسازی", "میناکاری", "قلمزنی", "صنایع دستی", "زرگری", "ماشین چمن زنی",
    "لیفتراک", "ماشین آلات کشاورزی", "ادوات کشاورزی", "تراکتور", "سیم پیچی", "جایگاه cng", "جایگاه عرضه سوخت",
    "ساختمان پزشکان", "ظروف یکبار مصرف", "ریسندگی", "بافندگی", "کارخانه نساجی", "نان سنگک", "نان تافتون",
    "نان لواش", "گز و سوهان", "تخم مرغ", "بسته بندی خشکبار", "آژانس تلفنی", "تاکسی سرویس", "امداد خودرو",
    "یدک کش", "تعمیرات گوشی", "گوشی همراه", "تابلو سازی", "تابلوسازی", "تبلیغات", "چلنیوم", "دوربین مداربسته",
    "سیستم های امنیتی", "دزدگیر", "ترمه", "رومیزی", "قلمکار فروشی", "بدلیجات", "پوشاک فروشی",
    "لباس فروشی", "مانتو", "تولیدی مانتو", "کیف فروشی", "کفش ملی", "سوپر لبنیات", "لبنیات فروشی", "نانوایی صنعتی",
    "سالن غذاخوری", "غذای آماده", "کترینگ", "تهیه غذا", "آشپزخانه مرکزی", "داروگیاهی", "گیاهان دارویی",
    "عینک", "اپتیک", "لوازم صوتی", "آرایشی و بهداشتی", "بهداشتی و آرایشی", "خرازی", "لوازم خرازی",
    "کادو", "کادوفروشی", "هدایا", "لوازم قنادی", "ظروف", "ظروف فروشی", "چینی و بلور", "بلورجات", "نقره",
    "دفتر فنی", "نقشه کشی", "نقشه برداری", "آتش نشانی", "کپسول آتش نشانی", "شارژ کپسول", "گاز مایع",
    "سم پاشی", "سمپاشی", "ضد عفونی", "شیشه دوجداره",
)
#: More trades outside the catalogue, for the rules only (the name model learns :data:`OUTSIDE_TRADES` and
#: the corpus): general knowledge of the unions of a guild registry (food, personal and health services,
#: schools, offices, building crafts, transport, farming, leisure), no test registry. Like :data:`OUTSIDE_TRADES`.
OUTSIDE_MORE = (
    "نان فانتزی", "نان حجیم", "نان شیرینی", "شیرینی پزی", "کیک و شیرینی", "کیک پزی", "شکلات فروشی", "پروتئین فروشی",
    "غذاخوری", "سالن غذا", "طباخی", "دیزی سرا", "چایخانه", "فلافل", "سمبوسه", "برگر", "همبرگر", "سوخاری", "اغذیه",
    "فالوده", "کافه رستوران", "سالن آرایش", "میکاپ", "ماساژ", "سولاریوم", "تعمیر لباس", "فیلمبرداری", "چاپ عکس",
    "قاب سازی", "دندانپزشک", "دندانسازی", "لابراتوار دندان", "بینایی سنجی", "شنوایی سنجی", "کاردرمانی",
    "گفتاردرمانی", "طب سنتی", "حجامت", "بیمارستان", "سونوگرافی", "پاتوبیولوژی", "آزمایشگاه پزشکی", "کلینیک دامپزشکی",
    "داروخانه دامپزشکی", "پیش دبستانی", "موسسه آموزشی", "آموزش زبان", "زبانکده", "کانون زبان", "آموزشگاه زبان",
    "دفترخانه", "دفتر طلاق", "وکیل", "مشاور حقوقی", "دارالترجمه", "ترجمه رسمی", "تعاونی مسکن",
    "پیشخوان دولت", "پلیس 10", "دفتر پستی", "پست بانک", "خدمات مشترکین", "دفتر خدمات مسافرتی", "خدمات مسافرتی",
    "گردشگری", "آژانس هواپیمایی", "آژانس", "چاپ دیجیتال", "کانون تبلیغاتی", "بنایی", "گچ کاری", "گچکاری", "کاشیکاری",
    "کاشی کاری", "عایق کاری", "خدمات نظافتی", "نظافتی", "اتوبار", "پیک موتوری", "مسافربری", "ترمینال", "زنبورداری",
    "پرورش ماهی", "پرورش قارچ", "اقامتگاه", "بوم گردی", "باغ تالار", "سالن ورزشی", "سینما", "شهربازی", "حسینیه",
    "شهرداری", "شارژ کارتریج", "تعمیر پرینتر", "سفالگری", "شیشه گری", "تولیدی کیف", "تولیدی کفش", "تولیدی جوراب",
    "کارگاه خیاطی", "موزاییک سازی", "خرازی و کاموا", "کیوسک", "دکه", "روزنامه فروشی", "مطبوعات", "خدمات پرستاری",
    "پرستاری", "مراقبت از سالمند", "خانه سالمندان", "آرایشگاه مردانه", "پیرایش", "سلمانی", "دلاکی", "حمام",
    "دوچرخه فروشی", "آموزشگاه موسیقی",
    "عرق گیری", "زائرسرا", "زیارتی", "پرده دوزی", "کوسن دوزی", "لحاف دوزی", "رودوزی", "سوزن دوزی", "نان و شیرینی",
    "سنگک", "بربری", "لواش", "تافتون", "بتن آماده", "دفتر حسابداری", "خدمات حسابداری", "حسابرسی", "مشاوره مالیاتی",
    "باطری ساعت", "باتری ساعت", "ماشین لباسشویی", "ماشین ظرفشویی", "تعمیرگاه ماشین لباسشویی", "کولر آبی",
    "کولر گازی", "تعمیر کولر", "هتل آپارتمان", "آموزشگاه کامپیوتر", "آموزش کامپیوتر", "icdl",
)
#: Goods and words of trades outside the catalogue that catalogue trades also name («فرش» in «رنگرزی نخ فرش»,
#: «ابزار» in «تراش و ابزار سازی»): a name holding one and no word of a catalogue trade is a trade outside the
#: catalogue; with a catalogue trade's specific keyword, the keyword decides (generic strength, rules only).
OUTSIDE_GOODS = (
    "آجیل", "گوشت فروشی", "فروشگاه گوشت", "مرغ و گوشت", "گوشت و مرغ", "فروشگاه ماهی", "ماهی و میگو", "آرایشی",
    "ناخن", "قاب عکس", "شال و روسری", "روسری", "چادر مشکی", "جوراب", "لباس زیر", "لباس بچه", "لباس کودک", "کفش",
    "کیف", "چرم", "طلا", "جواهر", "ساعت", "عطر", "ادکلن", "عطر و ادکلن", "لوازم آشپزخانه", "کتاب", "فرش", "پرده",
    "موکت", "کفپوش", "لوازم روشنایی", "موبایل", "گوشی", "تلفن همراه", "ابزار", "بنر", "کارت ویزیت", "خاتم کاری",
    "گلیم", "موزاییک", "لوازم کودک", "عروسک", "کاموا", "بلور", "پلاسکو", "لوازم پلاستیکی", "لوازم یکبار مصرف",
    "لوازم بهداشتی و آرایشی", "دخانیات", "کارتریج", "سیسمونی", "سیسمونی کودک", "کشاورزی", "بذر", "نهال", "خوراک دام",
    "علوفه", "دان مرغ", "آجیل و خشکبار", "ماهیگیری", "شکار", "اسلحه", "لوازم صید", "لوازم کمپینگ", "کوهنوردی",
    "لوازم موسیقی", "آلات موسیقی", "اداره", "باشگاه", "پکیج",
    "سوغات", "سوغاتی", "زعفران", "گلاب", "عرقیات", "نبات", "آبنبات", "پولکی", "گز", "سوهان", "باسلق", "کلوچه",
    "پشمک", "قطاب", "حلوا", "ترشی", "ترشیجات", "خرما", "عقیق", "تسبیح", "انگشتر", "ملیله", "پشتی",
)
#: Generic words a trade outside the catalogue overrides («تعمیرات تلویزیون» is no car repair, «نمایشگاه لوازم
#: خانگی» no car showroom): words that say "repair" or "showroom" of anything.
OUTSIDE_OVERRIDES = ("تعمیر", "تعمیرگاه", "تعمیرات", "نمایشگاه", "گالری")
#: Words on which registries written by different hands disagree whether the business is in the catalogue
#: at all (measured on the calibration registries: «لوازم یدکی موتورسیکلت» and «تشک و کالای خواب» are in
#: the catalogue in one, trades outside it in another): a name holding one goes to review with the rules'
#: category and "a trade outside the catalogue" as its candidates. ``unless``: words that settle it (a
#: wholesaler of tiles is a wholesaler). Each word: (the categories it is disputed for, the words that settle it).
_WHOLESALE_WORDS = ("عمده", "پخش", "بنکدار", "توزیع", "بازرگانی")
_CHAIN_WORDS = ("زنجیره", "شعبه", "افق کوروش", "کوروش", "رفاه", "شهروند", "اتکا", "جانبو", "هفت حصین", "تعاونی",
                "پروما", "کوثر", "سپه", "ویستا", "یاس")
DISPUTED_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "موتورسیکلت": (("car_showroom", "car_parts", "car_repair"), ()),
    "موتور سیکلت": (("car_showroom", "car_parts", "car_repair"), ()),
    "اسکوتر": (("car_showroom", "car_parts", "car_repair"), ()),
    "موتور برقی": (("car_showroom", "car_parts", "car_repair"), ()),
    # a supermarket of no chain: a chain store in five calibration registries, a grocer's outside the
    # catalogue in one (registry_calib7); a chain's name or a branch settles it
    "سوپرمارکت": (("chain_store",), _CHAIN_WORDS), "سوپر مارکت": (("chain_store",), _CHAIN_WORDS),
    "سوپر": (("chain_store",), _CHAIN_WORDS), "سوپری": (("chain_store",), _CHAIN_WORDS),
    "مینی مارکت": (("chain_store",), _CHAIN_WORDS),
    "سمساری": (("scrap",), ()), "تشک": (("furniture_sales",), ()), "کالای خواب": (("furniture_sales",), ()),
    "لحاف": (("furniture_sales",), ()),
    "کاشی": (("wholesale_building",), _WHOLESALE_WORDS), "سرامیک": (("wholesale_building",), _WHOLESALE_WORDS),
    "شیرآلات": (("wholesale_building",), _WHOLESALE_WORDS), "شیر آلات": (("wholesale_building",), _WHOLESALE_WORDS),
    "چینی بهداشتی": (("wholesale_building",), _WHOLESALE_WORDS), "تیرچه": (("wholesale_building",), ()),
    "بلوک سیمانی": (("wholesale_building",), ()), "بلوک زنی": (("wholesale_building",), ()),
    # a locksmith is metalwork in one registry and a service outside the catalogue in three; an engineering
    # firm («فنی مهندسی») a technology firm in two and a contractor in one
    "قفل سازی": (("metalwork",), ()), "قفل و کلید": (("metalwork",), ()), "کلید و قفل": (("metalwork",), ()),
    "فنی مهندسی": (("tech_firm",), ("هوش مصنوعی", "نرم افزار", "فناوری", "دانش بنیان", "رباتیک", "الکترونیک",
                                    "اتوماسیون", "کنترل صنعتی")),
    # computer services: a technology firm in two registries, a shop outside the catalogue in another
    "خدمات کامپیوتری": (("tech_firm",), ()), "خدمات رایانه": (("tech_firm",), ()),
}
#: A repair or service shop's keyword with a word of selling parts («قطعات گیربکس», «پخش روغن موتور»), or a
#: parts keyword with a word of repair («برق و باطری خودرو»): the shop may be either (category found ->
#: (words that say the other, the other category)). Whole words for words of up to four letters.
SERVICE_OR_SALE: dict[str, tuple[tuple[str, ...], str]] = {
    "car_repair": (("قطعات", "لوازم", "فروش", "پخش", "یدک"), "car_parts"),
    "car_wash_oil": (("قطعات", "لوازم", "فروش", "پخش", "یدک"), "car_parts"),
    "car_parts": (("تعمیر", "برق", "تعویض"), "car_repair"),
}
#: Words registries use for two categories at once (the calibration registries disagree on them:
#: «هایپرمارکت» is a large store in one and a chain store in another; «اتوسرویس» a mechanic or an oil
#: change): a name whose longest word is one of these goes to review with both, for the officer to say.
SHARED_KEYWORDS: dict[str, tuple[str, ...]] = {
    "هایپر": ("large_store", "chain_store"), "هایپرمارکت": ("large_store", "chain_store"),
    "هایپر مارکت": ("large_store", "chain_store"), "هایپرمی": ("large_store", "chain_store"),
    "هایپراستار": ("large_store", "chain_store"), "هایپر استار": ("large_store", "chain_store"),
    "اتوسرویس": ("car_repair", "car_wash_oil"), "اتو سرویس": ("car_repair", "car_wash_oil"),
    # a meat or fruit «سوپر» is a chain store in one registry, a butcher's or greengrocer's in general use
    "سوپر پروتئین": ("chain_store", OUTSIDE), "سوپر گوشت": ("chain_store", OUTSIDE),
    "سوپر میوه": ("chain_store", OUTSIDE), "سوپر مرغ": ("chain_store", OUTSIDE), "سوپر ماهی": ("chain_store", OUTSIDE),
}

#: Vehicles: makes, models and kinds of car, van and lorry (general knowledge of the Iranian fleet; no
#: motorcycles, which registries disagree on, see :data:`DISPUTED_WORDS`, and no «ماشین», which is also a
#: machine).
VEHICLE_WORDS = (
    "خودرو", "اتومبیل", "سواری", "تاکسی", "وانت", "کامیون", "کامیونت", "اتوبوس", "مینی بوس", "مینیبوس", "تریلی",
    "پژو", "پراید", "سمند", "تیبا", "ساینا", "کوییک", "دنا", "رانا", "رنو", "تندر", "ال90", "l90", "پیکان", "روآ",
    "زانتیا", "پرشیا", "آریسان", "زامیاد", "نیسان", "هیوندای", "هیوندا", "کیا", "تویوتا", "لکسوس", "مزدا", "بنز",
    "بی ام و", "ولوو", "اسکانیا", "خاور", "ایسوزو", "فوتون", "هوو", "چری", "ام وی ام", "برلیانس", "لیفان",
    "هایما", "سوزوکی", "میتسوبیشی", "شورولت", "فولکس", "پورشه", "206", "207", "405", "پژو405", "پژو206",
)
#: A generic word of a category («تعمیرگاه», «نمایشگاه», «بنکداری») with one of these words of its own trade
#: names the trade («تعمیرگاه پراید و پژو», «بنکداری لوازم بهداشتی»): the generic decision becomes a keyword
#: one. Whole words, a word's «ی»/«های» forms included; several words («مواد غذایی») anywhere.
CONTEXT_WORDS: dict[str, tuple[str, ...]] = {
    "car_repair": VEHICLE_WORDS,
    "car_showroom": VEHICLE_WORDS,
    "chain_store": ("شعبه",),
    "stone_cutting": ("برش", "ساب", "سابکاری", "صیقل", "تراش", "حکاکی"),
    "wholesale_food": (
        "مواد غذایی", "غذایی", "خواربار", "خوار و بار", "حبوبات", "خشکبار", "برنج", "قند", "شکر", "چای", "کنسرو",
        "تن ماهی", "ماکارونی", "آرد", "ادویه", "تنقلات", "نوشابه", "نوشیدنی", "شوینده", "بهداشتی", "کالا",
        "مصرفی", "سوپرمارکتی", "منجمد", "لبنی", "پروتئینی", "مویرگی", "بنکدار", "بنکداری", "روغن نباتی",
        "کالای مصرفی", "محصولات غذایی", "خوراکی", "بیسکویت", "شکلات", "رب",
    ),
}


def _in_context(code: str | None, name_c: str, name_w: str) -> bool:
    """True when the name holds a word of :data:`CONTEXT_WORDS` of ``code`` (whole words, with their
    «ی»/«ها»/«های» forms; words of several parts anywhere in the compact name)."""
    words = _context_words().get(code or "")
    if not words:
        return False
    toks = set(name_w.split())
    toks |= {t[:-1] for t in toks if t.endswith("ی")} | {t[:-2] for t in toks if t.endswith("ها")} | \
        {t[:-3] for t in toks if t.endswith("های")}
    return any((w in name_c) if several else (w in toks) for w, several in words)


@functools.cache
def _context_words() -> dict[str, tuple[tuple[str, bool], ...]]:
    """:data:`CONTEXT_WORDS` normalized: (the word, compact when of several parts; whether it is)."""
    out = {}
    for code, ws in CONTEXT_WORDS.items():
        norm = [_fold(normalize(w)) for w in ws]
        out[code] = tuple((w.replace(" ", ""), " " in w) for w in norm)
    return out


_Kw = tuple[str, str, int, str, str]  # (compact keyword, code, specificity, whole word or "", the keyword as written)


@dataclass(frozen=True)
class _Matcher:
    isic: dict[str, list[str]]
    osm: dict[str, str]
    keywords: list[_Kw]
    code_norm: dict[str, str]
    by_prefix: dict[str, list[_Kw]]  # keywords by their first two letters
    disputed: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()  # (word, its categories, settling words)


def _matcher(cat: Catalogue) -> _Matcher:
    isic: dict[str, list[str]] = {}
    osm: dict[str, str] = {}
    kws: list[_Kw] = []
    code_norm: dict[str, str] = {}
    for r in cat.table.itertuples():
        code_norm[normalize_compact(r.code)] = r.code
        code_norm[normalize_compact(r.name_en)] = r.code
        code_norm[normalize_compact(r.name_fa)] = r.code
        for c in r.isic:
            isic.setdefault(re.sub(r"\D", "", c), []).append(r.code)
        for t in r.osm_tags:
            osm.setdefault(t.strip().lower(), r.code)
        for k in r.keywords_fa + r.keywords_en:
            kws.extend(_keyword(v, r.code, 2, k) for v in _stems(k))
        for k in r.generic_fa:
            kws.append(_keyword(k, r.code, 1))
    kws += _outside_keywords(cat, {k[:2] for k in kws})
    # the whole tuple breaks ties (two spellings of one compact keyword): never the set's hash order
    kws = sorted(set(kws), key=lambda t: (-t[2], -len(t[0]), t[1], t[0], t[3], t[4]))
    by_prefix: dict[str, list[_Kw]] = {}
    for k in kws:
        if len(k[0]) >= 2:
            by_prefix.setdefault(k[0][:2], []).append(k)
    disputed = tuple((_fold(normalize_compact(v)), codes, tuple(_fold(normalize_compact(u)) for u in unless))
                     for w, (codes, unless) in sorted(DISPUTED_WORDS.items()) for v in _stems(w))
    return _Matcher(isic, osm, kws, code_norm, by_prefix, disputed)


def _outside_keywords(cat: Catalogue, have: set[tuple[str, str]]) -> list[_Kw]:
    """The keywords of trades outside the catalogue (:data:`OUTSIDE_TRADES`, :data:`OUTSIDE_MORE`; the
    goods of :data:`OUTSIDE_GOODS` at generic strength) but those a category of ``cat`` has itself
    (``have``: its (compact keyword, code) pairs), and the :data:`SHARED_KEYWORDS` of categories it has."""
    kws = []
    for k, spec in [(k, 2) for k in OUTSIDE_TRADES + OUTSIDE_MORE] + [(k, 1) for k in OUTSIDE_GOODS]:
        if not any((_fold(normalize_compact(k)), c) in have for c in cat.codes):  # a category's own keyword wins
            kws.append(_keyword(k, OUTSIDE, spec))
    for k, codes in SHARED_KEYWORDS.items():
        if all(c in cat or c == OUTSIDE for c in codes):
            kws.extend(_keyword(k, c, 2) for c in codes)
    return kws


#: keywords this short (after spaces are removed) match whole words only: «سنگ» not in «سنگک», «رینگ» not
#: in «گالری نگین»
SHORT_KEYWORD = 4


def _keyword(k: str, code: str, spec: int, written: str | None = None) -> _Kw:
    c = _fold(normalize_compact(k))
    return (c, code, spec, (f" {_fold(normalize(k))} " if len(c) <= SHORT_KEYWORD else ""),
            str(k if written is None else written).strip())


#: Spellings registries use for the same word, folded before matching (names and keywords alike): the
#: long vowel written out («اتوموبیل»), a dropped or added letter of a loan word.
SPELLINGS = (("اتوموبیل", "اتومبیل"), ("الومینیم", "الومینیوم"), ("اگزوس", "اگزوز"), ("کمپیوتر", "کامپیوتر"))
#: A catalogue keyword's agent-noun stem (its final «ی» dropped: «سنگتراشی» -> «سنگتراش», «مبل‌سازی» ->
#: «مبل‌ساز», «پنچرگیری» -> «پنچرگیر») matches too, from keywords of at least this many letters (no
#: spaces); keywords ending «ای»/«یی»/«وی» (an adjective or a vowel's «ی») have no such stem.
STEM_MIN = 6


def _fold(s: str) -> str:
    """A normalized text with :data:`SPELLINGS` folded (for matching only)."""
    for a, b in SPELLINGS:
        if a in s:
            s = s.replace(a, b)
    return s


def _stems(k: str) -> list[str]:
    """The keyword and, for a trade's «...ی» noun, its agent-noun stem (see :data:`STEM_MIN`)."""
    w = normalize(k)
    c = w.replace(" ", "")
    if len(c) >= STEM_MIN and c.endswith("ی") and c[-2] not in "ایو":
        return [k, w[:-1]]
    return [k]


def _matches(name_compact: str, name_words: str, m: _Matcher) -> list[tuple[int, int, str, int, str]]:
    """Every keyword occurrence in the name: (start, end, category, specificity, keyword), found through
    an index of the keywords' first two letters (a few dictionary look-ups per letter of the name)."""
    out = []
    words = name_words or f" {name_compact} "
    starts = _word_starts(words)
    for i in range(len(name_compact) - 1):
        for kw, code, spec, whole, text in m.by_prefix.get(name_compact[i:i + 2], ()):
            if name_compact.startswith(kw, i) and (not whole or whole in words) and i in starts:
                out.append((i, i + len(kw), code, spec, text))
    return out


def _word_starts(words: str) -> set[int]:
    """Positions in the compact name (spaces removed) where a word of ``words`` begins; a word written
    joined to the «و» before it («وصافکاری», «ولوازم») begins after the «و».

    A keyword matches only from the start of a word: «لاستیک» not in «پلاستیک», «استور» not in «پاستور»
    (the spaces a registry leaves out inside a keyword, «صاف کاری»/«صافکاری», still match).
    """
    starts, pos = set(), 0
    for t in words.split():
        starts.add(pos)
        if len(t) > 2 and t[0] == "و":
            starts.add(pos + 1)
        pos += len(t)
    return starts


def _by_name(name_compact: str, m: _Matcher, among: list[str] | None = None, name_words: str = ""
             ) -> tuple[str | None, float, str]:
    """Best keyword match: highest specificity, then longest keyword; a tie between categories is
    ambiguous and gives None, and so are specific keywords of several categories apart from each
    other in the name (see :func:`_conflicts`). ``name_words`` is the normalized name with spaces
    around it, for short keywords that must match whole words. Returns (category, confidence, the
    matched keyword); the category is :data:`OUTSIDE` for a trade outside the catalogue."""
    if not name_compact:
        return None, 0.0, ""
    found = [t for t in _matches(name_compact, name_words, m) if among is None or t[2] in among]
    if not found:
        return None, 0.0, ""
    best = max((spec, b - a) for a, b, _, spec, _ in found)
    codes = {c for a, b, c, spec, _ in found if (spec, b - a) == best}
    if len(codes) != 1:
        return None, 0.0, ""
    if best[0] == 1 and among is None and _generic_conflict(found):
        return None, 0.0, ""  # generic words of two trades («عمده فروشی آهن»): the longer cannot decide
    code = next(iter(codes))
    word = next(t for a, b, c, spec, t in found if (spec, b - a) == best)
    if best[0] == 2 and among is None:
        cs = _conflicts(found)
        if len(cs) > 1 and code in cs:
            return None, 0.0, ""
    if code == OUTSIDE and among is None and \
            len(_conflicts([t for t in found if not (t[3] == 1 and t[4] in OUTSIDE_OVERRIDES)], generic=True)) > 1:
        return None, 0.0, ""  # «عمده فروشی ... عطاری»: a wholesale word with the outside trade's
    return code, (0.8 if best[0] == 2 else 0.6), word


def _conflicts(found: list[tuple[int, int, str, int, str]], generic: bool = False) -> list[str]:
    """Categories whose specific keywords occur in the name apart from each other (a keyword inside a
    longer matched one, as «تراش» in «سنگتراشی», does not count): «ضایعات مس و آلومینیوم» names scrap
    and metalwork; more than one means the keywords cannot decide. ``generic``: count generic words too."""
    spans = [(a, b, c) for a, b, c, spec, _ in found if spec == 2 or generic]
    kept = [(a, b, c) for a, b, c in spans
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans)]
    return sorted({c for _, _, c in kept})


def _generic_conflict(found: list[tuple[int, int, str, int, str]]) -> list[str]:
    """Categories of words of a trade in two places of the name that share no category («عمده فروشی» and
    «آهن»), a word inside a longer found one left out; empty when there are none («گالری» alone names two
    categories in one place: the model may rank them)."""
    kept = [(a, b, c) for a, b, c, *_ in found
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, *_ in found)]
    spans: dict[tuple[int, int], set[str]] = {}
    for a, b, c in kept:
        spans.setdefault((a, b), set()).add(c)
    sets = list(spans.values())
    if any(not (x & y) for i, x in enumerate(sets) for y in sets[i + 1:]):
        return sorted(set().union(*sets))
    return []


def _isic_candidates(code: str, m: _Matcher) -> tuple[list[str], float]:
    digits = re.sub(r"\D", "", code)
    if not digits:
        return [], 0.0
    if len(digits) >= 4 and digits[:4] in m.isic:
        return m.isic[digits[:4]], 0.95
    for n in (3, 2):
        if len(digits) >= n:
            pref = digits[:n]
            cands = sorted({c for k, v in m.isic.items() if k.startswith(pref) for c in v})
            if cands and len(digits) == n:
                return cands, 0.8
    return [], 0.0


def _isic_outside(isic: object, m: _Matcher) -> str:
    """The ISIC code when it is a full class (4 digits or more) of no catalogue category, else ""."""
    if isic is None:
        return ""
    code = str(isic).strip()
    if len(re.sub(r"\D", "", code)) < 4 or _isic_candidates(code, m)[0]:
        return ""
    return code


def _blank(v: object) -> bool:
    """None, NaN or an empty string."""
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _classify_one(explicit: Any, isic: Any, tag: Any, name_c: str, catalogue: Catalogue, m: _Matcher,
                  name_w: str = "") -> tuple[str | None, str, float, str]:
    """One business: (category or None, how it was found, confidence, the matched keyword), trying in
    order the given category, the ISIC code (with the name to choose among several), the OSM tag and
    the name. ``how`` is one of :data:`RULE_KINDS` or ``unclassified``; the category is
    :data:`OUTSIDE` for a name of a trade outside the catalogue."""
    if explicit is not None:
        code = explicit if explicit in catalogue else m.code_norm.get(normalize_compact(explicit))
        if code:
            return code, "category", 1.0, ""
    if isic is not None:
        cands, c = _isic_candidates(str(isic), m)
        if len(cands) == 1:
            return cands[0], "isic", c, ""
        if len(cands) > 1:
            code, _, word = _by_name(name_c, m, among=cands, name_words=name_w)
            if code:
                return code, "isic", c, word
            if len(str(isic)) >= 4:
                return cands[0], "isic_primary", c * 0.8, ""  # the code's primary category
    if tag is not None:
        t = str(tag).strip().lower().replace(" ", "")
        code = m.osm.get(t) or m.osm.get(t.split(";")[0])
        if code:
            return code, "osm_tag", 0.9, ""
    code, c, word = _by_name(name_c, m, name_words=name_w)
    if code:
        return code, ("outside" if code == OUTSIDE else "keyword" if c >= 0.8 else "generic"), c, word
    return None, "unclassified", 0.0, ""


#: Categories that trade in goods of every kind: a word of a trade outside the catalogue in their name
#: («عمده فروشی لوازم التحریر», «پخش روغن نباتی») names the goods, and does not contradict their ISIC code.
GOODS_TRADERS = ("wholesale_food", "wholesale_building")


def _doubt(code: str | None, how: str, name_c: str, name_w: str, m: _Matcher, word: str = "",
           isic_outside: str = "") -> list[str]:
    """Why a rule's category is not to be trusted, then the candidates (empty when it is): a single ISIC
    category the name's own keywords contradict («هایپرمارکت» under the chain stores' code 4711, «فروشگاه
    مبل» under furniture making), a category with a word of :data:`DISPUTED_WORDS`, a name-found category
    under an ISIC code of a trade outside the catalogue (``isic_outside``: the code), or a keyword (``word``)
    with a word of :data:`SERVICE_OR_SALE`."""
    if code is None or code == OUTSIDE:
        return []
    if how == "isic":
        return _isic_doubt(code, name_c, name_w, m) or _disputed(code, name_c, name_w, m)
    if how not in ("keyword", "generic"):
        return []
    if isic_outside:
        return [f"the ISIC code {isic_outside} is of a trade outside the catalogue, the name's «{word}» says {code}",
                *sorted({code, OUTSIDE})]
    found = _disputed(code, name_c, name_w, m)
    if found or how != "keyword" or code not in SERVICE_OR_SALE:
        return found
    words, other = SERVICE_OR_SALE[code]
    kw = _fold(normalize_compact(word))
    spaced = name_w.replace(" ", "  ")
    for w in words:
        if w not in kw and (w in name_c if len(w) > SHORT_KEYWORD else f" {w} " in spaced):
            return [f"«{word}» is {code} but «{w}» says {other}", *sorted({code, other})]
    return []


def _isic_doubt(code: str, name_c: str, name_w: str, m: _Matcher) -> list[str]:
    """The name's longest specific keywords name another category than the ISIC code's ``code`` (a trade
    outside the catalogue does not, for :data:`GOODS_TRADERS`): why, then the candidates; else empty."""
    found = [t for t in _matches(name_c, name_w, m) if t[3] == 2]
    if not found:
        return []
    best = max(b - a for a, b, *_ in found)
    cs = {c for a, b, c, *_ in found if b - a == best}
    if code in GOODS_TRADERS:
        cs.discard(OUTSIDE)
    if not cs - {code}:
        return []
    cands = sorted(cs | {code})
    shown = ", ".join("a trade outside the catalogue" if c == OUTSIDE else c for c in cands)
    return [f"the name's keywords ({shown}) contradict the ISIC code's {code}", *cands]


def _disputed(code: str, name_c: str, name_w: str, m: _Matcher) -> list[str]:
    """A word of :data:`DISPUTED_WORDS` for ``code`` in the name and none that settles it: why, then the
    candidates (``code`` and :data:`OUTSIDE`); else empty."""
    spaced = name_w.replace(" ", "  ")
    for w, codes, unless in m.disputed:
        if code in codes and (w in name_c if len(w) > SHORT_KEYWORD else f" {w} " in spaced) and \
                not any(u in name_c for u in unless):
            return [f"«{w}»: registries disagree whether it is {code} or a trade outside the catalogue",
                    *sorted({code, OUTSIDE})]
    return []


#: How the rules found a category (``class_rule``): an explicit ``category``, the ISIC code (alone or
#: with the name choosing among the code's categories), the code's primary category when the name cannot
#: choose, an OSM tag, a specific keyword of the name, only a generic word of a trade, or a word of a trade
#: outside the catalogue.
RULE_KINDS = ("category", "isic", "isic_primary", "osm_tag", "keyword", "generic", "outside")
#: The public ``class_by`` of each rule kind.
CLASS_BY = {"category": "category", "isic": "isic", "isic_primary": "isic", "osm_tag": "osm_tag",
            "keyword": "keyword", "generic": "keyword", "outside": "keyword", "conflict": "", "unclassified": ""}


def _name_conflicts(name_c: str, name_w: str, m: _Matcher) -> list[str]:
    """The categories (:data:`OUTSIDE` among them) whose keywords occur apart in a name the rules could not
    decide: specific ones, with generic words when a trade outside the catalogue is among them, else generic
    words of two trades; one or none when nothing conflicts."""
    found = _matches(name_c, f" {name_w} ", m) if name_c else []
    cs = _conflicts(found)
    if len(cs) <= 1 and OUTSIDE in {t[2] for t in found}:
        cs = _conflicts(found, generic=True)
    if len(cs) <= 1:
        cs = _generic_conflict(found) or cs
    return cs


def _words_found(name_c: str, name_w: str, m: _Matcher) -> str:
    """The keywords found in a name with their categories («هایپرمارکت» large_store, ...), longest first,
    a keyword inside a longer found one left out."""
    found = _matches(name_c, f" {name_w} ", m)
    kept = [(a, b, c, t) for a, b, c, spec, t in found
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, *_ in found)]
    seen: dict[str, tuple[str, list[str]]] = {}  # by the compact keyword: (as written, categories)
    for a, b, c, t in sorted(kept, key=lambda k: (k[0] - k[1], k[0], k[2])):
        cs = seen.setdefault(name_c[a:b], (t, []))[1]
        if c not in cs:
            cs.append(c)
    return "; ".join(f"«{t}» {'/'.join(sorted(cs))}" for t, cs in seen.values())


def classify(businesses: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Classify a business registry into guild categories by rules.

    Parameters
    ----------
    businesses
        A frame with any of ``category``, ``isic``, ``osm_tag``, ``name``.
    catalogue
        The guild catalogue.

    Returns
    -------
    pandas.DataFrame
        A copy with ``category`` (None when unclassified or outside the catalogue), ``class_by``
        (``category``, ``isic``, ``osm_tag``, ``keyword``, or empty), ``class_rule`` (one of
        :data:`RULE_KINDS` or ``unclassified``), ``class_conf`` in [0, 1] (the rule's strength;
        :func:`siteplan.guilds.decide.apply_fallback` replaces it with the calibrated confidence),
        ``class_outside`` (True for a trade outside the catalogue), ``class_words`` (the keywords found
        in the name, with their categories) and ``class_note`` explaining a failure.

    Notes
    -----
    Keyword matching is on names with spaces and ZWNJ removed after :func:`siteplan.common.textnorm.normalize`,
    so ``صاف کاری``, ``صافکاری`` and ``صاف‌کاری`` match alike. One pass over the rows with a few
    substring tests each: about 10^5 rows per second.
    """
    m = _matcher(catalogue)
    n = len(businesses)
    get = lambda col: businesses[col].tolist() if col in businesses.columns else [None] * n  # noqa: E731 - a one-line column getter
    cats: list[str | None] = []
    rule: list[str] = []
    conf: list[float] = []
    note: list[str] = []
    words: list[str] = []
    outside: list[bool] = []
    cands: list[str] = []
    for explicit, isic, tag, name in zip(get("category"), get("isic"), get("osm_tag"), get("name")):
        explicit, isic, tag = (None if _blank(v) else v for v in (explicit, isic, tag))
        name_w = _fold(normalize(name))
        name_c = name_w.replace(" ", "")
        code, how, c, word = _classify_one(explicit, isic, tag, name_c, catalogue, m, f" {name_w} ")
        if how == "generic" and _in_context(code, name_c, name_w):
            how, c = "keyword", 0.8  # a trade's generic word with a word of its own trade: a specific name
        why = []
        doubt = _doubt(code, how, name_c, f" {name_w} ", m, word, _isic_outside(isic, m)) if name_c else []
        if doubt:  # the name says another category than the ISIC code, or a word registries disagree on
            why.append(doubt[0])
            code, how, c = None, "conflict", 0.0
        outside.append(code == OUTSIDE)
        if code == OUTSIDE:
            why.append(f"a trade outside the catalogue («{word}»)")
            code = None
        cats.append(code)
        cands.append(";".join(doubt[1:]))
        rule.append(how)
        conf.append(c)
        words.append(_words_found(name_c, name_w, m) if name_c else "")
        if code is None and how == "unclassified":
            if explicit is not None:
                why.append(f"category '{explicit}' unknown")
            if isic is not None:
                why.append(f"ISIC '{isic}' not in catalogue")
            if tag is not None:
                why.append(f"OSM tag '{tag}' not mapped")
            cs = _name_conflicts(name_c, name_w, m)
            if len(cs) > 1:
                how = rule[-1] = "conflict"
                cands[-1] = ";".join(cs)
            shown = ", ".join("a trade outside the catalogue" if c == OUTSIDE else c for c in cs)
            why.append(f"keywords of several categories in the name ({shown})" if len(cs) > 1
                       else "no keyword in name" if name_c else "no name")
        note.append("; ".join(why))
    out = businesses.copy()
    out["category"] = pd.Series(cats, index=out.index, dtype=object)
    out["class_rule"] = rule
    out["class_by"] = [CLASS_BY[r] for r in rule]
    out["class_conf"] = conf
    out["class_outside"] = outside
    out["class_words"] = words
    out["class_candidates"] = cands  # the categories whose keywords conflict (';' between them)
    out["class_note"] = note
    return out
