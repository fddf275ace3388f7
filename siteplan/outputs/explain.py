"""Explaining a place: which siting rules pass or fail there (with distances) and how each criterion
contributes to its suitability.

Two sources answer through the same code (:func:`_answer`): a prepared scenario (:func:`explain`) and a
finished run's ``explain/`` folder (:func:`explain_run`), which holds what the answer needs — each
category's rules and weights, the rule targets and the study area (WKB), the criterion rasters (raw
and transformed), the slope raster, the estates with their criterion means, usable land and
eligibility as the run computed them. This module imports no GDAL or geopandas, so that explaining
from a run takes well under a second.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from ..common.textnorm import to_ascii_digits
from ..errors import InputError
from ..grid import Grid
from ..rules.rulecheck import Rule, check_rules, slope_at

if TYPE_CHECKING:
    from ..results import Prepared
    from .stagecache import StageReuse

__all__ = ["Explanation", "ExplainSource", "explain", "explain_run", "parse_point", "write_explain_data",
           "EXPLAIN_DIR"]

#: the folder of a run that holds what ``siteplan explain RUN_DIR`` reads
EXPLAIN_DIR = "explain"
#: version of the ``explain/`` data format (a run of another version is refused with a clear message)
FORMAT = 1


@dataclass(frozen=True)
class Explanation:
    """Rules and criteria at one place for one category."""

    category: str
    where: str
    rules: pd.DataFrame
    criteria: pd.DataFrame
    score: float
    allowed: bool
    usable: str = ""
    estate_reasons: tuple[str, ...] = ()
    #: at a point: the routes to the estates within the reach, cheapest first (:func:`siteplan.relocation.roads.routes_from`)
    routes: pd.DataFrame | None = None
    #: how the routes are measured: ``road`` or ``straight``
    travel: str = "straight"

    def as_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready data (as ``siteplan explain --format json`` prints it).

        Returns
        -------
        dict
            ``category``, ``where``, ``allowed``, ``score`` (rounded to 6 decimals; ``None`` off the
            grid), ``estate_reasons``, and ``rules`` and ``criteria`` as lists of records (an infinite
            distance, no feature in the data, becomes ``None``).
        """
        return {"category": self.category, "where": self.where, "allowed": self.allowed,
                "score": round(self.score, 6) if np.isfinite(self.score) else None,
                "estate_reasons": list(self.estate_reasons),
                **({"travel": self.travel, "routes": json.loads(self.routes.to_json(orient="records"))}
                   if self.routes is not None else {}),
                "rules": json.loads(self.rules.replace([np.inf], None).to_json(orient="records")),
                "criteria": json.loads(self.criteria.to_json(orient="records"))}

    def lines(self) -> list[str]:
        """Human-readable lines."""
        verdict = "ALLOWED" if self.allowed else "EXCLUDED"
        if self.usable and self.allowed and not self.rules.passed.all():
            verdict = "ALLOWED on part of the estate"
        score = f"suitability {self.score:.3f}" if np.isfinite(self.score) else "no suitability (off the grid)"
        out = [f"{self.category} at {self.where}: {verdict}; {score}"] + ([self.usable] if self.usable else [])
        if self.estate_reasons:
            out += ["", "the estate cannot take this category (as in relocation):"]
            out += [f"  - {r}" for r in self.estate_reasons]
        out += ["", "rules (edge-to-edge distance to the nearest feature):"]
        for r in self.rules.itertuples():
            if r.group == "slope":
                act = "no DEM value" if not np.isfinite(r.actual_m) else f"{r.actual_m:.1f} %"
                need = f"at most {r.required_m:g} %"
            elif r.group == "study_area":
                act = "inside" if r.passed else f"outside by {r.actual_m:.1f} m"
                need = "inside"
            else:
                act = "none in the data" if not np.isfinite(r.actual_m) else f"{r.actual_m:.1f} m"
                need = f"{r.required_m:g} m"
            out.append(f"  {'pass' if r.passed else 'FAIL'}  {r.rule_id:28s} needs {need}, "
                       f"actual {act} — {r.description}")
        if self.routes is not None:
            if self.travel == "road":
                leg = float(self.routes["leg_km"].iat[0]) if len(self.routes) else float("nan")
                out += ["", "routes by road to the estates within reach (shortest km, fastest minutes; "
                        + (f"off-road leg {leg:.2f} km" if np.isfinite(leg) else "no estate within reach") + "):"]
                out += [f"  {r.estate_id:12s} {r.road_km:8.2f} km by road {r.minutes:7.1f} min   "
                        f"(straight {r.straight_km:.2f} km)" for r in self.routes.itertuples()]
            else:
                out += ["", "estates within reach in a straight line (no roads layer or distance: straight):"]
                out += [f"  {r.estate_id:12s} {r.straight_km:8.2f} km straight" for r in self.routes.itertuples()]
        out += ["", "criteria (raw value → transformed × weight = contribution):"]
        for c in self.criteria.itertuples():
            out.append(f"  {c.criterion:18s} {c.raw:14.2f} → {c.value:.3f} × {c.weight:.3f} = {c.contribution:.3f}")
        out.append(f"  {'total':18s} {'':14s}   {'':5s}   {'':5s}   {self.criteria.contribution.sum():.3f}")
        return out


