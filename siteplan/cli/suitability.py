"""``siteplan suitability``: one category's suitability surface as a GeoTIFF (:func:`write_suitability`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from ._common import _guard, log

__all__ = ["SurfaceFile", "suitability", "write_suitability"]


@dataclass(frozen=True)
class SurfaceFile:
    """A suitability GeoTIFF written by :func:`write_suitability`.

    Attributes
    ----------
    path
        The file, as given.
    width, height
        The grid in cells.
    allowed
        Share of cells the rules allow (whole-grid path), else None.
    excluded
        Cells excluded by each rule (blockwise path), else None.
    """

    path: Path
    width: int
    height: int
    allowed: float | None = None
    excluded: dict[str, int] | None = None

    def summary(self) -> str:
        """One line saying what was written."""
        if self.excluded is not None:
            return (f"wrote {self.path} ({self.width} × {self.height}, blockwise); cells excluded per rule: "
                    f"{self.excluded}")
        return f"wrote {self.path} ({self.width} × {self.height}, {100 * (self.allowed or 0.0):.1f} % of cells allowed)"


def write_suitability(path: str | Path, category: str, out: str | Path, *, blockwise: bool = False) -> SurfaceFile:
    """Write one category's suitability surface as a GeoTIFF (nodata where the rules exclude).

    Parameters
    ----------
    path
        Scenario YAML.
    category
        Catalogue code; the scenario's scope is narrowed to it.
    out
        GeoTIFF to write; refused when it is one of the scenario's inputs
        (:func:`siteplan.outputs.outfile.check_output_file`), checked before any heavy work.
    blockwise
        Compute block by block with bounded memory (:func:`siteplan.scoring.blockwise.write_category_surface`),
        for grids too large for memory.

    Returns
    -------
    SurfaceFile

    Raises
    ------
    InputError
        ``out`` is an input; the category is not in the catalogue; the rules exclude the whole study
        area (whole-grid path); any problem of the scenario.
    """
    from ..errors import InputError
    from ..outputs.outfile import check_output_file
    from ..outputs.writer import write_geotiff
    from ..pipeline import prepare, scenario_input_paths
    from ..scenario import load_scenario

    scenario = load_scenario(path)
    check_output_file(out, scenario_input_paths(scenario, Path(path)))
    scenario = scenario.national_study()  # a national scenario: its partitions are the study area
    if category:  # said as the option's problem, before anything is read (not as the scenario's categories[0])
        from ..common.vocab import did_you_mean
        from ..guilds.catalogue import scenario_catalogue

        codes = list(scenario_catalogue(scenario).codes)
        if category not in codes:
            raise InputError(f"--category: '{category}' is not a catalogue category (known: {', '.join(codes)})"
                             + did_you_mean(category, codes))
    scenario = scenario.model_copy(update={"categories": [category]}) if category else scenario
    if blockwise:
        from ..scoring.blockwise import write_category_surface

        prep = prepare(scenario, with_surfaces=False)
        counts = write_category_surface(prep, category, out)
        return SurfaceFile(Path(out), prep.grid.width, prep.grid.height, excluded=counts)
    prep = prepare(scenario)
    surface = prep.surfaces.get(category)
    if surface is None:
        raise InputError(f"--category: '{category}' is not in the catalogue")
    if not surface.allowed.any():
        raise InputError(f"{category}: the siting rules exclude the whole study area; binding rules: "
                         f"{', '.join(surface.binding_rules())}")
    write_geotiff(surface.masked, prep.grid, out)
    return SurfaceFile(Path(out), prep.grid.width, prep.grid.height, allowed=float(surface.allowed.mean()))


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
def suitability(*, scenario: Path, category: str, out: Path, blockwise: bool, cog: bool, workers: int,
                scheduler: str | None, chunk: int | None) -> None:
    """Write one category's suitability surface as a GeoTIFF (nodata where excluded)."""
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
