"""Running a scenario end to end: load → classify → score → allocate → zone → locate → write.

Stages exchange plain data; this module composes them and owns the order, the timings, the
warnings and the atomic write of the whole run folder (everything is written into a staging folder
that replaces ``--out`` only when the run succeeds; see :mod:`siteplan.outdir`).
"""

from __future__ import annotations

import logging
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import __version__
from .clusters import find_clusters
from .criteria import FieldCache, Grid, default_criteria
from .errors import InputError, SiteplanWarning
from .export import sha256, utc_now, versions, write_csv, write_geojson, write_geotiff, write_json
from .guild_relocation import Plan, allocate, estate_capacity
from .guilds import Catalogue, classify, load_catalogue
from .locate import estate_closeness, grow_regions, rank_estates, regions_to_polygons, site_feasibility
from .region import Region, load_region
from .scenario import MAX_GRID_CELLS, Scenario, check_scenario_data, check_seed, load_scenario
from .suitability import (Surface, criterion_layers, oat_sweep, rank_acceptability, score_sd, score_sd_mc, surfaces,
                          zonal_mean, zone_scores_of)
from .rules import RuleSet, compile_rulesets, eligibility, usable_land
from .zoning import zone_estates

log = logging.getLogger(__name__)

__all__ = ["RunResult", "run", "run_scenario_file", "prepare", "demo_scenario_path", "Prepared"]

OUTPUT_FILES = ("report.html", "relocation.csv", "estates.geojson", "zones.geojson", "sites.geojson",
                "clusters.geojson", "manifest.json")


def demo_scenario_path() -> Path:
    """The embedded demo scenario: ``data/demo.yaml`` of the checkout, installed as the package
    ``siteplan.demo`` (so an installed wheel has it too)."""
    from importlib import resources

    p = Path(str(resources.files("siteplan.demo").joinpath("demo.yaml")))
    if not p.is_file():
        raise InputError(f"the demo scenario {p} is missing from this installation; reinstall siteplan "
                         "(pip install --force-reinstall siteplan) or run it from a source checkout")
    return p


class _Timer:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        log.info("stage %s …", name)
        t0 = time.perf_counter()
        yield
        self.times[name] = round(time.perf_counter() - t0, 3)
        log.info("stage %s done in %.2f s", name, self.times[name])


@dataclass
class Prepared:
    """Everything up to suitability: what the explain and suitability commands need too."""

    scenario: Scenario
    region: Region
    catalogue: Catalogue
    businesses: gpd.GeoDataFrame
    codes: list[str]
    rules: dict[str, RuleSet]
    grid: Grid
    cache: FieldCache
    surfaces: dict[str, Surface]
    crit: list[Any]
    warnings: list[str] = field(default_factory=list)
    criteria_specs: list[Any] = field(default_factory=list)


@dataclass
class RunResult:
    """A finished run: inputs, intermediate tables and outputs (what the report shows)."""

    prep: Prepared
    usable: pd.DataFrame
    elig: pd.DataFrame
    capacity: pd.DataFrame
    scores: pd.DataFrame
    ranks: pd.DataFrame
    plan: Plan
    zones: gpd.GeoDataFrame
    shortfall: pd.DataFrame
    sites: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    site_failures: list[str]
    timings: dict[str, float]
    seed: int
    warnings: list[str]
    plots: gpd.GeoDataFrame | None = None
    site_choice: dict[str, object] = field(default_factory=dict)


def _scope(scenario: Scenario, catalogue: Catalogue) -> list[str]:
    if scenario.categories == "all":
        return catalogue.codes
    bad = [f"categories[{i}]: '{c}' is not a catalogue category (known: {', '.join(catalogue.codes)})"
           for i, c in enumerate(scenario.categories) if c not in catalogue]
    if bad:
        raise InputError(bad)
    return list(scenario.categories)


