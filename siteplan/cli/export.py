"""``siteplan export``: the vector outputs of a run folder as one styled GeoPackage (the rasters and a
QGIS project beside it), or every output layer and table into a PostGIS schema."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, log


@click.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--gpkg", type=click.Path(dir_okay=False, path_type=Path), default=None, help="GeoPackage to write.")
@click.option("--rasters/--no-rasters", default=True, show_default=True,
              help="Also copy suitability/*.tif into <gpkg name>_suitability/ beside the GeoPackage.")
@click.option("--project/--no-project", default=True, show_default=True,
              help="Also write the QGIS project <gpkg name>.qgz beside the GeoPackage.")
@click.option("--postgis", "postgis_url", metavar="URL", default=None,
              help="PostgreSQL/PostGIS connection URL (postgresql://user@host:5432/db; the password from "
                   "PGPASSWORD, ~/.pgpass or a pg_service.conf entry) to write every layer and table into.")
@click.option("--schema", default=None, help="The schema --postgis writes (made new, or an earlier export replaced).")
@click.option("--overwrite", is_flag=True,
              help="Replace an earlier siteplan export: the --gpkg file, its .qgz and rasters folder, or --schema. "
                   "A file, folder or schema siteplan did not write is refused even with it.")
@_guard
def export_cmd(*, run_dir: Path, gpkg: Path | None, rasters: bool, project: bool, postgis_url: str | None,
               schema: str | None, overwrite: bool) -> None:
    """Copy every vector layer of RUN_DIR (GeoJSON layers, the relocation points, the study area) into one
    GeoPackage (version 1.2, for QGIS and GDAL 3.6+) with each layer's style (QML and SLD, the report's
    colours), the suitability rasters into a folder beside it, and a QGIS project opening them styled;
    or, with --postgis and --schema, every layer and table into a PostGIS schema in one transaction.

    An existing --gpkg file, its .qgz or its rasters folder is refused, before anything is written; with
    --overwrite it is replaced only when an earlier siteplan export wrote it (its marker)."""
    if gpkg is None and postgis_url is None:
        raise click.UsageError("give --gpkg FILE.gpkg, or --postgis URL with --schema NAME")
    if (postgis_url is None) != (schema is None):
        raise click.UsageError("--postgis URL and --schema NAME go together")
    if gpkg is not None:
        from ..outputs.writer import export_gpkg

        names = export_gpkg(run_dir, gpkg, rasters=rasters, project=project, overwrite=overwrite)
        log.info("wrote %s with layers: %s", gpkg, ", ".join(names))
    if postgis_url is not None and schema is not None:
        from ..outputs.postgis import export_postgis
        from ..scenario import redact_url

        tables = export_postgis(run_dir, postgis_url, schema, overwrite=overwrite)
        log.info("wrote schema %s of %s: %s", schema, redact_url(postgis_url), ", ".join(tables))
