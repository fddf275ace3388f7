"""The one definition of how siteplan draws its layers: colours, classes, legend labels and layer titles.

Read by the HTML report (:mod:`siteplan.report.layers`, :mod:`siteplan.report.summary`) and by the
GIS styles (:mod:`siteplan.outputs.gisstyle`: QML and SLD in the GeoPackage's ``layer_styles`` table, the
``plan.qgz`` project), so that an estate is the same green, orange or red in the report and in QGIS.
Plain data only: no HTML, no XML, no GDAL.

Widths are in screen pixels (Leaflet's unit; QGIS draws them with the unit ``Pixel``). Labels are
``(Persian, English)`` pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["PALETTE", "ENV_COLOURS", "ENV_DEFAULT", "VIRIDIS", "REASON_COLOURS", "ShareClass", "ESTATE_SHARE_CLASSES",
           "estate_fill", "share_used", "ESTATE_STYLE", "ZONE_STYLE", "SITE_STYLE", "CLUSTER_STYLE",
           "STUDY_AREA_STYLE", "FLOW_COLOUR", "FLOW_OPACITY", "flow_width", "PLOT_STYLE", "ASSIGNED_COLOUR", "TITLES", "GROUPS",
           "SUITABILITY_OPACITY", "category_colours", "env_order"]

#: category colours, one per catalogue code in catalogue order (:func:`category_colours`)
PALETTE = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
           "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#800000", "#aaffc3", "#808000",
           "#000075", "#808080"]
#: zone fill per environmental category, least nuisance (green) to most (purple)
ENV_COLOURS = {"1": "#1a9850", "2": "#91cf60", "3.1": "#d9ef8b", "3.2": "#fee08b", "4.1": "#fc8d59",
               "4.2": "#f46d43", "5.1": "#d73027", "5.2": "#a50026", "5.3": "#67001f", "6": "#40004b"}
#: zone fill of an environmental category :data:`ENV_COLOURS` does not know
ENV_DEFAULT = "#999"
#: the suitability ramp (viridis, 10 stops from 0 low to 1 high), RGB
VIRIDIS: tuple[tuple[int, int, int], ...] = ((68, 1, 84), (72, 40, 120), (62, 74, 137), (49, 104, 142),
                                             (38, 130, 142), (31, 158, 137), (53, 183, 121), (109, 205, 89),
                                             (180, 222, 44), (253, 231, 37))
#: opacity of a suitability overlay
SUITABILITY_OPACITY = 0.7
#: colours of the reason codes (charts, legend, unassigned businesses), colour-blind safe (Okabe-Ito)
REASON_COLOURS = {"capacity_full": "#E69F00", "not_eligible_nearby": "#56B4E9", "too_far": "#009E73",
                  "too_large": "#F0E442", "no_estates": "#0072B2", "out_of_scope": "#D55E00",
                  "unclassified": "#999999", "other": "#CC79A7"}
#: a business placed in an estate (GIS layer only: the report shows assigned businesses by category)
ASSIGNED_COLOUR = "#bdbdbd"


@dataclass(frozen=True)
class ShareClass:
    """One class of estates by the share of capacity used: ``share <= upper`` (and above the class
    before it)."""

    upper: float
    colour: str
    fa: str
    en: str


#: estates by share of capacity used: up to 50 %, 50-90 %, over 90 % (an estate without capacity counts
#: as full)
ESTATE_SHARE_CLASSES = (ShareClass(0.5, "#1a9850", "تا \u061c۵۰٪", "up to 50 % used"),
                        ShareClass(0.9, "#fc8d59", "۵۰ تا \u061c۹۰٪", "50–90 % used"),
                        ShareClass(math.inf, "#d73027", "بیش از \u061c۹۰٪", "over 90 % used"))


def share_used(cap: float, used: float) -> float:
    """The share of an estate's capacity used (1.0 when it has no capacity)."""
    return used / cap if cap > 0 else 1.0


def estate_fill(share: float) -> str:
    """The fill colour of an estate with ``share`` of its capacity used (:data:`ESTATE_SHARE_CLASSES`)."""
    for c in ESTATE_SHARE_CLASSES:
        if share <= c.upper:
            return c.colour
    return ESTATE_SHARE_CLASSES[-1].colour


#: Leaflet path options of each layer (outline ``color`` and ``weight`` in px, ``fillColor``, ``fillOpacity``,
#: ``dashArray``); the estates' and zones' fills come from their classes
ESTATE_STYLE: dict[str, Any] = {"color": "#000", "weight": 1.5, "fillOpacity": 0.6}
ZONE_STYLE: dict[str, Any] = {"color": "#333", "weight": 0.5, "fillOpacity": 0.8}
SITE_STYLE: dict[str, Any] = {"color": "#08519c", "weight": 3, "fillColor": "#6baed6", "fillOpacity": 0.6}
CLUSTER_STYLE: dict[str, Any] = {"color": "#006d2c", "weight": 1, "fillOpacity": 0.2}
STUDY_AREA_STYLE: dict[str, Any] = {"color": "#444", "weight": 1.5, "dashArray": "4", "fillColor": "#ffffff", "fillOpacity": 0.55}
#: plots (GIS layer only): a thin outline, filled by environmental category like the zones
PLOT_STYLE: dict[str, Any] = {"color": "#555555", "weight": 0.3, "fillOpacity": 0.5}
FLOW_COLOUR = "#2166ac"
FLOW_OPACITY = 0.6


def flow_width(units: float) -> float:
    """The width in px of a relocation flow line carrying ``units`` businesses."""
    return 1 + 1.5 * math.log1p(units)


#: each layer's title ``(Persian, English)``: the report's layer control and the QGIS layer names
TITLES: dict[str, tuple[str, str]] = {
    "study_area": ("محدوده مطالعه", "Study area"),
    "estates": ("شهرک‌ها (سهم ظرفیت استفاده‌شده)", "Estates by share used"),
    "zones": ("زون‌ها (رده محیطی)", "Zones by environmental category"),
    "sites": ("سایت‌های پیشنهادی", "Proposed new sites"),
    "clusters": ("خوشه‌های کسب‌وکار", "Business clusters"),
    "flows": ("جریان جابجایی", "Relocation flows"),
    "relocation": ("کسب‌وکارها، بدون تخصیص به تفکیک دلیل", "Businesses, unassigned by reason"),
    "plots": ("قطعات", "Plots"),
}
#: the report's layer groups ``(Persian, English)``, top of the layer list first
GROUPS: dict[str, tuple[str, str]] = {
    "analysis": ("تحلیل", "Analysis"),
    "suitability": ("تناسب زمین", "Suitability"),
    "context": ("زمینه", "Context"),
}


def category_colours(codes: list[str]) -> dict[str, str]:
    """One palette colour per category code, in catalogue order."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(codes)}


def env_order(v: str) -> int:
    """Sort key of an environmental category (least nuisance first; unknown ones last)."""
    return list(ENV_COLOURS).index(v) if v in ENV_COLOURS else len(ENV_COLOURS)
