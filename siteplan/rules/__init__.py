"""The rules stage: which land each category may use, and why not where it may not.

Flows in: the :class:`~siteplan.guilds.Catalogue`, the scenario and the region's layers. Flows
out: one compiled :class:`RuleSet` per category (separation from homes, DOE 1378 distances,
constraints, slope, study area), answering on the grid, on geometries and at points, with a reason
for every refusal; estate reservations and exclusions.

Modules, in the order data flows:

- :mod:`~siteplan.rules.standards`: the published distances and limits (DOE 1378, VNG, slope);
- :mod:`~siteplan.rules.rulecheck`: the vector answer of the rules (light: no GDAL);
- :mod:`~siteplan.rules.reservations`: estates reserved for, or excluding, some trades;
- :mod:`~siteplan.rules.plotfit`: the plot each business needs and how many free plots fit it;
- :mod:`~siteplan.rules.ruleset`: :func:`compile_rulesets` and :class:`RuleSet`;
- :mod:`~siteplan.rules.estates`: the estates' usable land and eligibility (:func:`usable_land`,
  :func:`eligibility`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.face import lazy_face

if TYPE_CHECKING:
    from .estates import UTILITIES, eligibility, usable_land
    from .plotfit import PLOT_FIT_SLACK_M2, plot_need_m2, plots_that_fit
    from .reservations import Reservation, estate_reservations, reservation_problems
    from .rulecheck import RuleGroup, check_rules
    from .ruleset import STUDY_AREA_RULE, Rule, RuleContext, RuleSet, buffer_out, compile_rules, compile_rulesets, target_geoms
    from .standards import DOE_1378, MAX_SLOPE_PCT

#: public name -> the module of this package that defines it
_API: dict[str, str] = {
    "DOE_1378": "standards", "MAX_SLOPE_PCT": "standards",
    "RuleGroup": "rulecheck", "check_rules": "rulecheck",
    "Reservation": "reservations", "estate_reservations": "reservations", "reservation_problems": "reservations",
    "Rule": "ruleset", "RuleContext": "ruleset", "RuleSet": "ruleset", "compile_rules": "ruleset",
    "compile_rulesets": "ruleset", "target_geoms": "ruleset", "usable_land": "estates", "eligibility": "estates",
    "buffer_out": "ruleset", "UTILITIES": "estates", "STUDY_AREA_RULE": "ruleset",
    "PLOT_FIT_SLACK_M2": "plotfit", "plot_need_m2": "plotfit", "plots_that_fit": "plotfit",
}

__all__ = [
    "DOE_1378", "MAX_SLOPE_PCT", "Reservation", "Rule", "RuleContext", "RuleGroup", "RuleSet", "STUDY_AREA_RULE",
    "UTILITIES", "buffer_out", "check_rules", "compile_rules", "compile_rulesets", "eligibility",
    "estate_reservations", "reservation_problems", "target_geoms", "usable_land",
    "PLOT_FIT_SLACK_M2", "plot_need_m2", "plots_that_fit",
]

__getattr__, __dir__ = lazy_face(__name__, _API)
