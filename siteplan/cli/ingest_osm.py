"""``siteplan ingest-osm``: a region and a ready scenario from an OpenStreetMap extract."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, echo


@click.command("ingest-osm")
@click.argument("pbf", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True,
              help="Region folder to write (region.gpkg and scenario.yaml).")
@click.option("--boundary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Polygon file to clip the extract to (e.g. a province).")
@click.option("--overwrite", is_flag=True, help="Replace a region folder that a previous ingest-osm wrote.")
@_guard
def ingest_osm_cmd(pbf: Path, out: Path, boundary: Path | None, overwrite: bool) -> None:
    """Build a region and a ready scenario from an OpenStreetMap extract (PBF)."""
    from ..inputs.osm import ingest_osm

    rep = ingest_osm(pbf, out, boundary=boundary, overwrite=overwrite)
    for line in rep.lines():
        echo(line)
    echo(f"wrote {out / 'region.gpkg'} and {out / 'scenario.yaml'}")
