"""The locate stage: estates ranked, new sites proposed and estate upgrades weighed for the unmet demand.

Flows in: the :class:`~siteplan.results.Prepared` scenario (surfaces, rules, layers) and the
relocation :class:`~siteplan.relocation.Plan` with the businesses it could not place. Flows out:
estate rankings per category, proposed sites (``sites.geojson``) and who they would take, upgrades
(``upgrades.csv``) and the options side by side, and the ranking's robustness to the weights.

Modules, in the order data flows:

- :mod:`~siteplan.locate.regions`: compact sites grown on the grid, re-checked on their geometry;
- :mod:`~siteplan.locate.newsites`: where the unmet demand is, and site sizes;
- :mod:`~siteplan.locate.sitechoice`: which candidate sites open and who they take;
- :mod:`~siteplan.locate.upgrades`: estate changes that would place the unassigned;
- :mod:`~siteplan.locate.options`: upgrades and new sites side by side;
- :mod:`~siteplan.locate.ranking`: :func:`rank_estates` and :func:`propose_sites`;
- :mod:`~siteplan.locate.sensitivity`: rank acceptability, weight sweeps, score deviations;
- :mod:`~siteplan.locate.deviations`: each category's score deviation raster, computed when asked for;
- :mod:`~siteplan.locate.findings`: what of the robustness differs from a certain ranking, in words;
- :mod:`~siteplan.locate.facility`: p-median and capacitated facility location (library).

``siteplan.locate`` is a public import path (the design card names it): its names stay here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.face import lazy_face

if TYPE_CHECKING:
    from .deviations import ScoreDeviations, score_deviations
    from .facility import FacilityResult, capacitated_facility_location, p_median
    from .findings import RobustnessSummary, robustness_summary
    from .newsites import SiteDemand, demand_sites, sizing_note
    from .options import compare_options, option_notes
    from .ranking import (
        POP_REACH_KM,
        SITE_COLUMNS,
        SiteSearch,
        estate_closeness,
        grow_regions,
        propose_sites,
        rank_estates,
        regions_to_polygons,
        site_feasibility,
    )
    from .regions import recheck_site
    from .sensitivity import rank_acceptability, robustness, score_sd
    from .sitechoice import absorb
    from .upgrades import propose_upgrades, verify_upgrade

#: public name -> the module of this package that defines it
_API: dict[str, str] = {
    "recheck_site": "regions",
    "SiteDemand": "newsites", "demand_sites": "newsites", "absorb": "sitechoice", "sizing_note": "newsites",
    "propose_upgrades": "upgrades", "verify_upgrade": "upgrades", "compare_options": "options",
    "option_notes": "options",
    "rank_estates": "ranking", "estate_closeness": "ranking", "grow_regions": "ranking", "SiteSearch": "ranking",
    "site_feasibility": "ranking", "propose_sites": "ranking", "regions_to_polygons": "ranking",
    "POP_REACH_KM": "ranking", "SITE_COLUMNS": "ranking",
    "RobustnessSummary": "findings", "robustness": "sensitivity", "robustness_summary": "findings",
    "rank_acceptability": "sensitivity", "score_sd": "sensitivity",
    "ScoreDeviations": "deviations", "score_deviations": "deviations",
    "FacilityResult": "facility", "capacitated_facility_location": "facility", "p_median": "facility",
}

__all__ = [
    "FacilityResult", "POP_REACH_KM", "RobustnessSummary", "SITE_COLUMNS", "ScoreDeviations", "SiteDemand",
    "SiteSearch", "absorb", "capacitated_facility_location", "compare_options", "demand_sites", "estate_closeness",
    "grow_regions", "option_notes", "p_median", "propose_sites", "propose_upgrades", "rank_acceptability",
    "rank_estates", "recheck_site", "regions_to_polygons", "robustness", "robustness_summary", "score_deviations",
    "score_sd", "site_feasibility", "sizing_note", "verify_upgrade",
]

__getattr__, __dir__ = lazy_face(__name__, _API)
