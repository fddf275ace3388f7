"""``siteplan run`` and ``siteplan demo``: a scenario end to end into an output folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack, cast

import click

from ..progress import stage_bar
from ._common import _guard, _run_options, _setup_logging, log

if TYPE_CHECKING:
    from ..results import RunResult


def _after_run(res: RunResult, out: Path) -> None:
    rows = res.plan.rows
    n_as = int((rows.status == "assigned").sum())
    log.info("wrote %s: %d businesses, %d assigned, %d unassigned; %d zones; %d proposed sites; gap %.4f %%",
             out, len(rows), n_as, len(rows) - n_as, len(res.zones), len(res.sites), 100 * cast("float", res.plan.solver["gap"]))
    if res.warnings:
        log.info("%d warnings (see manifest.json and the report)", len(res.warnings))


class RunOptions(TypedDict):
    """The options of ``siteplan run`` after SCENARIO and --out, as click passes them (each always given)."""

    workers: int | None
    scheduler: str | None
    cache: Path | None
    cache_days: float | None
    baseline: Path | None
    reuse: Path | None
    seed: int | None
    overwrite: bool
    quiet_local: bool


def _run_national(scenario: Path, out: Path, options: RunOptions) -> None:
    """``siteplan run`` of a national scenario: every partition (through the partitions' cache).

    Parameters
    ----------
    scenario
        The national scenario file.
    out
        The output folder.
    options
        The command's options.

    Raises
    ------
    click.UsageError
        ``--baseline`` or ``--reuse`` was given (they are for a one-region scenario).
    """
    from ..national import run_national_file

    if options["baseline"] is not None or options["reuse"] is not None:
        raise click.UsageError("--baseline and --reuse are for a one-region scenario; this one is national (its "
                               "partitions' results are reused through --cache)")

    cache_days = options["cache_days"]
    nat = run_national_file(scenario, out, workers=options["workers"] or 0, scheduler=options["scheduler"],
                            seed=options["seed"], overwrite=options["overwrite"], cache=options["cache"],
                            cache_days=7.0 if cache_days is None else cache_days)
    log.info("wrote %s: %d partitions in %d runs (%s)", out, len(nat.parts.keys), len(nat.outcomes),
             ", ".join(f"{s} {sum(o.status == s for o in nat.outcomes)}" for s in ("ok", "cached", "failed")))


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
def run(scenario: Path, out: Path, **options: Unpack[RunOptions]) -> None:
    """Run SCENARIO end to end and write every output into --out (a national scenario: every partition)."""
    from ..national import is_national
    from ..pipeline import run_scenario_file

    if options["quiet_local"]:
        _setup_logging(quiet=True, verbose=0)
    if is_national(scenario):
        _run_national(scenario, out, options)
        return
    if options["workers"] is not None or options["scheduler"] or options["cache"] or options["cache_days"] is not None:
        raise click.UsageError("--workers, --scheduler, --cache and --cache-days are for national scenarios (with a 'national:' "
                               "section); this scenario is one region")
    with stage_bar(scenario.name):
        res = run_scenario_file(scenario, out, seed=options["seed"], overwrite=options["overwrite"],
                                baseline=options["baseline"], reuse=options["reuse"])
    _after_run(res, out)


@click.command()
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("out/demo"),
              show_default=True, help="Output folder.")
@_run_options
@_guard
def demo(*, out: Path, seed: int | None, overwrite: bool, quiet_local: bool) -> None:
    """Run the embedded Isfahan demo (same as `siteplan run data/demo.yaml --out out/demo`)."""
    from ..pipeline import demo_scenario_path, run_scenario_file

    if quiet_local:
        _setup_logging(quiet=True, verbose=0)
    with stage_bar("demo"):
        res = run_scenario_file(demo_scenario_path(), out, seed=seed, overwrite=overwrite)
    _after_run(res, out)