def prepare(scenario: Scenario, timer: _Timer | None = None, *, with_surfaces: bool = True) -> Prepared:
    """Load, classify, compile rules and compute the suitability surfaces.

    Parameters
    ----------
    scenario
        A validated scenario.
    timer
        Optional stage timer.
    with_surfaces
        False to stop before the in-memory criterion layers and surfaces (for the blockwise path on
        grids too large to hold); ``crit`` and ``surfaces`` are then empty.

    Returns
    -------
    Prepared
    """
    timer = timer or _Timer()
    warns: list[str] = []
    with timer.stage("load"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SiteplanWarning)
            region = load_region(scenario)
        warns.extend(region.warnings)
        cat = load_catalogue(scenario.resolve(scenario.catalogue.path) if scenario.catalogue.path else None,
                             overrides=scenario.catalogue.overrides, add=scenario.catalogue.add)
        check_scenario_data(scenario, region, cat, whole_grid=with_surfaces)  # as `siteplan validate` does
        codes = _scope(scenario, cat)
    with timer.stage("classify"):
        biz = classify(region.layers["businesses"], cat)
        n_un = int(biz["category"].isna().sum())
        if n_un:
            ids = ", ".join(biz.loc[biz["category"].isna(), "biz_id"].astype(str).head(15))
            warns.append(f"businesses: {n_un} could not be classified (ids: {ids}{' …' if n_un > 15 else ''}); "
                         "they are listed in relocation.csv as unassigned with the reason")
        out_scope = biz["category"].notna() & ~biz["category"].isin(codes)
        if out_scope.any():
            warns.append(f"businesses: {int(out_scope.sum())} belong to categories outside the scenario's scope; "
                         "they are listed as unassigned ('category not in scope')")
        biz.loc[out_scope, "class_note"] = "category not in scope: " + biz.loc[out_scope, "category"].astype(str)
        biz.loc[out_scope, "category"] = None
        biz = gpd.GeoDataFrame(biz, geometry="geometry", crs=region.crs)
    layers = dict(region.layers)
    with timer.stage("rules"):
        rules = compile_rulesets(cat, scenario, layers, region.study_area, codes=codes)
    with timer.stage("suitability"):
        grid = Grid.covering(region.study_area, scenario.grid.resolution_m, region.crs)
        if with_surfaces and grid.width * grid.height > MAX_GRID_CELLS:
            raise InputError(f"grid.resolution_m: {scenario.grid.resolution_m:g} m gives a {grid.width}×{grid.height} "
                             "grid, too large for a whole run in memory; use a coarser resolution, or "
                             "`siteplan suitability --blockwise` for one category's surface")
        log.info("grid %d × %d cells of %g m", grid.width, grid.height, grid.res)
        cache = FieldCache(grid)
        if "dem" in scenario.layers:
            from .criteria import slope_percent

            cache.slope = slope_percent(str(scenario.resolve(scenario.layers["dem"].path)), grid)
            if np.isnan(cache.slope).any():
                warns.append(f"dem: no elevation for {np.isnan(cache.slope).mean():.1%} of the grid; "
                             "the slope rule does not exclude those cells")
        for rs in rules.values():
            rs.ctx.fields = cache  # one context shared by every category: slope and distance fields
        specs = scenario.criteria if scenario.criteria is not None else default_criteria(cat, layers)
        usable_specs = []
        for s in specs:
            if s.layer not in layers and not (s.kind == "raster" and cache.slope is not None):
                warns.append(f"criterion '{s.name}' skipped: the scenario has no '{s.layer}' layer")
                continue
            usable_specs.append(s)
        if not usable_specs:
            raise InputError("criteria: no criterion can be evaluated with the scenario's layers")
        if not with_surfaces:
            return Prepared(scenario, region, cat, biz, codes, rules, grid, cache, {}, [], warns, usable_specs)
        crit = criterion_layers(usable_specs, layers, grid, cache)
        surf = surfaces(codes, crit, rules, scenario, layers, cache)
        for code, s in surf.items():
            if not s.allowed.any():
                warns.append(f"suitability {code}: the siting rules exclude the whole study area; binding rules: "
                             f"{', '.join(s.binding_rules()) or 'none'}")
    return Prepared(scenario, region, cat, biz, codes, rules, grid, cache, surf, crit, warns, usable_specs)


