"""``siteplan ingest-osm``: a region and a ready scenario from an OpenStreetMap extract.

The command's work: the extract's points of interest mapped to guild categories with the catalogue's
OSM tags, the extract read (:func:`siteplan.inputs.osm.read_osm`), and the region folder written under
the output folder's rules (:class:`siteplan.outputs.outdir.OutputFolder`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._common import _guard, echo

if TYPE_CHECKING:
    import geopandas as gpd

    from ..guilds.catalogue import Catalogue
    from ..inputs.osm import IngestReport

__all__ = ["ingest_osm", "ingest_osm_cmd", "write_region"]


def ingest_osm(pbf: str | Path, out_dir: str | Path, *, boundary: str | Path | None = None,
               catalogue: Catalogue | None = None, overwrite: bool = False) -> IngestReport:
    """Build a region (``region.gpkg``) and a scenario (``scenario.yaml``) from an OSM extract.

    Parameters
    ----------
    pbf
        An ``.osm.pbf`` extract.
    out_dir
        Folder to write (replaced atomically when the ingest succeeds; the rules of
        :class:`siteplan.outputs.outdir.OutputFolder` apply: never a folder of inputs, locked, marked).
    boundary
        Optional polygon file: every layer is clipped to it and it becomes the ``boundary`` layer.
    catalogue
        Catalogue whose OSM tags map POIs to categories (default: the shipped one).
    overwrite
        Replace an existing ``out_dir`` that a previous ``ingest-osm`` wrote.

    Returns
    -------
    IngestReport

    Raises
    ------
    InputError
        Missing, truncated or non-PBF file; unreadable boundary; an output folder siteplan may not
        replace (see :class:`siteplan.outputs.outdir.OutputFolder`).
    """
    from ..errors import InputError
    from ..guilds.catalogue import load_catalogue
    from ..inputs.osm import check_pbf, read_osm
    from ..outputs.outdir import OutputFolder

    try:
        import pyrosm  # noqa: F401 - checked before any work; read_osm uses it
    except ImportError:
        raise InputError("ingest-osm needs the optional 'osm' extra: pip install 'siteplan[osm]'") from None
    pbf, out_dir = Path(pbf), Path(out_dir)
    check_pbf(pbf)
    inputs: dict[str, Path] = {"the OSM extract": pbf}
    if boundary is not None:
        inputs["the boundary"] = Path(boundary)
    # a rough lower bound of what is written: the extract's size (the region is a selection of it)
    with OutputFolder(out_dir, kind="ingest-osm", overwrite=overwrite, inputs=inputs,
                      estimate_bytes=(1 << 20) + pbf.stat().st_size) as folder:
        cat = catalogue or load_catalogue()
        osm_map = {t.lower(): r.code for r in cat.table.itertuples() for t in r.osm_tags}
        layers, rep = read_osm(pbf, osm_map, boundary)
        write_region(folder.stage, layers, pbf)
        return rep


def write_region(stage: Path, layers: dict[str, gpd.GeoDataFrame], pbf: Path) -> None:
    """``region.gpkg`` with every layer and a ready ``scenario.yaml`` (written with yaml.safe_dump:
    names from the extract stay data).

    Parameters
    ----------
    stage
        The folder to write into (the output folder's staging folder).
    layers
        Layer name to its features (:func:`siteplan.inputs.osm.read_osm`).
    pbf
        The extract, named in the scenario.
    """
    import yaml

    gpkg = stage / "region.gpkg"
    for name, g in layers.items():
        g.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
    spec: dict[str, dict[str, Any]] = {k: {"path": "region.gpkg", "layer": k} for k in layers}
    if layers["estates"].empty:
        spec["estates"]["allow_empty"] = True
    scenario = {
        "name": f"{pbf.name} (OpenStreetMap)",
        "description": f"Built by `siteplan ingest-osm` from {pbf.name}. OpenStreetMap data © OpenStreetMap "
                       "contributors (ODbL). Estates have no vacancy data: allocation assumes a vacant share "
                       "of their gross area (allocation.default_vacant_share) — review it.",
        "seed": 0, "grid": {"resolution_m": 100}, "layers": spec,
        "allocation": {"default_vacant_share": 0.2},
        "sites": {"count": 2, "min_area_ha": 5, "max_area_ha": 100, "min_spacing_km": 1,
                  "min_distance_from_estates_km": 0.5},
    }
    (stage / "scenario.yaml").write_text(
        "# siteplan scenario written by `siteplan ingest-osm`; edit and run `siteplan validate` on it.\n"
        + yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False), encoding="utf-8")


@click.command("ingest-osm")
@click.argument("pbf", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True,
              help="Region folder to write (region.gpkg and scenario.yaml).")
@click.option("--boundary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Polygon file to clip the extract to (e.g. a province).")
@click.option("--overwrite", is_flag=True, help="Replace a region folder that a previous ingest-osm wrote.")
@_guard
def ingest_osm_cmd(*, pbf: Path, out: Path, boundary: Path | None, overwrite: bool) -> None:
    """Build a region and a ready scenario from an OpenStreetMap extract (PBF)."""
    rep = ingest_osm(pbf, out, boundary=boundary, overwrite=overwrite)
    for line in rep.lines():
        echo(line)
    echo(f"wrote {out / 'region.gpkg'} and {out / 'scenario.yaml'}")
