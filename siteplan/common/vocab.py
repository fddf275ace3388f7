"""Vocabularies of the categorical fields: canonical values, built-in synonyms, the scenario's own
mapping (``layers.<layer>.values``) and the checks of values, filters and category codes.

Every categorical field a stage of siteplan reads by value has a closed list of canonical values,
here and only here (:data:`VOCABULARIES`). A layer's values are matched after
:func:`siteplan.common.textnorm.normalize` with spaces and underscores removed, so ``شهرك‌صنعتي``,
``شهرک صنعتی`` and ``شهرک_صنعتی`` are one key; they map, in this order of precedence:

1. through the scenario's ``values:`` mapping of that layer and field;
2. through the built-in synonyms (:data:`SYNONYMS`: the common Persian words and OpenStreetMap tags);
3. to themselves when they already are canonical.

A value that maps to nothing is an error of ``validate`` and ``run`` (:func:`value_problems`), with
its count of rows and the nearest known value, except in the open fields of :data:`OPEN_DEFAULT`
(roads: an unknown class is a minor road, ``other``, with a warning listing the values). Fields not
listed here (``utilities.kind``, ``rail.kind``) are open: their values are only normalized.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .textnorm import normalize

__all__ = [
    "canonical_filter",
    "VOCABULARIES",
    "SYNONYMS",
    "OPEN_DEFAULT",
    "value_key",
    "value_table",
    "map_values",
    "nearest",
    "did_you_mean",
    "unknown_category_problems",
    "value_problems",
    "mapping_problems",
    "filter_problems",
    "category_problems",
    "setting_problems",
    "scenario_value_problems",
]

#: Canonical values of every categorical field read by value, per (layer, field).
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("estates", "kind"): ("estate", "zone", "guild_est", "workshop"),
    ("urban", "kind"): ("city", "town", "village"),
    ("roads", "road_class"): ("motorway", "trunk", "primary", "secondary", "other"),
    ("receptors", "kind"): ("school", "clinic", "housing"),
    ("constraints", "kind"): ("protected", "river", "fault", "wetland", "airport", "qanat", "well"),
    ("plots", "status"): ("vacant", "terminated", "occupied"),
}

#: Open fields: an unknown value becomes this canonical value, with a warning (not an error).
OPEN_DEFAULT: dict[tuple[str, str], str] = {("roads", "road_class"): "other"}

#: Built-in synonyms (Persian, English, OpenStreetMap) of the canonical values; a scenario's
#: ``values:`` mapping overrides them.
SYNONYMS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("estates", "kind"): {
        "estate": ("شهرک صنعتی", "شهر صنعتی", "industrial estate", "industrial park", "industrial town"),
        "zone": ("ناحیه صنعتی", "industrial zone", "industrial area"),
        "guild_est": ("شهرک صنفی", "مجتمع صنفی", "شهرک صنفی تولیدی", "guild estate"),
        "workshop": ("کارگاه", "مجتمع کارگاهی", "کارگاه های صنفی", "workshops", "workshop complex"),
    },
    ("urban", "kind"): {
        "city": ("شهر", "کلانشهر", "کلان شهر", "مرکز استان", "suburb", "neighbourhood", "neighborhood", "quarter",
                 "city block", "borough"),
        "town": ("شهرک", "شهرک مسکونی", "small town"),
        "village": ("روستا", "ده", "آبادی", "hamlet", "isolated dwelling", "farm", "locality", "residential"),
    },
    ("roads", "road_class"): {
        "motorway": ("آزادراه", "motorway link", "freeway"),
        "trunk": ("بزرگراه", "trunk link", "expressway", "highway"),
        "primary": ("راه اصلی", "جاده اصلی", "راه اصلی عریض", "primary link", "main road"),
        "secondary": ("راه فرعی", "جاده فرعی", "secondary link", "secondary road"),
        "other": ("راه روستایی", "جاده روستایی", "راه محلی", "خیابان", "کوچه", "راه خاکی", "tertiary",
                  "tertiary link", "residential", "unclassified", "service", "track", "living street"),
    },
    ("receptors", "kind"): {
        "school": ("مدرسه", "دبستان", "دبیرستان", "هنرستان", "مهدکودک", "مهد کودک", "آموزشگاه", "kindergarten",
                   "university", "دانشگاه"),
        "clinic": ("درمانگاه", "بیمارستان", "کلینیک", "مرکز بهداشت", "خانه بهداشت", "مرکز درمانی", "hospital",
                   "health centre", "health center"),
        "housing": ("مسکونی", "مجتمع مسکونی", "منطقه مسکونی", "خانه", "residential", "homes"),
    },
    ("constraints", "kind"): {
        "protected": ("منطقه حفاظت شده", "حفاظت شده", "پارک ملی", "اثر طبیعی ملی", "پناهگاه حیات وحش",
                      "national park", "nature reserve", "protected area"),
        "river": ("رودخانه", "رود", "مسیل", "stream"),
        "fault": ("گسل", "fault line"),
        "wetland": ("تالاب", "marsh"),
        "airport": ("فرودگاه", "aerodrome"),
        "qanat": ("قنات", "کاریز", "kariz"),
        "well": ("چاه", "چاه آب", "water well"),
    },
    ("plots", "status"): {
        "vacant": ("خالی", "واگذار نشده", "واگذارنشده", "empty", "free", "available"),
        "terminated": ("فسخ شده", "فسخ", "لغو شده", "ابطال شده", "cancelled", "canceled", "revoked"),
        "occupied": ("واگذار شده", "واگذارشده", "فعال", "دایر", "در حال بهره برداری", "بهره برداری",
                     "در حال احداث", "taken", "allocated", "active"),
    },
}


def value_key(value: object) -> str:
    """The matching key of a value: :func:`~siteplan.common.textnorm.normalize`, spaces and underscores removed."""
    return normalize(value).replace(" ", "")


def value_table(layer: str, field: str, mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Key (:func:`value_key`) to canonical value of one field: canonical values, the built-in
    synonyms, then the scenario's mapping (which wins)."""
    table: dict[str, str] = {}
    for canon in VOCABULARIES.get((layer, field), ()):
        table[value_key(canon)] = canon
    for canon, words in SYNONYMS.get((layer, field), {}).items():
        for w in words:
            table[value_key(w)] = canon
    for user, canon in (mapping or {}).items():
        table[value_key(user)] = str(canon)
    return table


