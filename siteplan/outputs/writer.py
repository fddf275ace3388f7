"""The run writer: every file of a run folder (the CSVs, the GeoJSON layers, the suitability GeoTIFFs,
``plan.xlsx``, ``explain/``, the report and ``manifest.json``) written from a finished run's results. It
computes nothing: the tables come from :mod:`siteplan.programme.summaries`, the score deviations from
:mod:`siteplan.locate.deviations`; the formats are in :mod:`~siteplan.outputs.formats`,
:mod:`~siteplan.outputs.geoformats` and :mod:`~siteplan.outputs.gpkg`, the manifest in
:mod:`~siteplan.outputs.manifest`."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import rasterio

from ..common.atomic import atomic_path as atomic_path
from ..common.geom import to_rfc7946 as to_rfc7946
from ..common.parallel import threads
from ..common.units import M2_PER_HA
from .background import Background, old_objects_frozen
from .files import MARKER, unregistered
from .formats import FORMULA_PREFIXES as FORMULA_PREFIXES
from .formats import neutralise_formulas as neutralise_formulas
from .formats import safe_csv as safe_csv
from .formats import undo_defuse as undo_defuse
from .formats import write_csv as write_csv
from .formats import write_json as write_json
from .geoformats import write_geojson as write_geojson
from .geoformats import write_geotiff as write_geotiff
from .gisexport import export_gpkg as export_gpkg
from .gpkg import GPKG_VERSION as GPKG_VERSION
from .gpkg import gpkg_layers as gpkg_layers
from .gpkg import is_siteplan_gpkg as is_siteplan_gpkg
from .gpkg import write_gpkg as write_gpkg
from .manifest import run_manifest
from .manifest import sha256 as sha256
from .manifest import utc_now as utc_now
from .manifest import versions as versions

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..locate.deviations import ScoreDeviations
    from ..results import RunResult
    from .stagecache import StageReuse

__all__ = ["write_run", "estates_table", "write_geojson", "write_csv", "write_geotiff", "write_json", "sha256",
           "versions", "utc_now", "to_rfc7946", "export_gpkg", "is_siteplan_gpkg", "gpkg_layers", "undo_defuse",
           "write_gpkg", "GPKG_VERSION", "neutralise_formulas", "safe_csv", "FORMULA_PREFIXES"]


def estates_table(res: RunResult) -> gpd.GeoDataFrame:
    """estates.geojson: each estate with capacity used and left, and per category its eligibility,
    reason, score, rank and robustness."""
    est = res.prep.region.layers["estates"]
    keep = [c for c in ("estate_id", "name", "kind", "gross_ha", "vacant_ha", "max_cat") if c in est]
    out = est[[*keep, "geometry"]].copy()
    if out.empty:
        return gpd.GeoDataFrame(out, geometry="geometry", crs=est.crs)
    cap = res.plan.estate_summary.groupby("estate_id").agg(capacity_m2=("capacity_m2", "first"),
                                                            used_m2=("used_m2", "sum"),
                                                            units_in=("units", "sum"))
    out = out.merge(cap, left_on="estate_id", right_index=True, how="left")
    out["cap_ha"] = (out.pop("capacity_m2") / M2_PER_HA).round(4)
    out["used_ha"] = (out.pop("used_m2") / M2_PER_HA).round(4)
    out["left_ha"] = (out["cap_ha"] - out["used_ha"]).clip(lower=0).round(4)
    out["units_in"] = out["units_in"].fillna(0).astype(int)
    r = res.ranks.set_index(["estate_id", "category"])
    for code in res.prep.codes:
        sub = r.xs(code, level="category").reindex(out["estate_id"])
        out[f"elig_{code}"] = sub["eligible"].to_numpy()
        out[f"why_{code}"] = sub["reason"].to_numpy()
        out[f"score_{code}"] = sub["score"].to_numpy()
        out[f"rank_{code}"] = sub["rank"].to_numpy()
        out[f"prank_{code}"] = sub["p_rank"].to_numpy()
        out[f"oat_{code}"] = sub["oat_ranks"].to_numpy()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=est.crs)




def _raster_jobs(res: RunResult, out_dir: Path, reuse: StageReuse | None,
                 score_sd: ScoreDeviations | None) -> list[Callable[[], object]]:
    """The jobs writing ``suitability/<code>.tif`` (with ``outputs.suitability_tifs``) and, for each category of
    ``score_sd``, ``<code>_sd.tif``, then the ``explain/`` data, in that order (the order their stage keys are
    recorded in): each file copied from the ``--reuse`` run when its key is that run's
    (:meth:`siteplan.outputs.stagecache.StageReuse.output`), else encoded."""
    from .explain_data import EXPLAIN_DIR, write_explain_data

    jobs: list[Callable[[], object]] = []
    if res.prep.scenario.outputs.suitability_tifs:
        with_sd = set(score_sd.codes) if score_sd is not None else set()
        for code in res.prep.surfaces:
            jobs.append(functools.partial(_score_tif, res, code, out_dir, reuse))
            if score_sd is not None and code in with_sd:
                jobs.append(functools.partial(_sd_tif, score_sd, code, out_dir, reuse))
    # what `siteplan explain RUN_DIR` reads
    jobs.append(functools.partial(write_explain_data, res.prep, res.usable, res.elig, out_dir / EXPLAIN_DIR,
                                  reuse=reuse))
    return jobs


def _score_tif(res: RunResult, code: str, out_dir: Path, reuse: StageReuse | None) -> None:
    """``suitability/<code>.tif``: category ``code``'s suitability, excluded cells as nodata."""
    rel = f"suitability/{code}.tif"
    if reuse is not None and reuse.output(rel, reuse.surface_file_key(code, "score", rasterio.__gdal_version__),
                                          out_dir / rel):
        return
    write_geotiff(res.prep.surfaces[code].masked, res.prep.grid, out_dir / rel)


