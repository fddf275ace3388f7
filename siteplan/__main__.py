"""``python -m siteplan`` runs the command line."""

from .cli import main

main()