def canonical_filter(layer: str, flt: Mapping[str, list[str]], mappings: Mapping[str, Mapping[str, str]]
                     ) -> tuple[dict[str, list[str]], list[str]]:
    """A criterion's filter with each value of a field that has a vocabulary written as its canonical value.

    Parameters
    ----------
    layer
        The criterion's layer.
    flt
        Its filter: field to the values written in the scenario.
    mappings
        The layer's ``values:`` mappings (field to user value to canonical value).

    Returns
    -------
    filter, notes
        The filter with synonyms (``شهر``, ``trunk_link``, a word of the layer's mapping) replaced by the
        canonical value they stand for (duplicates removed), and one note per replaced value
        (``kind: 'شهر' read as 'city'``). Values that are canonical, or that no table knows, are kept
        as written (the data checks name those that match nothing).

    Examples
    --------
    >>> canonical_filter("urban", {"kind": ["شهر", "town"]}, {})
    ({'kind': ['city', 'town']}, ["kind: 'شهر' read as 'city'"])
    """
    out: dict[str, list[str]] = {}
    notes: list[str] = []
    for field, values in flt.items():
        vocab = VOCABULARIES.get((layer, field))
        user = mappings.get(field)
        if vocab is None and not user:
            out[field] = list(values)
            continue
        table = value_table(layer, field, user)
        canon: list[str] = []
        for v in values:
            sv = str(v)
            hit = sv if vocab and sv in vocab else table.get(value_key(sv))
            if hit is not None and hit != sv:
                notes.append(f"{field}: '{sv}' read as '{hit}'")
            canon.append(hit if hit is not None else sv)
        out[field] = list(dict.fromkeys(canon))
    return out, notes


def map_values(raw: pd.Series, current: pd.Series, layer: str, field: str,
               mapping: Mapping[str, str] | None = None) -> tuple[pd.Series, Counter[str]]:
    """Map one field's values to canonical ones.

    Parameters
    ----------
    raw
        The values as written (trimmed text, None for empty).
    current
        The same values as the loader normalized them (kept for values no table knows in an
        open field without a vocabulary).
    layer, field
        Which field.
    mapping
        The scenario's ``values:`` mapping of this field, if any.

    Returns
    -------
    series, defaulted
        The mapped values (an unknown value of a closed vocabulary keeps its original text, so that
        messages show it as written), and the count of each value an open field sent to its default.
    """
    vocab = VOCABULARIES.get((layer, field))
    default = OPEN_DEFAULT.get((layer, field))
    table = value_table(layer, field, mapping)
    defaulted: Counter[str] = Counter()
    out: list[object] = []
    for r, c in zip(raw, current):
        if r is None or (isinstance(r, float) and r != r) or not str(r).strip():
            out.append(None)
            continue
        hit = table.get(value_key(r))
        if hit is not None:
            out.append(hit)
        elif vocab is None:
            out.append(c)
        elif default is not None:
            defaulted[str(r)] += 1
            out.append(default)
        else:
            out.append(str(r))
    return pd.Series(out, index=raw.index, dtype=object), defaulted


