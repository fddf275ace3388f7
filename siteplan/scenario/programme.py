"""The programme section of a scenario: impact and feasibility figures, and the phases."""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .specs import StrictSpec, TripRateSpec

__all__ = ["MAX_PHASES", "UPGRADE_FIELDS", "PhaseSpec", "ProgrammeSpec", "UpgradeRefSpec", "parse_changes"]

#: the fields an upgrade changes (upgrades.csv's ``changes`` syntax)
UPGRADE_FIELDS = ("power", "gas", "water", "wastewater", "max_cat", "kind")
#: phases a programme may have
MAX_PHASES = 20


def parse_changes(text: str) -> dict[str, object]:
    """An upgrade's changes in upgrades.csv's syntax (``water=1; wastewater=1``, ``max_cat=5.1``,
    ``kind=estate``) as field → value (utilities as 0/1 integers, the rest as text).

    Raises
    ------
    ValueError
        An unknown field, a utility not 0 or 1, an empty value, or nothing at all.
    """
    out: dict[str, object] = {}
    for part in str(text).split(";"):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not value:
            raise ValueError(f"'{part.strip()[:40]}' is not field=value (e.g. wastewater=1; max_cat=5.1)")
        if key not in UPGRADE_FIELDS:
            hint = difflib.get_close_matches(key, UPGRADE_FIELDS, n=1)
            raise ValueError(f"'{key[:40]}' is not a field an upgrade changes ({', '.join(UPGRADE_FIELDS)})"
                             + (f"; did you mean '{hint[0]}'?" if hint else ""))
        if key in out:
            raise ValueError(f"'{key}' is given twice")
        if key in ("power", "gas", "water", "wastewater"):
            if value not in ("0", "1"):
                raise ValueError(f"{key}={value[:20]}: a utility is 1 (added) or 0")
            out[key] = int(value)
        else:
            out[key] = value[:40]
    if not out:
        raise ValueError("no change given; write e.g. wastewater=1 (upgrades.csv's changes column)")
    return out


class UpgradeRefSpec(StrictSpec):
    """An upgrade a phase brings online: an estate with the changes (upgrades.csv's syntax), or with
    ``changes`` left out the estate's best-ranked upgrade in the run's upgrades.csv."""

    estate: str = Field(min_length=1, max_length=200)
    changes: str | None = Field(None, max_length=500)

    @field_validator("changes")
    @classmethod
    def _changes(cls, v: str | None) -> str | None:
        if v is not None:
            parse_changes(v)
        return v


