"""National runs: a scenario partitioned into provinces, run one by one or on ``dask.distributed``.

========================  ===================================================================
module                    what
========================  ===================================================================
``partition``             the national scenario split into units (ownership, open borders)
``runner``                running the units: sequentially or as Dask tasks, with the cache
``gather``                the units' outputs into national tables and layers
``report``                the national summary page
``run``                   the whole national run into one output folder
========================  ===================================================================
"""

from .run import NationalResult, PartitionsFailed, default_cache, is_national, run_national_file

__all__ = ["NationalResult", "PartitionsFailed", "default_cache", "is_national", "run_national_file"]
