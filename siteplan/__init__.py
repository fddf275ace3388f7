"""siteplan: geospatial site selection and estate planning for relocating nuisance guilds.

Data flows one way::

    scenario -> region -> guilds -> rules / criteria / weights -> suitability -> clusters / locate
             -> relocation -> zoning -> results -> report / export

:mod:`~siteplan.scenario` reads the scenario (data checks in :mod:`~siteplan.checks`),
:mod:`~siteplan.region` loads the layers, :mod:`~siteplan.guilds` classifies businesses,
:mod:`~siteplan.rules` answers every siting-rule question, :mod:`~siteplan.criteria`,
:mod:`~siteplan.weights` and :mod:`~siteplan.suitability` score (default criteria by category in
:mod:`~siteplan.profiles`), :mod:`~siteplan.sensitivity` measures robustness, :mod:`~siteplan.locate`
ranks estates and proposes sites (choosing with :mod:`~siteplan.facility`), :mod:`~siteplan.relocation`
(public face :mod:`~siteplan.guild_relocation`) assigns businesses, :mod:`~siteplan.zoning` zones
estates, :mod:`~siteplan.results` holds what a run produced, :mod:`~siteplan.report` and
:mod:`~siteplan.export` write it, :mod:`~siteplan.pipeline` composes the stages,
:mod:`~siteplan.compare` compares two run folders and :mod:`~siteplan.cli` is the command line.

The names below are the public API; they are imported on first use, so ``import siteplan`` stays
light (the command line starts fast).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: public name -> the module that owns it
_API: dict[str, str] = {
    "load_scenario": "scenario", "parse_scenario": "scenario", "Scenario": "scenario",
    "check_scenario_data": "checks",
    "load_region": "region", "Region": "region",
    "load_catalogue": "guilds", "classify": "guilds", "Catalogue": "guilds",
    "compile_rulesets": "rules", "RuleSet": "rules", "Rule": "rules",
    "ahp": "weights",
    "rank_estates": "locate", "propose_sites": "locate",
    "allocate": "relocation", "estate_capacity": "relocation", "Plan": "relocation",
    "zone_estates": "zoning", "zone_plan": "zoning",
    "Prepared": "results", "RunResult": "results",
    "prepare": "pipeline", "run": "pipeline", "run_scenario_file": "pipeline", "demo_scenario_path": "pipeline",
    "explain": "explain",
    "compare_runs": "compare", "robustness_summary": "sensitivity", "default_criteria": "profiles",
    "build_report": "report",
    "write_run": "export",
    "SiteplanError": "errors", "InputError": "errors", "ScenarioError": "errors", "SolverError": "errors",
    "InfeasibleError": "errors", "SiteplanWarning": "errors",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'siteplan' has no attribute '{name}'")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from .checks import check_scenario_data
    from .compare import compare_runs
    from .errors import InfeasibleError, InputError, ScenarioError, SiteplanError, SiteplanWarning, SolverError
    from .explain import explain
    from .export import write_run
    from .guilds import Catalogue, classify, load_catalogue
    from .locate import propose_sites, rank_estates
    from .pipeline import demo_scenario_path, prepare, run, run_scenario_file
    from .profiles import default_criteria
    from .region import Region, load_region
    from .relocation import Plan, allocate, estate_capacity
    from .report import build_report
    from .results import Prepared, RunResult
    from .rules import Rule, RuleSet, compile_rulesets
    from .scenario import Scenario, load_scenario, parse_scenario
    from .sensitivity import robustness_summary
    from .weights import ahp
    from .zoning import zone_estates, zone_plan
