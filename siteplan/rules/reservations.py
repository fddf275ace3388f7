"""Estates (or a share of an estate) reserved for some trades, and trades an estate excludes.

A planning office keeps a distribution estate for wholesalers, or half of a guild estate for the auto
trades, or refuses scrap dealers in an estate next to a town. Two ways to say it:

* the scenario's ``reservations:`` list, each entry
  ``{estate: E03, categories: [car_repair], chains: [auto], share: 0.5, exclude: [scrap]}``
  (``categories``/``chains``: who the reserved part is for; ``share``: the part of the estate's capacity
  reserved, default the whole estate; ``exclude``: categories or chains never admitted);
* the estates layer's optional text fields ``reserved`` and ``excluded`` (category codes or value
  chains, separated by ``,`` ``;`` or ``،``), which reserve or exclude for the whole estate.

Effects, in one place for the run, ``explain`` and the report (:func:`reservation_reasons`, used by
:func:`siteplan.rules.ruleset.eligibility`): an excluded category is not eligible ("excluded by …"); where the
whole estate is reserved, the other categories are not eligible ("reserved for …"). Where a share is
reserved, the estate's capacity is split for the allocation (:func:`split_reserved`): the reserved part
takes only its categories, the rest takes every eligible category, and the plan is merged back under
the estate's own id (:func:`merge_reserved`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError

if TYPE_CHECKING:
    from ..guilds.catalogue import Catalogue
    from ..scenario import Scenario

__all__ = ["Reservation", "estate_reservations", "reservation_problems", "reservation_reasons", "split_reserved",
           "merge_reserved", "reservation_notes", "RESERVED_SUFFIX"]

#: id suffix of the reserved part of an estate during the allocation (never in an output)
RESERVED_SUFFIX = "·reserved"
_SPLIT = re.compile(r"[,;،؛]")


@dataclass(frozen=True)
class Reservation:
    """What one estate admits.

    Parameters
    ----------
    estate_id
        The estate.
    only
        Categories the reserved part is for (value chains expanded); empty: no reservation.
    exclude
        Categories never admitted.
    share
        Share of the estate's capacity reserved for ``only`` (1: the whole estate).
    source
        Where it was written (``reservations[0]``, ``estates field 'reserved'``), for messages.
    label
        How the reservation was written (codes and chains), for messages.
    """

    estate_id: str
    only: frozenset[str]
    exclude: frozenset[str]
    share: float
    source: str
    label: str = ""


def _words(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [w.strip() for w in _SPLIT.split(str(value)) if w.strip()]


def _expand(names: list[str], catalogue: Catalogue) -> tuple[set[str], list[str]]:
    """Category codes of a list of codes and value chains, and the names that are neither."""
    chains = catalogue.table.groupby("chain")["code"].apply(list).to_dict()
    codes: set[str] = set()
    unknown = []
    for n in names:
        if n in catalogue:
            codes.add(n)
        elif n in chains and n:
            codes.update(chains[n])
        else:
            unknown.append(n)
    return codes, unknown


def reservation_problems(scenario: Scenario, estates: gpd.GeoDataFrame, catalogue: Catalogue) -> list[str]:
    """Unknown estates, categories or chains in the scenario's reservations and the estates' fields,
    with the nearest known name suggested.

    Parameters
    ----------
    scenario
        The scenario (its ``reservations``).
    estates
        The estates layer (``estate_id``, optional ``reserved`` and ``excluded`` fields).
    catalogue
        The catalogue that names the categories and value chains.

    Returns
    -------
    list of str
        One message per unknown name, naming where it was written (``reservations[0].estate``, or the
        estate and field); empty when all are known.
    """
    from ..common.vocab import nearest

    known_ids = [str(e) for e in estates["estate_id"]]
    names = list(catalogue.codes) + sorted({c for c in catalogue.table["chain"] if c})
    problems = []

    def unknown(where: str, words: list[str]) -> None:
        _, bad = _expand(words, catalogue)
        for b in bad:
            best = nearest(b, names)
            problems.append(f"{where}: '{b}' is neither a catalogue category nor a value chain"
                            + (f"; did you mean '{best}'?" if best else "")
                            + " (`siteplan catalogue` lists both)")

    for i, r in enumerate(scenario.reservations):
        if r.estate not in known_ids:
            best = nearest(r.estate, known_ids)
            problems.append(f"reservations[{i}].estate: no estate '{r.estate}' in the estates layer"
                            + (f"; did you mean '{best}'?" if best else ""))
        unknown(f"reservations[{i}].categories", list(r.categories or []))
        unknown(f"reservations[{i}].chains", list(r.chains or []))
        unknown(f"reservations[{i}].exclude", list(r.exclude))
    for col in ("reserved", "excluded"):
        if col in estates:
            for eid, v in zip(estates["estate_id"], estates[col]):
                unknown(f"layer 'estates', estate {eid}, field '{col}'", _words(v))
    return problems


def estate_reservations(scenario: Scenario, estates: gpd.GeoDataFrame, catalogue: Catalogue
                        ) -> dict[str, Reservation]:
    """Each estate's reservation from the scenario and the estates' ``reserved``/``excluded`` fields.

    Parameters
    ----------
    scenario
        The scenario (its ``reservations``: estate, categories or value chains, share, exclusions).
    estates
        The estates layer (``estate_id``; optional ``reserved`` and ``excluded`` fields listing codes or
        chains separated by commas or semicolons, Persian ones too).
    catalogue
        The catalogue that names the categories and value chains.

    Returns
    -------
    dict[str, Reservation]
        Estate id to its reservation, for the estates that have one; the estate's fields reserve the whole
        estate, a scenario entry its ``share`` and adds to the fields' exclusions.

    Raises
    ------
    InputError
        Unknown estates, categories or chains (:func:`reservation_problems`), or two reservations of one
        estate.
    """
    problems = reservation_problems(scenario, estates, catalogue)
    if problems:
        raise InputError(problems)
    out: dict[str, Reservation] = {}
    for col_r, col_x in [("reserved", "excluded")]:
        for e in estates.itertuples():
            only_w = _words(getattr(e, col_r, None))
            excl_w = _words(getattr(e, col_x, None))
            if only_w or excl_w:
                out[str(e.estate_id)] = Reservation(
                    str(e.estate_id), frozenset(_expand(only_w, catalogue)[0]), frozenset(_expand(excl_w, catalogue)[0]),
                    1.0, "estates fields 'reserved'/'excluded'", ", ".join(only_w))
    for i, r in enumerate(scenario.reservations):
        only_w = list(r.categories or []) + list(r.chains or [])
        if r.estate in out and out[r.estate].source.startswith("reservations"):
            raise InputError(f"reservations[{i}]: estate '{r.estate}' is reserved twice ({out[r.estate].source} too); "
                             "write one entry per estate")
        field = out.get(r.estate)
        only = frozenset(_expand(only_w, catalogue)[0])
        exclude = frozenset(_expand(list(r.exclude), catalogue)[0])
        if field is not None:  # the scenario's entry adds to what the estate's fields say
            exclude |= field.exclude
            if not only:
                only, only_w = field.only, [field.label] if field.label else []
        out[r.estate] = Reservation(r.estate, only, exclude, float(r.share) if only_w else 1.0,
                                    f"reservations[{i}]" + (" and the estate's fields" if field else ""),
                                    ", ".join(only_w))
    return out


def reservation_notes(reservations: dict[str, Reservation]) -> list[str]:
    """One line per reserved estate, for the run's warnings and the report."""
    out = []
    for r in reservations.values():
        what = ([f"{r.share:.0%} of its capacity reserved for {r.label}" if r.share < 1 else f"reserved for {r.label}"]
                if r.only else []) + ([f"excludes {', '.join(sorted(r.exclude))}"] if r.exclude else [])
        out.append(f"reservations: estate {r.estate_id} {'; '.join(what)} ({r.source})")
    return out


