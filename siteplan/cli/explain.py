"""``siteplan explain``: why a place is or is not allowed for a category, and its suitability."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, echo, echo_json


@click.command()
@click.argument("source", metavar="SCENARIO|RUN_DIR", type=click.Path(path_type=Path))
@click.option("--category", required=True, help="Category code (see `siteplan catalogue`).")
@click.option("--at", "at", default=None, help="A point as LON,LAT (degrees).")
@click.option("--estate", default=None, help="An estate_id.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_guard
def explain(source: Path, category: str, at: str | None, estate: str | None, fmt: str) -> None:
    """Explain why a place is or is not allowed for a category, and its suitability.

    SCENARIO|RUN_DIR is a scenario YAML (everything is computed again) or the folder of a finished
    `siteplan run`, answered at once from what the run saved (its explain/ folder).
    """
    from ..errors import InputError
    from ..outputs.explain import explain_run, parse_point

    if (at is None) == (estate is None):  # a usage error (exit 2), said before any data is read
        raise click.UsageError("give exactly one of --at LON,LAT or --estate ID")
    try:
        point = parse_point(at) if at is not None else None
    except InputError as err:  # a usage error (exit 2), said before any data is read
        raise click.BadParameter(str(err).removeprefix("--at: "), param_hint="'--at'") from None
    if source.is_dir():
        ex = explain_run(source, category, at=point, estate=estate)
    else:
        from ..outputs.explain import explain as explain_place
        from ..pipeline import prepare
        from ..scenario import load_scenario

        ex = explain_place(prepare(load_scenario(source)), category, at=point, estate=estate)
    if fmt == "json":
        echo_json(ex.as_dict())
    else:
        for line in ex.lines():
            echo(line)
