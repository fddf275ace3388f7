"""The outputs stage: a run's results written to its folder, and read back to compare or explain.

Flows in: a :class:`~siteplan.results.RunResult` and the ``--out`` folder. Flows out: the run
folder (GeoJSON, CSV, GeoTIFF, the report and ``manifest.json``), written atomically and
deterministically into a folder that is siteplan's alone; ``siteplan compare`` of two run folders;
``siteplan explain`` of a place; ``siteplan export`` to a GeoPackage.

Modules, in the order data flows:

- :mod:`~siteplan.outputs.outfile`, :mod:`~siteplan.outputs.outdir`: output safety (an input is
  never replaced; the folder is locked and replaced whole);
- :mod:`~siteplan.outputs.formats`, :mod:`~siteplan.outputs.geoformats`: the file formats (CSV, JSON, ``.npz``,
  GeoJSON, GeoTIFF), each written atomically with fixed bytes;
- :mod:`~siteplan.outputs.writer`: :func:`write_run`, the run folder (:mod:`~siteplan.outputs.background`: its
  jobs on a worker thread; :mod:`~siteplan.outputs.manifest`: its ``manifest.json``);
- :mod:`~siteplan.outputs.gpkg`, :mod:`~siteplan.outputs.gisexport`: ``siteplan export`` to a GeoPackage;
- :mod:`~siteplan.outputs.explain`: which rules pass or fail at a place, and why it scores as it does
  (:mod:`~siteplan.outputs.explain_source` reads, :mod:`~siteplan.outputs.explain_data` writes its data);
- :mod:`~siteplan.outputs.compare` (reading a run: :mod:`~siteplan.outputs.compare_read`; sites and zones:
  :mod:`~siteplan.outputs.compare_places`), :mod:`~siteplan.outputs.compare_page` (its map:
  :mod:`~siteplan.outputs.compare_map`; words: :mod:`~siteplan.outputs.compare_words`): two runs compared;
- :mod:`~siteplan.outputs.stagecache`: each stage result's key, and ``run --reuse`` of a finished run's results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.face import lazy_face

if TYPE_CHECKING:
    from .compare import Comparison, compare_runs
    from .compare_write import compare_folders
    from .explain import Explanation, explain_run, parse_point
    from .formats import write_csv, write_json
    from .geoformats import write_geojson, write_geotiff
    from .gisexport import export_gpkg
    from .outdir import MARKER, OutputFolder
    from .outfile import check_output_file
    from .writer import write_run

#: public name -> the module of this package that defines it
_API: dict[str, str] = {
    "check_output_file": "outfile",
    "OutputFolder": "outdir", "MARKER": "outdir",
    "write_run": "writer", "write_csv": "formats", "write_geojson": "geoformats", "write_geotiff": "geoformats",
    "write_json": "formats", "export_gpkg": "gisexport",
    "Explanation": "explain", "explain_run": "explain", "parse_point": "explain",
    "Comparison": "compare", "compare_runs": "compare", "compare_folders": "compare_write",
}

__all__ = [
    "Comparison", "Explanation", "MARKER", "OutputFolder", "check_output_file", "compare_folders", "compare_runs",
    "explain_run", "export_gpkg", "parse_point", "write_csv", "write_geojson", "write_geotiff", "write_json",
    "write_run",
]

__getattr__, __dir__ = lazy_face(__name__, _API)