def nearest(value: str, known: Iterable[str]) -> str | None:
    """The known value closest to ``value`` (difflib, on the matching keys), or None."""
    keys: dict[str, str] = {}
    for k in known:
        keys.setdefault(value_key(k), k)
    hit = difflib.get_close_matches(value_key(value), list(keys), n=1, cutoff=0.5)
    return keys[hit[0]] if hit else None


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the known value closest to ``value`` (:func:`nearest`), or ""."""
    best = nearest(value, known)
    return f"; did you mean '{best}'?" if best else ""


def unknown_category_problems(categories: Iterable[object], codes: Iterable[str]) -> list[str]:
    """The entries of a scenario's ``categories:`` list that are no catalogue code, each with the codes known and
    the nearest one (``categories[1]: 'carpentery' is not a catalogue category (known: …); did you mean …``);
    None entries are skipped (their position still counts)."""
    known = list(codes)
    return [f"categories[{i}]: '{c}' is not a catalogue category (known: {', '.join(known)})"
            + did_you_mean(str(c), known) for i, c in enumerate(categories) if c is not None and str(c) not in known]


def _hint(value: str, known: Iterable[str], canon_of: Mapping[str, str] | None = None) -> str:
    best = nearest(value, known)
    if best is None:
        return ""
    canon = (canon_of or {}).get(value_key(best))
    extra = f" = {canon}" if canon and canon != best else ""
    return f"; nearest known value: '{best}'{extra}"


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def value_problems(layers: Mapping[str, Any], scenario: Any) -> list[str]:
    """Values of a closed vocabulary that map to nothing, per layer and field, with their counts and
    the nearest known value (one message per field)."""
    problems = []
    for (layer, field), vocab in VOCABULARIES.items():
        gdf = layers.get(layer)
        if gdf is None or field not in getattr(gdf, "columns", ()) or (layer, field) in OPEN_DEFAULT:
            continue
        counts = Counter(str(v) for v in gdf[field] if v is not None and not (isinstance(v, float) and v != v)
                         and v not in vocab)
        if not counts:
            continue
        spec = scenario.layers.get(layer)
        mapping = dict(getattr(spec, "values", {}).get(field, {})) if spec is not None else {}
        known = list(vocab) + [w for ws in SYNONYMS.get((layer, field), {}).values() for w in ws] + list(mapping)
        canon_of = value_table(layer, field, mapping)
        shown = "; ".join(f"'{v}' ({_rows(n)}{_hint(v, known, canon_of)})" for v, n in counts.most_common(20))
        more = f"; and {len(counts) - 20} more" if len(counts) > 20 else ""
        problems.append(
            f"layers.{layer}: field '{field}' has {len(counts)} value(s) that are not in its vocabulary "
            f"({', '.join(vocab)}): {shown}{more}. Map them under layers.{layer}.values.{field} "
            f"(your value: canonical value)")
    return problems


def mapping_problems(scenario: Any, text_fields: Mapping[str, Iterable[str]]) -> list[str]:
    """The scenario's ``values:`` mappings: each field must be a text field of its layer, and each
    target of a field with a vocabulary must be one of its canonical values."""
    problems = []
    for layer, spec in scenario.layers.items():
        for field, mapping in (getattr(spec, "values", None) or {}).items():
            key = f"layers.{layer}.values.{field}"
            fields = list(text_fields.get(layer, ()))
            if field not in fields:
                hint = difflib.get_close_matches(field, fields, n=1)
                problems.append(f"{key}: '{field}' is not a text field of layer '{layer}'"
                                + (f" (did you mean '{hint[0]}'?)" if hint else "")
                                + f"; values can be mapped for: {', '.join(fields) or 'no field'}")
                continue
            same: dict[str, list[tuple[str, str]]] = {}
            for user, canon in mapping.items():
                same.setdefault(value_key(user), []).append((str(user), str(canon)))
            problems.extend(f"{key}: {' and '.join(repr(u) for u, _ in pairs)} are the same word once Persian "
                            "letters, digits and spaces are normalized, but map to "
                            f"{' and '.join(repr(c) for _, c in pairs)}; keep one of them"
                            for pairs in same.values() if len({c for _, c in pairs}) > 1)
            vocab = VOCABULARIES.get((layer, field))
            if vocab is None:
                continue
            for user, canon in mapping.items():
                if canon not in vocab:
                    best = nearest(str(canon), vocab)
                    problems.append(f"{key}: '{user}' maps to '{canon}', which is not a value of {layer}.{field} "
                                    f"({', '.join(vocab)})" + (f"; did you mean '{best}'?" if best else ""))
    return problems


def filter_problems(criteria: Iterable[tuple[str, Any]], layers: Mapping[str, Any]) -> list[str]:
    """Criterion filters that would silently change the plan.

    A filter value is an error when no feature of the layer has it and it is not a canonical value
    of the field; a filter whose values together select no feature is an error too. A canonical
    value absent from this region's data (``motorway`` where there is none) is accepted, so that one
    scenario serves several provinces.
    """
    problems = []
    for name, c in criteria:
        flt = getattr(c, "filter", None)
        gdf = layers.get(c.layer)
        if not flt or gdf is None:
            continue
        selected = None
        for field, values in flt.items():
            if c.layer == "businesses" and field == "category":
                continue  # the classified category (checked against the catalogue's codes)
            if field not in gdf.columns:
                cols = [k for k in gdf.columns if k != "geometry" and not str(k).startswith("_")]
                hint = difflib.get_close_matches(field, cols, n=1)
                problems.append(f"{name}: filter field '{field}' is not a field of layer '{c.layer}'"
                                + (f" (did you mean '{hint[0]}'?)" if hint else "")
                                + f"; its fields: {', '.join(cols)}")
                continue
            present = Counter(str(v) for v in gdf[field] if v is not None)
            vocab = VOCABULARIES.get((c.layer, field), ())
            known = list(dict.fromkeys([*vocab, *present]))
            table = value_table(c.layer, field) if vocab else {}
            for v in values:
                if str(v) in present or str(v) in vocab:
                    continue
                # a filter names canonical values: a synonym (شهر) is shown its canonical value
                best = table.get(value_key(v)) or nearest(str(v), known)
                problems.append(f"{name}: filter {field}: '{v}' matches no feature of layer '{c.layer}'"
                                + (f"; did you mean '{best}'?" if best else "")
                                + f" (values in the layer: {', '.join(sorted(present)) or 'none'})")
            m = gdf[field].astype(str).isin({str(v) for v in values})
            selected = m if selected is None else selected & m
        if selected is not None and not selected.any() and len(gdf):
            problems.append(f"{name}: filter {dict(flt)} selects no feature of layer '{c.layer}'; the criterion "
                            "would have nothing to measure. Use values present in the layer, or remove the filter")
    return list(dict.fromkeys(problems))


def category_problems(scenario: Any, codes: Iterable[str]) -> list[str]:
    """Category codes in the scenario that the catalogue does not know: ``criteria[*].categories``
    (``categories:`` at the top is checked with the data checks), with the nearest code suggested."""
    known = list(codes)
    problems = []
    for i, c in enumerate(scenario.criteria or []):
        for j, code in enumerate(c.categories or []):
            if code not in known:
                best = nearest(code, known)
                problems.append(f"criteria[{i}] ('{c.name}').categories[{j}]: '{code}' is not a catalogue category"
                                + (f"; did you mean '{best}'?" if best else "")
                                + f" (known: {', '.join(known)})")
    return problems


def setting_problems(scenario: Any) -> list[str]:
    """Values of the scenario's own settings that name a canonical value: ``allocation.accepted_kinds``."""
    vocab = VOCABULARIES["estates", "kind"]
    out = []
    for i, k in enumerate(scenario.allocation.accepted_kinds):
        if k not in vocab:
            best = nearest(str(k), vocab)
            out.append(f"allocation.accepted_kinds[{i}]: '{k}' is not an estate kind ({', '.join(vocab)})"
                       + (f"; did you mean '{best}'?" if best else ""))
    return out


