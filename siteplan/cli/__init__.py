"""The ``siteplan`` command, one module per command; as thin as rasterio's ``rio``: each parses its
arguments, calls the library and prints what it returns. Every problem with input becomes one message
on stderr and exit status 1 (2 for usage); text from the data is printed with control characters
escaped (:func:`siteplan.common.textnorm.printable`).

========================  ===================================================================
module                    commands
========================  ===================================================================
``_common``               logging, the error handler, interrupts, terminal-safe printing
``run``                   ``run``, ``demo``
``validate``              ``validate``
``catalogue``             ``catalogue``
``weights``               ``weights ahp``
``suitability``           ``suitability``
``explain``               ``explain``
``export``                ``export``
``compare``               ``compare``
``ingest_osm``            ``ingest-osm``
``qgis_plugin``           ``qgis-plugin``
========================  ===================================================================
"""

from __future__ import annotations

import click

from . import catalogue, compare, explain, export, ingest_osm, qgis_plugin, review, run, suitability, validate, weights
from ._common import _Group, _setup_logging
from ._common import _guard as _guard  # re-exported: siteplan.cli._guard
from ._common import _Terminated as _Terminated  # re-exported: tests raise it

__all__ = ["main"]


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quiet", "-q", is_flag=True, help="Silence progress messages (errors still go to stderr).")
@click.option("--verbose", "-v", count=True, help="More detail in the logs.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="siteplan")
def main(*, quiet: bool, verbose: int, debug: bool) -> None:  # noqa: ARG001 - --debug is read by _guard
    """siteplan: site selection and estate planning for relocating nuisance guilds."""
    _setup_logging(quiet=quiet, verbose=verbose)


for _command in (run.run, run.demo, validate.validate, catalogue.catalogue, weights.weights,
                 suitability.suitability, explain.explain, export.export_cmd, ingest_osm.ingest_osm_cmd,
                 compare.compare_cmd, review.review, qgis_plugin.qgis_plugin_cmd):
    main.add_command(_command)
del _command
