"""Choosing among candidate sites: the public import path of :mod:`siteplan.locate.facility`.

``siteplan.facility.p_median`` and ``siteplan.facility.capacitated_facility_location`` are documented
library entry points; the code lives in the locate stage, and this module only re-exports it.
"""

from __future__ import annotations

from .locate.facility import FacilityResult, capacitated_facility_location, p_median

__all__ = ["FacilityResult", "capacitated_facility_location", "p_median"]
