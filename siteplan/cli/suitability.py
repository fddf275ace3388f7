"""``siteplan suitability``: one category's suitability surface as a GeoTIFF."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, log


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--category", required=True, help="Category code (see `siteplan catalogue`).")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="GeoTIFF to write.")
@click.option("--blockwise", is_flag=True, help="Compute block by block with bounded memory (very large grids).")
@click.option("--cog", is_flag=True, help="Chunk by chunk (as --blockwise), optionally on Dask, into a "
                                          "Cloud-Optimized GeoTIFF.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="With --cog: a Dask LocalCluster of N workers (0: here).")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="With --cog: an existing Dask cluster.")
@click.option("--chunk", type=click.IntRange(min=256), default=None,
              help="With --cog: chunk size in cells (default 2048; smaller: less memory per worker, more overlap "
                   "recomputed).")
@_guard
def suitability(scenario: Path, category: str, out: Path, blockwise: bool, cog: bool, workers: int,
                scheduler: str | None, chunk: int | None) -> None:
    """Write one category's suitability surface as a GeoTIFF (nodata where excluded)."""
    from ..pipeline import write_suitability

    if (workers or scheduler or chunk) and not cog:
        raise click.UsageError("--workers, --scheduler and --chunk go with --cog")
    if cog:
        from ..national.raster import write_suitability_cog

        counts = write_suitability_cog(scenario, category, out, workers=workers, scheduler=scheduler,
                                       chunk=chunk or 2048)
        log.info("wrote %s (Cloud-Optimized GeoTIFF); cells excluded per rule: %s", out, counts)
        return

    written = write_suitability(scenario, category, out, blockwise=blockwise)
    log.info("%s", written.summary())
