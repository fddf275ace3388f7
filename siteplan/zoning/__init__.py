"""The zoning stage: each receiving estate divided into zones, blocks and plots.

Flows in: the relocation :class:`~siteplan.relocation.Plan` (who goes to which estate), the
categories' :class:`~siteplan.rules.RuleSet` and the estates' plots, occupied and vacant land.
Flows out: a :class:`ZonePlan` (zones heaviest-nuisance farthest from homes, their blocks and plots,
the re-letting table and the zoning sheets), every zone verified before it is written.

Modules, in the order data flows:

- :mod:`~siteplan.zoning.plots`: free land, plot matching and re-letting;
- :mod:`~siteplan.zoning.zone_check`: the verification of zones against the rules and the land;
- :mod:`~siteplan.zoning.blocks`: an estate's free land cut into blocks along access strips;
- :mod:`~siteplan.zoning.placement`: one attempt at an estate's zones in one overlay mode;
- :mod:`~siteplan.zoning.estate`: :func:`zone_estate`, one estate's zones, checked;
- :mod:`~siteplan.zoning.zones`: :func:`zone_estates` and :func:`zone_plan`, every estate with its plots;
- :mod:`~siteplan.zoning.sheets`: the report's per-estate zoning sheets.

``siteplan.zoning`` is a public import path (the design card names it): its names stay here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.face import lazy_face

if TYPE_CHECKING:
    from .blocks import block_frame
    from .plots import land_basis, match_plots, plot_need_m2, plots_that_fit, reletting_table
    from .zone_check import verify_zones
    from .zones import (
        MIN_CONVEXITY,
        SHAPES,
        SHEET_COLUMNS,
        EstateContext,
        ZonePlan,
        ZoneResult,
        ZoningSheet,
        category_order,
        convexity,
        home_separation,
        homes_geoms,
        order_reach,
        plot_need,
        plots_for_zones,
        polsby_popper,
        subdivide_plots,
        zone_estate,
        zone_estates,
        zone_plan,
        zoning_sheets,
    )

#: public name -> the module of this package that defines it
_API: dict[str, str] = {
    "land_basis": "plots", "match_plots": "plots", "reletting_table": "plots", "plot_need_m2": "plots",
    "plots_that_fit": "plots",
    "verify_zones": "zone_check",
    "block_frame": "blocks",
    "homes_geoms": "estate", "zone_estate": "estate", "EstateContext": "estate", "zone_estates": "zones",
    "zone_plan": "zones", "ZoneResult": "estate", "ZonePlan": "zones", "polsby_popper": "zones",
    "subdivide_plots": "plots", "plots_for_zones": "plots", "category_order": "estate", "home_separation": "estate",
    "SHAPES": "estate", "MIN_CONVEXITY": "estate", "convexity": "estate", "order_reach": "placement",
    "zoning_sheets": "sheets", "SHEET_COLUMNS": "sheets", "ZoningSheet": "sheets", "plot_need": "zones",
}

__all__ = [
    "EstateContext", "MIN_CONVEXITY", "SHAPES", "SHEET_COLUMNS", "ZonePlan", "ZoneResult", "ZoningSheet",
    "block_frame", "category_order", "convexity", "home_separation", "homes_geoms", "land_basis", "match_plots",
    "order_reach", "plot_need", "plot_need_m2", "plots_for_zones", "plots_that_fit", "polsby_popper",
    "reletting_table", "subdivide_plots", "verify_zones", "zone_estate", "zone_estates", "zone_plan", "zoning_sheets",
]

__getattr__, __dir__ = lazy_face(__name__, _API)