def run(scenario: Scenario, *, seed: int | None = None) -> RunResult:
    """Run every stage of a scenario (no files written; see :func:`write_outputs`).

    Parameters
    ----------
    scenario
        A validated scenario.
    seed
        Overrides the scenario's seed.

    Returns
    -------
    RunResult
    """
    timer = _Timer()
    seed = scenario.seed if seed is None else seed
    check_seed(seed)  # before any work (NumPy refuses a negative seed only at the last stage)
    prep = prepare(scenario, timer)
    sc = scenario
    layers = prep.region.layers
    estates = layers["estates"]
    warns = list(prep.warnings)
    with timer.stage("estates"):
        scores = []
        for code, s in prep.surfaces.items():
            m = zonal_mean(s.score, estates.geometry.values, prep.grid)
            scores.append(pd.DataFrame({"estate_id": estates["estate_id"].to_numpy(), "category": code,
                                        "score": np.round(m, 6)}))
        scores_df = pd.concat(scores, ignore_index=True)
        usable = usable_land(estates, prep.rules)
        elig = eligibility(estates, prep.rules, usable, sc.allocation.accepted_kinds)
        capacity = estate_capacity(estates, layers.get("plots"), sc.allocation.net_to_gross,
                                   sc.allocation.default_vacant_share)
        assumed = int((capacity["capacity_from"] == "assumed share").sum())
        if assumed:
            warns.append(f"estates: {assumed} without vacant_ha; assumed {sc.allocation.default_vacant_share:.0%} of "
                         "their gross area is vacant (allocation.default_vacant_share) — an assumption to review")
        if len(estates) == 0:
            warns.append("estates: the scenario has no existing estate; every business is unassigned and new "
                         "sites are proposed for all the demand")
    with timer.stage("clusters"):
        biz = prep.businesses
        ok = biz["category"].notna()
        cid, clusters = find_clusters(biz[ok], prep.catalogue, eps_m=sc.clusters.eps_m,
                                      min_samples=sc.clusters.min_samples)
        biz = biz.copy()
        if "cluster_id" not in biz or not sc.allocation.keep_clusters_together:
            biz["cluster_id"] = None
            biz.loc[ok, "cluster_id"] = cid
    with timer.stage("allocate"):
        plan = allocate(biz, estates, prep.catalogue, elig, capacity, scores_df, sc.allocation)
        if plan.solver["gap"] > 0:
            log.info("relocation gap to the LP bound: %.4f %%", 100 * float(plan.solver["gap"]))
    with timer.stage("zoning"):
        demand = plan.rows[plan.rows.status == "assigned"].groupby(["estate_id", "category"]).agg(
            land_m2=("land_m2", "sum"), units=("biz_id", "size")).reset_index()
        zones, short = zone_estates(estates, demand, prep.catalogue, prep.rules, layers, sc, usable)
        for r in short.itertuples():
            warns.append(f"zoning {r.estate_id}: {r.category} is short of {r.short_ha:g} ha of land far enough "
                         f"from homes (binding: {r.rule})")
        plots = None
        if sc.zoning.plots:
            from .zoning import plots_for_zones

            plots = plots_for_zones(zones, prep.catalogue, strip_m=sc.zoning.strip_m)
            counts = plots.groupby("zone_id").size()
            zones["plots"] = zones["zone_id"].map(counts).fillna(0).astype(int)
            few = zones[zones["plots"] < zones["units"]]
            for z in few.itertuples():
                warns.append(f"plots {z.zone_id}: {z.plots} plots of the category's size fit for {z.units} units")
        zmap = {(z.estate_id, z.category): z.zone_id for z in zones.itertuples()}
        plan.rows["zone_id"] = [zmap.get((e, c)) if s == "assigned" else None
                                for e, c, s in zip(plan.rows.estate_id, plan.rows.category, plan.rows.status)]
    with timer.stage("locate"):
        sites, failures, site_choice = _new_sites(prep, plan, estates, sc)
        warns.extend(f"new sites: {f}" for f in failures)
        ranks = rank_estates(elig, scores_df, capacity)
        ranks = _robustness(ranks, prep, sc, seed)
    return RunResult(prep, usable, elig, capacity, scores_df, ranks, plan, zones, short, sites, clusters,
                     failures, timer.times, seed, warns, plots, site_choice)


