"""``siteplan run`` and ``siteplan demo``: a scenario end to end into an output folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from ..progress import stage_bar
from ._common import _guard, _run_options, _setup_logging, log

if TYPE_CHECKING:
    from ..results import RunResult


def _after_run(res: "RunResult", out: Path) -> None:
    rows = res.plan.rows
    n_as = int((rows.status == "assigned").sum())
    log.info("wrote %s: %d businesses, %d assigned, %d unassigned; %d zones; %d proposed sites; gap %.4f %%",
             out, len(rows), n_as, len(rows) - n_as, len(res.zones), len(res.sites), 100 * cast("float", res.plan.solver["gap"]))
    if res.warnings:
        log.info("%d warnings (see manifest.json and the report)", len(res.warnings))


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("out/run"),
              show_default=True, help="Output folder.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="National scenarios: 0 runs the partitions one after another (default); N starts a Dask "
                   "LocalCluster of N workers (needs siteplan[dask]).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="National scenarios: use an existing Dask cluster (tcp://host:8786); its workers must share "
                   "this file system.")
@click.option("--cache", type=click.Path(path_type=Path), default=None,
              help="National scenarios: cache of the partitions' results (default .NAME.cache beside --out).")
@click.option("--cache-days", type=click.FloatRange(min=0), default=None,
              help="National scenarios: the cache drops results no run used for this many days (default 7; 0 keeps "
                   "only this run's).")
@click.option("--baseline", type=click.Path(path_type=Path), default=None, metavar="RUN_DIR",
              help="Keep every business where this earlier run's plan put it unless moving it serves the change "
                   "(cost of a move: allocation.disruption_km per ha); RUN_DIR is only read.")
@click.option("--reuse", type=click.Path(path_type=Path), default=None, metavar="RUN_DIR",
              help="Take the stage results (classification, criterion rasters, rule masks) of this earlier run "
                   "wherever their inputs are unchanged; the outputs are those of a run without it. RUN_DIR is only "
                   "read (it may be --out).")
@_run_options
@_guard
def run(scenario: Path, out: Path, workers: int | None, scheduler: str | None, cache: Path | None,
        cache_days: float | None, baseline: Path | None, reuse: Path | None, seed: int | None, overwrite: bool,
        quiet_local: bool) -> None:
    """Run SCENARIO end to end and write every output into --out (a national scenario: every partition)."""
    from ..national import is_national
    from ..pipeline import run_scenario_file

    if quiet_local:
        _setup_logging(True, 0)
    if is_national(scenario):
        from ..national import run_national_file

        if baseline is not None or reuse is not None:
            raise click.UsageError("--baseline and --reuse are for a one-region scenario; this one is national (its "
                                   "partitions' results are reused through --cache)")

        nat = run_national_file(scenario, out, workers=workers or 0, scheduler=scheduler, seed=seed,
                                overwrite=overwrite, cache=cache,
                                cache_days=7.0 if cache_days is None else cache_days)
        log.info("wrote %s: %d partitions in %d runs (%s)", out, len(nat.parts.keys), len(nat.outcomes),
                 ", ".join(f"{s} {sum(o.status == s for o in nat.outcomes)}" for s in ("ok", "cached", "failed")))
        return
    if workers is not None or scheduler or cache or cache_days is not None:
        raise click.UsageError("--workers, --scheduler, --cache and --cache-days are for national scenarios (with a 'national:' "
                               "section); this scenario is one region")
    with stage_bar(scenario.name):
        res = run_scenario_file(scenario, out, seed=seed, overwrite=overwrite, baseline=baseline, reuse=reuse)
    _after_run(res, out)


@click.command()
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("out/demo"),
              show_default=True, help="Output folder.")
@_run_options
@_guard
def demo(out: Path, seed: int | None, overwrite: bool, quiet_local: bool) -> None:
    """Run the embedded Isfahan demo (same as `siteplan run data/demo.yaml --out out/demo`)."""
    from ..pipeline import demo_scenario_path, run_scenario_file

    if quiet_local:
        _setup_logging(True, 0)
    with stage_bar("demo"):
        res = run_scenario_file(demo_scenario_path(), out, seed=seed, overwrite=overwrite)
    _after_run(res, out)
