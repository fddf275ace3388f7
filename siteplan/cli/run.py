"""``siteplan run`` and ``siteplan demo``: a scenario end to end into an output folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from ._common import _guard, _run_options, _setup_logging, log

if TYPE_CHECKING:
    from ..results import RunResult


def _after_run(res: "RunResult", out: Path) -> None:
    rows = res.plan.rows
    n_as = int((rows.status == "assigned").sum())
    log.info("wrote %s: %d businesses, %d assigned, %d unassigned; %d zones; %d proposed sites; gap %.4f %%",
             out, len(rows), n_as, len(rows) - n_as, len(res.zones), len(res.sites), 100 * cast(float, res.plan.solver["gap"]))
    if res.warnings:
        log.info("%d warnings (see manifest.json and the report)", len(res.warnings))


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("out/run"),
              show_default=True, help="Output folder.")
@_run_options
@_guard
def run(scenario: Path, out: Path, seed: int | None, overwrite: bool, quiet_local: bool) -> None:
    """Run SCENARIO end to end and write every output into --out."""
    from ..pipeline import run_scenario_file

    if quiet_local:
        _setup_logging(True, 0)
    res = run_scenario_file(scenario, out, seed=seed, overwrite=overwrite)
    _after_run(res, out)


@click.command()
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("out/demo"),
              show_default=True, help="Output folder.")
@_run_options
@_guard
def demo(out: Path, seed: int | None, overwrite: bool, quiet_local: bool) -> None:
    """Run the embedded Isfahan demo (same as `siteplan run data/demo.yaml --out out/demo`)."""
    from ..pipeline import demo_scenario_path, run_scenario_file

    if quiet_local:
        _setup_logging(True, 0)
    res = run_scenario_file(demo_scenario_path(), out, seed=seed, overwrite=overwrite)
    _after_run(res, out)