def _robustness(ranks: pd.DataFrame, prep: Prepared, sc: Scenario, seed: int) -> pd.DataFrame:
    """Add ``p_rank``: the Monte Carlo probability that an estate keeps its rank for a category."""
    ranks = ranks.copy()
    ranks["p_rank"] = np.nan
    ranks["oat_ranks"] = None
    if sc.sensitivity.draws <= 0:
        return ranks
    by_name = {c.spec.name: c for c in prep.crit}
    estates = prep.region.layers["estates"]
    for code, s in prep.surfaces.items():
        sel = ranks[(ranks.category == code) & ranks["rank"].notna()]
        if len(sel) < 2:
            continue
        names = list(s.weights)
        geoms = estates.set_index("estate_id").loc[sel.estate_id].geometry.values
        x = np.column_stack([zonal_mean(by_name[n].score, geoms, prep.grid) for n in names])
        x = np.nan_to_num(x)
        cap = sel["usable_cap_ha"].to_numpy(float)

        def combine(scores: np.ndarray, cap: np.ndarray = cap) -> np.ndarray:
            return estate_closeness(scores, cap)  # rank as rank_estates does, for every weight draw

        w = np.array(list(s.weights.values()))
        # the model that was run: WLC is linear (zonal means of the criteria suffice); OWA is not,
        # so every draw aggregates the estates' cells and then averages them, as the surface does
        agg = sc.aggregation
        scores_of = None if agg.method == "wlc" else zone_scores_of(
            [by_name[n].score for n in names], geoms, prep.grid, agg.method, agg.order_weights)
        acc, _ = rank_acceptability(x, w, draws=sc.sensitivity.draws, concentration=sc.sensitivity.concentration,
                                    seed=seed, combine=combine, scores_of=scores_of)
        r = sel["rank"].to_numpy(int) - 1
        ranks.loc[sel.index, "p_rank"] = np.round(acc[np.arange(len(sel)), r], 4)
        oat = oat_sweep(x, w, names, combine=combine, scores_of=scores_of)
        rng_ = oat.groupby("candidate")["rank"].agg(["min", "max"])
        ranks.loc[sel.index, "oat_ranks"] = [f"{a}-{b}" for a, b in zip(rng_["min"], rng_["max"])]
    return ranks


def _recheck_site(poly: shapely.Geometry, rulesets: list[RuleSet], failures: list[str], chain: str
                  ) -> shapely.Geometry:
    """A site grown on the raster mask, re-checked on its vector geometry against every rule of the
    categories it serves; any part that breaks a rule is cut off (and said)."""
    keep = poly
    for rs in rulesets:
        keep, _ = rs.usable(keep)
    lost = poly.area - keep.area
    # rule buffers circumscribe the exact distance (up to 0.12 % wider): a rim that thin is not news
    if lost > max(1.0, 2e-3 * poly.area):
        failures.append(f"chain '{chain}': {lost / 1e4:.2f} ha of a candidate site broke a siting rule on the exact "
                        "geometry and was cut off")
    return keep


