"""Where an explanation reads from (:class:`ExplainSource`): a prepared scenario, or a finished run's
``explain/`` folder read back lazily (no GDAL or geopandas imported, so explaining from a run is fast)."""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..errors import InputError
from ..grid import Grid
from ..rules.rulecheck import Rule

if TYPE_CHECKING:
    from ..results import Prepared

__all__ = ["EXPLAIN_DIR", "FORMAT", "EstateFacts", "ExplainSource", "resolve"]

#: the folder of a run that holds what ``siteplan explain RUN_DIR`` reads
EXPLAIN_DIR = "explain"
#: version of the ``explain/`` data format (a run of another version is refused with a clear message)
FORMAT = 1


#: what reading damaged or incomplete explain data raises (said as :func:`_damaged`)
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile)


@dataclass(frozen=True)
class EstateFacts:
    """What relocation decided about one (estate, category): its usable land and eligibility."""

    usable_ha: float
    area_ha: float
    binding: str
    removed_ha: float
    eligible: bool
    reason: str


@dataclass(frozen=True)
class ExplainSource:
    """Everything an explanation reads, from a prepared scenario (:meth:`from_prepared`) or from a
    finished run's ``explain/`` folder (:meth:`load`).

    Attributes
    ----------
    crs
        The working CRS (a ``pyproj.CRS``).
    grid
        The suitability grid.
    codes
        The categories in scope.
    rules
        Each category's siting rules.
    weights
        Each category's criterion weights (criterion name to weight, in the surface's order).
    target
        Rule target key to its geometries and their STRtree (None when there are none).
    study_area
        The study area (working CRS).
    slope
        The slope raster (%), or None without a DEM.
    criterion
        Criterion name to its raw and transformed rasters.
    estates
        ``estate_id`` to its name and geometry (working CRS), in the layer's order.
    estate_criterion
        (estate_id, criterion name) to the criterion's raw and transformed means over the estate.
    estate_facts
        (category, estate_id) to the estate's usable land and eligibility for the category.
    """

    crs: Any
    grid: Grid
    codes: list[str]
    rules: Mapping[str, tuple[Rule, ...]]
    weights: Mapping[str, Mapping[str, float]]
    target: Callable[[str], tuple[np.ndarray, shapely.STRtree | None]]
    study_area: BaseGeometry
    slope: np.ndarray | None
    criterion: Callable[[str], tuple[np.ndarray, np.ndarray]]
    estates: Mapping[str, tuple[str, BaseGeometry]]
    estate_criterion: Callable[[str, str], tuple[float, float]]
    estate_facts: Callable[[str, str], EstateFacts]
    network: Any = None
    allocation: Any = None
    #: a point's routes from what a run stored (point, estates' geometries, ids → the routes table, or None
    #: when it stored none): :meth:`_Stored.routes`
    routes: Callable[[BaseGeometry, np.ndarray, list[str]], pd.DataFrame | None] | None = None

    @classmethod
    def from_prepared(cls, prep: Prepared) -> ExplainSource:
        """The source of a prepared scenario (estate facts computed as relocation computes them)."""
        from ..scoring.suitability import zonal_mean, zone_cells

        p = prep
        est = p.region.layers["estates"]
        estates = {str(e): (str(n), g) for e, n, g in zip(est["estate_id"], est["name"], est.geometry.values)}
        by_name = {c.spec.name: c for c in p.crit}
        ctx = next(iter(p.rules.values())).ctx if p.rules else None

        def target(key: str) -> tuple[np.ndarray, shapely.STRtree | None]:
            assert ctx is not None
            return ctx.target(key)

        def crit(name: str) -> tuple[np.ndarray, np.ndarray]:
            return by_name[name].raw, by_name[name].score

        cells: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

        def estate_crit(eid: str, name: str) -> tuple[float, float]:
            g = np.array([estates[eid][1]])
            if eid not in cells:
                cells[eid] = zone_cells(g, p.grid)
            raw, score = crit(name)
            return (float(zonal_mean(raw, g, p.grid, cells[eid])[0]),
                    float(zonal_mean(score, g, p.grid, cells[eid])[0]))

        def facts(code: str, eid: str) -> EstateFacts:
            # the same answer relocation uses: estate kind, max_cat, utilities and usable land
            from ..rules.reservations import estate_reservations
            from ..rules.ruleset import eligibility, usable_land

            sel = est[est["estate_id"].astype(str) == eid]
            one = {code: p.rules[code]}
            u_all = usable_land(sel, one)
            u = u_all.iloc[0]
            # every reservation is checked against the whole estates layer (one naming another estate is
            # valid), then only this estate's is applied
            reserved = estate_reservations(p.scenario, est, p.catalogue)
            el = eligibility(sel, one, u_all, p.scenario.allocation.accepted_kinds, reserved).iloc[0]
            return EstateFacts(float(u.usable_ha), float(u.area_ha), str(u.binding), float(u.removed_ha),
                               bool(el.eligible), str(el.reason))

        study = ctx.study_area if ctx is not None else p.region.study_area
        from ..relocation.roads import scenario_network

        return cls(p.region.crs, p.grid, list(p.codes), {c: p.rules[c].rules for c in p.surfaces},
                   {c: dict(s.weights) for c, s in p.surfaces.items()}, target, study,
                   p.cache.slope, crit, estates, estate_crit, facts, scenario_network(p), p.scenario.allocation)

    @classmethod
    def load(cls, run_dir: str | Path) -> ExplainSource:
        """The source saved in a finished run's ``explain/`` folder (:func:`write_explain_data`).

        Raises
        ------
        InputError
            The folder holds no ``explain/`` data (a run of an older version, or not a run), or data
            of another format version, or damaged data.
        """
        folder = Path(run_dir) / EXPLAIN_DIR
        meta = _read_meta(Path(run_dir), folder)
        try:
            return _Stored(folder, meta).source()
        except _UNREADABLE as exc:
            raise _damaged(folder, exc) from None


