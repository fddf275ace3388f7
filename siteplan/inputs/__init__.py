"""The inputs stage: the scenario's layers read, checked and brought into one metric CRS.

Flows in: a :class:`~siteplan.scenario.Scenario` (its ``layers:`` paths, field maps and ``crs:``).
Flows out: a :class:`Region` (every layer as a GeoDataFrame in the working CRS, with what was
excluded and why), or one clear :class:`~siteplan.errors.InputError` naming file, layer, row and field.

Modules, in the order data flows:

- :mod:`~siteplan.inputs.tables`: point layers from CSV, XLSX and ODS tables;
- :mod:`~siteplan.inputs.plausibility`: data that reads without complaint but cannot be true (with
  :mod:`~siteplan.inputs.findings`, :mod:`~siteplan.inputs.encoding` and :mod:`~siteplan.inputs.coordinates`);
- :mod:`~siteplan.inputs.files`: one layer's file read and its header checked (shapefiles, rasters);
- :mod:`~siteplan.inputs.fields`: a layer's fields mapped to the canonical ones and its values cleaned;
- :mod:`~siteplan.inputs.region`: :func:`load_region`, reading, field mapping and geometry repair;
- :mod:`~siteplan.inputs.osm`: an OpenStreetMap extract read into a region's layers (``siteplan ingest-osm``,
  :mod:`siteplan.cli.ingest_osm`, maps its tags with the catalogue and writes the region folder).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.face import lazy_face

if TYPE_CHECKING:
    from .osm import IngestReport, read_osm
    from .plausibility import PLAUSIBILITY_ERRORS, Findings
    from .region import REQUIRED_FIELDS, ImplausibleDataError, Region, load_region, read_layer, utm_crs_for
    from .tables import TABLE_SUFFIXES, is_table, read_table

#: public name -> the module of this package that defines it
_API: dict[str, str] = {
    "TABLE_SUFFIXES": "tables", "is_table": "tables", "read_table": "tables",
    "Findings": "plausibility", "PLAUSIBILITY_ERRORS": "plausibility",
    "ImplausibleDataError": "region", "Region": "region", "read_layer": "region", "load_region": "region",
    "utm_crs_for": "region", "REQUIRED_FIELDS": "region",
    "read_osm": "osm", "IngestReport": "osm",
}

__all__ = [
    "Findings", "ImplausibleDataError", "IngestReport", "PLAUSIBILITY_ERRORS", "REQUIRED_FIELDS", "Region",
    "TABLE_SUFFIXES", "is_table", "load_region", "read_layer", "read_osm", "read_table", "utm_crs_for",
]

__getattr__, __dir__ = lazy_face(__name__, _API)