def _sd_tif(score_sd: ScoreDeviations, code: str, out_dir: Path, reuse: StageReuse | None) -> None:
    """``suitability/<code>_sd.tif``: category ``code``'s score deviation over the weights' sensitivity draws
    (:class:`siteplan.locate.deviations.ScoreDeviations`, asked for only when the file is not copied),
    excluded cells as nodata."""
    rel = f"suitability/{code}_sd.tif"
    if reuse is not None and reuse.output(rel, reuse.surface_file_key(code, "sd", rasterio.__gdal_version__,
                                                                      *score_sd.settings()), out_dir / rel):
        return
    write_geotiff(score_sd(code), score_sd.prep.grid, out_dir / rel)


def _needs_score_sd(res: RunResult) -> bool:
    """Whether the run's scenario asks for the score deviation rasters (GeoTIFFs and sensitivity draws)."""
    sc = res.prep.scenario
    return bool(sc.outputs.suitability_tifs and sc.sensitivity.draws > 0 and res.prep.surfaces)


def write_run(res: RunResult, out_dir: Path, *, scenario_file: Path | None = None,
              reuse: StageReuse | None = None, score_sd: ScoreDeviations | None = None) -> dict[str, str]:
    """Write every output file into ``out_dir`` (which must be empty or new); returns file hashes.

    Parameters
    ----------
    res
        The finished run.
    out_dir
        The folder to write into.
    scenario_file
        The scenario's file (its path and SHA-256 in the manifest).
    reuse
        The run's :class:`siteplan.outputs.stagecache.StageReuse`: each suitability GeoTIFF and
        ``explain/rasters.npz`` gets a key (the manifest's ``stages.files``) and, where the ``--reuse`` run
        recorded the same key, is copied from it (:meth:`~siteplan.outputs.stagecache.StageReuse.output`) instead
        of encoded: the same bytes either way.
    score_sd
        The run's score deviations (:func:`siteplan.locate.deviations.score_deviations`), written as
        ``suitability/<code>_sd.tif``; needed when the scenario has sensitivity draws and writes GeoTIFFs.

    Returns
    -------
    dict of str to str
        Each file's path in ``out_dir`` -> its SHA-256.

    Raises
    ------
    ValueError
        The scenario asks for the score deviation rasters and ``score_sd`` is None.
    """
    if score_sd is None and _needs_score_sd(res):
        raise ValueError("write_run: the scenario writes suitability/<code>_sd.tif (sensitivity.draws > 0): pass "
                         "score_sd=siteplan.locate.deviations.score_deviations(res.prep, res.seed)")
    with old_objects_frozen():
        return _write_run(res, out_dir, scenario_file=scenario_file, reuse=reuse, score_sd=score_sd)


#: threads writing a run's files: 2 (``plan.xlsx``, the GeoTIFFs and the explain data on a worker thread beside
#: the CSVs, GeoJSON and report, :class:`Background`), or 1 (one after the other); the same bytes either way.
#: The threads' ``warnings.catch_warnings`` (rasterio's, around every raster call) take turns
#: (:func:`siteplan.common.warnturns.warnings_serialized`): interleaved, a warning rasterio silences escaped once
WRITE_THREADS = 2  # and only where SITEPLAN_THREADS allows more than one (siteplan.common.parallel.threads)


