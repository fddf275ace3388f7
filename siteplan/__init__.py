"""siteplan: geospatial site selection and estate planning for relocating nuisance guilds.

The folders are the pipeline; data flows one way, each stage package using only those before it::

    scenario -> inputs -> guilds -> rules -> scoring -> relocation -> zoning -> locate -> programme
             -> report -> outputs            (national: many runs; cli: the command line)

:mod:`~siteplan.scenario` reads the scenario (checked against its data by :mod:`~siteplan.checks`),
:mod:`~siteplan.inputs` loads the layers, :mod:`~siteplan.guilds` classifies businesses,
:mod:`~siteplan.rules` answers every siting-rule question, :mod:`~siteplan.scoring` scores the land,
:mod:`~siteplan.relocation` (public face :mod:`~siteplan.guild_relocation`) assigns businesses,
:mod:`~siteplan.zoning` zones the receiving estates, :mod:`~siteplan.locate` ranks estates and proposes
sites and upgrades for the unmet demand, :mod:`~siteplan.programme` measures what the plan achieves,
:mod:`~siteplan.report` renders the map report and :mod:`~siteplan.outputs` writes the run folder
(and compares or explains finished runs). :mod:`~siteplan.pipeline` orders the stages and
:mod:`~siteplan.results` holds what a run produced; :mod:`~siteplan.national` runs a nation,
:mod:`~siteplan.cli` is the command line. Shared helpers stay at the top: :mod:`~siteplan.grid`,
:mod:`~siteplan.common.textnorm`, :mod:`~siteplan.common.vocab`, :mod:`~siteplan.common.dates`, :mod:`~siteplan.common.units`,
:mod:`~siteplan.progress` and :mod:`~siteplan.errors`.

The names below are the public API; they are imported on first use, so ``import siteplan`` stays
light (the command line starts fast).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .common.blas import pin as _pin_blas

_pin_blas()  # one OpenBLAS kernel on every machine of a kind, set before numpy loads (siteplan.common.blas)

#: public name -> the module that owns it
_API: dict[str, str] = {
    "load_scenario": "scenario", "parse_scenario": "scenario", "Scenario": "scenario",
    "check_scenario_data": "checks",
    "load_region": "inputs.region", "Region": "inputs.region",
    "load_catalogue": "guilds.catalogue", "classify": "guilds.catalogue", "Catalogue": "guilds.catalogue",
    "compile_rulesets": "rules.ruleset", "RuleSet": "rules.ruleset", "Rule": "rules.ruleset",
    "ahp": "scoring.weights",
    "rank_estates": "locate.ranking", "propose_sites": "locate.ranking",
    "allocate": "relocation", "estate_capacity": "relocation", "Plan": "relocation",
    "zone_estates": "zoning.zones", "zone_plan": "zoning.zones",
    "Prepared": "results", "RunResult": "results",
    "prepare": "pipeline", "run": "pipeline", "run_scenario_file": "pipeline", "demo_scenario_path": "pipeline",
    "explain": "outputs.explain",
    "compare_runs": "outputs.compare", "robustness_summary": "locate.findings", "default_criteria": "guilds.profiles",
    "build_report": "report",
    "write_run": "outputs.writer",
    "SiteplanError": "errors", "InputError": "errors", "ScenarioError": "errors", "SolverError": "errors",
    "InfeasibleError": "errors", "SiteplanWarning": "errors",
}

__all__ = ["__version__", *sorted(_API)]  # noqa: PLE0604 - sorted() of the str keys above: strings


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562); ``__version__`` too (reading the
    package metadata costs tens of milliseconds that `siteplan explain` need not pay)."""
    if name == "__version__":
        from ._version import __version__

        globals()[name] = __version__
        return __version__
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'siteplan' has no attribute '{name}'")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from ._version import __version__
    from .checks import check_scenario_data
    from .errors import InfeasibleError, InputError, ScenarioError, SiteplanError, SiteplanWarning, SolverError
    from .guilds.catalogue import Catalogue, classify, load_catalogue
    from .guilds.profiles import default_criteria
    from .inputs.region import Region, load_region
    from .locate.findings import robustness_summary
    from .locate.ranking import propose_sites, rank_estates
    from .outputs.compare import compare_runs
    from .outputs.explain import explain
    from .outputs.writer import write_run
    from .pipeline import demo_scenario_path, prepare, run, run_scenario_file
    from .relocation import Plan, allocate, estate_capacity
    from .report import build_report
    from .results import Prepared, RunResult
    from .rules.ruleset import Rule, RuleSet, compile_rulesets
    from .scenario import Scenario, load_scenario, parse_scenario
    from .scoring.weights import ahp
    from .zoning.zones import zone_estates, zone_plan
