"""``siteplan qgis-plugin``: build the QGIS plugin zip (a Processing provider running siteplan)."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard


@click.command("qgis-plugin")
@click.option("--out", "-o", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write siteplan_qgis.zip into.")
@_guard
def qgis_plugin_cmd(out: Path) -> None:
    """Build siteplan's QGIS plugin (siteplan_qgis.zip): a Processing provider with Run plan, Validate
    scenario, Explain place and Compare runs, which run this siteplan in a subprocess. Install it in QGIS
    with Plugins > Manage and Install Plugins > Install from ZIP."""
    from ..outputs.qgisplugin import build_plugin

    click.echo(str(build_plugin(out)))