def _write_run(res: RunResult, out_dir: Path, *, scenario_file: Path | None, reuse: StageReuse | None,
               score_sd: ScoreDeviations | None) -> dict[str, str]:
    """:func:`write_run` (inside :func:`old_objects_frozen`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()
    from ..programme.summaries import estate_totals, relocation_table
    from .workbook import write_workbook

    with Background(threaded=WRITE_THREADS > 1 and threads() > 1) as background:
        relocation, totals = relocation_table(res), estate_totals(res)  # in the CSVs and in plan.xlsx
        # the main tables in one workbook, for managers (its zip compression is most of its time)
        background.submit(functools.partial(write_workbook, res, out_dir / "plan.xlsx", relocation=relocation,
                                            estates=totals))
        for job in _raster_jobs(res, out_dir, reuse, score_sd):
            background.submit(job)
        _write_tables(res, out_dir, relocation, totals)
        background.then(functools.partial(_write_report, res, out_dir))
    res.timings["write"] = round(time.perf_counter() - t0, 3)
    res.timings_cpu["write"] = round(time.process_time() - c0, 3)
    hashes = {str(p.relative_to(out_dir)): sha256(p) for p in sorted(out_dir.rglob("*"))
              if p.is_file() and p.name != MARKER}
    stray = unregistered([Path(k).as_posix() for k in hashes])
    if stray:  # a bug, never a user's input: every file a run writes is on the one list
        raise RuntimeError(f"the run wrote {stray}, which siteplan.outputs.files.RUN_FILES does not list")
    write_json(run_manifest(res, scenario_file, hashes), out_dir / "manifest.json")
    return hashes


def _write_report(res: RunResult, out_dir: Path) -> None:
    """``report.html``, with ``outputs.report``."""
    if res.prep.scenario.outputs.report:
        from ..report import build_report

        build_report(res, out_dir / "report.html")


def _write_tables(res: RunResult, out_dir: Path, relocation: pd.DataFrame, totals: pd.DataFrame) -> None:
    """The CSVs and the GeoJSON layers (``relocation``, ``totals``: the run's relocation table and estate
    totals, :mod:`siteplan.programme.summaries`)."""
    from ..guilds.decide import review_table
    from ..programme import summaries as t

    bom = res.prep.scenario.outputs.csv_bom
    write_csv(relocation, out_dir / "relocation.csv", bom=bom)
    write_csv(t.estate_category_table(res), out_dir / "estate_summary.csv", bom=bom)
    write_csv(totals, out_dir / "estates.csv", bom=bom)
    for name, df in (("upgrades.csv", res.upgrades), ("options.csv", res.options)):
        if df is not None:
            write_csv(df, out_dir / name, bom=bom)
    write_csv(review_table(res.prep.businesses, res.prep.catalogue), out_dir / "review.csv", bom=bom)
    towns = t.origins(res)  # each business's origin town, for flows.csv and towns.csv
    write_csv(t.flows_table(res, towns=towns), out_dir / "flows.csv", bom=bom)
    write_geojson(t.flow_lines(res), out_dir / "flows.geojson")
    for by, name in (("town", "towns.csv"), ("county", "counties.csv")):
        origins = t.origin_table(res, by, towns=towns)
        if origins is not None:
            write_csv(origins, out_dir / name, bom=bom)
    write_geojson(estates_table(res), out_dir / "estates.geojson")
    for name, gdf in (("zones", res.zones), ("sites", res.sites), ("clusters", res.clusters), ("plots", res.plots)):
        if gdf is not None:
            write_geojson(gdf, out_dir / f"{name}.geojson")
    for name, df in _programme_tables(res):
        write_csv(df, out_dir / name, bom=bom)


def _programme_tables(res: RunResult) -> list[tuple[str, pd.DataFrame]]:
    """The programme's CSVs (``impact``, ``feasibility``, ``chains``, ``phases``) and ``reletting.csv``, those
    the run has, in that order."""
    out: list[tuple[str, pd.DataFrame]] = []
    if res.programme is not None:
        out += [("impact.csv", res.programme.impact), ("feasibility.csv", res.programme.feasibility),
                ("chains.csv", res.programme.chains)]
        if getattr(res.programme, "phasing", None) is not None:
            out.append(("phases.csv", res.programme.phasing.table))
    if res.reletting is not None and len(res.reletting):
        out.append(("reletting.csv", res.reletting))
    return out
