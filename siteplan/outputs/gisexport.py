"""``siteplan export``: a run folder's vector outputs in one styled GeoPackage, its suitability rasters in a
folder beside it and a QGIS project opening them, each replacing only what an earlier export wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .gpkg import gpkg_layers, is_siteplan_gpkg, write_gpkg

if TYPE_CHECKING:
    from collections.abc import Callable

    import geopandas as gpd

__all__ = ["export_gpkg"]


def _report_language(run_dir: Path) -> str:
    """The run's report language (``both``, ``fa`` or ``en``) from its manifest."""
    try:
        m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        lang = str(((m.get("scenario") or {}).get("report") or {}).get("language", "both"))
    except (OSError, ValueError, AttributeError):
        return "both"
    return lang if lang in ("both", "fa", "en") else "both"


def _category_names(layers: list[tuple[str, gpd.GeoDataFrame]]) -> dict[str, tuple[str, str]]:
    """Category code -> (Persian, English) name, as the zones and relocation layers carry them."""
    out: dict[str, tuple[str, str]] = {}
    for name, g in layers:
        if name in ("zones", "plots") and {"category", "name_fa", "name_en"} <= set(g.columns):
            for c, fa, en in zip(g["category"], g["name_fa"], g["name_en"]):
                if isinstance(c, str) and c not in out:
                    out[c] = (str(fa) if isinstance(fa, str) and fa else c, str(en) if isinstance(en, str) and en else c)
        if name == "relocation" and {"category", "category_fa"} <= set(g.columns):
            for c, fa in zip(g["category"], g["category_fa"]):
                if isinstance(c, str) and c and c not in out:
                    out[c] = (str(fa) if isinstance(fa, str) and fa else c, c)
    return out


def _project(run_dir: Path, gpkg: Path, qgz: Path, layers: list[tuple[str, gpd.GeoDataFrame]],
             tifs: list[Path], folder_name: str, lang: str) -> None:
    """Write the QGIS project ``qgz`` beside ``gpkg`` (:func:`siteplan.outputs.qgsproject.write_project`)."""
    from ..report.styles import TITLES
    from .gisstyle import label
    from .qgsproject import write_project

    try:
        m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        crs, title = m.get("crs") or "EPSG:4326", str((m.get("scenario") or {}).get("name") or "siteplan")
    except (OSError, ValueError, AttributeError):
        crs, title = "EPSG:4326", "siteplan"
    sa = dict(layers).get("study_area")
    extent = tuple(sa.to_crs(crs).total_bounds) if sa is not None and len(sa) else None
    names = _category_names(layers)
    rasters = []
    for t in tifs:
        code = t.stem.removesuffix("_sd")
        fa, en = names.get(code, (code, code))
        if t.stem.endswith("_sd"):
            fa, en = f"{fa} (انحراف معیار تناسب)", f"{en} (suitability SD)"
        rasters.append((f"siteplan_suit_{t.stem}", f"{folder_name}/{t.name}", label((fa, en), lang), t))
    write_project(qgz, gpkg.name, layers, rasters, crs, extent, lang,
                  f"siteplan — {title}: {label(TITLES['estates'], lang)}")


def _check_replace(target: Path, option: str, ours: Callable[[Path], bool], *, overwrite: bool) -> None:
    """Refuse an existing ``target`` unless ``overwrite`` and it is siteplan's own export (``ours``)."""
    from ..errors import InputError

    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_file():
        raise InputError(f"{option} {target}: exists and is not a file siteplan export wrote; siteplan never "
                         "replaces it: choose another name")
    if not ours(target):
        raise InputError(f"{option} {target}: exists and siteplan export did not write it (no siteplan marker); "
                         "siteplan never replaces a file it did not write, even with --overwrite: choose another name")
    if not overwrite:
        raise InputError(f"{option} {target}: exists (an earlier siteplan export): choose another name, or pass "
                         "--overwrite to replace it")


def _stale_rasters(folder: Path, *, overwrite: bool) -> bool:
    """Whether ``folder`` is an earlier export's rasters folder that this export (writing no rasters) removes:
    only with ``overwrite`` and only when it holds nothing but what that export recorded (else refused: the
    package must not hold another run's rasters); a folder no export wrote is left alone."""
    from ..errors import InputError
    from .marker import foreign_files, written_by

    if not folder.exists():
        return False
    kind, files = written_by(folder)
    if kind != "export":  # the user's own folder of that name: not the package's, left as it is
        return False
    if overwrite and not foreign_files(folder, files):
        return True
    why = "holds files siteplan did not write" if overwrite else "pass --overwrite to remove it"
    raise InputError(f"{folder}: an earlier export's rasters folder ({why}); this export writes no rasters, and "
                     "its package must not hold another run's: move the folder away or choose another --gpkg name")


