"""The installed version of siteplan (from the package metadata)."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("siteplan")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