def reservation_reasons(res: Reservation | None, code: str) -> list[str]:
    """Why the estate does not admit ``code`` because of its reservation (empty: it does)."""
    if res is None:
        return []
    if code in res.exclude:
        return [f"excluded by {res.source}"]
    if res.only and code not in res.only and res.share >= 1.0:
        return [f"reserved for {res.label} ({res.source})"]
    return []


def split_reserved(estates: gpd.GeoDataFrame, capacity: pd.DataFrame, elig: pd.DataFrame,
                   scores: pd.DataFrame | None, reservations: dict[str, Reservation]
                   ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The allocation's view of estates with a reserved share: each becomes two, the reserved part
    (``<id>·reserved``, capacity × share, only its categories) and the rest (capacity × (1 − share)).

    Returns
    -------
    estates, capacity, eligibility, scores
        With the reserved parts added (unchanged when no share is reserved).
    """
    parts = {eid: r for eid, r in reservations.items() if r.only and r.share < 1.0}
    if not parts:
        return estates, capacity, elig, scores
    ids = list(parts)
    est_r = estates[estates["estate_id"].astype(str).isin(ids)].copy()
    est_r["estate_id"] = est_r["estate_id"].astype(str) + RESERVED_SUFFIX
    estates2 = gpd.GeoDataFrame(pd.concat([estates, est_r], ignore_index=True), geometry="geometry", crs=estates.crs)
    cap = capacity.copy()
    share = cap["estate_id"].astype(str).map({k: r.share for k, r in parts.items()})
    cap_r = cap[share.notna()].copy()
    cap_r["capacity_m2"] = cap_r["capacity_m2"] * share[share.notna()]
    cap_r["estate_id"] = cap_r["estate_id"].astype(str) + RESERVED_SUFFIX
    cap.loc[share.notna(), "capacity_m2"] = cap.loc[share.notna(), "capacity_m2"] * (1 - share[share.notna()])
    capacity2 = pd.concat([cap, cap_r], ignore_index=True)
    el_r = elig[elig["estate_id"].astype(str).isin(ids)].copy()
    only = el_r["estate_id"].astype(str).map({k: r.only for k, r in parts.items()})
    mine = np.array([c in o for c, o in zip(el_r["category"], only)], dtype=bool)
    el_r.loc[~mine & el_r["eligible"], "reason"] = "not a category of the reserved part"
    el_r["eligible"] = el_r["eligible"] & mine
    el_r["estate_id"] = el_r["estate_id"].astype(str) + RESERVED_SUFFIX
    elig2 = pd.concat([elig, el_r], ignore_index=True)
    scores2 = scores
    if scores is not None:
        sc_r = scores[scores["estate_id"].astype(str).isin(ids)].copy()
        sc_r["estate_id"] = sc_r["estate_id"].astype(str) + RESERVED_SUFFIX
        scores2 = pd.concat([scores, sc_r], ignore_index=True)
    return estates2, capacity2, elig2, scores2


def merge_reserved(rows: pd.DataFrame) -> pd.DataFrame:
    """Relocation rows with the reserved parts' ids back to their estate's id (a copy)."""
    out = rows.copy()
    eid = out["estate_id"]
    part = eid.notna() & eid.astype(str).str.endswith(RESERVED_SUFFIX)
    out.loc[part, "estate_id"] = eid[part].astype(str).str.slice(0, -len(RESERVED_SUFFIX))
    return out
