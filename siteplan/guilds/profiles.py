"""Default criteria by category: what matters when a kind of business is sited.

A scenario without ``criteria:`` scores each guild category by the criteria of its **profile**
(the catalogue's ``profile`` column, with the reason in ``profile_reason``):

==============  ==========================================================================
profile         what matters (default criteria)
==============  ==========================================================================
``customers``   people within a short drive (``customers``) and a site seen from a main road
                (``frontage``): showrooms, chain and big stores, furniture sales, car washes
``workshop``    a workforce within commuting reach (``workforce``) and main-road access
                (``road_access``): repair shops, offices
``nuisance``    distance from homes beyond the rule distances (``homes_distance``) and heavy-road
                access that keeps trucks out of towns (``heavy_road``): body/paint, metal, wood,
                stone, scrap, dyeing
``logistics``   heavy-road and rail access (``heavy_road``, ``rail_access``) and a workforce:
                wholesalers
==============  ==========================================================================

Every profile also weighs power-line access and, except ``customers``, nearness to existing estates
(shared infrastructure). A category with linked trades (catalogue ``links``) also weighs
``linked_<code>``: how many businesses of its linked trades (suppliers and customers in its value
chain, :mod:`siteplan.relocation.clusters`) lie within 10 km today.

Each criterion carries its reason, source and status (:data:`DEFAULT_CRITERIA`); the numbers are
assumptions within the ranges of STANDARDS.md §5 unless a source is named. ``siteplan catalogue
--criteria`` prints them per category. A scenario's own ``criteria:`` replace all of this, and a
scenario can move a category to another profile with ``catalogue.overrides.<code>.profile``.

The shipped categories have their profile chosen by hand (:data:`SHIPPED_PROFILES`); a category a
scenario adds gets one derived from its catalogue row (:func:`derive_profile`), with the rule as
its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from ..scenario import CriterionSpec, TransformSpec

if TYPE_CHECKING:
    import geopandas as gpd


class Catalogue(Protocol):
    """What this module reads of :class:`siteplan.guilds.catalogue.Catalogue` (which imports this module to
    fill its ``profile`` column, so the dependency runs one way)."""

    @property
    def table(self) -> pd.DataFrame: ...

    @property
    def codes(self) -> list[str]: ...

    def row(self, code: str) -> pd.Series: ...

__all__ = ["PROFILES", "DEFAULT_CRITERIA", "SHIPPED_PROFILES", "LINKED", "DefaultCriterion", "derive_profile",
           "assign_profiles", "default_criteria", "criteria_listing", "criteria_text"]

#: The profiles and what each stands for.
PROFILES: dict[str, str] = {
    "customers": "sells to the public: customers within a short drive and a site seen from a main road",
    "workshop": "labour-intensive: a workforce within commuting reach and main-road access",
    "nuisance": "a nuisance to neighbours (noise, dust, fumes, fire risk): distance from homes beyond the rule "
                "distances and heavy-road access that keeps its trucks out of towns",
    "logistics": "moves goods in bulk: heavy-road and rail access and a workforce",
}

_MAIN_ROADS = {"road_class": ["motorway", "trunk", "primary"]}
_HEAVY_ROADS = {"road_class": ["motorway", "trunk"]}
_S5 = "STANDARDS.md §5 (published GIS site selection for industrial estates in Iran)"


@dataclass(frozen=True)
class DefaultCriterion:
    """One default criterion: its spec (without ``categories``), the profiles it serves and why.

    Attributes
    ----------
    spec
        The criterion as a scenario would write it; ``weight`` is its direct weight, renormalized over
        the criteria that apply to a category.
    profiles
        The profiles whose categories use it.
    reason, source, status
        Why it matters, where the numbers come from, and ``confirmed`` or ``assumption``.
    """

    spec: CriterionSpec
    profiles: tuple[str, ...]
    reason: str
    source: str
    status: str = "assumption"


def _c(name: str, kind: str, layer: str, transform: TransformSpec, weight: float, **kw: Any) -> CriterionSpec:
    return CriterionSpec(name=name, kind=kind, layer=layer, transform=transform, weight=weight, **kw)


_ALL = tuple(PROFILES)
#: The default criteria, with the profiles they serve. With direct weights the normalized weights per
#: profile are: customers 0.40 / frontage 0.30 / linked 0.15 / power 0.15; workshop: workforce 0.32 /
#: road access 0.26 / linked, power 0.16 / synergy 0.11; nuisance: homes distance 0.30 / heavy road
#: 0.30 / linked, power 0.15 / synergy 0.10; logistics: heavy road, workforce 0.26 / rail, linked,
#: power 0.13 / synergy 0.09 (a category without linked trades shares the linked weight out).
DEFAULT_CRITERIA: tuple[DefaultCriterion, ...] = (
    DefaultCriterion(
        _c("customers", "catchment", "urban", TransformSpec(type="linear", points=[0, 400000]), 0.40,
           field="population", radius_m=15000),
        ("customers",), "people living within 15 km (a short drive): the shop's customers; full at 400,000",
        "siteplan authors (retail catchment of a regional town)"),
    DefaultCriterion(
        _c("frontage", "distance", "roads", TransformSpec(type="linear", points=[250, 3000], increasing=False),
           0.30, filter=_MAIN_ROADS),
        ("customers",), "seen from and reached from a main road (motorway, trunk, primary): best within 250 m, "
        "worthless beyond 3 km", "siteplan authors (visibility and access of showrooms and big stores)"),
    DefaultCriterion(
        _c("workforce", "catchment", "urban", TransformSpec(type="linear", points=[0, 200000]), 0.30,
           field="population", radius_m=25000),
        ("workshop", "logistics"), "people living within 25 km (commuting reach): the workforce; full at 200,000",
        "siteplan authors (commuting reach by car or bus)"),
    DefaultCriterion(
        _c("road_access", "distance", "roads", TransformSpec(type="linear", points=[500, 20000], increasing=False),
           0.25, filter=_MAIN_ROADS),
        ("workshop",), "near a main road (motorway, trunk, primary) for customers' cars and deliveries",
        _S5 + ": distance to transit roads"),
    DefaultCriterion(
        _c("heavy_road", "distance", "roads", TransformSpec(type="linear", points=[500, 15000], increasing=False),
           0.30, filter=_HEAVY_ROADS),
        ("nuisance", "logistics"), "near a motorway or trunk road, so that trucks and tow trucks need not cross "
        "towns; best within 500 m, worthless beyond 15 km", _S5 + ": near transit roads, outside the road buffer"),
    DefaultCriterion(
        _c("homes_distance", "distance", "urban", TransformSpec(type="linear", points=[1000, 5000]), 0.30),
        ("nuisance",), "farther from towns and villages than the rule distances: less noise, dust and smell for "
        "neighbours and room to grow; 0 at 1 km, full from 5 km", _S5 + ": distance to cities ≥ 2–5 km for heavy "
        "industry"),
    DefaultCriterion(
        _c("rail_access", "distance", "rail", TransformSpec(type="linear", points=[1000, 20000], increasing=False),
           0.15),
        ("logistics",), "near a railway for bulk goods; worthless beyond 20 km", "siteplan authors"),
    DefaultCriterion(
        _c("estate_synergy", "distance", "estates", TransformSpec(type="linear", points=[0, 25000], increasing=False),
           0.10),
        ("workshop", "nuisance", "logistics"), "near existing estates: shared roads, utilities and services",
        "siteplan authors"),
    DefaultCriterion(
        _c("power_access", "distance", "utilities", TransformSpec(type="linear", points=[0, 15000], increasing=False),
           0.15, filter={"kind": ["power_line"]}),
        _ALL, "near a power line: the cost of a connection", "siteplan authors"),
)

#: The linked-trades criterion of a category (one per category with ``links``), named ``linked_<code>``:
#: businesses of the linked categories within ``radius_m``, full at ``full`` businesses.
LINKED = {"radius_m": 10000.0, "full": 100.0, "weight": 0.15,
          "reason": "businesses of its linked trades (catalogue links: suppliers and customers in its value chain) "
                    "within 10 km, where they are today; full at 100",
          "source": "siteplan authors (value chains of the catalogue, siteplan.clusters)"}

#: The profile of each shipped category and why (chosen by hand; see :func:`derive_profile` for others).
SHIPPED_PROFILES: dict[str, tuple[str, str]] = {
    "car_repair": ("workshop", ("labour-intensive repair (VNG 2): mechanics within commuting reach, main-road "
                   "access for customers' cars")),
    "car_body_paint": ("nuisance", ("paint fumes, grinding and panel-beating noise (VNG 3.2): away from homes, "
                       "tow trucks on heavy roads")),
    "car_showroom": ("customers", "sells cars to the public: buyers within reach and a site seen from a main road"),
    "car_parts": ("customers", ("sells parts to mechanics and drivers: customers within reach and frontage, near "
                  "the repair trades it supplies")),
    "car_wash_oil": ("customers", "serves passing drivers: population within reach and main-road frontage"),
    "metalwork": ("nuisance", ("welding, grinding and hammering noise (VNG 3.1–3.2): away from homes, heavy-road "
                  "access for steel")),
    "carpentry": ("nuisance", ("saw noise, dust and fire risk (VNG 3.2): away from homes, heavy-road access for "
                  "timber")),
    "furniture_sales": ("customers", "sells to households: customers within reach and a site seen from a main road"),
    "stone_cutting": ("nuisance", ("cutting noise, dust and slurry (VNG 3.1–3.2, DOE group ج): away from homes, "
                      "heavy trucks for blocks")),
    "scrap": ("nuisance", ("noise, dust, fire risk and trucks (VNG 4.1, DOE group ج): away from homes, heavy-road "
              "access")),
    "textile_dyeing": ("nuisance", "effluent and odour (VNG 3.1, DOE group ج): away from homes, heavy-road access"),
    "wholesale_food": ("logistics", "trucks in and out all day: heavy-road and rail access, warehouse workforce"),
    "wholesale_building": ("logistics", ("bulk building materials by truck and rail: heavy-road and rail access, a "
                           "workforce")),
    "chain_store": ("customers", "sells to the public: customers within reach and a site seen from a main road"),
    "large_store": ("customers", "draws shoppers by car: customers within reach and a site seen from a main road"),
    "tech_firm": ("workshop", "skilled staff within commuting reach; little traffic or nuisance"),
}

_HEAVY_DOE = {"ج", "د", "ه"}


def _env_value(env_cat: object) -> float:
    try:
        return float(str(env_cat).strip())
    except ValueError:
        return 0.0


def derive_profile(*, retail: object, env_cat: object, doe_group: object, traffic: object) -> tuple[str, str]:
    """The profile of a category that has none, from its catalogue row, with the rule as the reason.

    In order: a shop selling to the public (``retail``) is ``customers``; VNG category 3.1 or heavier,
    or DOE group ج, د or ه, is ``nuisance``; high traffic is ``logistics``; anything else ``workshop``.

    Examples
    --------
    >>> derive_profile(retail=0, env_cat="3.2", doe_group="ب", traffic="medium")[0]
    'nuisance'
    >>> derive_profile(retail=0, env_cat="2", doe_group="الف", traffic="high")[0]
    'logistics'
    """
    if str(retail).strip() in ("1", "True", "true", "1.0"):
        return "customers", "derived: sells to the public (retail 1)"
    env = _env_value(env_cat)
    doe = str(doe_group or "").strip()
    if env >= 3.1 or doe in _HEAVY_DOE:
        what = f"VNG category {env_cat}" if env >= 3.1 else f"DOE group {doe}"
        return "nuisance", f"derived: {what} (VNG 3.1 or heavier, or DOE group ج and up, is a nuisance trade)"
    if str(traffic or "").strip() == "high":
        return "logistics", "derived: high traffic"
    return "workshop", "derived: neither retail, nor a nuisance trade, nor high traffic"


def assign_profiles(table: pd.DataFrame) -> list[str]:
    """Fill ``profile`` and ``profile_reason`` of a catalogue table in place; returns its problems.

    A profile given in the table (a scenario's override or addition) is kept, with the reason given or
    ``"set by the scenario"``; a shipped category has its hand-chosen one; others are derived.

    Parameters
    ----------
    table
        A catalogue table with ``code``, ``retail``, ``env_cat``, ``doe_group`` and ``traffic``, and
        optionally ``profile`` and ``profile_reason``; its ``profile`` and ``profile_reason`` columns
        are set (in place).

    Returns
    -------
    list of str
        One message per category whose given profile is not one of :data:`PROFILES`; empty when none.
    """
    problems = []
    prof, why = [], []
    for r in table.itertuples():
        given = getattr(r, "profile", None)
        given = None if given is None or (isinstance(given, float) and pd.isna(given)) or not str(given).strip() \
            else str(given).strip()
        reason = getattr(r, "profile_reason", None)
        reason = None if reason is None or (isinstance(reason, float) and pd.isna(reason)) else str(reason)
        shipped = SHIPPED_PROFILES.get(str(r.code))
        if given is not None:
            if given not in PROFILES:
                problems.append(f"category '{r.code}': profile {given!r} is not one of {', '.join(PROFILES)}")
            prof.append(given)
            why.append(reason or (shipped[1] if shipped and shipped[0] == given else "set by the scenario"))
        elif shipped is not None:
            prof.append(shipped[0])
            why.append(shipped[1])
        else:
            p, w = derive_profile(retail=r.retail, env_cat=r.env_cat, doe_group=r.doe_group, traffic=r.traffic)
            prof.append(p)
            why.append(w)
    table["profile"] = prof
    table["profile_reason"] = why
    return problems


def _links(catalogue: Catalogue, code: str) -> list[str]:
    """The category's linked trades that are in the catalogue (itself excluded), in catalogue order."""
    links = set(catalogue.row(code)["links"] or [])
    return [c for c in catalogue.codes if c in links and c != code]


def _specs(catalogue: Catalogue) -> list[tuple[CriterionSpec, str, str, str]]:
    """Every default criterion with its categories, reason, source and status."""
    prof = dict(zip(catalogue.table["code"], catalogue.table["profile"]))
    out = []
    for d in DEFAULT_CRITERIA:
        cats = [c for c in catalogue.codes if prof.get(c) in d.profiles]
        if cats:
            out.append((d.spec.model_copy(update={"categories": cats}), d.reason, d.source, d.status))
    for code in catalogue.codes:
        links = _links(catalogue, code)
        if not links:
            continue
        spec = CriterionSpec(name=f"linked_{code}", kind="catchment", layer="businesses", filter={"category": links},
                             radius_m=LINKED["radius_m"],
                             transform=TransformSpec(type="linear", points=[0, LINKED["full"]]),
                             weight=LINKED["weight"], categories=[code])
        out.append((spec, f"{LINKED['reason']} ({', '.join(links)})", str(LINKED["source"]), "assumption"))
    return out


def default_criteria(catalogue: Catalogue, layers: dict[str, gpd.GeoDataFrame] | None = None
                     ) -> list[CriterionSpec]:
    """The criteria a scenario without ``criteria:`` uses: each category's profile's criteria and its
    linked trades (see the module's docstring).

    Parameters
    ----------
    catalogue
        The scenario's catalogue (with ``profile``).
    layers
        The region's layers, when known: a filter on an optional field (urban ``kind``, utilities
        ``kind``) is dropped when the layer lacks that field, and a catchment whose weight field the
        layer lacks is left out, so that the defaults work on any valid region. The ``linked_<code>``
        criteria count the *classified* businesses (their ``category``), which every run has.

    Returns
    -------
    list of CriterionSpec
        The profile criteria (each for the categories of its profiles) and then one ``linked_<code>``
        catchment per category with linked trades; with ``layers``, adapted to the layers' fields.
    """
    specs = [s for s, *_ in _specs(catalogue)]
    if layers is None:
        return specs
    out = []
    for s in specs:
        g = layers.get(s.layer)
        if s.layer == "businesses":
            out.append(s)
            continue
        if s.kind == "catchment" and g is not None and s.field and s.field not in g.columns:
            continue
        unknown = s.filter and g is not None and not all(k in g.columns for k in s.filter)
        out.append(s.model_copy(update={"filter": None}) if unknown else s)
    return out


def criteria_listing(catalogue: Catalogue) -> pd.DataFrame:
    """One row per category and default criterion: ``code``, ``profile``, ``criterion``, ``weight``
    (normalized over the category's criteria), ``measure``, ``transform``, ``reason``, ``source``,
    ``status`` — what ``siteplan catalogue --criteria`` shows."""
    rows = []
    specs = _specs(catalogue)
    prof = catalogue.table.set_index("code")
    for code in catalogue.codes:
        mine = [(s, r, src, st) for s, r, src, st in specs if code in (s.categories or [])]
        total = sum(float(s.weight or 0) for s, *_ in mine) or 1.0
        for s, r, src, st in mine:
            t = s.transform
            rows.append({"code": code, "profile": prof.at[code, "profile"], "criterion": s.name,
                         "weight": round(float(s.weight or 0) / total, 3),
                         "measure": f"{s.kind} of {s.layer}" + (f" within {s.radius_m / 1000:g} km" if s.radius_m else "")
                         + (f" ({'; '.join(f'{k}: ' + ', '.join(v) for k, v in s.filter.items())})" if s.filter else ""),
                         "transform": f"{t.type} [{', '.join(f'{p:g}' for p in t.points)}]"
                         + ("" if t.increasing else " decreasing"),
                         "reason": r, "source": src, "status": st})
    return pd.DataFrame(rows, columns=["code", "profile", "criterion", "weight", "measure", "transform", "reason",
                                       "source", "status"])


def criteria_text(catalogue: Catalogue) -> str:
    """``siteplan catalogue --criteria``: per category its profile with the reason, then each default
    criterion with its normalized weight and reason."""
    t = criteria_listing(catalogue)
    prof = catalogue.table.set_index("code")
    blocks = []
    for code in catalogue.codes:
        sub = t[t.code == code]
        lines = [(f"{code} — {prof.at[code, 'name_en']}: profile {prof.at[code, 'profile']} "
                 f"({prof.at[code, 'profile_reason']})")]
        lines += [f"  {r.weight:5.3f}  {r.criterion:22s} {r.measure}; {r.transform}\n"
                  f"         why: {r.reason} [{r.status}; source: {r.source}]" for r in sub.itertuples()]
        blocks.append("\n".join(lines))
    head = "\n".join(f"  {k:10s} {v}" for k, v in PROFILES.items())
    return (f"Default criteria (used when a scenario has no criteria:), by profile:\n{head}\n\n"
            + "\n\n".join(blocks))