def _new_sites(prep: Prepared, plan: Plan, estates: gpd.GeoDataFrame, sc: Scenario
               ) -> tuple[gpd.GeoDataFrame, list[str], dict[str, object]]:
    """Propose new specialized estates for unmet demand.

    Candidate regions are grown per value chain (``sites.candidates_per_chain`` each, sized to the
    chain's unmet land), then ``sites.count`` of them are chosen by p-median: unmet businesses,
    weighted by land, should be near a site of their own chain (a site of another chain counts as
    ten times the farthest distance).
    """
    cols = ["site_id", "chain", "categories", "area_ha", "score", "compactness", "rank", "gross_ha", "net_ha",
            "units", "trunk_km", "rail_km", "power_km", "gas_km", "extend", "pop_reach"]
    empty = gpd.GeoDataFrame(columns=cols + ["geometry"], geometry="geometry", crs=prep.region.crs)
    unmet = plan.unmet
    choice: dict[str, object] = {"method": "none", "candidates": 0}
    if unmet.empty or sc.sites.count == 0:
        return empty, [], choice
    cat = prep.catalogue.table.set_index("code")
    unmet = unmet[unmet["category"].isin(prep.surfaces)].copy()
    unmet["chain"] = unmet["category"].map(cat["chain"]).fillna(unmet["category"])
    groups = unmet.groupby("chain")["land_m2"].sum().sort_values(ascending=False)
    failures: list[str] = []
    rows = []
    from .criteria import rasterize_mask
    from .locate import p_median
    from .zoning import polsby_popper

    est_mask = rasterize_mask(estates.geometry.values, prep.grid)
    taken = np.zeros(prep.grid.shape, dtype=bool)
    for chain, land in groups.items():
        codes = list(unmet.loc[unmet.chain == chain, "category"])
        w = unmet.loc[unmet.chain == chain].set_index("category")["land_m2"]
        w = w / w.sum()
        allowed = np.logical_and.reduce([prep.surfaces[c].allowed for c in codes]) & ~taken
        score = sum(prep.surfaces[c].score * float(w[c]) for c in codes)
        score = np.where(score >= sc.sites.min_score, score, np.nan)
        gross_ha = land / 1e4 / sc.allocation.net_to_gross
        area = min(max(sc.sites.area_ha or gross_ha, sc.sites.min_area_ha), sc.sites.max_area_ha)
        if gross_ha > sc.sites.max_area_ha:
            failures.append(f"chain '{chain}': needs {gross_ha:.1f} ha gross, above max_area_ha "
                            f"{sc.sites.max_area_ha:g}; one site of {sc.sites.max_area_ha:g} ha serves part of it")
        res = grow_regions(score, allowed, prep.grid, count=sc.sites.candidates_per_chain, area_ha=area,
                           min_area_ha=sc.sites.min_area_ha, max_area_ha=sc.sites.max_area_ha,
                           min_spacing_m=sc.sites.min_spacing_km * 1000,
                           max_spacing_m=None if sc.sites.max_spacing_km is None else sc.sites.max_spacing_km * 1000,
                           avoid=est_mask | taken, avoid_m=sc.sites.min_distance_from_estates_km * 1000)
        failures.extend(f"chain '{chain}' candidates: {f}" for f in res.failures)
        polys = [_recheck_site(poly, [prep.rules[c] for c in codes], failures, str(chain))
                 for poly in regions_to_polygons(res.regions, prep.grid)]
        for reg, poly in zip(res.regions, polys):
            if poly.is_empty:
                continue
            taken |= reg
            rows.append({"chain": chain, "categories": ", ".join(sorted(codes)),
                         "area_ha": round(poly.area / 1e4, 2), "score": round(float(np.nanmean(score[reg])), 4),
                         "compactness": round(polsby_popper(poly), 4), "share": w.to_dict(), "geometry": poly})
    choice["candidates"] = len(rows)
    if len(rows) > sc.sites.count:
        # p-median over the candidates, demand = unmet businesses weighted by land
        un = plan.rows[(plan.rows.status == "unassigned") & plan.rows["category"].isin(prep.surfaces)]
        pts = prep.businesses.set_index("biz_id").loc[un.biz_id].geometry.values
        chain_b = un["category"].map(cat["chain"]).fillna(un["category"]).to_numpy()
        cand = np.array([r["geometry"] for r in rows], dtype=object)
        dist = np.stack([shapely.distance(pts, g) / 1000 for g in cand], axis=1)
        same = chain_b[:, None] == np.array([r["chain"] for r in rows])[None, :]
        cost = np.where(same, dist, 10 * max(float(dist.max()), 1.0))
        res_pm = p_median(cost, un["land_m2"].to_numpy(float), sc.sites.count)
        keep = set(res_pm.open.tolist())
        for k, r in enumerate(rows):
            if k not in keep:
                failures.append(f"chain '{r['chain']}': candidate site of {r['area_ha']:g} ha not chosen by the p-median "
                                f"(sites.count = {sc.sites.count})")
        rows = [r for k, r in enumerate(rows) if k in keep]
        choice = {"method": res_pm.method, "status": res_pm.status, "candidates": int(len(cand)),
                  "chosen": int(len(keep)), "objective_ha_km": round(res_pm.objective / 1e4, 4),
                  "lower_bound_ha_km": round(res_pm.lower_bound / 1e4, 4), "gap": round(res_pm.gap, 6)}
    if not rows:
        return empty, failures, choice
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs=prep.region.crs)
    g = g.sort_values(["score", "area_ha"], ascending=[False, False]).reset_index(drop=True)
    g["rank"] = np.arange(1, len(g) + 1)
    g["site_id"] = [f"S{i:02d}" for i in g["rank"]]
    land_per = dict(zip(prep.catalogue.table.code, prep.catalogue.table.land_m2))
    feas = []
    for r in g.itertuples():
        f = site_feasibility(g.iloc[[r.Index]], prep.region.layers, net_to_gross=sc.allocation.net_to_gross,
                             land_per_unit=land_per, share=r.share)
        feas.append(f)
    g = pd.concat([g.drop(columns=["share"]), pd.concat(feas, ignore_index=True)], axis=1)
    return gpd.GeoDataFrame(g[cols + ["geometry"]], geometry="geometry", crs=prep.region.crs), failures, choice