def parse_point(text: str) -> tuple[float, float]:
    """Parse a point given as ``LON,LAT`` in degrees (``explain --at``).

    Parameters
    ----------
    text
        Two numbers separated by a comma; Persian or Arabic-Indic digits and the Arabic comma ``،``
        are accepted.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.

    Raises
    ------
    InputError
        Not two finite numbers, or a longitude beyond ±180° or a latitude beyond ±90°.

    Examples
    --------
    >>> parse_point("۵۱.۶۷،۳۲.۶۵")
    (51.67, 32.65)
    """
    try:
        lon, lat = (float(v) for v in to_ascii_digits(text).replace("،", ",").split(","))
    except ValueError:
        raise InputError(f"--at: {text!r} is not LON,LAT (e.g. --at 51.67,32.65)") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InputError(f"--at: {text!r} is not a place: longitude and latitude must be finite numbers "
                         "(e.g. --at 51.67,32.65)")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"--at: {text!r} is not a place: the longitude must be within ±180 and the latitude within "
                         "±90 degrees (LON,LAT order, e.g. --at 51.67,32.65)")
    return lon, lat



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
        except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as exc:
            raise _damaged(folder, exc) from None


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
        with np.load(folder / "geometry.npz", allow_pickle=False) as z:
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
        with np.load(self.folder / "rasters.npz", allow_pickle=False) as z:
            return [z[n] for n in names]

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

        with np.load(self.folder / "roads.npz", allow_pickle=False) as z:
            return network_from_arrays(dict(z), self.crs)

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
            with np.load(self.folder / "roads.npz", allow_pickle=False) as z:
                return routes_at(dict(z), point, facilities, ids, spec)
        except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as exc:
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
            except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as exc:
                raise _damaged(self.folder, exc) from None
            self.done = True
        return self.value


def _resolve(x: Any) -> Any:
    return x.get() if isinstance(x, _Deferred) else x


def explain(prep: Prepared, category: str, *, at: tuple[float, float] | None = None,
            estate: str | None = None) -> Explanation:
    """Explain one category at a point (lon, lat in degrees) or an estate of a prepared scenario.

    Parameters
    ----------
    prep
        :class:`siteplan.results.Prepared`.
    category
        Catalogue code.
    at
        (lon, lat) in EPSG:4326.
    estate
        An ``estate_id``.

    Returns
    -------
    Explanation

    Raises
    ------
    InputError
        Unknown category or estate, or neither/both of ``at`` and ``estate``.
    """
    return _answer(ExplainSource.from_prepared(prep), category, at=at, estate=estate)


def explain_run(run_dir: str | Path, category: str, *, at: tuple[float, float] | None = None,
                estate: str | None = None) -> Explanation:
    """:func:`explain` answered from a finished run's ``explain/`` folder: the same answer as on the
    scenario the run was made from, without recomputing anything.

    Parameters
    ----------
    run_dir
        The folder ``siteplan run`` wrote.
    category, at, estate
        As for :func:`explain`.

    Returns
    -------
    Explanation

    Raises
    ------
    InputError
        As :func:`explain`; and a folder without (readable) explain data.
    """
    return _answer(ExplainSource.load(run_dir), category, at=at, estate=estate)


