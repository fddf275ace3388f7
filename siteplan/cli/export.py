"""``siteplan export``: the GeoJSON layers of a run folder as one GeoPackage."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, log


@click.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--gpkg", type=click.Path(dir_okay=False, path_type=Path), required=True, help="GeoPackage to write.")
@_guard
def export_cmd(run_dir: Path, gpkg: Path) -> None:
    """Copy every GeoJSON layer of RUN_DIR into one GeoPackage (for QGIS)."""
    from ..export import export_gpkg

    names = export_gpkg(run_dir, gpkg)
    log.info("wrote %s with layers: %s", gpkg, ", ".join(names))
