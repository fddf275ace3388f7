"""A run's ``explain/`` folder written (:func:`write_explain_data`): what ``siteplan explain RUN_DIR`` reads
back (:class:`siteplan.outputs.explain_source.ExplainSource`) to answer as on the scenario, without recomputing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from .explain_source import EXPLAIN_DIR, FORMAT, ExplainSource

if TYPE_CHECKING:
    from ..results import Prepared
    from .stagecache import StageReuse

__all__ = ["EXPLAIN_DIR", "write_explain_data"]


def _wkb_arrays(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Geometries as one byte array of their WKB and the offsets of each."""
    blobs = [bytes(b) for b in shapely.to_wkb(np.asarray(geoms, dtype=object))] if len(geoms) else []
    off = np.zeros(len(blobs) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(b) for b in blobs]) if blobs else []
    return np.frombuffer(b"".join(blobs), dtype=np.uint8), off


def write_explain_data(prep: Prepared, usable: pd.DataFrame, elig: pd.DataFrame, folder: Path, *,
                       reuse: StageReuse | None = None) -> list[Path]:
    """Write what :func:`explain_run` reads into ``folder`` (the run's ``explain/``).

    ``explain.json`` (format, CRS, grid, each category's rules and weights, the estates with their
    criterion means, usable land and eligibility as the run computed them), ``geometry.npz`` (the study
    area, the estates and every rule target, WKB) and ``rasters.npz`` (each weighted criterion's raw and
    transformed raster, the slope raster).

    Parameters
    ----------
    prep
        The prepared run.
    usable, elig
        The run's usable land and eligibility (:func:`siteplan.pipeline.plan_inputs`).
    folder
        Where to write.
    reuse
        The run's stage keys and ``--reuse`` source: ``rasters.npz`` is copied from the source run when it
        recorded the same key for it (:meth:`siteplan.outputs.stagecache.StageReuse.output`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from .formats import write_json, write_npz

    src = ExplainSource.from_prepared(prep)
    eids = [str(e) for e in prep.region.layers["estates"]["estate_id"]]
    names = sorted({n for w in src.weights.values() for n in w})
    targets = sorted({r.target for rs in src.rules.values() for r in rs if r.kind == "distance"})
    folder.mkdir(parents=True, exist_ok=True)
    write_json(_meta(prep, src, eids, names, targets, _facts(src, eids, usable, elig)), folder / "explain.json")
    geo = {}
    for i, geoms in enumerate([np.array([src.study_area], dtype=object),
                               np.array([src.estates[e][1] for e in eids], dtype=object)]
                              + [src.target(k)[0] for k in targets]):
        geo[f"g{i}_wkb"], geo[f"g{i}_off"] = _wkb_arrays(geoms)
    write_npz(geo, folder / "geometry.npz")
    _write_rasters(src, names, folder, reuse)
    written = [folder / "explain.json", folder / "geometry.npz", folder / "rasters.npz"]
    if src.network is not None:  # the road network and the estates' costs, for the routes explain prints
        write_npz(_road_arrays(src, eids, prep.scenario.allocation), folder / "roads.npz")
        written.append(folder / "roads.npz")
    return written


def _facts(src: ExplainSource, eids: list[str], usable: pd.DataFrame, elig: pd.DataFrame
           ) -> dict[str, dict[str, dict[str, Any]]]:
    """Category -> estate -> its usable land and eligibility as the run computed them (``usable``, ``elig``);
    a pair the run did not compute is computed as explain on the scenario computes it."""
    u = {(str(c), str(e)): {"usable_ha": float(uh), "area_ha": float(ah), "binding": str(b), "removed_ha": float(rh)}
         for c, e, uh, ah, b, rh in zip(usable["category"], usable["estate_id"], usable["usable_ha"],
                                        usable["area_ha"], usable["binding"], usable["removed_ha"])}
    el = {(str(c), str(e)): {"eligible": bool(ok), "reason": str(r)}
          for c, e, ok, r in zip(elig["category"], elig["estate_id"], elig["eligible"], elig["reason"])}
    facts: dict[str, dict[str, dict[str, Any]]] = {}
    for code in src.codes:
        facts[code] = {}
        for eid in eids:
            fu = u.get((code, eid))
            if fu is None:  # as explain on the scenario computes it
                f0 = src.estate_facts(code, eid)
                fu = {"usable_ha": f0.usable_ha, "area_ha": f0.area_ha, "binding": f0.binding,
                      "removed_ha": f0.removed_ha}
            facts[code][eid] = fu | el[(code, eid)]
    return facts


def _meta(prep: Prepared, src: ExplainSource, eids: list[str], names: list[str], targets: list[str],
          facts: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """``explain.json``: the format, CRS, grid, each category's rules and weights, the estates with their
    criterion means, ``facts`` (:func:`_facts`) and the travel settings."""
    from dataclasses import asdict

    return {
        "format": FORMAT,
        "crs": prep.region.crs.to_wkt(),
        "grid": {"transform": list(prep.grid.transform)[:6], "width": prep.grid.width, "height": prep.grid.height,
                 "res": prep.grid.res},
        "codes": src.codes,
        "categories": {code: {"rules": [asdict(r) for r in src.rules[code]],
                              "weights": [[n, w] for n, w in src.weights[code].items()]} for code in src.codes},
        "targets": targets,
        "criteria": names,
        "slope": src.slope is not None,
        "estates": [{"estate_id": e, "name": src.estates[e][0]} for e in eids],
        "estate_criteria": {e: {n: list(src.estate_criterion(e, n)) for n in names} for e in eids},
        "facts": facts,
        "travel": {"max_distance_km": prep.scenario.allocation.max_distance_km,
                   "reach_min": prep.scenario.allocation.reach_min},
    }


def _write_rasters(src: ExplainSource, names: list[str], folder: Path, reuse: StageReuse | None) -> None:
    """``rasters.npz``: each weighted criterion's raw and transformed raster and the slope raster, copied from
    the ``--reuse`` run when it recorded the same key for it."""
    from .formats import write_npz

    key = None
    if reuse is not None:
        import zlib

        key = reuse.rasters_file_key(names, src.slope)
        key = f"{key} zlib {zlib.ZLIB_RUNTIME_VERSION}" if key else None
    if reuse is not None and reuse.output(f"{EXPLAIN_DIR}/rasters.npz", key, folder / "rasters.npz"):
        return
    ras: dict[str, np.ndarray] = {}
    for i, n in enumerate(names):
        ras[f"raw{i}"], ras[f"score{i}"] = src.criterion(n)
    if src.slope is not None:
        ras["slope"] = src.slope
    write_npz(ras, folder / "rasters.npz")


def _road_arrays(src: ExplainSource, eids: list[str], spec: Any) -> dict[str, np.ndarray]:
    """``explain/roads.npz``: the network (:func:`siteplan.relocation.roads.network_arrays`) and each estate's
    cost from every node, computed on the network as explain reads it back
    (:func:`.explain_routes.route_arrays`)."""
    from ..relocation.roads import network_arrays, network_from_arrays
    from .explain_routes import route_arrays

    arrays = network_arrays(src.network)
    net = network_from_arrays(arrays, src.crs)
    return {**arrays, **route_arrays(net, np.array([src.estates[e][1] for e in eids], dtype=object), spec)}