@contextlib.contextmanager
def _npz(path: Path) -> Iterator[Any]:
    """``np.load`` of a ``.npz`` without pickles, its file closed whatever happens (numpy leaves the file of a
    damaged archive open)."""
    with path.open("rb") as fh:
        try:
            z = np.load(fh, allow_pickle=False)
        except (ValueError, EOFError, OSError, zipfile.BadZipFile):  # empty, cut short, not an archive at all
            raise ValueError(f"{path.name} is not a readable .npz archive") from None
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError(f"{path.name} is not a .npz archive")  # noqa: TRY004 - the callers say: damaged
        with z:
            yield z


def _damaged(folder: Path, exc: Exception) -> InputError:
    """The error of explain data that cannot be read."""
    return InputError(f"{folder}: the explain data is damaged or incomplete ({type(exc).__name__}: {exc}); "
                      "rerun the scenario")


def _read_meta(run_dir: Path, folder: Path) -> dict[str, Any]:
    """``explain/explain.json`` of a run folder, checked for its format.

    Raises
    ------
    InputError
        No such folder, no explain data, another format, or damaged JSON.
    """
    meta_file = folder / "explain.json"
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run folder")
    if not meta_file.is_file():
        raise InputError(f"{run_dir}: no {EXPLAIN_DIR}/explain.json in this folder (not a siteplan run, or one "
                         "written by a version without it); rerun the scenario, or give the scenario YAML "
                         "instead of the run folder")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        fmt = meta.get("format")
    except (OSError, ValueError, AttributeError) as exc:
        raise _damaged(folder, exc) from None
    if fmt != FORMAT:
        raise InputError(f"{meta_file}: explain data of format {fmt!r}, this siteplan reads "
                         f"format {FORMAT}; rerun the scenario with this version")
    return cast("dict[str, Any]", meta)


