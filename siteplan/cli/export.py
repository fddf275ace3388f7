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
@click.option("--project/--no-project", default=True, show_default=True,
              help="Also write the QGIS project <gpkg name>.qgz beside the GeoPackage.")
@_guard
def export_cmd(run_dir: Path, gpkg: Path, rasters: bool, project: bool) -> None:
    """Copy every vector layer of RUN_DIR (GeoJSON layers, the relocation points, the study area) into one
    GeoPackage (version 1.2, for QGIS and GDAL 3.6+) with each layer's style (QML and SLD, the report's
    colours), the suitability rasters into a folder beside it, and a QGIS project opening them styled."""
    from ..outputs.writer import export_gpkg

    names = export_gpkg(run_dir, gpkg, rasters=rasters, project=project)
    log.info("wrote %s with layers: %s", gpkg, ", ".join(names))
