"""``siteplan export``: the vector outputs of a run folder as one GeoPackage, the rasters beside it."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, log


@click.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--gpkg", type=click.Path(dir_okay=False, path_type=Path), required=True, help="GeoPackage to write.")
@click.option("--rasters/--no-rasters", default=True, show_default=True,
              help="Also copy suitability/*.tif into <gpkg name>_suitability/ beside the GeoPackage.")
@_guard
def export_cmd(run_dir: Path, gpkg: Path, rasters: bool) -> None:
    """Copy every vector layer of RUN_DIR (GeoJSON layers and the relocation points) into one GeoPackage
    (version 1.2, for QGIS and GDAL 3.6+), and the suitability rasters into a folder beside it."""
    from ..outputs.writer import export_gpkg

    names = export_gpkg(run_dir, gpkg, rasters=rasters)
    log.info("wrote %s with layers: %s", gpkg, ", ".join(names))