# ------------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------------


def _estates_out(res: RunResult) -> gpd.GeoDataFrame:
    est = res.prep.region.layers["estates"]
    keep = [c for c in ("estate_id", "name", "kind", "gross_ha", "vacant_ha", "max_cat") if c in est]
    out = est[keep + ["geometry"]].copy()
    if out.empty:
        return gpd.GeoDataFrame(out, geometry="geometry", crs=est.crs)
    cap = res.plan.estate_summary.groupby("estate_id").agg(capacity_m2=("capacity_m2", "first"),
                                                            used_m2=("used_m2", "sum"),
                                                            units_in=("units", "sum"))
    out = out.merge(cap, left_on="estate_id", right_index=True, how="left")
    out["cap_ha"] = (out.pop("capacity_m2") / 1e4).round(4)
    out["used_ha"] = (out.pop("used_m2") / 1e4).round(4)
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


def write_outputs(res: RunResult, out_dir: Path, *, scenario_file: Path | None = None) -> dict[str, str]:
    """Write every output file into ``out_dir`` (which must be empty or new); returns file hashes."""
    sc = res.prep.scenario
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rel = res.plan.rows[["biz_id", "name", "category", "lon", "lat", "estate_id", "zone_id", "distance_km",
                         "land_m2", "status", "reason"]]
    write_csv(rel, out_dir / "relocation.csv", bom=sc.outputs.csv_bom)
    write_csv(res.plan.estate_summary, out_dir / "estate_summary.csv", bom=sc.outputs.csv_bom)
    write_geojson(_estates_out(res), out_dir / "estates.geojson")
    write_geojson(res.zones, out_dir / "zones.geojson")
    write_geojson(res.sites, out_dir / "sites.geojson")
    write_geojson(res.clusters, out_dir / "clusters.geojson")
    if res.plots is not None:
        write_geojson(res.plots, out_dir / "plots.geojson")
    if sc.outputs.suitability_tifs:
        by_name = {c.spec.name: c for c in res.prep.crit}
        for code, s in res.prep.surfaces.items():
            write_geotiff(s.masked, res.prep.grid, out_dir / "suitability" / f"{code}.tif")
            if sc.sensitivity.draws > 0:
                layers_k = [by_name[n].score for n in s.weights]
                wk = np.array(list(s.weights.values()))
                sd = score_sd(layers_k, wk, sc.sensitivity.concentration) if sc.aggregation.method == "wlc" \
                    else score_sd_mc(layers_k, wk, sc.sensitivity.concentration, sc.aggregation.method,
                                     sc.aggregation.order_weights, draws=sc.sensitivity.draws, seed=res.seed)
                write_geotiff(np.where(s.allowed, sd, np.nan), res.prep.grid,
                              out_dir / "suitability" / f"{code}_sd.tif")
    if sc.outputs.report:
        from .report import build_report

        build_report(res, out_dir / "report.html")
    res.timings["write"] = round(time.perf_counter() - t0, 3)
    from .outdir import MARKER

    hashes = {str(p.relative_to(out_dir)): sha256(p) for p in sorted(out_dir.rglob("*"))
              if p.is_file() and p.name != MARKER}
    inputs: dict[str, dict[str, str]] = {}
    for layer, files in res.prep.region.files.items():
        inputs[layer] = {str(f.name): sha256(f) for f in files}
    manifest = {
        "siteplan": __version__,
        "created_utc": utc_now(),
        "scenario_file": str(scenario_file) if scenario_file else None,
        "scenario_sha256": sha256(scenario_file) if scenario_file else None,
        "scenario": sc.model_dump(mode="json", exclude={"base_dir"}),
        "seed": res.seed,
        "crs": res.prep.region.crs.to_string(),
        "grid": {"width": res.prep.grid.width, "height": res.prep.grid.height, "res_m": res.prep.grid.res},
        "inputs": inputs,
        "versions": versions(),
        "solver": res.plan.solver,
        "site_choice": res.site_choice,
        "counts": {
            "businesses": int(len(res.plan.rows)),
            "assigned": int((res.plan.rows.status == "assigned").sum()),
            "unassigned": int((res.plan.rows.status == "unassigned").sum()),
            "unclassified": int(res.plan.rows["category"].isna().sum()),
            "estates": int(len(res.prep.region.layers["estates"])),
            "zones": int(len(res.zones)),
            "sites": int(len(res.sites)),
            "clusters": int(len(res.clusters)),
        },
        "excluded_features": res.prep.region.excluded.to_dict(orient="records"),
        "timings_s": res.timings,
        "warnings": res.warnings,
        "outputs_sha256": hashes,
    }
    write_json(manifest, out_dir / "manifest.json")
    return hashes


