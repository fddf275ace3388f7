"""``siteplan validate``: check a scenario and its layers without running it."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, echo


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@_guard
def validate(scenario: Path) -> None:
    """Check SCENARIO and its layers (a national scenario: its partitions or provincial scenarios too);
    list every problem (exit 1) or say it is valid (exit 0)."""
    from ..checks import validate_scenario
    from ..national import is_national
    from ..national.validate import validate_national

    report = validate_national(scenario) if is_national(scenario) else validate_scenario(scenario)
    for w in report.warnings:
        echo(f"warning: {w.message}", err=True)
    echo(report.summary())
