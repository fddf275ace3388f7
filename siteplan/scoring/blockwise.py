"""Suitability of one category on very large grids, block by block with bounded memory.

The grid is cut into square blocks; each block is computed on a window padded by a halo wide enough
that every criterion and rule sees all the features that can change its value there:

* distance criteria: the distance beyond which the transform no longer changes (its last control
  point; for transforms that never level off, the distance where they are within 0.001 of their limit);
* catchment criteria: the radius; rules: their distance.

A feature farther than the halo cannot be the nearest one for a cell whose true distance is within
the halo, and for the other cells every distance beyond the halo maps to the same transformed value,
so the blocks reproduce the whole-grid result exactly (tested). Each criterion is computed by its kind
from the registry the whole grid uses (:data:`siteplan.scoring.kinds.KINDS`), which also says its halo.
Peak memory is a few padded blocks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio import features
from rasterio.windows import Window

from ..common.atomic import atomic_path
from ..errors import InputError
from ..grid import NODATA, Grid, distance_field
from ..rules.ruleset import RuleSet
from ..scenario import CriterionSpec, Scenario
from .criteria import criteria_layers, saturation_distance, transform
from .kinds import Features, criterion_features, criterion_window, halo_cells
from .suitability import category_weights, wowa

if TYPE_CHECKING:
    from .prepared import Prepared

log = logging.getLogger(__name__)

__all__ = ["BlockPlan", "saturation_distance", "suitability_blockwise", "tiff_profile", "write_category_surface"]


def write_category_surface(prep: Prepared, category: str, out: str | Path, *, block: int = 2048) -> dict[str, int]:
    """Write one category's suitability surface block by block (``siteplan suitability --blockwise``).

    Parameters
    ----------
    prep
        The scenario prepared without in-memory surfaces (``prepare(scenario, with_surfaces=False)``).
    category
        Catalogue code.
    out
        GeoTIFF to write; it replaces ``out`` only once complete (:func:`siteplan.common.atomic.atomic_path`).
    block
        Block size in cells.

    Returns
    -------
    dict
        Cells excluded by each rule.

    Raises
    ------
    InputError
        ``category`` is not in the catalogue, or its criterion weights cannot be derived.
    """
    if category not in prep.rules:
        raise InputError(f"--category: '{category}' is not in the catalogue")
    weights = category_weights(prep.criteria_specs, prep.scenario, category)
    with atomic_path(out) as tmp:
        # criteria read the classified businesses (their category), as the whole-grid path does
        layers = criteria_layers(prep.region.layers, prep.businesses)
        return suitability_blockwise(prep.criteria_specs, weights, prep.rules[category], layers,
                                     prep.scenario, prep.grid, tmp, block=block)


def suitability_blockwise(criteria: list[CriterionSpec], weights: dict[str, float], rules: RuleSet,
                          layers: dict[str, gpd.GeoDataFrame], scenario: Scenario, grid: Grid,
                          out: str | Path, *, block: int = 2048) -> dict[str, int]:
    """Compute one category's suitability (the scenario's aggregation, rules as nodata) block by block
    into a GeoTIFF.

    Parameters
    ----------
    criteria
        The category's criteria (every kind of :data:`siteplan.scoring.kinds.KINDS`).
    weights
        Criterion name to weight (summing to 1).
    rules
        The category's rule set (every rule, slope and study area included, exactly as the whole-grid
        mask: see :meth:`siteplan.rules.ruleset.RuleSet.mask`).
    layers, scenario
        Region layers and scenario (rule targets).
    grid
        The full grid.
    out
        GeoTIFF to write (float32, tiled, DEFLATE, nodata -9999).
    block
        Block size in cells.

    Returns
    -------
    dict
        Cells excluded by each rule.

    Notes
    -----
    Each criterion and rule is evaluated on the block padded by its own halo, one at a time: memory
    is bounded by a few arrays of (block + 2 × largest halo)² cells.
    """
    plan = BlockPlan.build(criteria, weights, rules, layers, scenario, grid)
    counts = {r.rule_id: 0 for r in rules}
    with rasterio.open(out, "w", **tiff_profile(grid)) as dst:
        for r0 in range(0, grid.height, block):
            for c0 in range(0, grid.width, block):
                h, w = min(block, grid.height - r0), min(block, grid.width - c0)
                values, got = plan.block((r0, c0, h, w))
                for k, v in got.items():
                    counts[k] += v
                dst.write(values, 1, window=Window(c0, r0, w, h))
            log.info("blockwise suitability: rows %d–%d of %d", r0, min(r0 + block, grid.height), grid.height)
    return counts


def tiff_profile(grid: Grid) -> dict[str, Any]:
    """The profile of a suitability GeoTIFF written by blocks (float32, tiled 256, DEFLATE, nodata -9999)."""
    return {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": "float32",
            "crs": grid.crs, "transform": grid.transform, "nodata": NODATA, "tiled": True,
            "blockxsize": 256, "blockysize": 256, "compress": "deflate", "predictor": 3, "BIGTIFF": "IF_SAFER"}


@dataclass
class BlockPlan:
    """Everything one block of a category's surface needs (picklable, so blocks can run on other
    processes): the criteria with their weights, halos and features, the rules."""

    specs: list[CriterionSpec]
    weights: dict[str, float]
    owa_weights: np.ndarray | None
    halo_of: dict[str, int]
    feats: dict[str, Features]
    rules: RuleSet
    grid: Grid

    @classmethod
    def build(cls, criteria: list[CriterionSpec], weights: dict[str, float], rules: RuleSet,
              layers: dict[str, gpd.GeoDataFrame], scenario: Scenario, grid: Grid) -> BlockPlan:
        """The plan of one category (see :func:`suitability_blockwise` for the parameters)."""
        specs = [c for c in criteria if c.name in weights]
        agg = scenario.aggregation
        owa_weights = np.asarray(agg.order_weights, dtype=float) if agg.method == "owa" else None
        halo_of = {c.name: halo_cells(c, grid.res) for c in specs}
        feats = {c.name: criterion_features(c, layers, f"criterion '{c.name}'") for c in specs}
        return cls(specs, weights, owa_weights, halo_of, feats, rules, grid)

    def block(self, window: tuple[int, int, int, int]) -> tuple[np.ndarray, dict[str, int]]:
        """The surface on one block ``(row, col, height, width)``: float32 values (-9999 where the rules
        exclude) and the cells each rule excludes there."""
        r0, c0, h, w = window
        grid = self.grid
        acc = np.zeros((h, w), dtype=np.float32)
        parts: list[np.ndarray] = []  # OWA needs every criterion of the block at once
        for c in self.specs:
            # the criterion kinds of the whole grid (the slope of a 'raster' criterion from the rules' fields)
            raw = criterion_window(c, self.feats[c.name], grid, window, self.halo_of[c.name], self.rules.ctx.fields)
            if self.owa_weights is None:
                acc += np.float32(self.weights[c.name]) * transform(raw, c.transform)
            else:
                parts.append(transform(raw, c.transform))
        if self.owa_weights is not None:
            acc = wowa(np.stack(parts, axis=-1), np.array([self.weights[c.name] for c in self.specs]),
                       self.owa_weights).astype(np.float32)
        inner_grid = Grid(grid.transform @ grid.transform.translation(c0, r0), w, h, grid.res, grid.crs)
        allowed, got = self.rules.mask(grid=inner_grid, distance=_rule_distances(self.rules, grid, r0, c0, h, w))
        return np.where(allowed, acc, np.float32(NODATA)).astype(np.float32), got


def _rule_distances(rules: RuleSet, grid: Grid, r0: int, c0: int, h: int, w: int) -> dict[str, np.ndarray]:
    """Centre distance fields of the rule targets on one block, each computed on the block padded by
    the largest distance the rule mask reads (rule distance + one and a half cell diagonals), so they
    are exact wherever the mask uses them."""
    out: dict[str, np.ndarray] = {}
    reach: dict[str, float] = {}
    for r in rules:
        if r.kind == "distance":
            reach[r.target] = max(reach.get(r.target, 0.0), r.min_m)
    for target, min_m in reach.items():
        tg, tree = rules.ctx.target(target)
        if tree is None:
            continue
        hc = int(np.ceil((min_m + 2 * grid.res * np.sqrt(2.0)) / grid.res)) + 1
        pr0, pc0, ph, pw = r0 - hc, c0 - hc, h + 2 * hc, w + 2 * hc
        ptrans = grid.transform @ grid.transform.translation(pc0, pr0)
        bbox = shapely.box(ptrans.c, ptrans.f - ph * grid.res, ptrans.c + pw * grid.res, ptrans.f)
        idx = tree.query(bbox)
        if not len(idx):
            out[target] = np.full((h, w), np.inf, dtype=np.float32)
            continue
        mask = features.rasterize(((tg[i], 1) for i in idx), out_shape=(ph, pw), transform=ptrans, fill=0,
                                  all_touched=True, dtype="uint8").astype(bool)
        out[target] = distance_field(mask, grid.res)[hc:hc + h, hc:hc + w]
    return out