def export_gpkg(run_dir: str | Path, gpkg: str | Path, *, rasters: bool = True, project: bool = True,
                overwrite: bool = False) -> list[str]:
    """Copy every vector output of a run folder into one GeoPackage (for QGIS) with each layer's style,
    the suitability rasters into a folder beside it, and a QGIS project opening them styled.

    Layers: every ``*.geojson`` of the run (estates, zones, sites, clusters, flows, plots when
    written), ``relocation`` (a point per business from ``relocation.csv``, every column kept) and
    ``study_area``, in EPSG:4326 as in the run folder, at GeoPackage version :data:`GPKG_VERSION`, with
    the same column types in every layer (:func:`column_types`). Each layer's style (the report's
    colours, classes and legend labels, :mod:`siteplan.report.styles`) is in QGIS's ``layer_styles`` table,
    as QML and SLD (:mod:`siteplan.outputs.gisstyle`).

    Parameters
    ----------
    run_dir
        A folder ``siteplan run`` wrote.
    gpkg
        The GeoPackage to write; it replaces ``gpkg`` only once complete. Refused, before anything is
        read, when it is inside ``run_dir`` or is one of the run's inputs recorded in its manifest
        (:func:`siteplan.outputs.outfile.check_output_file`).
    rasters
        Also copy ``suitability/*.tif`` into ``<gpkg stem>_suitability/`` next to ``gpkg``: a folder of
        siteplan's own with the rules of an output folder (:class:`siteplan.outputs.outdir.OutputFolder`): made
        new, or replaced only when it holds nothing but the rasters an earlier export recorded in its
        marker; anything else there (a DEM, notes, a viewer's ``.aux.xml``) is refused, never deleted.
    project
        Also write ``<gpkg stem>.qgz`` beside ``gpkg``: a QGIS project with the layers styled and grouped
        as in the report, the suitability rasters with the report's colour ramp and the study area as
        the initial extent (the same rules as ``gpkg``: never an input, never inside ``run_dir``).
    overwrite
        Replace an existing ``gpkg``, ``.qgz`` and rasters folder, each only when siteplan's export wrote
        it (its marker: :func:`is_siteplan_gpkg`, :func:`siteplan.outputs.qgsproject.is_siteplan_qgz`, the
        folder's ``.siteplan-run``). Without it an existing one is refused; a file or folder siteplan
        did not write is refused even with it. Every refusal comes before anything is written.

    Returns
    -------
    list of str
        The layer names written (and ``<folder>/<file>.tif`` for each raster copied).

    Raises
    ------
    InputError
        ``run_dir`` is not a folder ``siteplan run`` wrote; ``gpkg`` would replace an input or lies inside
        ``run_dir``; the rasters folder holds files siteplan did not write, or an input; ``gpkg`` or the
        ``.qgz`` exists and is not siteplan's export, or is without ``overwrite``.
    """
    import shutil

    from ..errors import InputError
    from .marker import require_run_folder, written_by
    from .outdir import OutputFolder
    from .outfile import check_output_file, run_inputs

    run_dir = Path(run_dir)
    gpkg = Path(gpkg)
    require_run_folder(run_dir)
    inputs = run_inputs(run_dir)
    check_output_file(gpkg, inputs, option="--gpkg", folders={"the run folder": run_dir})
    qgz = gpkg.with_suffix(".qgz")
    if project:
        check_output_file(qgz, inputs, option=f"--gpkg {gpkg}: its QGIS project", folders={"the run folder": run_dir})
    from .qgsproject import is_siteplan_qgz

    _check_replace(gpkg, "--gpkg", is_siteplan_gpkg, overwrite=overwrite)
    if project:
        _check_replace(qgz, f"--gpkg {gpkg}: its QGIS project", is_siteplan_qgz, overwrite=overwrite)
    layers = gpkg_layers(run_dir)
    listed = written_by(run_dir)[1] or set()
    missing = sorted(f for f in listed if ((f.endswith(".geojson") and "/" not in f) or f == "relocation.csv")
                     and not (run_dir / f).is_file())
    if missing:
        raise InputError(f"{run_dir}: {', '.join(missing)} missing, though siteplan wrote "
                         f"{'it' if len(missing) == 1 else 'them'} there; the folder is incomplete: run the "
                         "scenario again to rebuild it")
    if not layers:
        raise InputError(f"{run_dir}: holds no layer to export (no *.geojson, no relocation.csv): give the "
                         "folder a finished `siteplan run` wrote")
    from .gisstyle import styles_table

    lang = _report_language(run_dir)
    styles = styles_table(layers, lang)
    tifs = sorted((run_dir / "suitability").glob("*.tif")) if rasters else []
    folder = gpkg.with_name(gpkg.stem + "_suitability")
    if not tifs:
        stale = _stale_rasters(folder, overwrite=overwrite)
        names = write_gpkg(layers, gpkg, styles=styles, marker=True)
        if project:
            _project(run_dir, gpkg, qgz, layers, [], folder.name, lang)
            names.append(qgz.name)
        if stale:  # an earlier export's rasters beside a GeoPackage of another run would mix the two
            shutil.rmtree(folder)
        return names
    with OutputFolder(folder, kind="export", overwrite=overwrite, inputs={**inputs, "the run folder": run_dir},
                      option=f"--gpkg {gpkg}: its rasters folder") as out:
        names = write_gpkg(layers, gpkg, styles=styles, marker=True)
        for t in tifs:
            shutil.copy2(t, out.stage / t.name)
            names.append(f"{folder.name}/{t.name}")
        if project:
            _project(run_dir, gpkg, qgz, layers, tifs, folder.name, lang)
            names.append(qgz.name)
    return names