def _to_working(at: tuple[float, float], crs: Any) -> BaseGeometry:
    """The point (lon, lat in EPSG:4326) in the working CRS."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(at[0], at[1])
    return Point(float(x), float(y))


def _routes(src: ExplainSource, point: BaseGeometry) -> pd.DataFrame | None:
    """The routes from a point to the estates within the reach (:func:`siteplan.relocation.roads.routes_from`):
    from the costs a run stored when it did, else routed on the network (or measured straight)."""
    if src.allocation is None or not src.estates:
        return None
    ids = list(src.estates)
    geoms = np.array([src.estates[e][1] for e in ids], dtype=object)
    got = src.routes(point, geoms, ids) if src.routes is not None else None
    if got is not None:
        return got
    from ..relocation.roads import routes_from

    return routes_from(_resolve(src.network), point, geoms, ids, _resolve(src.allocation))


def _answer(src: ExplainSource, category: str, *, at: tuple[float, float] | None = None,
            estate: str | None = None) -> Explanation:
    """The explanation from either source (:func:`explain`, :func:`explain_run`)."""
    if category not in src.weights:
        raise InputError(f"--category: '{category}' is not in scope (known: {', '.join(src.codes)})")
    if (at is None) == (estate is None):
        raise InputError("give exactly one of --at LON,LAT or --estate ID")
    if at is not None:
        geom: BaseGeometry = _to_working(at, src.crs)
        where = f"{at[0]:.6f}, {at[1]:.6f}"
    else:
        estate = str(estate)
        if estate not in src.estates:
            raise InputError(f"--estate: no estate with estate_id '{estate}' (e.g. {', '.join(list(src.estates)[:5])})")
        name, geom = src.estates[estate]
        where = f"estate {estate} ({name})"
    grid = src.grid
    rules = check_rules(src.rules[category], np.array([geom]), None, src.target, src.study_area,
                        lambda g: slope_at(src.slope, grid, g))
    rows = []
    for name, w in src.weights[category].items():
        if at is not None:
            r, col = grid.rowcol(np.array([geom.x]), np.array([geom.y]))
            if not (0 <= r[0] < grid.height and 0 <= col[0] < grid.width):
                raw = val = float("nan")  # off the grid: the study-area rule says why
            else:
                craw, cscore = src.criterion(name)
                raw, val = float(craw[r[0], col[0]]), float(cscore[r[0], col[0]])
        else:
            raw, val = src.estate_criterion(cast("str", estate), name)
        rows.append({"criterion": name, "raw": raw, "value": val, "weight": w, "contribution": w * val})
    crit = pd.DataFrame(rows)
    usable = ""
    allowed = bool(rules.passed.all())
    estate_why: tuple[str, ...] = ()
    if estate is not None:
        u = src.estate_facts(category, estate)
        usable = (f"usable land: {u.usable_ha:.2f} of {u.area_ha:.2f} ha satisfy every rule"
                  + (f" (binding: {u.binding}, removes {u.removed_ha:.2f} ha)" if u.binding else ""))
        allowed = u.eligible
        estate_why = tuple(x for x in u.reason.split("; ") if x)
    score = float(crit.contribution.sum()) if len(crit) else float("nan")
    routes = _routes(src, geom) if at is not None else None
    return Explanation(category, where, rules, crit, score, allowed, usable, estate_why, routes,
                       "road" if src.network is not None else "straight")


# ------------------------------------------------------------------------------------------------
# writing a run's explain data
# ------------------------------------------------------------------------------------------------

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
    from dataclasses import asdict

    from .formats import write_json, write_npz

    src = ExplainSource.from_prepared(prep)
    est = prep.region.layers["estates"]
    eids = [str(e) for e in est["estate_id"]]
    names = sorted({n for w in src.weights.values() for n in w})
    targets = sorted({r.target for rs in src.rules.values() for r in rs if r.kind == "distance"})
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
    meta = {
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
    folder.mkdir(parents=True, exist_ok=True)
    write_json(meta, folder / "explain.json")
    geo = {}
    for i, geoms in enumerate([np.array([src.study_area], dtype=object),
                               np.array([src.estates[e][1] for e in eids], dtype=object)]
                              + [src.target(k)[0] for k in targets]):
        geo[f"g{i}_wkb"], geo[f"g{i}_off"] = _wkb_arrays(geoms)
    write_npz(geo, folder / "geometry.npz")
    key = None
    if reuse is not None:
        import zlib

        key = reuse.rasters_file_key(names, src.slope)
        key = f"{key} zlib {zlib.ZLIB_RUNTIME_VERSION}" if key else None
    if not (reuse is not None and reuse.output(f"{EXPLAIN_DIR}/rasters.npz", key, folder / "rasters.npz")):
        ras: dict[str, np.ndarray] = {}
        for i, n in enumerate(names):
            ras[f"raw{i}"], ras[f"score{i}"] = src.criterion(n)
        if src.slope is not None:
            ras["slope"] = src.slope
        write_npz(ras, folder / "rasters.npz")
    written = [folder / "explain.json", folder / "geometry.npz", folder / "rasters.npz"]
    if src.network is not None:  # the road network and the estates' costs, for the routes explain prints
        write_npz(_road_arrays(src, eids, prep.scenario.allocation), folder / "roads.npz")
        written.append(folder / "roads.npz")
    return written


def _road_arrays(src: ExplainSource, eids: list[str], spec: Any) -> dict[str, np.ndarray]:
    """``explain/roads.npz``: the network (:func:`siteplan.relocation.roads.network_arrays`) and each estate's
    cost from every node, computed on the network as explain reads it back
    (:func:`.explain_routes.route_arrays`)."""
    from ..relocation.roads import network_arrays, network_from_arrays
    from .explain_routes import route_arrays

    arrays = network_arrays(src.network)
    net = network_from_arrays(arrays, src.crs)
    return {**arrays, **route_arrays(net, np.array([src.estates[e][1] for e in eids], dtype=object), spec)}
