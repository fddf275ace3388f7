"""The programme figures of a run: impact (:mod:`siteplan.programme.impact`), feasibility
(:mod:`siteplan.programme.feasibility`) and value chains (:mod:`siteplan.programme.chains`), computed after the plan, the
zones and the options exist (the last analysis stage; the export writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ..results import PlanInputs, RunResult

__all__ = ["Programme", "programme_figures"]


@dataclass(frozen=True)
class Programme:
    """``impact.csv``, ``feasibility.csv`` and ``chains.csv`` of a run, the trip rates and unit costs
    they used (with their sources and status), and the phased programme when the scenario has
    ``programme.phases`` (:class:`siteplan.programme.phasing.Phasing`, else None).

    Parameters
    ----------
    impact
        ``impact.csv``: the figures of the plan for the province, each category, town and receiving
        estate, and of each proposed site and upgrade (:mod:`siteplan.programme.impact`).
    feasibility
        ``feasibility.csv``: one row per proposed site and per upgrade, with its costs
        (:mod:`siteplan.programme.feasibility`).
    chains
        ``chains.csv``: per cluster and per receiving estate, each chain link's status
        (:mod:`siteplan.programme.chains`).
    trip_rates
        The trip rates used (:func:`siteplan.programme.impact.trip_rates`).
    unit_costs
        The unit costs used (:func:`siteplan.programme.feasibility.unit_costs`).
    phasing
        The phased programme, or None without ``programme.phases``.
    """

    impact: pd.DataFrame
    feasibility: pd.DataFrame
    chains: pd.DataFrame
    trip_rates: pd.DataFrame
    unit_costs: pd.DataFrame
    phasing: Any = None


def programme_figures(res: RunResult, inputs: PlanInputs | None = None) -> Programme:
    """Compute the programme figures of a finished run.

    Parameters
    ----------
    res
        A finished run (plan, zones, plots, sites and upgrades).
    inputs
        What the plan was solved on; needed for the phasing (``programme.phases``), which re-solves the
        allocation phase by phase (:mod:`siteplan.programme.phasing`).

    Returns
    -------
    Programme
        The run's impact, feasibility and chains tables, the rates and costs they used, and the phasing.
    """
    from .chains import chains_table
    from .feasibility import feasibility_table, unit_costs
    from .impact import impact_table, placements

    p = placements(res)
    impact = impact_table(res, p)
    phasing = None
    if res.prep.scenario.programme.phases:
        from .phasing import phased_plan

        if inputs is None:
            raise ValueError("programme.phases: the phasing needs the plan's inputs (siteplan.pipeline.plan_inputs)")
        phasing = phased_plan(res, inputs, p)
    return Programme(impact, feasibility_table(res, impact), chains_table(res, p), p.rates,
                     unit_costs(res.prep.scenario), phasing)
