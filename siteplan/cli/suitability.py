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
@_guard
def suitability(scenario: Path, category: str, out: Path, blockwise: bool) -> None:
    """Write one category's suitability surface as a GeoTIFF (nodata where excluded)."""
    from ..pipeline import write_suitability

    written = write_suitability(scenario, category, out, blockwise=blockwise)
    log.info("%s", written.summary())
