"""``siteplan qgis-plugin``: build the QGIS plugin zip (a Processing provider running siteplan)."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard


@click.command("qgis-plugin")
@click.option("--out", "-o", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write siteplan_qgis.zip into.")
@click.option("--overwrite", is_flag=True, help="Replace a siteplan_qgis.zip already in the folder.")
@_guard
def qgis_plugin_cmd(out: Path, *, overwrite: bool) -> None:
    """Build siteplan's QGIS plugin (siteplan_qgis.zip): a Processing provider with Run plan, Validate
    scenario, Explain place and Compare runs, which run this siteplan in a subprocess. Install it in QGIS
    with Plugins > Manage and Install Plugins > Install from ZIP."""
    from ..errors import InputError
    from ..outputs.outfile import check_output_file
    from ..outputs.qgisplugin import PLUGIN, build_plugin

    try:
        target = check_output_file(out / f"{PLUGIN}.zip")  # never inside a folder a siteplan command wrote
    except InputError as err:
        raise InputError(f"--out {out}: is (inside) a folder a siteplan command wrote, which siteplan replaces as a "
                         "whole: choose a folder of your own for the plugin") from err
    if target.is_dir():
        raise InputError(f"--out {out}: {target.name} there is a folder; move it away or choose another folder")
    if target.exists() and not overwrite:
        raise InputError(f"--out {out}: {target.name} is already there; pass --overwrite to replace it, or choose "
                         "another folder")
    click.echo(str(build_plugin(out)))
