"""Suitability on grids beyond memory, chunk by chunk on Dask, written as a Cloud-Optimized GeoTIFF.

The grid is cut into square chunks; each chunk is one task that computes the category's surface on
the chunk padded by each criterion's and rule's halo (:class:`siteplan.scoring.blockwise.BlockPlan`): a
feature farther than the halo cannot change a cell's value, so every chunk is exact, and the chunks
together are the whole-grid surface (the argument and its test are :mod:`siteplan.scoring.blockwise`'s). The
halos are the chunks' overlap: a chunk reads the features within its padded window, not its
neighbours' cells, so no chunk waits for another.

Memory. A worker holds one chunk's padded arrays at a time: about 8 × (chunk + 2 × halo)² bytes per
array, a few arrays at once; with 2,048-cell chunks and the demo's longest criterion (40 km) at 30 m
(a halo of 1,335 cells), about 180 MB per array, under 1 GB per worker. The process that writes holds
at most ``2 × workers`` finished chunks (4 × chunk² bytes each) while the GeoTIFF is written window by
window; the COG is then made from it by GDAL, which reads by blocks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.windows import Window

from ..common.atomic import atomic_path
from ..errors import InputError
from ..progress import count_bar, show_bars
from ..scoring.blockwise import BlockPlan, tiff_profile
from ..scoring.suitability import category_weights

if TYPE_CHECKING:
    from ..results import Prepared

log = logging.getLogger(__name__)

__all__ = ["write_surface_cog", "write_suitability_cog", "chunk_windows", "surface_plan", "surface_array"]

Window4 = tuple[int, int, int, int]


def chunk_windows(height: int, width: int, chunk: int) -> list[Window4]:
    """The chunks of a grid, row by row: ``(row, col, height, width)``."""
    return [(r0, c0, min(chunk, height - r0), min(chunk, width - c0))
            for r0 in range(0, height, chunk) for c0 in range(0, width, chunk)]


def _sequential(plan: BlockPlan, windows: list[Window4]) -> Iterator[tuple[Window4, tuple[np.ndarray, dict[str, int]]]]:
    for w in windows:
        yield w, plan.block(w)


def _on_dask(plan: BlockPlan, windows: list[Window4], workers: int, scheduler: str | None, *,
             processes: bool) -> Iterator[tuple[Window4, tuple[np.ndarray, dict[str, int]]]]:
    from distributed import Client, as_completed

    from .cluster import local_cluster

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = local_cluster(workers, processes=processes)
        client = Client(cluster)
    try:
        n = max(1, len(client.scheduler_info().get("workers", {})))
        shared = client.scatter(plan, broadcast=True)
        todo = list(enumerate(windows))
        pending = as_completed()
        where: dict[Any, Window4] = {}

        def submit() -> None:
            i, w = todo.pop(0)
            fut = client.submit(BlockPlan.block, shared, w, key=f"siteplan-chunk-{i}", pure=False)
            where[fut] = w
            pending.add(fut)

        for _ in range(min(2 * n, len(todo))):  # at most 2 chunks per worker in flight: bounded memory
            submit()
        for fut in pending:
            w = where.pop(fut)
            yield w, fut.result()
            fut.release()
            if todo:
                submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def surface_plan(prep: Prepared, category: str) -> BlockPlan:
    """What every chunk of one category's surface needs (criteria, weights, rules, the features they read).

    Raises
    ------
    InputError
        ``category`` is not in the catalogue.
    """
    if category not in prep.rules:
        raise InputError(f"--category: '{category}' is not in the catalogue")
    weights = category_weights(prep.criteria_specs, prep.scenario, category)
    from ..scoring.criteria import criteria_layers

    # criteria read the classified businesses (the linked-trades defaults), as the whole-grid path does
    return BlockPlan.build(prep.criteria_specs, weights, prep.rules[category],
                           criteria_layers(prep.region.layers, prep.businesses), prep.scenario, prep.grid)


def surface_array(prep: Prepared, category: str, *, chunk: int = 2048) -> Any:
    """One category's surface as a lazy ``dask.array`` (float32, -9999 where excluded), chunk by chunk.

    Each chunk is one task computing :meth:`siteplan.scoring.blockwise.BlockPlan.block` on its window (the
    overlap is the halo of each criterion and rule, read from the features, not from the neighbouring
    chunks' cells, so no chunk depends on another); the plan is one shared node of the graph. For use
    with xarray, xarray-spatial or ``dask.array`` pipelines; :func:`write_surface_cog` writes the same
    values to a COG with bounded memory.

    Parameters
    ----------
    prep
        The scenario prepared without in-memory surfaces; for a national scenario, prepare
        ``scenario.national_study()`` so that the study area is its partitions (else the layers' extent,
        and the sea and neighbouring countries are scored as land).
    category
        Catalogue code.
    chunk
        Chunk size in cells.

    Returns
    -------
    dask.array.Array
        Shape ``(grid.height, grid.width)``, row 0 at the north, the grid's transform.
    """
    import dask.array as da
    from dask.delayed import delayed

    plan = delayed(surface_plan(prep, category), pure=True, traverse=False)
    grid = prep.grid
    windows = chunk_windows(grid.height, grid.width, chunk)
    cols = len(range(0, grid.width, chunk))

    def values(p: BlockPlan, window: Window4) -> np.ndarray:
        return p.block(window)[0]

    tiles = [da.from_delayed(delayed(values, pure=True)(plan, w), shape=(w[2], w[3]), dtype=np.float32)
             for w in windows]
    return da.block([tiles[i:i + cols] for i in range(0, len(tiles), cols)])


def write_surface_cog(prep: Prepared, category: str, out: str | Path, *, chunk: int = 2048, workers: int = 0,
                      scheduler: str | None = None, processes: bool = True) -> dict[str, int]:
    """Write one category's suitability as a Cloud-Optimized GeoTIFF, chunk by chunk (on Dask).

    Parameters
    ----------
    prep
        The scenario prepared without in-memory surfaces (``prepare(scenario, with_surfaces=False)``).
    category
        Catalogue code.
    out
        The COG (float32, 512-cell tiles, DEFLATE, overviews, nodata -9999); replaced only once complete.
    chunk
        Chunk size in cells.
    workers, scheduler, processes
        As for national runs: 0 computes the chunks here one after another; N a LocalCluster of N
        workers; ``scheduler`` an existing cluster.

    Returns
    -------
    dict
        Cells excluded by each rule.

    Notes
    -----
    Values are those of :func:`siteplan.scoring.blockwise.suitability_blockwise` (the same blocks' arithmetic,
    tested equal); the file's bytes do not depend on the chunk order or on who computed the chunks.
    """
    plan = surface_plan(prep, category)
    grid = prep.grid
    windows = chunk_windows(grid.height, grid.width, chunk)
    if (workers > 0 or scheduler):
        from .runner import dask_available

        if not dask_available():
            log.warning("dask.distributed is not installed (pip install 'siteplan[dask]'); computing the chunks here")
            workers, scheduler = 0, None
    chunks = _sequential(plan, windows) if workers <= 0 and not scheduler else _on_dask(
        plan, windows, workers, scheduler, processes=processes)
    counts = {r.rule_id: 0 for r in plan.rules}
    bars = show_bars()
    with atomic_path(out) as final, count_bar(len(windows), f"suitability {category}", "chunk") as advance:
        tiles = final.with_name(final.name + ".tiles.tif")
        try:
            with rasterio.open(tiles, "w", **tiff_profile(grid)) as dst:
                for k, ((r0, c0, h, w), (values, got)) in enumerate(chunks):
                    dst.write(values, 1, window=Window(c0, r0, w, h))
                    for rule, v in got.items():
                        counts[rule] += v
                    advance(1)
                    if not bars and ((k + 1) % 16 == 0 or k + 1 == len(windows)):
                        log.info("suitability %s: %d of %d chunks", category, k + 1, len(windows))
            rasterio.shutil.copy(tiles, final, driver="COG", COMPRESS="DEFLATE", PREDICTOR="FLOATING_POINT",
                                 BLOCKSIZE="512", BIGTIFF="IF_SAFER", NUM_THREADS="1")
        finally:
            tiles.unlink(missing_ok=True)
    return counts


def write_suitability_cog(path: str | Path, category: str, out: str | Path, *, chunk: int = 2048, workers: int = 0,
                          scheduler: str | None = None) -> dict[str, int]:
    """``siteplan suitability SCENARIO --category C --out F.tif --cog``: read the scenario, refuse an
    ``out`` that is one of its inputs (before any heavy work), and write the COG (:func:`write_surface_cog`)."""
    from ..checks import refuse_provincial_list
    from ..outputs.outfile import check_output_file
    from ..pipeline import prepare, scenario_input_paths
    from ..scenario import load_scenario

    scenario = load_scenario(path)
    refuse_provincial_list(scenario)
    check_output_file(out, scenario_input_paths(scenario, Path(path)))
    scenario = scenario.national_study().model_copy(update={"categories": [category]})
    prep = prepare(scenario, with_surfaces=False)
    return write_surface_cog(prep, category, out, chunk=chunk, workers=workers, scheduler=scheduler)
