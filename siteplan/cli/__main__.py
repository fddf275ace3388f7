"""``python -m siteplan.cli`` runs the command line (as ``python -m siteplan``)."""

from . import main

main()
