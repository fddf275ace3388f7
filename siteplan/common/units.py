"""Unit conversions used across siteplan (named once instead of written out as numbers)."""

from __future__ import annotations

__all__ = ["M2_PER_HA", "M_PER_KM"]

#: square metres in a hectare
M2_PER_HA = 10_000.0
#: metres in a kilometre
M_PER_KM = 1_000.0