def _scenario_inputs(scenario: Scenario, path: Path) -> dict[str, Path]:
    """What a run reads, by description (refused inside ``--out``)."""
    inputs = {"the scenario file": path}
    for name, spec in scenario.layers.items():
        inputs[f"layer '{name}'"] = scenario.resolve(spec.path)
    if scenario.catalogue.path:
        inputs["the catalogue"] = scenario.resolve(scenario.catalogue.path)
    return inputs


def run_scenario_file(path: str | Path, out_dir: str | Path, *, seed: int | None = None,
                      overwrite: bool = False) -> RunResult:
    """Validate, run and write a scenario; the output folder is replaced only when the run succeeds.

    The output folder's rules (refusals, lock, marker, atomic swap, leftovers) are those of
    :class:`siteplan.outdir.OutputFolder`; they are checked right after the scenario is read, before
    any heavy work.

    Parameters
    ----------
    path
        Scenario YAML.
    out_dir
        Output folder.
    seed
        Overrides the scenario's seed.
    overwrite
        Replace an existing output folder that a previous ``siteplan run`` wrote.

    Returns
    -------
    RunResult
    """
    from .outdir import OutputFolder, input_bytes

    scenario = load_scenario(path)
    inputs = _scenario_inputs(scenario, Path(path))
    # rough lower bound of the output's size: the report's fixed part and about twice the inputs
    estimate = (8 << 20) + 2 * input_bytes(inputs.values())
    with OutputFolder(out_dir, kind="run", overwrite=overwrite, inputs=inputs, estimate_bytes=estimate) as folder:
        res = run(scenario, seed=seed)
        write_outputs(res, folder.stage, scenario_file=Path(path))
    return res
