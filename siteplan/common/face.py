"""Lazy package faces: a package names its public API, and each name is imported on first use.

Every stage package's ``__init__`` lists its public names and the module of the package that defines
each; :func:`lazy_face` turns that list into the package's ``__getattr__`` and ``__dir__`` (PEP 562),
so importing one module of a stage never imports the whole stage (``siteplan explain RUN_DIR`` and the
command line start fast), and the package import graph has no arrows the modules do not have.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_face"]


def lazy_face(package: str, api: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose public names are imported on first use.

    Parameters
    ----------
    package
        The package's ``__name__``.
    api
        Public name -> the module (relative to ``package``, e.g. ``"region"`` or ``"outputs.writer"``)
        that defines it.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)`` to assign at the package's top level.
    """

    def __getattr__(name: str) -> Any:
        module = api.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(api))

    return __getattr__, __dir__
