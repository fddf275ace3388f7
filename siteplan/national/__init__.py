"""National runs: a scenario partitioned into provinces, run one by one or on ``dask.distributed``.

========================  ===================================================================
module                    what
========================  ===================================================================
``partition``             a partition layer split into units (ownership, open borders)
``provinces``             a list of provincial scenarios split into units (names, ownership, open borders)
``runner``                running the units: sequentially or as Dask tasks, with the cache
``gather``                the units' outputs into national tables and layers
``report``                the national summary page
``validate``              ``siteplan validate`` of a national scenario (partitions or provinces)
``run``                   the whole national run into one output folder
========================  ===================================================================
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

__all__ = ["NationalResult", "PartitionsFailed", "default_cache", "is_national", "run_national_file"]


def is_national(path: str | Path) -> bool:
    """True when a scenario file has a ``national:`` section (read without validating it).

    Defined here, not in ``run``: `siteplan run` asks it of every scenario, and a provincial run needs
    none of the national modules.

    Parameters
    ----------
    path
        The scenario file.

    Returns
    -------
    bool
        True when the file reads as a mapping with a ``national`` key; False otherwise, also when it
        cannot be read or parsed (the scenario's own loading then says what is wrong).
    """
    from ..errors import SiteplanError
    from ..scenario import read_scenario_file

    try:
        data = read_scenario_file(Path(path))
    except SiteplanError:
        return False
    return isinstance(data, dict) and "national" in data


def __getattr__(name: str) -> Any:
    """The names of :mod:`.run`, imported on first use (PEP 562)."""
    if name in ("NationalResult", "PartitionsFailed", "default_cache", "run_national_file"):
        value = getattr(import_module(".run", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .run import NationalResult, PartitionsFailed, default_cache, run_national_file