def scenario_value_problems(scenario: Any, layers: Mapping[str, Any], codes: Iterable[str],
                            criteria: Iterable[tuple[str, Any]], text_fields: Mapping[str, Iterable[str]]
                            ) -> list[str]:
    """Every vocabulary problem of a scenario and its data, for :func:`siteplan.checks.check_scenario_data`:
    the ``values:`` mappings, unknown layer values, criterion filters, category codes, settings."""
    known = list(codes)
    criteria = list(criteria)
    spec = scenario.layers.get("businesses")
    bad_targets = [
        f"layers.businesses.values.category: '{user}' maps to '{code}', which is not a catalogue category"
        + (f"; did you mean '{best}'?" if (best := nearest(str(code), known)) else "")
        for user, code in ((getattr(spec, "values", None) or {}).get("category", {}).items() if spec else ())
        if code not in known]
    # a criterion on the businesses may filter by their classified category: catalogue codes
    bad_targets += [f"{name}: filter category: '{v}' is not a catalogue category"
                    + (f"; did you mean '{best}'?" if (best := nearest(str(v), known)) else "")
                    for name, c in criteria if c.layer == "businesses" and c.filter
                    for v in c.filter.get("category", []) if str(v) not in known]
    return (mapping_problems(scenario, text_fields) + bad_targets + value_problems(layers, scenario)
            + filter_problems(criteria, layers) + category_problems(scenario, known) + setting_problems(scenario))
