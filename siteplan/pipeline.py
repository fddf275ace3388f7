"""Running a scenario end to end: load → classify → score → allocate → zone → locate → write.

Stages exchange plain data; this module composes them and owns the order, the timings, the
warnings and the atomic write of the whole run folder (everything is written into a staging folder
that replaces ``--out`` only when the run succeeds; see :mod:`siteplan.outputs.outdir`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .checks import load_checked
from .common.memo import using as memo_using
from .common.notice import Notice, notices
from .errors import InputError
from .grid import FieldCache, Grid
from .guilds.catalogue import Catalogue
from .guilds.decide import classify_registry
from .guilds.profiles import default_criteria
from .locate.deviations import score_deviations
from .locate.options import compare_options, option_notes
from .locate.ranking import propose_sites, rank_estates
from .locate.sensitivity import robustness
from .locate.upgrades import propose_upgrades
from .outputs.stagecache import StageReuse
from .outputs.writer import write_run
from .progress import StageTimer, announce
from .relocation import Plan, estate_capacity, relocate, relocation_flows
from .relocation.clusters import find_clusters
from .results import PlanInputs, Prepared, RunResult
from .rules.reservations import estate_reservations, reservation_notes
from .rules.ruleset import compile_rulesets, eligibility, usable_land
from .scenario import MAX_GRID_CELLS, CriterionSpec, Scenario, check_seed, load_scenario
from .scoring.criteria import criteria_layers
from .scoring.suitability import criterion_layers, scenario_ahp, surfaces, zonal_mean
from .zoning.zones import ZonePlan, zone_plan

log = logging.getLogger(__name__)

__all__ = ["RunResult", "run", "run_scenario_file", "prepare", "plan_inputs", "relocate", "demo_scenario_path",
           "Prepared", "PlanInputs", "write_outputs", "read_baseline", "baseline_summary", "scenario_input_paths"]



def demo_scenario_path() -> Path:
    """The embedded demo scenario: ``data/demo.yaml`` of the checkout, installed as the package
    ``siteplan.demo`` (so an installed wheel has it too).

    Returns
    -------
    pathlib.Path
        The demo scenario file (its layers' paths are relative to its folder).

    Raises
    ------
    InputError
        The installation lacks the demo scenario (reinstall siteplan).
    """
    from importlib import resources

    p = Path(str(resources.files("siteplan.demo").joinpath("demo.yaml")))
    if not p.is_file():
        raise InputError(f"the demo scenario {p} is missing from this installation; reinstall siteplan "
                         "(pip install --force-reinstall siteplan) or run it from a source checkout")
    return p


def _scope(scenario: Scenario, catalogue: Catalogue) -> list[str]:
    if scenario.categories == "all":
        return catalogue.codes
    from .common.vocab import unknown_category_problems

    bad = unknown_category_problems(scenario.categories, catalogue.codes)
    if bad:
        raise InputError(bad)
    return list(scenario.categories)


def _slope(scenario: Scenario, grid: Grid, warns: list[Notice]) -> np.ndarray:
    """The slope (%) of the scenario's ``dem`` layer on the grid.

    Parameters
    ----------
    scenario
        A validated scenario with a ``dem`` layer.
    grid
        The run's grid.
    warns
        The run's warnings; one is added when part of the grid has no elevation.

    Returns
    -------
    numpy.ndarray
        Slope per cell (NaN where the DEM has no elevation).
    """
    from .scoring.criteria import slope_percent

    slope = slope_percent(str(scenario.resolve(scenario.layers["dem"].path)), grid)
    if np.isnan(slope).any():
        warns.append(Notice("no-elevation", f"dem: no elevation for {np.isnan(slope).mean():.1%} of the grid; "
                            "the slope rule does not exclude those cells", {"cells": int(np.isnan(slope).sum())}))
    return slope


def _usable_criteria(specs: list[CriterionSpec], layers: dict[str, gpd.GeoDataFrame], cache: FieldCache,
                     warns: list[Notice]) -> list[CriterionSpec]:
    """The criteria the scenario's layers can evaluate (a slope raster needs the DEM).

    Parameters
    ----------
    specs
        The scenario's criteria (or the defaults).
    layers
        The region's layers.
    cache
        The run's field cache (``slope`` set when there is a DEM).
    warns
        The run's warnings; one is added per criterion skipped.

    Returns
    -------
    list of CriterionSpec
        The usable criteria, in order.

    Raises
    ------
    InputError
        No criterion can be evaluated.
    """
    usable_specs = []
    for s in specs:
        if s.layer not in layers and not (s.kind == "raster" and cache.slope is not None):
            warns.append(Notice("criterion-skipped", f"criterion '{s.name}' skipped: the scenario has no '{s.layer}' layer"))
            continue
        usable_specs.append(s)
    if not usable_specs:
        raise InputError("criteria: no criterion can be evaluated with the scenario's layers")
    return usable_specs


def prepare(scenario: Scenario, timer: StageTimer | None = None, *, with_surfaces: bool = True,
            stages: StageReuse | None = None) -> Prepared:
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
    stages
        A run's stage keys and reuse (:mod:`siteplan.outputs.stagecache`): the classification, criterion rasters
        and rule masks are taken from ``stages.source`` where their keys match; None computes them.

    Returns
    -------
    Prepared
        The scenario's layers, classified businesses, rule sets, grid and (unless ``with_surfaces`` is
        False) criterion layers and suitability surfaces, with the warnings so far.
    """
    timer = timer or StageTimer()
    warns: list[Notice] = []
    with timer.stage("load"):
        region, cat = load_checked(scenario, whole_grid=with_surfaces)  # as `siteplan validate` does
        warns.extend(region.warnings)
        codes = _scope(scenario, cat)
    with timer.stage("classify"):
        biz, notes = (stages.classify if stages is not None else classify_registry)(region.layers["businesses"], cat, scenario)
        warns.extend(notices("classify", notes))
        biz["category_classified"] = biz["category"]  # kept for criteria (linked trades out of scope)
        out_scope = biz["category"].notna() & ~biz["category"].isin(codes)
        if out_scope.any():
            warns.append(Notice("out-of-scope", f"businesses: {int(out_scope.sum())} belong to categories outside "
                                "the scenario's scope; they are listed as unassigned ('category not in scope')",
                                {"businesses": int(out_scope.sum())}))
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
            cache.slope = _slope(scenario, grid, warns)
        for rs in rules.values():
            rs.ctx.fields = cache  # one context shared by every category: slope and distance fields
        specs = scenario.criteria if scenario.criteria is not None else default_criteria(cat, layers)
        usable_specs = _usable_criteria(specs, layers, cache, warns)
        if not with_surfaces:
            return Prepared(scenario, region, cat, biz, codes, rules, grid, cache, {}, [], warns, usable_specs)
        # criteria read the classified businesses (category), e.g. the linked-trades defaults
        evaluate = stages.criteria if stages is not None else criterion_layers
        crit = evaluate(usable_specs, criteria_layers(layers, biz), grid, cache)
        surf = (stages.surfaces if stages is not None else surfaces)(codes, crit, rules, scenario, cache)
        for code, surface in surf.items():
            if not surface.allowed.any():
                warns.append(Notice("all-excluded", f"suitability {code}: the siting rules exclude the whole study "
                                    f"area; binding rules: {', '.join(surface.binding_rules()) or 'none'}"))
    return Prepared(scenario, region, cat, biz, codes, rules, grid, cache, surf, crit, warns, usable_specs,
                    ahp=scenario_ahp(scenario))



def plan_inputs(prep: Prepared, timer: StageTimer | None = None) -> PlanInputs:
    """The tables the relocation plan is solved on: estate scores, usable land, reservations,
    eligibility, capacity and the business clusters (the run's "estates" and "clusters" stages).

    Parameters
    ----------
    prep
        The prepared run.
    timer
        Optional stage timer.

    Returns
    -------
    PlanInputs
    """
    timer = timer or StageTimer()
    sc = prep.scenario
    layers = prep.region.layers
    estates = layers["estates"]
    warns: list[Notice] = []
    with timer.stage("estates"):
        scores = []
        for code, s in prep.surfaces.items():
            m = zonal_mean(s.score, estates.geometry.values, prep.grid)
            scores.append(pd.DataFrame({"estate_id": estates["estate_id"].to_numpy(), "category": code,
                                        "score": np.round(m, 6)}))
        scores_df = pd.concat(scores, ignore_index=True)
        usable = usable_land(estates, prep.rules)
        reserved = estate_reservations(sc, estates, prep.catalogue)
        elig = eligibility(estates, prep.rules, usable, sc.allocation.accepted_kinds, reserved)
        warns.extend(notices("reservation", reservation_notes(reserved)))
        capacity = estate_capacity(estates, layers.get("plots"), sc.allocation.net_to_gross,
                                   sc.allocation.default_vacant_share)
        assumed = int((capacity["capacity_from"] == "assumed share").sum())
        if assumed:
            warns.append(Notice("capacity-assumed", f"estates: {assumed} without vacant_ha; assumed "
                                f"{sc.allocation.default_vacant_share:.0%} of their gross area is vacant "
                                "(allocation.default_vacant_share) — an assumption to review", {"estates": assumed}))
        if len(estates) == 0:
            warns.append(Notice("no-estates", "estates: the scenario has no existing estate; every business is "
                                "unassigned and new sites are proposed for all the demand"))
    with timer.stage("clusters"):
        biz = prep.businesses
        ok = biz["category"].notna()
        cid, clusters = find_clusters(biz[ok], prep.catalogue, eps_m=sc.clusters.eps_m,
                                      min_samples=sc.clusters.min_samples)
        biz = biz.copy()
        if "cluster_id" not in biz or not sc.allocation.keep_clusters_together:
            biz["cluster_id"] = None
            biz.loc[ok, "cluster_id"] = cid
    return PlanInputs(estates, biz, scores_df, usable, reserved, elig, capacity, clusters, warns)


def run(scenario: Scenario, *, seed: int | None = None, baseline: str | Path | None = None,
        stages: StageReuse | None = None) -> RunResult:
    """Run every stage of a scenario (no files written; see :func:`siteplan.outputs.writer.write_run`).

    Parameters
    ----------
    scenario
        A validated scenario.
    seed
        Overrides the scenario's seed.
    baseline
        A run folder whose plan this run keeps (:func:`read_baseline`, only read): a business moves away
        from its baseline estate only at the cost of ``allocation.disruption_km`` per ha.
    stages
        The run's stage keys and what it may reuse (:class:`siteplan.outputs.stagecache.StageReuse`, e.g. from
        ``--reuse RUN_DIR``); None: every stage computed, no keys.

    Returns
    -------
    RunResult
        Every stage's tables and layers, the warnings and the wall and CPU timings per stage.
    """
    timer = StageTimer()
    seed = scenario.seed if seed is None else seed
    check_seed(seed)  # before any work (NumPy refuses a negative seed only at the last stage)
    prep = prepare(scenario, timer, stages=stages)
    inputs = plan_inputs(prep, timer)
    if baseline is not None:
        inputs = replace(inputs, stay=read_baseline(baseline))
    warns = list(prep.warnings) + inputs.warnings
    with timer.stage("allocate"):
        plan = relocate(prep, inputs)  # on roads when the region has them (checks._road_problems warned)
        gap = plan.solver.get("gap")
        if isinstance(gap, (int, float)) and gap > 0:
            log.info("relocation gap to the LP bound: %.4f %%", 100 * gap)
    with timer.stage("zoning"):
        plan, zp = _zoning(prep, plan, inputs, warns)
    with timer.stage("locate"):
        plan, (sites, failures, site_choice, upgrades, options) = _answers(prep, plan, inputs, warns)
        ranks = robustness(rank_estates(inputs.elig, inputs.scores, inputs.capacity), prep, seed)
    layers = prep.region.layers
    summary: dict[str, object] = {}
    if baseline is not None and inputs.stay is not None:
        summary = baseline_summary(Path(baseline), inputs.stay, plan.rows, scenario)
        warns.append(_baseline_notice(summary, Path(baseline)))
    res = RunResult(
        prep=prep, usable=inputs.usable, elig=inputs.elig, capacity=inputs.capacity, scores=inputs.scores,
        ranks=ranks, plan=plan, zones=zp.zones, shortfall=zp.shortfall, sites=sites, clusters=inputs.clusters,
        site_failures=failures, timings=timer.times, seed=seed, warnings=warns,
        plots=zp.plots if (scenario.zoning.plots or "plots" in layers) else None, site_choice=site_choice,
        flows=relocation_flows(plan.rows, prep.businesses, layers["urban"]), upgrades=upgrades, options=options,
        reletting=zp.reletting, baseline=summary)
    with memo_using(stages.memo if stages is not None else None):
        return _with_programme(res, timer, inputs)


def _zoning(prep: Prepared, plan: Plan, inputs: PlanInputs, warns: list[Notice]) -> tuple[Plan, ZonePlan]:
    """The zoning stage: the estates' zones and plots for the assigned demand; a new plan whose rows add
    each business's zone and plot, and the zone plan with each zone's units counted from them; shortfalls
    and notes added to ``warns``. Neither the plan nor the zone plan given is changed."""
    rows = plan.rows
    assigned = rows[rows.status == "assigned"]
    demand = assigned.groupby(["estate_id", "category"]).agg(
        land_m2=("land_m2", "sum"), units=("biz_id", "size")).reset_index()
    zp = zone_plan(inputs.estates, demand, prep.catalogue, prep.rules, prep.region.layers, prep.scenario,
                   inputs.usable, businesses=assigned[["biz_id", "estate_id", "category", "land_m2", "name"]],
                   written=True)
    warns.extend(Notice("zoning-short", f"zoning {r.estate_id}: {r.category} is short of {r.short_ha:g} ha "
                        f"(binding: {r.rule})") for r in zp.shortfall.itertuples())
    warns.extend(notices("zoning", zp.notes))
    zones = zp.zones
    zmap = {(z.estate_id, z.category): z.zone_id for z in zones.itertuples()}
    rows = rows.assign(zone_id=[zmap.get((e, c)) if s == "assigned" else None
                                for e, c, s in zip(rows.estate_id, rows.category, rows.status)])
    # one source for a zone's units: the relocation rows that name it (on an estate with plots the
    # zoning counted the plots let, which a business without a plot would not be in)
    named = rows["zone_id"].dropna().value_counts()
    zones = zones.assign(units=zones["zone_id"].map(named).fillna(0).astype(int))
    tn = zp.tenancy.drop_duplicates("biz_id").set_index("biz_id")
    rows = rows.assign(plot_id=rows["biz_id"].map(tn["plot_id"]),
                       plot_reason=rows["biz_id"].map(tn["plot_reason"]).fillna(""))
    return replace(plan, rows=rows), replace(zp, zones=zones)


def _baseline_notice(b: dict[str, object], baseline: Path) -> Notice:
    """What ``run --baseline`` kept, moved and displaced, as the run's warning."""
    return Notice("baseline-kept", f"baseline: kept {b['kept']} businesses where {baseline.name} put them; "
                  f"{b['moved']} moved, {b['displaced']} lost their place, {b['newly_placed']} newly placed "
                  f"(disruption weight {b['disruption_km']:g} km per ha, allocation.disruption_km); "
                  "`siteplan compare` says which moved because of the change",
                  {k: v for k in ("kept", "moved", "displaced", "newly_placed") if isinstance(v := b[k], int)})


def read_baseline(path: str | Path) -> pd.Series:
    """``biz_id`` → the estate a baseline run put it on ("" when unassigned) from its ``relocation.csv``
    (the folder is only read; :func:`siteplan.compare.read_run` says what is wrong with it)."""
    from .outputs.compare import read_run

    rel = read_run(path, "--baseline").relocation
    placed = ~rel["status"].str.strip().str.lower().isin(("unassigned", ""))
    return pd.Series(np.where(placed, rel["estate_id"], ""), index=rel["biz_id"].to_numpy(), dtype=object)


def baseline_summary(path: Path, stay: pd.Series, rows: pd.DataFrame, sc: Scenario) -> dict[str, object]:
    """The manifest's ``baseline``: the folder, the disruption weight and how many businesses kept their
    baseline estate, moved to another, lost their place or were newly placed."""
    from .relocation.plan import disruption_weight

    now = rows.set_index("biz_id")["estate_id"].where(rows.set_index("biz_id")["status"] == "assigned", "")
    now = now.fillna("").astype(str)
    common = now.index.intersection(stay.index)
    a, b = stay.loc[common].astype(str), now.loc[common]
    return {"run": str(path), "disruption_km": disruption_weight(sc.allocation),
            "kept": int(((a == b) & (a != "")).sum()), "moved": int(((a != b) & (a != "") & (b != "")).sum()),
            "displaced": int(((a != "") & (b == "")).sum()), "newly_placed": int(((a == "") & (b != "")).sum()),
            "not_in_baseline": int(len(now) - len(common))}


def _with_programme(res: RunResult, timer: StageTimer, inputs: PlanInputs | None = None) -> RunResult:
    """The last analysis stage: impact, feasibility, value chains and the phasing
    (:mod:`siteplan.programme.figures`)."""
    from .programme.figures import programme_figures

    with timer.stage("programme"):
        figures = programme_figures(res, inputs)
    return replace(res, programme=figures, timings_cpu=timer.cpu)


def _answers(prep: Prepared, plan: Plan, inputs: PlanInputs, warns: list[Notice]
             ) -> tuple[Plan, tuple[gpd.GeoDataFrame, list[str], dict[str, object], pd.DataFrame, pd.DataFrame]]:
    """The answers for the unassigned demand: a new plan whose rows add ``site_id`` (the new site that
    would take each business), and the new sites, their failures and choice, upgrades of existing estates
    and both side by side; notes added to ``warns``. The plan given is not changed."""
    from .common.parallel import side_by_side

    estates = prep.region.layers["estates"]
    # the upgrades read the plan's rows but not the sites': both are worked out side by side (threads: the
    # solves release the GIL; their catch_warnings take turns), their notes added in the order they always were
    (sites, failures, site_choice, takes), (upgrades, notes) = side_by_side(
        lambda: propose_sites(prep, plan, estates), lambda: propose_upgrades(prep, plan, inputs))
    warns.extend(notices("site-failed", (f"new sites: {f}" for f in failures)))
    plan = replace(plan, rows=plan.rows.assign(site_id=plan.rows["biz_id"].map(dict(zip(takes["biz_id"],
                                                                                         takes["site_id"])))))
    if len(sites):
        n_all = int((plan.rows["status"] == "unassigned").sum())
        n_cls = int(site_choice["unassigned"])  # type: ignore[call-overload]
        # the headline counts every unassigned business; a new site can take only the classified ones
        of = (f"{n_cls} unassigned businesses" if n_cls == n_all else
              f"{n_cls} classified unassigned businesses ({n_all} unassigned in all; the other {n_all - n_cls} "
              "have no category a site could be planned for)")
        warns.append(Notice("sites-take", f"new sites: the {len(sites)} proposed sites would take "
                            f"{site_choice['taken_by_sites']} of the {of} ({sites['land_ha'].sum():.1f} ha of land); "
                            "relocation.csv's site_id says which", {"sites": len(sites)}))
    warns.extend(notices("upgrades", (f"upgrades: {n}" for n in notes)))
    options = compare_options(upgrades, sites, takes, str(site_choice.get("objective_unit", "ha·km")))
    warns.extend(notices("options", option_notes(options)))
    return plan, (sites, failures, site_choice, upgrades, options)


def scenario_input_paths(scenario: Scenario, path: Path) -> dict[str, Path]:
    """What a scenario reads, by description (:func:`siteplan.outputs.outfile.scenario_inputs`)."""
    from .outputs.outfile import scenario_inputs

    return scenario_inputs(scenario, path)


def run_scenario_file(path: str | Path, out_dir: str | Path, *, seed: int | None = None,
                      overwrite: bool = False, baseline: str | Path | None = None,
                      reuse: str | Path | None = None) -> RunResult:
    """Validate, run and write a scenario; the output folder is replaced only when the run succeeds.

    The output folder's rules (refusals, lock, marker, atomic swap, leftovers) are those of
    :class:`siteplan.outputs.outdir.OutputFolder`; they are checked right after the scenario is read, before
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
    baseline
        A previous run's folder whose plan this run keeps (:func:`run`); it is only read, and refused as
        (or inside) the output folder.
    reuse
        A previous run's folder whose stage results this run takes where their keys are this run's
        (:mod:`siteplan.outputs.stagecache`); only read (it may be ``out_dir`` itself, replaced only at the end).
        Every run saves its keys (the manifest's ``stages``) and ``stages/`` for a later ``reuse``.

    Returns
    -------
    RunResult
        The run, as written to ``out_dir``.
    """
    from .outputs.outdir import OutputFolder, input_bytes

    scenario = load_scenario(path)
    inputs = scenario_input_paths(scenario, Path(path))
    stages = StageReuse.from_run(reuse)  # a bad folder fails before any work
    if baseline is not None:
        read_baseline(baseline)  # a bad folder fails before any work
        inputs["the --baseline run folder"] = Path(baseline)
    # rough lower bound of the output's size: the report's fixed part and about twice the inputs
    estimate = (8 << 20) + 2 * input_bytes(inputs.values())
    with OutputFolder(out_dir, kind="run", overwrite=overwrite, inputs=inputs, estimate_bytes=estimate) as folder:
        res = run(scenario, seed=seed, baseline=baseline, stages=stages)
        with announce("write"):
            write_outputs(res, folder.stage, Path(path), stages)
    return res


def write_outputs(res: RunResult, folder: Path, scenario_file: Path, stages: StageReuse) -> None:
    """Write a run's outputs into ``folder``: its ``stages/``, every output file and the manifest with the
    stage keys — the one write step of a provincial run and of each unit of a national run."""
    stages.write(folder)
    score_sd = score_deviations(res.prep, res.seed)  # each computed when the writer must encode it
    with memo_using(stages.memo):  # the report's overlays use the run's memo too
        write_run(res, folder, scenario_file=scenario_file, reuse=stages, score_sd=score_sd)
    memo = stages.write_memo(folder)  # after every figure that uses it
    _manifest_stages(folder / "manifest.json", stages, memo)


def _manifest_stages(manifest: Path, stages: StageReuse, memo: Path) -> None:
    """Add the run's stage keys (``stages``) and, under ``--reuse``, what it reused (``reused``) to its
    manifest (neither is an output byte: a run with ``--reuse`` writes what one without writes), and the
    hash of its memo (``memo``, written after the other outputs) to ``outputs_sha256``."""
    import json

    from .outputs.writer import sha256, write_json

    m = json.loads(manifest.read_text(encoding="utf-8"))
    extra: dict[str, object] = {"reused": stages.manifest()} if stages.source is not None else {}
    extra["stages"] = stages.keys
    out: dict[str, object] = {}
    for k, v in m.items():
        if k == "warnings":  # beside the timings
            out.update(extra)
        out[k] = v
    out.update({k: v for k, v in extra.items() if k not in out})
    hashes = dict(out["outputs_sha256"])  # type: ignore[call-overload]
    hashes[memo.relative_to(manifest.parent).as_posix()] = sha256(memo)
    out["outputs_sha256"] = {k: hashes[k] for k in sorted(hashes, key=Path)}  # the writer's order
    write_json(out, manifest)
