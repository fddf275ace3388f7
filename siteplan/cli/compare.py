"""``siteplan compare``: what changes between two runs (scenario A and scenario B)."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, _setup_logging, log


@click.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), default=Path("out/compare"),
              show_default=True, help="Output folder (replaced as a whole; not inside the run folders).")
@click.option("--overwrite", is_flag=True, help="Replace an output folder that a previous siteplan compare wrote.")
@click.option("--quiet", "-q", "quiet_local", is_flag=True, help="Silence progress messages.")
@_guard
def compare_cmd(*, run_a: Path, run_b: Path, out: Path, overwrite: bool, quiet_local: bool) -> None:
    """Compare two run folders RUN_A and RUN_B: businesses that move, newly assigned or unassigned
    (with reasons), land used per estate, sites added or removed, zones changed, objective and trip
    lengths; tables (moved.csv, estates.csv, sites.csv, zones.csv, totals.csv) and compare.html."""
    from ..outputs.compare_write import compare_folders

    if quiet_local:
        _setup_logging(quiet=True, verbose=0)
    cmp = compare_folders(run_a, run_b, out, overwrite=overwrite)
    c = cmp.counts()
    log.info("wrote %s: %d moved, %d newly assigned, %d newly unassigned, %d to another proposed site, %d unassigned "
             "for another reason, %d only in A, %d only in B", out, c["moved"], c["newly_assigned"],
             c["newly_unassigned"], c["site_changed"], c["reason_changed"], c["only_in_a"], c["only_in_b"])
    log.info("moved because of the change: %d; with a scenario-wide change (a setting, the seed or a layer other "
             "than the estates: not traced to one estate): %d; moved for nothing: %d", c["because_change"],
             c["because_scenario"], c["for_nothing"])
    for n in cmp.notes:
        log.info("note: %s", n)
