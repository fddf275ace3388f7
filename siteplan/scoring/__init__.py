"""The scoring stage: how suitable each cell and each estate is for each category.

Flows in: the region's layers, the compiled :class:`~siteplan.rules.RuleSet` of each category and
the scenario's criteria and weights. Flows out: one suitability :class:`Surface` per category on the
analysis grid (0-1, nodata where the rules exclude), each criterion's layer, and zonal means for the
estates; on very large grids, the same surface written block by block.

Modules, in the order data flows:

- :mod:`~siteplan.scoring.criteria`: value transforms and the layers criteria read (the grid and its
  distance fields are :mod:`siteplan.grid`);
- :mod:`~siteplan.scoring.kinds`: the registry of criterion kinds (how each computes its raw values on the
  grid or a block), used by the whole-grid, blockwise and Dask paths alike;
- :mod:`~siteplan.scoring.weights`: direct, rank-order and AHP weights;
- :mod:`~siteplan.scoring.suitability`: WLC, OWA and TOPSIS surfaces, zonal means;
- :mod:`~siteplan.scoring.blockwise`: one category's surface on a very large grid, block by block;
- :mod:`~siteplan.scoring.windows`: the memory windows of the criteria and separations, checked before any
  heavy work (:func:`siteplan.checks.check_scenario_data`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.face import lazy_face

if TYPE_CHECKING:
    from .blockwise import suitability_blockwise, write_category_surface
    from .criteria import criteria_layers, saturation_distance, transform
    from .kinds import KINDS
    from .suitability import CriterionLayer, Surface, aggregate, criterion_layers, surfaces, zonal_mean
    from .weights import AHPResult, ahp, read_ahp_matrix
    from .windows import named_criteria, window_problems

#: public name -> the module of this package that defines it
_API: dict[str, str] = {
    "criteria_layers": "criteria", "saturation_distance": "criteria", "transform": "criteria", "KINDS": "kinds",
    "AHPResult": "weights", "ahp": "weights", "read_ahp_matrix": "weights",
    "CriterionLayer": "suitability", "Surface": "suitability", "aggregate": "suitability",
    "criterion_layers": "suitability", "surfaces": "suitability", "zonal_mean": "suitability",
    "suitability_blockwise": "blockwise", "write_category_surface": "blockwise",
    "named_criteria": "windows", "window_problems": "windows",
}

__all__ = [
    "AHPResult", "CriterionLayer", "KINDS", "Surface", "aggregate", "ahp", "criteria_layers", "criterion_layers",
    "read_ahp_matrix", "saturation_distance", "suitability_blockwise", "surfaces", "transform",
    "write_category_surface", "zonal_mean",
    "named_criteria", "window_problems",
]

__getattr__, __dir__ = lazy_face(__name__, _API)