class PhaseSpec(StrictSpec):
    """One phase of the programme (:mod:`siteplan.programme.phasing`): when it starts and what comes online.

    ``start`` is a year or a day, Solar Hijri when the year is below 1700 (:mod:`siteplan.common.dates`).
    ``estates``: existing estates that open in this phase (every estate no phase names is open from
    the first). ``upgrades``: upgrades done in this phase, each a rank of upgrades.csv (a number), an
    estate id (its best-ranked upgrade there) or ``{estate: E14, changes: "wastewater=1"}``. ``sites``:
    the proposed sites (sites.geojson's ``site_id``) built in this phase, or ``all``."""

    name: str = Field(min_length=1, max_length=100)
    label: str = Field("", max_length=200)
    start: str
    estates: list[str] = Field(default_factory=list)
    upgrades: list[int | str | UpgradeRefSpec] = Field(default_factory=list)
    sites: Literal["all"] | list[str] = Field(default_factory=list)

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v: Any) -> str:
        from ..common.dates import parse_start

        return parse_start(v).text

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a phase's name is blank; name it (e.g. name: phase 1)")
        return v

    @field_validator("upgrades", mode="before")
    @classmethod
    def _upgrade_refs(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        return [_upgrade_ref(i, u) for i, u in enumerate(v)]


def _upgrade_ref_mapping(i: int, u: dict[Any, Any]) -> UpgradeRefSpec:
    """A phase's upgrade written ``{estate: E14, changes: 'wastewater=1'}``, checked key by key."""
    extra = sorted(str(k)[:30] for k in u if k not in ("estate", "changes"))
    if extra:
        raise ValueError(f"[{i}]: unknown key(s) {', '.join(extra)} (known: estate, changes)")
    if not isinstance(u.get("estate"), str) or not u["estate"].strip():
        raise ValueError(f"[{i}].estate: give the estate id as text")
    ch = u.get("changes")
    if ch is not None:
        if not isinstance(ch, str):
            raise ValueError(f"[{i}].changes: write the changes as text, e.g. 'wastewater=1'")
        try:
            parse_changes(ch)
        except ValueError as e:
            raise ValueError(f"[{i}].changes: {e}") from None
    return UpgradeRefSpec(estate=u["estate"], changes=ch)


def _upgrade_ref(i: int, u: Any) -> Any:
    """The ``i``-th upgrade of a phase: a rank of upgrades.csv, an estate id or an estate with changes.

    Raises
    ------
    ValueError
        Naming the entry and what it may be.
    """
    if isinstance(u, dict):
        return _upgrade_ref_mapping(i, u)
    if isinstance(u, bool) or not isinstance(u, (int, str, UpgradeRefSpec)) or (isinstance(u, int) and u < 1):
        raise ValueError(f"[{i}]: {str(u)[:40]!r} is not a rank of upgrades.csv (1, 2, ...), an estate id or "
                         "{estate: E14, changes: 'wastewater=1'}")
    if isinstance(u, str) and not u.strip():
        raise ValueError(f"[{i}]: an empty estate id")
    return u


class ProgrammeSpec(StrictSpec):
    """The programme figures: impact, feasibility and value chains (:mod:`siteplan.programme.impact`,
    :mod:`siteplan.programme.feasibility`, :mod:`siteplan.programme.chains`), and the phasing
    (:mod:`siteplan.programme.phasing`)."""

    #: trip rates by category code, over ``siteplan/data/trip_rates.csv``
    trip_rates: dict[str, TripRateSpec] = Field(default_factory=dict)
    #: unit costs by item (``land``, ``site_works``, ``access_road``, ``power``, ``gas``, ``water``,
    #: ``wastewater``), over ``siteplan/data/unit_costs.csv``
    unit_costs: dict[str, float] = Field(default_factory=dict)
    #: one-way trips per employee per day (to work and back)
    worker_trips_per_employee: float = Field(2.0, ge=0, le=100)
    #: a missing value-chain link is "within reach" when a business of it is this close (km)
    chain_reach_km: float = Field(10.0, gt=0, le=1000)
    #: the phases of the programme, in order (:mod:`siteplan.programme.phasing`); none: no phasing
    phases: list[PhaseSpec] = Field(default_factory=list, max_length=MAX_PHASES)
    #: the order businesses are placed in when a phase's capacity is short: residents within their
    #: nuisance distance per hectare of land they need (most first), their environmental category
    #: (heaviest first), or none (the allocation's own settings)
    priority: Literal["residents_per_ha", "env_cat", "none"] = "residents_per_ha"

    @field_validator("unit_costs")
    @classmethod
    def _costs(cls, v: dict[str, float]) -> dict[str, float]:
        known = ("land", "site_works", "access_road", "power", "gas", "water", "wastewater")
        bad = [k for k in v if k not in known]
        if bad:
            raise ValueError(f"unknown unit cost item(s) {', '.join(map(repr, sorted(bad)))}; known: {', '.join(known)}")
        neg = [k for k, c in v.items() if not c >= 0]
        if neg:
            raise ValueError(f"unit cost(s) {', '.join(sorted(neg))} must be zero or more")
        return v

    @model_validator(mode="after")
    def _phases(self) -> ProgrammeSpec:
        problems = _phase_order_problems(self.phases) + _phase_online_problems(self.phases)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _phase_order_problems(phases: list[PhaseSpec]) -> list[str]:
    """Phase names given twice, and starts out of order."""
    from ..common.dates import parse_start

    problems = []
    names: dict[str, int] = {}
    last = None
    for i, ph in enumerate(phases):
        where = f"phases[{i}] ('{ph.name[:40]}')"
        if ph.name.strip() in names:
            problems.append(f"{where}.name: also the name of phases[{names[ph.name.strip()]}]; name each phase once")
        names.setdefault(ph.name.strip(), i)
        day = parse_start(ph.start).date
        if last is not None and day < last[1]:
            problems.append(f"{where}.start: {ph.start} ({day.isoformat()}) is before the start of "
                            f"phases[{last[0]}] ({last[1].isoformat()}); list the phases in order")
        last = (i, day)
    return problems


def _opens_twice(where: str, i: int, ph: PhaseSpec, opens: dict[str, int]) -> list[str]:
    """Estates of a phase that an earlier phase already opens (``opens`` updated)."""
    problems = []
    for e in ph.estates:
        if e in opens:
            problems.append(f"{where}.estates: '{e[:40]}' also opens in phases[{opens[e]}]; an estate opens once")
        opens.setdefault(e, i)
    return problems


def _built_twice(where: str, i: int, ph: PhaseSpec, sites: dict[str, int]) -> list[str]:
    """Sites of a phase that an earlier phase already builds (``sites`` updated; ``all`` builds every site)."""
    problems = []
    if ph.sites == "all":
        if sites:
            problems.append(f"{where}.sites: all, but phases[{min(sites.values())}] already builds "
                            f"{', '.join(sorted(sites))[:80]}; a site is built once")
        sites.setdefault("all", i)
        return problems
    for s in ph.sites:
        if "all" in sites or s in sites:
            problems.append(f"{where}.sites: '{s[:40]}' is already built in phases"
                            f"[{sites.get('all', sites.get(s))}]; a site is built once")
        sites.setdefault(s, i)
    return problems


def _done_twice(where: str, i: int, ph: PhaseSpec, refs: dict[str, int]) -> list[str]:
    """Upgrades of a phase that an earlier phase already does (``refs`` updated)."""
    problems = []
    for u in ph.upgrades:
        key = (f"rank {u}" if isinstance(u, int) else f"estate {u}" if isinstance(u, str)
               else f"estate {u.estate}: {u.changes or 'best'}")
        if key in refs:
            problems.append(f"{where}.upgrades: {key[:60]} is also done in phases[{refs[key]}]")
        refs.setdefault(key, i)
    return problems


def _phase_online_problems(phases: list[PhaseSpec]) -> list[str]:
    """An estate opening twice, a site built twice, an upgrade done twice or before its estate opens."""
    problems = []
    opens: dict[str, int] = {}
    sites: dict[str, int] = {}
    refs: dict[str, int] = {}
    for i, ph in enumerate(phases):
        where = f"phases[{i}] ('{ph.name[:40]}')"
        problems += _opens_twice(where, i, ph, opens) + _built_twice(where, i, ph, sites) + _done_twice(where, i, ph, refs)
    for i, ph in enumerate(phases):
        for u in ph.upgrades:
            eid = u if isinstance(u, str) else u.estate if isinstance(u, UpgradeRefSpec) else None
            if eid is not None and opens.get(eid, 0) > i:
                problems.append(f"phases[{i}] ('{ph.name[:40]}').upgrades: estate '{eid[:40]}' opens only in "
                                f"phases[{opens[eid]}]; upgrade it in that phase or later")
    return problems
