"""``siteplan catalogue``: the guild catalogue with its sources and status columns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import _guard, echo, echo_json, echo_table

if TYPE_CHECKING:
    from ..guilds.catalogue import Catalogue


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Apply this scenario's catalogue overrides and additions.")
@click.option("--keywords", is_flag=True,
              help="Print every category's keyword lists (keywords_fa, keywords_en, generic_fa) to read.")
@click.option("--criteria", "criteria", is_flag=True,
              help="Print each category's default criteria (its profile's), with weights, reasons and sources.")
@_guard
def catalogue(*, fmt: str, scenario: Path | None, keywords: bool, criteria: bool) -> None:
    """Print the guild catalogue with its sources and status columns.

    The csv and json formats include the keyword lists (``;`` between keywords); ``--keywords`` prints
    them one category at a time. ``--criteria`` lists the default criteria of every category (used
    when a scenario has no ``criteria:``), by its ``profile``. A scenario adds keywords with ``keywords_fa:`` /
    ``keywords_en:`` under ``catalogue.overrides.<code>`` (with ``replace: true`` they replace the list)."""
    from ..guilds.catalogue import load_catalogue, scenario_catalogue
    from ..scenario import load_scenario

    cat = scenario_catalogue(load_scenario(scenario)) if scenario else load_catalogue()
    if criteria:
        _criteria(cat, fmt)
    elif fmt == "csv":
        from ..outputs.writer import safe_csv

        echo_table(safe_csv(cat.listing()) or "")
    elif fmt == "json":
        echo_json(cat.listing().to_dict(orient="records"))
    elif keywords:
        from ..common.textnorm import printable

        echo(printable(cat.keywords_text()))
    else:
        echo(cat.summary())
        echo("\nsep_m: VNG (2009) separation from homes; status 'assumption' rows need a planner's review. "
             "Use --format csv or json for every column, --keywords for the keyword lists.")


def _criteria(cat: Catalogue, fmt: str) -> None:
    from ..guilds.profiles import criteria_listing, criteria_text

    if fmt == "csv":
        from ..outputs.writer import safe_csv

        echo_table(safe_csv(criteria_listing(cat)) or "")
    elif fmt == "json":
        echo_json(criteria_listing(cat).to_dict(orient="records"))
    else:
        echo(criteria_text(cat))