class _Stored:
    """A run's explain data read into an :class:`ExplainSource` (the arrays are read on first use)."""

    def __init__(self, folder: Path, meta: dict[str, Any]) -> None:
        from affine import Affine
        from pyproj import CRS

        self.folder, self.meta = folder, meta
        with _npz(folder / "geometry.npz") as z:
            self.geo = {k: z[k] for k in z.files}
        a, b, c, d, e, f = (float(v) for v in meta["grid"]["transform"])
        self.crs = CRS.from_wkt(meta["crs"])
        self.grid = Grid(Affine(a, b, c, d, e, f), int(meta["grid"]["width"]), int(meta["grid"]["height"]),
                         float(meta["grid"]["res"]), self.crs)
        travel = meta.get("travel") or {}
        if not isinstance(travel, dict):
            raise TypeError(f"travel is {type(travel).__name__}")
        self.travel = {k: v for k, v in travel.items() if k in ("max_distance_km", "reach_min")}
        self.tkeys = {str(k): i for i, k in enumerate(meta["targets"])}
        self.cnames = {str(n): i for i, n in enumerate(meta["criteria"])}
        self.targets: dict[str, tuple[np.ndarray, shapely.STRtree | None]] = {}

    def wkb(self, i: int) -> np.ndarray:
        """The ``i``-th geometry array of ``geometry.npz``."""
        data, off = self.geo[f"g{i}_wkb"], self.geo[f"g{i}_off"]
        return np.asarray(shapely.from_wkb([data[off[k]:off[k + 1]].tobytes() for k in range(len(off) - 1)]),
                          dtype=object)

    def target(self, key: str) -> tuple[np.ndarray, shapely.STRtree | None]:
        """A rule target's geometries and their index."""
        if key not in self.targets:
            tg = self.wkb(2 + self.tkeys[key]) if key in self.tkeys else np.array([], dtype=object)
            self.targets[key] = (tg, shapely.STRtree(tg) if len(tg) else None)
        return self.targets[key]

    def raster(self, *names: str) -> list[np.ndarray]:
        """Arrays of ``rasters.npz`` (only those asked for are read: the file holds every criterion)."""
        try:
            with _npz(self.folder / "rasters.npz") as z:
                return [z[n] for n in names]
        except _UNREADABLE as exc:
            raise _damaged(self.folder, exc) from None

    def criterion(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A criterion's raw and transformed rasters."""
        i = self.cnames[name]
        raw, score = self.raster(f"raw{i}", f"score{i}")
        return raw, score

    def estate_criterion(self, eid: str, name: str) -> tuple[float, float]:
        """An estate's raw and transformed means of a criterion."""
        raw, val = self.meta["estate_criteria"][eid][name]
        return float(raw), float(val)

    def facts(self, code: str, eid: str) -> EstateFacts:
        """An estate's usable land and eligibility for a category."""
        r = self.meta["facts"][code][eid]
        return EstateFacts(float(r["usable_ha"]), float(r["area_ha"]), str(r["binding"]), float(r["removed_ha"]),
                           bool(r["eligible"]), str(r["reason"]))

    def spec(self) -> Any:
        """The travel settings as the allocation model (only a point's routes on the network read it: the
        scenario model is slow to import)."""
        from ..scenario import AllocationSpec

        return AllocationSpec(**self.travel)

    def network(self) -> Any:
        """The road network (only a point's routes read it: the relocation package is slow to import)."""
        from ..relocation.roads import network_from_arrays

        try:
            with _npz(self.folder / "roads.npz") as z:
                return network_from_arrays(dict(z), self.crs)
        except _UNREADABLE as exc:
            raise _damaged(self.folder, exc) from None

    def routes(self, point: BaseGeometry, facilities: np.ndarray, ids: list[str]) -> pd.DataFrame | None:
        """A point's routes from the estates' costs the run stored (:func:`.explain_routes.routes_at`),
        or None when it stored none for them."""
        from types import SimpleNamespace

        from .explain_routes import routes_at

        spec = SimpleNamespace(reach_min=self.travel.get("reach_min"),
                               max_distance_km=self.travel.get("max_distance_km"))
        if spec.max_distance_km is None:
            return None
        try:
            with _npz(self.folder / "roads.npz") as z:
                return routes_at(dict(z), point, facilities, ids, spec)
        except _UNREADABLE as exc:
            raise _damaged(self.folder, exc) from None

    def source(self) -> ExplainSource:
        """The explanation source."""
        meta = self.meta
        cats = meta["categories"]
        est_geoms = self.wkb(1)
        has_roads = (self.folder / "roads.npz").is_file()
        return ExplainSource(
            self.crs, self.grid, [str(c) for c in meta["codes"]],
            {code: tuple(Rule(**r) for r in cats[code]["rules"]) for code in meta["codes"]},
            {code: {str(n): float(w) for n, w in cats[code]["weights"]} for code in meta["codes"]},
            self.target, self.wkb(0)[0], self.raster("slope")[0] if meta.get("slope") else None, self.criterion,
            {str(r["estate_id"]): (str(r["name"]), g) for r, g in zip(meta["estates"], est_geoms)},
            self.estate_criterion, self.facts, _Deferred(self.network, self.folder) if has_roads else None,
            _Deferred(self.spec, self.folder), self.routes if has_roads else None)


class _Deferred:
    """A part of a run's explain data made only when an answer needs it (a point's routes): an estate's
    answer then imports neither the relocation package nor the scenario model."""

    def __init__(self, make: Callable[[], Any], folder: Path) -> None:
        self.make, self.folder, self.value, self.done = make, folder, None, False

    def get(self) -> Any:
        if not self.done:
            try:
                self.value = self.make()
            except _UNREADABLE as exc:
                raise _damaged(self.folder, exc) from None
            self.done = True
        return self.value


def resolve(x: Any) -> Any:
    """``x``, or the value it stands for when it is a deferred part of a run's explain data."""
    return x.get() if isinstance(x, _Deferred) else x
