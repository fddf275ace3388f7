"""The programme stage: what the plan achieves and how it is carried out.

Flows in: a :class:`~siteplan.results.RunResult` (plan, zones, sites and upgrades). Flows out: the
planning summaries (origins, flows, estate totals), the impact figures (residents relieved, trips,
land, jobs), the feasibility sheet of each site and upgrade, value chains and their missing links,
and the plan phase by phase (``impact.csv``, ``feasibility.csv``, ``chains.csv``, ``phases.csv``).

Modules, in the order data flows:

- :mod:`~siteplan.programme.summaries`: where the businesses come from and go;
- :mod:`~siteplan.programme.exposure`: the distinct residents within the nuisance distances of sets of
  businesses;
- :mod:`~siteplan.programme.impact`, :mod:`~siteplan.programme.feasibility`,
  :mod:`~siteplan.programme.chains`, :mod:`~siteplan.programme.phasing`: the figures;
- :mod:`~siteplan.programme.figures`: :func:`programme_figures`, all of them for one run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.face import lazy_face

if TYPE_CHECKING:
    from .chains import chains_table
    from .feasibility import feasibility_table, unit_costs
    from .figures import Programme, programme_figures
    from .impact import Placement, impact_table, placements
    from .phasing import Phasing, phase_problems, phased_plan
    from .summaries import estate_totals, flows_table, origin_table, relocation_table

#: public name -> the module of this package that defines it
_API: dict[str, str] = {
    "relocation_table": "summaries", "estate_totals": "summaries", "origin_table": "summaries",
    "flows_table": "summaries",
    "Placement": "impact", "placements": "impact", "impact_table": "impact",
    "feasibility_table": "feasibility", "unit_costs": "feasibility",
    "chains_table": "chains",
    "Phasing": "phasing", "phased_plan": "phasing", "phase_problems": "phasing",
    "Programme": "figures", "programme_figures": "figures",
}

__all__ = [
    "Phasing", "Placement", "Programme", "chains_table", "estate_totals", "feasibility_table", "flows_table",
    "impact_table", "origin_table", "phase_problems", "phased_plan", "placements", "programme_figures",
    "relocation_table", "unit_costs",
]

__getattr__, __dir__ = lazy_face(__name__, _API)
